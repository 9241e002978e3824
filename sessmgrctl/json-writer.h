/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Writes JSON straight to a stream as it goes, with nothing kept in memory: the output of
 * --json. Building a json-c tree of 1,000 sessions and printing it took two thirds of
 * "sessmgrctl list --json" (22 of 34 ms); this takes about a millisecond. The unit tests
 * read what it writes back with json-c. */

/* --json=MODE, as systemd's tools spell it. */
typedef enum JsonMode {
        JSON_OFF,
        JSON_SHORT,             /* one line, no blanks: for programs */
        JSON_PRETTY,            /* indented, one member per line: for a person at a terminal */
} JsonMode;

typedef struct JsonWriter {
        FILE *output;
        bool pretty;            /* indented, one member per line: for a person at a terminal */
        unsigned depth;
        bool need_comma;        /* the container being written has a member already */
        bool after_key;         /* a key was written: its value comes next */
        /* Collected here and handed to stdio in large pieces: a call into stdio for each
         * quote and comma cost more than everything else together. */
        size_t used;
        char buffer[16384];
} JsonWriter;

void json_writer_init(JsonWriter *writer, FILE *output, bool pretty);

void json_begin_object(JsonWriter *writer);
void json_end_object(JsonWriter *writer);
void json_begin_array(JsonWriter *writer);
void json_end_array(JsonWriter *writer);
void json_key(JsonWriter *writer, const char *key);

/* NULL is written as null. */
void json_string(JsonWriter *writer, const char *value);
void json_string_length(JsonWriter *writer, const char *value, size_t length);
void json_integer(JsonWriter *writer, int64_t value);
void json_unsigned(JsonWriter *writer, uint64_t value);
void json_boolean(JsonWriter *writer, bool value);

/* Ends the document with a newline and writes out the rest; -EIO if anything could not
 * be written. */
int json_writer_finish(JsonWriter *writer);
