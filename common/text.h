/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Text from records reaches terminals, and part of it (a remote host name, a terminal
 * name) is chosen by whoever logs in. One escaping for what sessmgrd stores and for what
 * the programs print, documented in sessmgrd(8). */

/* Decodes the UTF-8 character at the start of s (length bytes). Returns its length (1-4),
 * or 0 when s does not start with a valid one: overlong forms and surrogates are invalid. */
size_t utf8_decode(const char *s, size_t length, uint32_t *ret);

/* Characters that a terminal acts on or that change how the text around them reads:
 * C0, DEL, C1 (U+0080-U+009F, U+009B is CSI), the Unicode format characters (bidi
 * embeddings, overrides and isolates, zero-width characters, the soft hyphen, tags) and
 * line and paragraph separators, and the noncharacters. */
bool unichar_is_unsafe(uint32_t c);

typedef enum TextEscapeFlags {
        /* Every byte above 0x7f escaped too: for a terminal that is not in UTF-8, where
         * the bytes of a UTF-8 character (e.g. 0x82 in "€") would be C1 controls. */
        TEXT_ESCAPE_ASCII = 1 << 0,
} TextEscapeFlags;

/* "..." ends a text that was cut. */
#define TEXT_CUT_MARKER "..."

/* A copy of text in which each unsafe character, and each byte that is not part of valid
 * UTF-8, is written as "\xHH" per byte ("\x1b", U+009B as "\xc2\x9b"). A backslash stays
 * as it is: escaping is idempotent, text_escape() of its own result changes nothing.
 * With max > 0 the result has at most max bytes: a longer one is cut at a character,
 * never inside an escape, and ends with TEXT_CUT_MARKER. NULL (for "-") gives "-". NULL
 * only when out of memory. */
char *text_escape(const char *text, size_t max, TextEscapeFlags flags);

/* True when text_escape() would leave text as it is (its length aside). */
bool text_is_safe(const char *text);
