/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "record-fields.h"
#include "record.h"
#include "text.h"

/* Records travel inside real sd-bus messages here, built on a real (socketpair) bus. */

static int setup(void **state) {
        sd_bus *bus = NULL;
        int fds[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_true(sd_bus_new(&bus) >= 0);
        assert_true(sd_bus_set_fd(bus, fds[0], fds[0]) >= 0);
        assert_true(sd_bus_start(bus) >= 0);
        close(fds[1]);
        *state = bus;
        return 0;
}

static int teardown(void **state) {
        sd_bus_close_unref(*state);
        return 0;
}

static sd_bus_message *new_message(sd_bus *bus) {
        sd_bus_message *m = NULL;

        assert_true(sd_bus_message_new_method_call(bus, &m, NULL, "/x", "x.y", "Z") >= 0);
        return m;
}

/* Seals the message as if sent and rewinds it for reading, as the receiver sees it. */
static void seal(sd_bus_message *m) {
        assert_true(sd_bus_message_seal(m, 1, 0) >= 0);
        assert_true(sd_bus_message_rewind(m, true) >= 0);
}

static void test_round_trip(void **state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_message(*state);
        _cleanup_(session_record_done) SessionRecord in = SESSION_RECORD_INIT, out = SESSION_RECORD_INIT;

        in.id = 7;
        in.uid = 1000;
        assert_int_equal(record_set_string(&in.user, "alice"), 0);
        assert_int_equal(record_set_string(&in.service, "sshd"), 0);
        assert_int_equal(record_set_string(&in.tty, "ssh"), 0);
        assert_int_equal(record_set_string(&in.remote_address, "2001:db8::7"), 0);
        assert_int_equal(record_set_string(&in.logind_session, "c12"), 0);
        in.remote_port = 65535;
        in.vt = 2;
        in.leader_pid = 4242;
        in.login_time_usec = (int64_t) 4102444800 * 1000000;      /* after 2038 */
        in.last_active_usec = in.login_time_usec + 1;
        in.state = SESSION_CLOSING;

        assert_true(session_record_append(m, &in) >= 0);
        seal(m);
        assert_int_equal(session_record_read(m, &out), 0);

        assert_int_equal(out.id, 7);
        assert_int_equal(out.uid, 1000);
        assert_string_equal(out.user, "alice");
        assert_string_equal(out.service, "sshd");
        assert_string_equal(out.tty, "ssh");
        assert_string_equal(out.remote_address, "2001:db8::7");
        assert_string_equal(out.logind_session, "c12");
        assert_null(out.seat);          /* unknown stays unknown */
        assert_null(out.remote_host);
        assert_int_equal(out.remote_port, 65535);
        assert_int_equal(out.vt, 2);
        assert_int_equal(out.leader_pid, 4242);
        assert_int_equal(out.login_time_usec, in.login_time_usec);
        assert_int_equal(out.last_active_usec, in.last_active_usec);
        assert_int_equal(out.state, SESSION_CLOSING);
}

/* The struct signature is written out in record.h; it must follow the field table. */
static void test_struct_signature_follows_the_table(void **state) {
        static const char letters[] = {
                [FIELD_STRING] = 's', [FIELD_STATE] = 's', [FIELD_UINT64] = 't',
                [FIELD_UINT32] = 'u', [FIELD_UINT16] = 'q', [FIELD_TIME] = 'x',
        };
        char signature[64] = {};

        assert_true(record_fields_count < sizeof(signature));
        for (size_t i = 0; i < record_fields_count; i++)
                signature[i] = letters[record_fields[i].type];
        assert_string_equal(signature, SESSION_RECORD_STRUCT_FIELDS);
}

static void test_struct_round_trip(void **state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_message(*state);
        _cleanup_(session_record_done) SessionRecord in = SESSION_RECORD_INIT, first = SESSION_RECORD_INIT,
                                                    second = SESSION_RECORD_INIT, end = SESSION_RECORD_INIT;

        in.id = 9;
        in.uid = 0;
        in.parent_id = 3;
        in.remote_port = 22;
        in.end_time_usec = (int64_t) 4102444800 * 1000000;
        in.state = SESSION_CLOSED;
        assert_int_equal(record_set_string(&in.user, "root"), 0);
        assert_int_equal(record_set_string(&in.ttys, "pts/1 pts/2"), 0);
        assert_int_equal(record_set_string(&in.desktop, "GNOME"), 0);

        assert_true(sd_bus_message_open_container(m, 'a', SESSION_RECORD_STRUCT) >= 0);
        assert_true(session_record_append_struct(m, &in) >= 0);
        in.id = 10;
        assert_true(session_record_append_struct(m, &in) >= 0);
        assert_true(sd_bus_message_close_container(m) >= 0);
        seal(m);

        assert_true(sd_bus_message_enter_container(m, 'a', SESSION_RECORD_STRUCT) > 0);
        assert_int_equal(session_record_read_struct(m, &first), 1);
        assert_int_equal(session_record_read_struct(m, &second), 1);
        assert_int_equal(session_record_read_struct(m, &end), 0);

        assert_int_equal(first.id, 9);
        assert_int_equal(second.id, 10);
        assert_int_equal(first.uid, 0);
        assert_int_equal(first.parent_id, 3);
        assert_int_equal(first.remote_port, 22);
        assert_int_equal(first.end_time_usec, in.end_time_usec);
        assert_int_equal(first.state, SESSION_CLOSED);
        assert_string_equal(first.user, "root");
        assert_string_equal(first.ttys, "pts/1 pts/2");
        assert_string_equal(first.desktop, "GNOME");
        assert_null(first.seat);        /* sent as "", read back as unknown */
        assert_null(first.logind_session);
}

static void test_struct_unknown_state_is_refused(void **state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_message(*state);
        _cleanup_(session_record_done) SessionRecord in = SESSION_RECORD_INIT, out = SESSION_RECORD_INIT;

        in.state = _SESSION_STATE_MAX;  /* session_state_to_string() gives NULL: sd-bus sends "" */
        assert_int_equal(record_set_string(&in.user, "alice"), 0);
        assert_true(session_record_append_struct(m, &in) >= 0);
        seal(m);
        assert_int_equal(session_record_read_struct(m, &out), -EBADMSG);
}

static void append_entry_string(sd_bus_message *m, const char *key, const char *value) {
        assert_true(sd_bus_message_append(m, "{sv}", key, "s", value) >= 0);
}

static void test_unknown_keys_are_skipped(void **state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_message(*state);
        _cleanup_(session_record_done) SessionRecord out = SESSION_RECORD_INIT;

        assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
        append_entry_string(m, "user", "bob");
        assert_true(sd_bus_message_append(m, "{sv}", "from_the_future", "ai", 2, 1, 2) >= 0);
        assert_true(sd_bus_message_append(m, "{sv}", "uid", "u", 1001) >= 0);
        assert_true(sd_bus_message_close_container(m) >= 0);
        seal(m);

        assert_int_equal(session_record_read(m, &out), 0);
        assert_string_equal(out.user, "bob");
        assert_int_equal(out.uid, 1001);
}

static void test_wrong_type_is_refused(void **state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_message(*state);
        _cleanup_(session_record_done) SessionRecord out = SESSION_RECORD_INIT;

        assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
        append_entry_string(m, "uid", "0");     /* a uid must be a 'u', not text */
        assert_true(sd_bus_message_close_container(m) >= 0);
        seal(m);

        assert_int_equal(session_record_read(m, &out), -EBADMSG);
        assert_int_equal(out.uid, (uid_t) -1);
}

static void test_unknown_state_is_refused(void **state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_message(*state);
        _cleanup_(session_record_done) SessionRecord out = SESSION_RECORD_INIT;

        assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
        append_entry_string(m, "state", "zombie");
        assert_true(sd_bus_message_close_container(m) >= 0);
        seal(m);

        assert_int_equal(session_record_read(m, &out), -EBADMSG);
}

static void test_duplicate_keys_do_not_leak(void **state) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = new_message(*state);
        _cleanup_(session_record_done) SessionRecord out = SESSION_RECORD_INIT;

        assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
        append_entry_string(m, "user", "first");
        append_entry_string(m, "user", "second");
        assert_true(sd_bus_message_close_container(m) >= 0);
        seal(m);

        assert_int_equal(session_record_read(m, &out), 0);
        assert_string_equal(out.user, "second");
}

static void test_validate(void **state) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        char long_text[RECORD_STRING_MAX + 2];
        const char *reason = NULL;

        assert_int_equal(session_record_validate(&record, &reason), -EINVAL);
        assert_non_null(strstr(reason, "uid"));

        record.uid = 1000;
        assert_int_equal(session_record_validate(&record, &reason), -EINVAL);
        assert_non_null(strstr(reason, "user"));

        assert_int_equal(record_set_string(&record.user, "alice"), 0);
        assert_int_equal(session_record_validate(&record, &reason), 0);
        assert_null(reason);

        /* Text is made safe first, never a reason to refuse a login. */
        assert_int_equal(record_set_string(&record.remote_host, "evil\033[2Jhost"), 0);
        assert_int_equal(session_record_validate(&record, &reason), -EINVAL);
        assert_int_equal(session_record_make_safe(&record), 0);
        assert_int_equal(session_record_validate(&record, &reason), 0);
        assert_string_equal(record.remote_host, "evil\\x1b[2Jhost");

        memset(long_text, 'a', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = '\0';
        assert_int_equal(record_set_string(&record.remote_host, long_text), 0);
        assert_int_equal(session_record_validate(&record, &reason), -EINVAL);
        assert_int_equal(session_record_make_safe(&record), 0);
        assert_int_equal(session_record_validate(&record, &reason), 0);

        long_text[RECORD_STRING_MAX] = '\0';
        assert_int_equal(record_set_string(&record.remote_host, long_text), 0);
        assert_int_equal(session_record_validate(&record, &reason), 0);

        record.login_time_usec = -1;
        assert_int_equal(session_record_validate(&record, &reason), -EINVAL);
}

static void assert_escaped(const char *text, TextEscapeFlags flags, const char *expected) {
        _cleanup_(freep) char *escaped = text_escape(text, 0, flags);
        _cleanup_(freep) char *again = NULL;

        assert_non_null(escaped);
        assert_string_equal(escaped, expected);
        /* Idempotent, and what it makes is safe. */
        again = text_escape(escaped, 0, flags);
        assert_string_equal(again, escaped);
        assert_true(text_is_safe(escaped));
        if (text && !(flags & TEXT_ESCAPE_ASCII))
                assert_true(text_is_printable(text) == (strcmp(text, escaped) == 0));
}

static void test_escape_each_class(void **state) {
        /* Passes: ASCII, UTF-8 letters, a no-break space, a backslash (kept as it is). */
        assert_escaped("host-1.example.org", 0, "host-1.example.org");
        assert_escaped("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xc2\xa0x", 0, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xc2\xa0x");
        assert_escaped("a\\x1b", 0, "a\\x1b");
        /* C0 and DEL. */
        assert_escaped("a\033[2Jb\n\t\r", 0, "a\\x1b[2Jb\\x0a\\x09\\x0d");
        assert_escaped("x\x7fy", 0, "x\\x7fy");
        /* C1: CSI (U+009B), NEL (U+0085), OSC (U+009D). */
        assert_escaped("a\xc2\x9b" "2J", 0, "a\\xc2\\x9b2J");
        assert_escaped("\xc2\x85\xc2\x9d", 0, "\\xc2\\x85\\xc2\\x9d");
        /* Bidi and other format characters: RLO, LRI, PDI, LRM, RLM, ALM, ZWSP, ZWJ, word
         * joiner, BOM, soft hyphen, a tag; and the line separator. */
        assert_escaped("\xe2\x80\xae" "exe.txt", 0, "\\xe2\\x80\\xaeexe.txt");
        assert_escaped("\xe2\x81\xa6" "a" "\xe2\x81\xa9", 0, "\\xe2\\x81\\xa6a\\xe2\\x81\\xa9");
        assert_escaped("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", 0, "\\xe2\\x80\\x8e\\xe2\\x80\\x8f\\xd8\\x9c");
        assert_escaped("\xe2\x80\x8b\xe2\x80\x8d\xe2\x81\xa0", 0, "\\xe2\\x80\\x8b\\xe2\\x80\\x8d\\xe2\\x81\\xa0");
        assert_escaped("\xef\xbb\xbf\xc2\xad\xf3\xa0\x81\x81", 0, "\\xef\\xbb\\xbf\\xc2\\xad\\xf3\\xa0\\x81\\x81");
        assert_escaped("a\xe2\x80\xa8" "b", 0, "a\\xe2\\x80\\xa8b");
        /* Not UTF-8: a stray byte, an overlong "/", a surrogate, a character cut short. */
        assert_escaped("\xff", 0, "\\xff");
        assert_escaped("\xc0\xaf", 0, "\\xc0\\xaf");
        assert_escaped("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");
        assert_escaped("a\xe2\x80", 0, "a\\xe2\\x80");
        /* For a terminal that is not UTF-8, every byte above 0x7f. */
        assert_escaped("caf\xc3\xa9", TEXT_ESCAPE_ASCII, "caf\\xc3\\xa9");
        assert_escaped(NULL, 0, "-");
}

static void assert_cut(const char *text, size_t max) {
        _cleanup_(freep) char *cut = text_escape(text, max, 0);
        _cleanup_(freep) char *again = NULL;
        size_t length;

        assert_non_null(cut);
        length = strlen(cut);
        assert_true(length <= max);
        assert_true(length > max - 4 - strlen(TEXT_CUT_MARKER));    /* no more cut than one escape */
        assert_string_equal(cut + length - strlen(TEXT_CUT_MARKER), TEXT_CUT_MARKER);
        assert_true(text_is_safe(cut));                 /* never inside a character */
        again = text_escape(cut, max, 0);
        assert_string_equal(again, cut);
}

static void test_escape_cuts_long_text(void **state) {
        size_t size = 10 * 1024;
        _cleanup_(freep) char *text = malloc(size + 1);
        _cleanup_(freep) char *escapes = NULL;

        assert_non_null(text);
        memset(text, 'a', size);
        text[size] = '\0';
        assert_cut(text, RECORD_STRING_MAX);

        /* Escapes are never cut in the middle: the text before the marker is whole ones. */
        memset(text, '\033', size);
        assert_cut(text, RECORD_STRING_MAX);
        escapes = text_escape(text, RECORD_STRING_MAX, 0);
        assert_int_equal((strlen(escapes) - strlen(TEXT_CUT_MARKER)) % 4, 0);

        /* Nor a character of two bytes. */
        for (size_t i = 0; i + 1 < size; i += 2)
                memcpy(text + i, "\xc3\xa9", 2);
        assert_cut(text, RECORD_STRING_MAX);
        assert_cut(text, 11);
}

static void test_make_safe(void **state) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        _cleanup_(freep) char *host = malloc(10 * 1024 + 1);
        const char *kept;

        assert_non_null(host);
        memset(host, 'h', 10 * 1024);
        host[10 * 1024] = '\0';
        host[0] = '\033';
        record.uid = 1000;
        assert_int_equal(record_set_string(&record.user, "alice"), 0);
        assert_int_equal(record_set_string(&record.service, "sshd"), 0);
        assert_int_equal(record_set_string(&record.tty, "\xc2\x9b" "31m"), 0);
        assert_int_equal(record_set_string(&record.remote_host, host), 0);

        assert_int_equal(session_record_make_safe(&record), 0);
        assert_int_equal(session_record_validate(&record, NULL), 0);
        assert_string_equal(record.service, "sshd");
        assert_string_equal(record.tty, "\\xc2\\x9b31m");
        assert_int_equal(strlen(record.remote_host), RECORD_STRING_MAX);
        assert_memory_equal(record.remote_host, "\\x1bhhh", 7);

        /* Again: nothing changes, safe fields are not even copied. */
        kept = record.remote_host;
        assert_int_equal(session_record_make_safe(&record), 0);
        assert_ptr_equal(record.remote_host, kept);
        assert_string_equal(record.tty, "\\xc2\\x9b31m");
}

static void test_from(void **state) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;

        /* Each caller says what "nowhere else" is. */
        assert_string_equal(session_record_from(&record, "local"), "local");
        assert_string_equal(session_record_from(&record, "this machine"), "this machine");
        assert_int_equal(record_set_string(&record.remote_host, "laptop.example.org"), 0);
        assert_string_equal(session_record_from(&record, "local"), "laptop.example.org");
        /* The numeric address sshd saw wins over a name that DNS may have supplied. */
        assert_int_equal(record_set_string(&record.remote_address, "203.0.113.7"), 0);
        assert_string_equal(session_record_from(&record, "local"), "203.0.113.7");

        /* An empty text is as unknown as none. */
        free(record.remote_address);
        free(record.remote_host);
        record.remote_address = strdup("");
        record.remote_host = strdup("");
        assert_string_equal(session_record_from(&record, "local"), "local");
}

static void test_state_names(void **state) {
        assert_string_equal(session_state_to_string(SESSION_ACTIVE), "active");
        assert_string_equal(session_state_to_string(SESSION_CLOSING), "closing");
        assert_string_equal(session_state_to_string(SESSION_CLOSED), "closed");
        assert_null(session_state_to_string(_SESSION_STATE_MAX));
        assert_int_equal(session_state_from_string("closed"), SESSION_CLOSED);
        assert_int_equal(session_state_from_string("Closed"), _SESSION_STATE_INVALID);
        assert_int_equal(session_state_from_string(NULL), _SESSION_STATE_INVALID);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_keys_are_skipped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wrong_type_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_state_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duplicate_keys_do_not_leak, setup, teardown),
                cmocka_unit_test(test_struct_signature_follows_the_table),
                cmocka_unit_test_setup_teardown(test_struct_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_struct_unknown_state_is_refused, setup, teardown),
                cmocka_unit_test(test_validate),
                cmocka_unit_test(test_escape_each_class),
                cmocka_unit_test(test_escape_cuts_long_text),
                cmocka_unit_test(test_make_safe),
                cmocka_unit_test(test_from),
                cmocka_unit_test(test_state_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
