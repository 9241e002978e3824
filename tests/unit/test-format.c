/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <locale.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "format.h"
#include "record-fields.h"
#include "table.h"

static void set(char **field, const char *value) {
        assert_int_equal(record_set_string(field, value), 0);
}

static void assert_device(const SessionRecord *record, const char *expected) {
        _cleanup_(freep) char *text = session_device_text(record);

        assert_non_null(text);
        assert_string_equal(text, expected);
}

static void test_device_text(void **state) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;

        set(&record.service, "sshd");
        set(&record.tty, "ssh");                /* sshd's placeholder, not a terminal */
        assert_device(&record, "sshd");
        set(&record.tty, "/dev/pts/3");
        assert_device(&record, "sshd pts/3");

        set(&record.service, "login");
        set(&record.tty, "tty2");
        assert_device(&record, "login tty2");

        set(&record.service, "gdm-password");
        set(&record.tty, NULL);
        set(&record.seat, "seat0");
        record.vt = 1;
        assert_device(&record, "gdm-password seat0 vt1");
        record.vt = 0;
        assert_device(&record, "gdm-password seat0");

        set(&record.service, NULL);
        set(&record.seat, NULL);
        assert_device(&record, "unknown");
}

static void test_current_session(void **state) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        CurrentSession current = { .logind_session = (char *) "4" };

        set(&record.logind_session, "4");
        assert_true(session_is_current(&record, &current));

        set(&record.logind_session, "5");
        assert_false(session_is_current(&record, &current));

        /* An ended record with the same logind id is from an earlier boot, or over. */
        set(&record.logind_session, "4");
        record.state = SESSION_CLOSED;
        assert_false(session_is_current(&record, &current));

        record.state = SESSION_ACTIVE;
        current.logind_session = NULL;          /* not in any logind session */
        assert_false(session_is_current(&record, &current));
}

/* Runs write() on a writer into memory and parses the result with json-c. */
static json_object *written(bool pretty, void (*write)(JsonWriter *writer, const void *data), const void *data,
                            char **ret_text) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        JsonWriter writer;
        json_object *parsed;

        assert_non_null(f);
        json_writer_init(&writer, f, pretty);
        write(&writer, data);
        assert_int_equal(json_writer_finish(&writer), 0);
        fclose(f);
        assert_int_equal(writer.depth, 0);
        assert_non_null(parsed = json_tokener_parse(text));
        if (ret_text)
                *ret_text = text;
        else
                free(text);
        return parsed;
}

static void write_session(JsonWriter *writer, const void *record) {
        assert_int_equal(session_write_json(writer, record, true), 0);
}

static void test_json_fields(void **state) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        json_object *object, *value;

        record.id = 12;
        record.uid = 1000;
        set(&record.user, "alice");
        set(&record.service, "sshd");
        set(&record.remote_address, "203.0.113.7");
        set(&record.ttys, "pts/3  pts/5");
        record.login_time_usec = 1795848751000123;

        object = written(false, write_session, &record, NULL);
        assert_true(json_object_object_get_ex(object, "id", &value));
        assert_int_equal(json_object_get_uint64(value), 12);
        assert_true(json_object_object_get_ex(object, "login_time_usec", &value));
        assert_int_equal(json_object_get_int64(value), 1795848751000123);
        assert_true(json_object_object_get_ex(object, "login_time", &value));
        assert_string_equal(json_object_get_string(value), "2026-11-28T06:52:31.000123Z");
        /* Unknown values are present and null, so consumers see a fixed set of keys. */
        assert_true(json_object_object_get_ex(object, "end_time", &value));
        assert_null(value);
        assert_true(json_object_object_get_ex(object, "tty", &value));
        assert_null(value);
        assert_true(json_object_object_get_ex(object, "from", &value));
        assert_string_equal(json_object_get_string(value), "203.0.113.7");
        assert_true(json_object_object_get_ex(object, "current", &value));
        assert_true(json_object_get_boolean(value));
        assert_true(json_object_object_get_ex(object, "state", &value));
        assert_string_equal(json_object_get_string(value), "active");
        assert_true(json_object_object_get_ex(object, "ttys", &value));
        assert_int_equal(json_object_array_length(value), 2);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(value, 1)), "pts/5");
        /* Every field of the record, two ISO times, device, from and current. */
        assert_int_equal(json_object_object_length(object), (int) record_fields_count + 3 + 3);
        json_object_put(object);
}

static void write_awkward_texts(JsonWriter *writer, const void *data) {
        json_begin_object(writer);
        json_key(writer, "quote\"d");
        json_string(writer, "back\\slash \"quoted\" tab\t line\n bell\a del\x7f Ünïcode ✓");
        json_key(writer, "empty_array");
        json_begin_array(writer);
        json_end_array(writer);
        json_key(writer, "empty_object");
        json_begin_object(writer);
        json_end_object(writer);
        json_key(writer, "numbers");
        json_begin_array(writer);
        json_integer(writer, INT64_MIN);
        json_unsigned(writer, UINT64_MAX);
        json_boolean(writer, false);
        json_string(writer, NULL);
        json_end_array(writer);
        json_end_object(writer);
}

static void test_json_writer_escapes_and_nests(void **state) {
        for (int pretty = 0; pretty <= 1; pretty++) {
                char *text = NULL;
                json_object *object = written(pretty, write_awkward_texts, NULL, &text), *value;

                assert_true(json_object_object_get_ex(object, "quote\"d", &value));
                assert_string_equal(json_object_get_string(value),
                                    "back\\slash \"quoted\" tab\t line\n bell\a del\x7f Ünïcode ✓");
                assert_true(json_object_object_get_ex(object, "empty_array", &value));
                assert_int_equal(json_object_array_length(value), 0);
                assert_true(json_object_object_get_ex(object, "numbers", &value));
                assert_int_equal(json_object_get_int64(json_object_array_get_idx(value, 0)), INT64_MIN);
                assert_true(json_object_get_uint64(json_object_array_get_idx(value, 1)) == UINT64_MAX);
                assert_false(json_object_get_boolean(json_object_array_get_idx(value, 2)));
                assert_null(json_object_array_get_idx(value, 3));
                assert_non_null(strstr(text, "\\u0007"));     /* control characters escaped */
                /* One line for a pipe; indented, and empty containers kept short, for a person. */
                assert_true(pretty ? strstr(text, "\n  \"numbers\": [\n    -9223372036854775808,") != NULL
                                   : strchr(text, '\n') == text + strlen(text) - 1);
                assert_true(!pretty || strstr(text, "\"empty_array\": []") != NULL);
                json_object_put(object);
                free(text);
        }
}

static void test_sanitize_and_width(void **state) {
        _cleanup_(freep) char *clean = text_sanitize("a\033[2Jb\n");

        assert_string_equal(clean, "a\\x1b[2Jb\\x0a");
        assert_int_equal(text_width("abc"), 3);
}

/* The text a terminal would act on: ESC, CSI both as a byte and as U+009B, a bidi
 * override and isolate, a zero-width joiner. None may reach the terminal. */
static const char *const hostile[] = { "\033", "\x9b", "\xc2\x9b", "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x80\x8d", "\x7f" };

static void assert_harmless(const char *output) {
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++)
                assert_null(strstr(output, hostile[i]));
}

static void test_sanitize_follows_the_locale(void **state) {
        const char *text = "caf\xc3\xa9 \xc2\x9b" "31m \xe2\x80\xae" "txt \xff";
        char *clean;

        /* A UTF-8 terminal shows letters, and only the dangerous characters escaped. */
        assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
        clean = text_sanitize(text);
        assert_string_equal(clean, "caf\xc3\xa9 \\xc2\\x9b31m \\xe2\\x80\\xaetxt \\xff");
        assert_harmless(clean);
        free(clean);

        /* Elsewhere a UTF-8 byte may be a C1 control: ASCII only. */
        assert_non_null(setlocale(LC_ALL, "C"));
        clean = text_sanitize(text);
        assert_string_equal(clean, "caf\\xc3\\xa9 \\xc2\\x9b31m \\xe2\\x80\\xaetxt \\xff");
        free(clean);
}

static void hostile_record(SessionRecord *record) {
        *record = (SessionRecord) SESSION_RECORD_INIT;
        record->id = 7;
        record->uid = 1000;
        set(&record->user, "alice");
        set(&record->service, "sshd\033[2J");
        set(&record->ttys, "pts/3\xc2\x9b" "2J");
        set(&record->display, ":0\xe2\x80\xae");
        set(&record->desktop, "\xe2\x81\xa6gnome");
        set(&record->remote_host, "evil\xc2\x9b" "31m\xe2\x80\x8d\x7f.example");
}

static void test_show_is_safe(void **state) {
        _cleanup_(session_record_done) SessionRecord record;
        char *output = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&output, &size);

        assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
        hostile_record(&record);
        assert_int_equal(session_print_details(f, &record, false), 0);
        fclose(f);
        assert_harmless(output);
        /* Device and From, built from several fields, are sanitised as a whole. */
        assert_non_null(strstr(output, "          Device: sshd\\x1b[2J pts/3\\xc2\\x9b2J :0\\xe2\\x80\\xae (\\xe2\\x81\\xa6gnome)\n"));
        assert_non_null(strstr(output, "            From: evil\\xc2\\x9b31m\\xe2\\x80\\x8d\\x7f.example\n"));
        /* Not started inside another session: no "0" that reads like a session id. */
        assert_non_null(strstr(output, "    Started from: -\n"));
        free(output);
        assert_non_null(setlocale(LC_ALL, "C"));
}

static void test_table_is_safe(void **state) {
        static const char *const headers[] = { "DEVICE", "FROM" };
        _cleanup_(table_freep) Table *table = table_new(2, headers);
        _cleanup_(session_record_done) SessionRecord record;
        _cleanup_(freep) char *device = NULL;
        char *output = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&output, &size);

        assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
        hostile_record(&record);
        device = session_device_text(&record);
        assert_int_equal(table_add_cell(table, device), 0);
        assert_int_equal(table_add_cell(table, session_record_from(&record, "local")), 0);
        assert_int_equal(table_print(table, f, false), 0);
        fclose(f);
        assert_harmless(output);
        free(output);
        assert_non_null(setlocale(LC_ALL, "C"));
}

static void write_hostile(JsonWriter *writer, const void *data) {
        json_begin_object(writer);
        json_key(writer, "text");
        json_string(writer, data);
        json_end_object(writer);
}

static void test_json_escapes_c1_and_bidi(void **state) {
        /* DEL, CSI (U+009B), RLO, ZWJ, a tag (beyond the BMP: a surrogate pair), letters. */
        const char *text = "a\x7f\xc2\x9b" "b\xe2\x80\xae\xe2\x80\x8d\xf3\xa0\x81\x81 caf\xc3\xa9 \xe2\x9c\x93";
        char *output = NULL;
        json_object *object, *value;

        for (int pretty = 0; pretty <= 1; pretty++) {
                object = written(pretty, write_hostile, text, &output);
                assert_harmless(output);
                assert_non_null(strstr(output, "\"a\\u007f\\u009bb\\u202e\\u200d\\udb40\\udc41 caf\xc3\xa9 \xe2\x9c\x93\""));
                /* Escaped, it reads back as it was. */
                assert_true(json_object_object_get_ex(object, "text", &value));
                assert_string_equal(json_object_get_string(value), text);
                json_object_put(object);
                free(output);
        }

        /* A byte that is not UTF-8 has no place in JSON: U+FFFD. */
        object = written(false, write_hostile, "x\xff" "y", &output);
        assert_non_null(strstr(output, "\"x\\ufffdy\""));
        json_object_put(object);
        free(output);
}

static void test_table_columns_fit_content(void **state) {
        static const char *const headers[] = { "ID", "FROM" };
        _cleanup_(table_freep) Table *table = table_new(2, headers);
        char *output = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&output, &size);

        assert_non_null(table);
        assert_int_equal(table_add_cell(table, "1"), 0);
        assert_int_equal(table_add_cell(table, "203.0.113.7"), 0);
        assert_int_equal(table_add_cell(table, "1234"), 0);
        table_highlight_row(table);
        assert_int_equal(table_add_cell(table, NULL), 0);
        assert_int_equal(table_print(table, f, false), 0);
        fclose(f);
        assert_string_equal(output,
                            "ID    FROM\n"
                            "1     203.0.113.7\n"
                            "1234  -\n");
        free(output);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_device_text),
                cmocka_unit_test(test_current_session),
                cmocka_unit_test(test_json_fields),
                cmocka_unit_test(test_json_writer_escapes_and_nests),
                cmocka_unit_test(test_sanitize_and_width),
                cmocka_unit_test(test_sanitize_follows_the_locale),
                cmocka_unit_test(test_show_is_safe),
                cmocka_unit_test(test_table_is_safe),
                cmocka_unit_test(test_json_escapes_c1_and_bidi),
                cmocka_unit_test(test_table_columns_fit_content),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
