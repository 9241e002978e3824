/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "text.h"

size_t utf8_decode(const char *s, size_t length, uint32_t *ret) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t c, minimum;
        size_t n;

        if (length == 0)
                return 0;
        if (p[0] < 0x80) {
                *ret = p[0];
                return 1;
        }
        if ((p[0] & 0xe0) == 0xc0)
                n = 2, c = p[0] & 0x1f, minimum = 0x80;
        else if ((p[0] & 0xf0) == 0xe0)
                n = 3, c = p[0] & 0x0f, minimum = 0x800;
        else if ((p[0] & 0xf8) == 0xf0)
                n = 4, c = p[0] & 0x07, minimum = 0x10000;
        else
                return 0;
        if (length < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3f);
        }
        if (c < minimum || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *ret = c;
        return n;
}

bool unichar_is_unsafe(uint32_t c) {
        /* Ranges of general category Cc, Cf, Zl and Zp (Unicode 15). */
        static const uint32_t ranges[][2] = {
                { 0x0000, 0x001f }, { 0x007f, 0x009f }, { 0x00ad, 0x00ad },
                { 0x0600, 0x0605 }, { 0x061c, 0x061c }, { 0x06dd, 0x06dd }, { 0x070f, 0x070f },
                { 0x0890, 0x0891 }, { 0x08e2, 0x08e2 }, { 0x180e, 0x180e },
                { 0x200b, 0x200f }, { 0x2028, 0x202e }, { 0x2060, 0x2064 }, { 0x2066, 0x206f },
                { 0xfdd0, 0xfdef }, { 0xfeff, 0xfeff }, { 0xfff9, 0xfffb },
                { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd }, { 0x13430, 0x1343f },
                { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
        };

        if ((c & 0xfffe) == 0xfffe)     /* U+FFFE, U+FFFF and their copies in every plane */
                return true;
        for (size_t i = 0; i < ELEMENTSOF(ranges); i++)
                if (c >= ranges[i][0] && c <= ranges[i][1])
                        return true;
        return false;
}

/* Bytes from the start of s that pass unescaped: 0 when the first must be escaped. */
static size_t safe_prefix(const char *s, size_t length, TextEscapeFlags flags) {
        uint32_t c;
        size_t n = utf8_decode(s, length, &c);

        if (n == 0 || unichar_is_unsafe(c) || ((flags & TEXT_ESCAPE_ASCII) && c >= 0x80))
                return 0;
        return n;
}

char *text_escape(const char *text, size_t max, TextEscapeFlags flags) {
        static const char hex[] = "0123456789abcdef";
        size_t length, used = 0, cut = 0, room;
        char *output;

        text = text ?: "-";
        length = strlen(text);
        /* Each byte takes 4 at most; with a limit, not much more than the limit is written. */
        room = max > 0 && length > max ? max + 4 : length * 4;
        output = malloc(room + sizeof(TEXT_CUT_MARKER));
        if (!output)
                return NULL;

        for (size_t i = 0; i < length; ) {
                size_t n = safe_prefix(text + i, length - i, flags);

                if (used + (n > 0 ? n : 4) > room)
                        break;          /* only with a limit, which this passes */
                if (n > 0) {
                        memcpy(output + used, text + i, n);
                        used += n;
                        i += n;
                } else {
                        unsigned char byte = (unsigned char) text[i++];

                        output[used++] = '\\';
                        output[used++] = 'x';
                        output[used++] = hex[byte >> 4];
                        output[used++] = hex[byte & 0xf];
                }
                /* The last place where the text and the marker still fit. */
                if (max > 0 && used + strlen(TEXT_CUT_MARKER) <= max)
                        cut = used;
        }
        if (max > 0 && used > max) {
                memcpy(output + cut, TEXT_CUT_MARKER, sizeof(TEXT_CUT_MARKER));
                return output;
        }
        output[used] = '\0';
        return output;
}

bool text_is_safe(const char *text) {
        for (size_t i = 0, length = strlen(text); i < length; ) {
                size_t n = safe_prefix(text + i, length - i, 0);

                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}
