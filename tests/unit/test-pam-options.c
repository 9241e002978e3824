/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gather.h"
#include "notice.h"
#include "options.h"

typedef struct Warnings {
        unsigned count;
        const char *last_argument;
} Warnings;

static void collect_warning(void *userdata, const char *argument, const char *why) {
        Warnings *warnings = userdata;

        assert_non_null(why);
        warnings->count++;
        warnings->last_argument = argument;
}

static void parse(PamOptions *options, Warnings *warnings, int argc, const char **argv) {
        *warnings = (Warnings) {};
        pam_options_parse(options, argc, argv, collect_warning, warnings);
}

static void test_defaults(void **state) {
        PamOptions options;
        Warnings warnings;

        parse(&options, &warnings, 0, NULL);
        assert_string_equal(options.socket_path, SESSMGR_SOCKET_PATH);
        assert_int_equal(options.timeout_msec, 250);
        assert_false(options.debug);
        assert_int_equal(warnings.count, 0);
}

static void test_all_options(void **state) {
        const char *argv[] = { "socket=/tmp/s", "timeout=1000", "debug" };
        PamOptions options;
        Warnings warnings;

        parse(&options, &warnings, 3, argv);
        assert_string_equal(options.socket_path, "/tmp/s");
        assert_int_equal(options.timeout_msec, 1000);
        assert_true(options.debug);
        assert_int_equal(warnings.count, 0);
}

static void test_bad_options_are_ignored_with_a_warning(void **state) {
        const char *bad[] = { "socket=relative/path", "timeout=0", "timeout=60001", "timeout=-5",
                              "timeout=12ms", "timeout=", "verbose", "socket" };
        PamOptions options;
        Warnings warnings;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                parse(&options, &warnings, 1, &bad[i]);
                assert_int_equal(warnings.count, 1);
                assert_string_equal(warnings.last_argument, bad[i]);
                /* The defaults stay: a typo never breaks logins. */
                assert_string_equal(options.socket_path, SESSMGR_SOCKET_PATH);
                assert_int_equal(options.timeout_msec, 250);
        }
}

static void test_timeout_bounds(void **state) {
        const char *low[] = { "timeout=1" }, *high[] = { "timeout=60000" };
        PamOptions options;
        Warnings warnings;

        parse(&options, &warnings, 1, low);
        assert_int_equal(options.timeout_msec, 1);
        parse(&options, &warnings, 1, high);
        assert_int_equal(options.timeout_msec, 60000);
        assert_int_equal(warnings.count, 0);
}

static void test_ssh_connection(void **state) {
        char *address = NULL;
        uint16_t port = 0;

        assert_int_equal(parse_ssh_connection("203.0.113.7 50022 10.0.0.1 22", &address, &port), 0);
        assert_string_equal(address, "203.0.113.7");
        assert_int_equal(port, 50022);
        free(address);

        assert_int_equal(parse_ssh_connection("2001:db8::7 4242 2001:db8::1 22", &address, &port), 0);
        assert_string_equal(address, "2001:db8::7");
        assert_int_equal(port, 4242);
        free(address);
}

static void test_ssh_connection_rejects_garbage(void **state) {
        const char *bad[] = { "", "203.0.113.7", "203.0.113.7 ", "example.com 22 1.2.3.4 22",
                              "203.0.113.7 0 1.2.3.4 22", "203.0.113.7 65536 1.2.3.4 22",
                              "203.0.113.7 22x 1.2.3.4 22", "\033[2J 22 1.2.3.4 22", " 22 1.2.3.4 22",
                              "203.0.113.7 -1 1.2.3.4 22" };
        char *address = NULL;
        uint16_t port = 0;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_not_equal(parse_ssh_connection(bad[i], &address, &port), 0);
                assert_null(address);
        }
        assert_int_not_equal(parse_ssh_connection(NULL, &address, &port), 0);
}

static void test_notify_option(void **state) {
        const char *argv[] = { "notify" };
        PamOptions options;
        Warnings warnings;

        parse(&options, &warnings, 1, argv);
        assert_true(options.notify);
        assert_int_equal(warnings.count, 0);
}

static void assert_notice(uint32_t others, char *const *places, const char *address, const char *expected) {
        _cleanup_(freep) char *text = NULL;

        assert_int_equal(format_login_notice(others, places, address, &text), 0);
        if (!expected)
                assert_null(text);
        else
                assert_string_equal(text, expected);
}

static void test_login_notice(void **state) {
        char *one[] = { (char *) "203.0.113.7 (sshd)", NULL };
        char *three[] = { (char *) "203.0.113.7 (sshd)", (char *) "local (login tty2)", (char *) "x\033[2J", NULL };

        assert_notice(0, NULL, NULL, NULL);
        assert_notice(1, one, NULL, "You have 1 other active session: 203.0.113.7 (sshd).");
        assert_notice(0, NULL, "198.51.100.4", "New login from 198.51.100.4 - not you? Run: sessmgrctl logout --others");
        /* More sessions than places; a place with an escape sequence shown escaped. */
        assert_notice(5, three, "198.51.100.4",
                      "You have 5 other active sessions: 203.0.113.7 (sshd), local (login tty2), x\\x1b[2J, ...\n"
                      "New login from 198.51.100.4 - not you? Run: sessmgrctl logout --others");
}

static void test_login_notice_is_ascii(void **state) {
        /* CSI as U+009B, a right-to-left override, and a name not in UTF-8: the notice
         * goes to a terminal of unknown character set, so it is plain ASCII. Nor does a
         * hostile address silence the warning about a new one. */
        char *places[] = { (char *) "a\xc2\x9b" "2Jb", (char *) "\xe2\x80\xae" "txt.exe", (char *) "caf\xc3\xa9 \xff", NULL };

        assert_notice(3, places, "evil\033]0;x\007host",
                      "You have 3 other active sessions: a\\xc2\\x9b2Jb, \\xe2\\x80\\xaetxt.exe, caf\\xc3\\xa9 \\xff.\n"
                      "New login from evil\\x1b]0;x\\x07host - not you? Run: sessmgrctl logout --others");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_all_options),
                cmocka_unit_test(test_bad_options_are_ignored_with_a_warning),
                cmocka_unit_test(test_timeout_bounds),
                cmocka_unit_test(test_notify_option),
                cmocka_unit_test(test_login_notice),
                cmocka_unit_test(test_login_notice_is_ascii),
                cmocka_unit_test(test_ssh_connection),
                cmocka_unit_test(test_ssh_connection_rejects_garbage),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
