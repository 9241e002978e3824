/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "json-writer.h"

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

/* The characters JSON wants escaped: quote, backslash and the control characters. */
static bool needs_escape(unsigned char c) {
        return c < 0x20 || c == '"' || c == '\\';
}

static void append_escape(JsonWriter *writer, unsigned char c) {
        static const char hex[] = "0123456789abcdef";
        char escape[6] = { '\\', (char) c };
        size_t length = 2;

        switch (c) {
        case '"':
        case '\\': break;
        case '\b': escape[1] = 'b'; break;
        case '\f': escape[1] = 'f'; break;
        case '\n': escape[1] = 'n'; break;
        case '\r': escape[1] = 'r'; break;
        case '\t': escape[1] = 't'; break;
        default:
                memcpy(escape + 1, "u00", 3);
                escape[4] = hex[c >> 4];
                escape[5] = hex[c & 0xf];
                length = 6;
        }
        append(writer, escape, length);
}

static void append_quoted(JsonWriter *writer, const char *value, size_t length) {
        const unsigned char *p = (const unsigned char *) value, *end = p + length;

        append_char(writer, '"');
        while (p < end) {
                const unsigned char *run = p;

                /* UTF-8 passes as it is. */
                while (p < end && !needs_escape(*p))
                        p++;
                append(writer, (const char *) run, (size_t) (p - run));
                if (p < end)
                        append_escape(writer, *p++);
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
