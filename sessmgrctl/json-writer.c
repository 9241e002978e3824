/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "json-writer.h"
#include "text.h"

void json_writer_init(JsonWriter *writer, FILE *output, bool pretty) {
        writer->output = output;
        writer->pretty = pretty;
        writer->depth = 0;
        writer->need_comma = writer->after_key = false;
        writer->used = 0;
}

static void flush_buffer(JsonWriter *writer) {
        if (writer->used > 0)
                fwrite(writer->buffer, 1, writer->used, writer->output);
        writer->used = 0;
}

static void append(JsonWriter *writer, const char *data, size_t length) {
        if (length > sizeof(writer->buffer) - writer->used) {
                flush_buffer(writer);
                if (length > sizeof(writer->buffer)) {
                        fwrite(data, 1, length, writer->output);
                        return;
                }
        }
        memcpy(writer->buffer + writer->used, data, length);
        writer->used += length;
}

static void append_char(JsonWriter *writer, char c) {
        if (writer->used == sizeof(writer->buffer))
                flush_buffer(writer);
        writer->buffer[writer->used++] = c;
}

static void append_text(JsonWriter *writer, const char *text) {
        append(writer, text, strlen(text));
}

static void new_line(JsonWriter *writer) {
        append_char(writer, '\n');
        for (unsigned i = 0; i < writer->depth; i++)
                append(writer, "  ", 2);
}

/* What goes before a value or a key: nothing after a key, else a comma after the
 * previous member and, when indenting, a new line. */
static void separate(JsonWriter *writer) {
        if (writer->after_key) {
                writer->after_key = false;
                return;
        }
        if (writer->need_comma)
                append_char(writer, ',');
        if (writer->pretty && writer->depth > 0)
                new_line(writer);
}

static void begin(JsonWriter *writer, char opening) {
        separate(writer);
        append_char(writer, opening);
        writer->depth++;
        writer->need_comma = false;
}

static void end(JsonWriter *writer, char closing) {
        writer->depth--;
        /* An empty container stays on one line: [] */
        if (writer->pretty && writer->need_comma)
                new_line(writer);
        append_char(writer, closing);
        writer->need_comma = true;
}

void json_begin_object(JsonWriter *writer) {
        begin(writer, '{');
}

void json_end_object(JsonWriter *writer) {
        end(writer, '}');
}

void json_begin_array(JsonWriter *writer) {
        begin(writer, '[');
}

void json_end_array(JsonWriter *writer) {
        end(writer, ']');
}

/* ASCII that passes as it is; the rest is looked at more closely. */
static bool is_plain(unsigned char c) {
        return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static void append_unicode_escape(JsonWriter *writer, uint32_t c) {
        static const char hex[] = "0123456789abcdef";
        char escape[6] = { '\\', 'u' };

        if (c > 0xffff) {               /* as a surrogate pair */
                c -= 0x10000;
                append_unicode_escape(writer, 0xd800 | (c >> 10));
                append_unicode_escape(writer, 0xdc00 | (c & 0x3ff));
                return;
        }
        for (int i = 0; i < 4; i++)
                escape[2 + i] = hex[(c >> (12 - 4 * i)) & 0xf];
        append(writer, escape, sizeof(escape));
}

/* Escapes the character at p and returns its length: what JSON requires (quote,
 * backslash, C0), and what a terminal would act on when a person reads the output (DEL,
 * C1, bidi and other format characters, see text.h). Escaped, they read back unchanged.
 * A byte that is not UTF-8 cannot be in a JSON string: it becomes U+FFFD. */
static size_t append_escape(JsonWriter *writer, const char *p, size_t length) {
        uint32_t c;
        size_t n = utf8_decode(p, length, &c);

        if (n == 0) {
                append_unicode_escape(writer, 0xfffd);
                return 1;
        }
        if (!unichar_is_unsafe(c) && c != '"' && c != '\\') {
                append(writer, p, n);
                return n;
        }
        switch (c) {
        case '"':  append(writer, "\\\"", 2); break;
        case '\\': append(writer, "\\\\", 2); break;
        case '\b': append(writer, "\\b", 2); break;
        case '\f': append(writer, "\\f", 2); break;
        case '\n': append(writer, "\\n", 2); break;
        case '\r': append(writer, "\\r", 2); break;
        case '\t': append(writer, "\\t", 2); break;
        default:   append_unicode_escape(writer, c);
        }
        return n;
}

static void append_quoted(JsonWriter *writer, const char *value, size_t length) {
        const char *p = value, *end = p + length;

        append_char(writer, '"');
        while (p < end) {
                const char *run = p;

                while (p < end && is_plain((unsigned char) *p))
                        p++;
                append(writer, run, (size_t) (p - run));
                if (p < end)
                        p += append_escape(writer, p, (size_t) (end - p));
        }
        append_char(writer, '"');
}

void json_key(JsonWriter *writer, const char *key) {
        separate(writer);
        append_quoted(writer, key, strlen(key));
        if (writer->pretty)
                append(writer, ": ", 2);
        else
                append_char(writer, ':');
        writer->after_key = true;
}

void json_string_length(JsonWriter *writer, const char *value, size_t length) {
        separate(writer);
        append_quoted(writer, value, length);
        writer->need_comma = true;
}

void json_string(JsonWriter *writer, const char *value) {
        if (!value) {
                separate(writer);
                append(writer, "null", 4);
                writer->need_comma = true;
                return;
        }
        json_string_length(writer, value, strlen(value));
}

static void append_decimal(JsonWriter *writer, bool negative, uint64_t magnitude) {
        char digits[24];
        size_t start = sizeof(digits);

        do {
                digits[--start] = (char) ('0' + magnitude % 10);
                magnitude /= 10;
        } while (magnitude > 0);
        if (negative)
                digits[--start] = '-';
        append(writer, digits + start, sizeof(digits) - start);
}

void json_integer(JsonWriter *writer, int64_t value) {
        separate(writer);
        /* The magnitude of INT64_MIN does not fit in an int64_t. */
        append_decimal(writer, value < 0, value < 0 ? -(uint64_t) value : (uint64_t) value);
        writer->need_comma = true;
}

void json_unsigned(JsonWriter *writer, uint64_t value) {
        separate(writer);
        append_decimal(writer, false, value);
        writer->need_comma = true;
}

void json_boolean(JsonWriter *writer, bool value) {
        separate(writer);
        append_text(writer, value ? "true" : "false");
        writer->need_comma = true;
}

int json_writer_finish(JsonWriter *writer) {
        append_char(writer, '\n');
        flush_buffer(writer);
        return fflush(writer->output) != 0 || ferror(writer->output) ? -EIO : 0;
}
