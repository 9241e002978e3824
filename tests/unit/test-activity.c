/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "activity-probe.h"
#include "activity.h"
#include "idle.h"
#include "sshd-auth.h"

#define SECOND 1000000LL
#define LOGIN (1795848751 * SECOND)

/* A session without a terminal, looked at every 30 s with made-up counters. */
static void test_process_activity(void **state) {
        ActivityCounters previous = {};
        int64_t last_active = LOGIN, now = LOGIN;
        const char *source = ACTIVITY_SOURCE_LOGIN;
        ActivitySample sample = { .cpu_usec = 5000, .io_bytes = -1 };

        /* First look: only a baseline, however much CPU the login itself took. */
        now += 30 * SECOND;
        assert_false(activity_judge(&sample, &previous, now, false, &last_active, &source));
        assert_int_equal(last_active, LOGIN);
        assert_string_equal(source, ACTIVITY_SOURCE_LOGIN);

        /* Idle ("sleep 60"): a few µs of housekeeping is not use. */
        now += 30 * SECOND;
        sample.cpu_usec += ACTIVITY_CPU_THRESHOLD_USEC - 1;
        assert_false(activity_judge(&sample, &previous, now, false, &last_active, &source));
        assert_int_equal(last_active, LOGIN);

        /* Busy: activity at the time of the look. */
        now += 30 * SECOND;
        sample.cpu_usec += 2 * SECOND;
        assert_true(activity_judge(&sample, &previous, now, false, &last_active, &source));
        assert_int_equal(last_active, now);
        assert_string_equal(source, ACTIVITY_SOURCE_PROCESS);

        /* Idle again: stays where it was. */
        int64_t busy_at = now;
        now += 30 * SECOND;
        assert_false(activity_judge(&sample, &previous, now, false, &last_active, &source));
        assert_int_equal(last_active, busy_at);
}

static void test_io_counts_and_counter_reset(void **state) {
        ActivityCounters previous = {};
        int64_t last_active = LOGIN, now = LOGIN + 30 * SECOND;
        const char *source = ACTIVITY_SOURCE_LOGIN;
        ActivitySample sample = { .cpu_usec = 100, .io_bytes = 4096 };

        assert_false(activity_judge(&sample, &previous, now, false, &last_active, &source));
        /* An sftp download that costs little CPU still moves bytes. */
        now += 30 * SECOND;
        sample.io_bytes += 1 << 20;
        assert_true(activity_judge(&sample, &previous, now, false, &last_active, &source));
        assert_int_equal(last_active, now);

        /* Counters that went down (a new cgroup): a new baseline, no activity. */
        now += 30 * SECOND;
        sample = (ActivitySample) { .cpu_usec = 10, .io_bytes = 0 };
        assert_false(activity_judge(&sample, &previous, now, false, &last_active, &source));
        assert_int_equal(previous.cpu_usec, 10);
        assert_true(previous.known);

        /* No cgroup numbers at all: never "active" from processes. */
        sample = (ActivitySample) { .cpu_usec = -1, .io_bytes = -1 };
        assert_false(activity_judge(&sample, &previous, now + 30 * SECOND, false, &last_active, &source));
        assert_false(previous.known);
}

static void test_tty_input(void **state) {
        ActivityCounters previous = {};
        int64_t last_active = LOGIN, now = LOGIN + 60 * SECOND;
        const char *source = ACTIVITY_SOURCE_LOGIN;
        ActivitySample sample = { .cpu_usec = 0, .io_bytes = -1, .has_tty = true, .tty_input_usec = LOGIN - SECOND };

        /* Input before the login (the pty's creation) is not activity. */
        assert_false(activity_judge(&sample, &previous, now, false, &last_active, &source));

        sample.tty_input_usec = LOGIN + 42 * SECOND;
        assert_true(activity_judge(&sample, &previous, now, false, &last_active, &source));
        assert_int_equal(last_active, LOGIN + 42 * SECOND);
        assert_string_equal(source, ACTIVITY_SOURCE_TTY);

        /* A terminal session busy computing without input is not "in use" by a person. */
        sample.cpu_usec += 10 * SECOND;
        assert_false(activity_judge(&sample, &previous, now + 30 * SECOND, false, &last_active, &source));
        assert_int_equal(last_active, LOGIN + 42 * SECOND);

        /* Input stamped in the future (clock set back) counts as now, no later. */
        sample.tty_input_usec = now + 3600 * SECOND;
        assert_true(activity_judge(&sample, &previous, now + 30 * SECOND, false, &last_active, &source));
        assert_int_equal(last_active, now + 30 * SECOND);
}

/* CountProcessActivity=yes: a terminal session whose processes work (a build) is in use,
 * one whose processes barely run (an idle shell, a quiet "tail -f") is not. */
static void test_tty_session_counting_process_activity(void **state) {
        ActivityCounters previous = {};
        int64_t last_active = LOGIN, now = LOGIN + 30 * SECOND;
        const char *source = ACTIVITY_SOURCE_LOGIN;
        ActivitySample sample = { .cpu_usec = 0, .io_bytes = -1, .has_tty = true, .tty_input_usec = LOGIN };

        assert_false(activity_judge(&sample, &previous, now, true, &last_active, &source));     /* baseline */

        now += 30 * SECOND;
        sample.cpu_usec += ACTIVITY_CPU_THRESHOLD_USEC - 1;
        assert_false(activity_judge(&sample, &previous, now, true, &last_active, &source));
        assert_int_equal(last_active, LOGIN);

        now += 30 * SECOND;
        sample.cpu_usec += 20 * SECOND;
        assert_true(activity_judge(&sample, &previous, now, true, &last_active, &source));
        assert_int_equal(last_active, now);
        assert_string_equal(source, ACTIVITY_SOURCE_PROCESS);

        /* Typing afterwards moves it on as before. */
        sample.tty_input_usec = now + 10 * SECOND;
        now += 30 * SECOND;
        assert_true(activity_judge(&sample, &previous, now, true, &last_active, &source));
        assert_int_equal(last_active, sample.tty_input_usec);
        assert_string_equal(source, ACTIVITY_SOURCE_TTY);

        /* The same work with the option off (the default) is not use. */
        int64_t typed_at = last_active;
        now += 30 * SECOND;
        sample.cpu_usec += 20 * SECOND;
        assert_false(activity_judge(&sample, &previous, now, false, &last_active, &source));
        assert_int_equal(last_active, typed_at);
}

static void test_tty_names(void **state) {
        char *name;

        name = tty_name_from_number(makedev(136, 3));
        assert_string_equal(name, "pts/3");
        free(name);
        name = tty_name_from_number(makedev(137, 4));
        assert_string_equal(name, "pts/260");
        free(name);
        assert_null(tty_name_from_number(0));

        /* The others come from sysfs (sd-device), where this machine has them. */
        if (access("/sys/dev/char/4:2", F_OK) == 0) {
                name = tty_name_from_number(makedev(4, 2));
                assert_string_equal(name, "tty2");
                free(name);
        }
        if (access("/sys/dev/char/4:64", F_OK) == 0) {
                name = tty_name_from_number(makedev(4, 64));
                assert_string_equal(name, "ttyS0");
                free(name);
        }
        assert_null(tty_name_from_number(makedev(4, 0)));      /* tty0 is "the current VT" */
        assert_null(tty_name_from_number(makedev(5, 0)));      /* /dev/tty, the caller's own */
        assert_null(tty_name_from_number(makedev(5, 1)));      /* /dev/console */
        assert_null(tty_name_from_number(makedev(1, 3)));      /* /dev/null is no terminal */
        assert_null(tty_name_from_number(makedev(4000, 1)));   /* no such device */
}

static void test_sshd_accepted(void **state) {
        SshdLogin login;

        assert_int_equal(sshd_parse_accepted("Accepted publickey for alice from 203.0.113.7 port 50022 ssh2: "
                                             "ED25519 SHA256:wpZDObr0zkaB2bqE9qAn9+g+cl2wklXleLRLRAZcAjk", &login), 0);
        assert_string_equal(login.method, "publickey");
        assert_string_equal(login.user, "alice");
        assert_string_equal(login.address, "203.0.113.7");
        assert_int_equal(login.port, 50022);
        assert_string_equal(login.key, "ED25519 SHA256:wpZDObr0zkaB2bqE9qAn9+g+cl2wklXleLRLRAZcAjk");

        assert_int_equal(sshd_parse_accepted("Accepted password for bob from 2001:db8::1 port 4242 ssh2", &login), 0);
        assert_string_equal(login.method, "password");
        assert_string_equal(login.address, "2001:db8::1");
        assert_string_equal(login.key, "");

        assert_int_equal(sshd_parse_accepted("Accepted keyboard-interactive/pam for carol from 10.0.0.5 port 1 ssh2",
                                             &login), 0);
        assert_string_equal(login.method, "keyboard-interactive/pam");

        assert_int_equal(sshd_parse_accepted("Accepted publickey for dave from 10.0.0.6 port 22 ssh2: ED25519-CERT "
                                             "SHA256:abc ID dave (serial 5) CA ED25519 SHA256:def", &login), 0);
        assert_string_equal(login.key, "ED25519-CERT SHA256:abc");

        const char *other[] = {
                "Failed password for alice from 203.0.113.7 port 50022 ssh2",
                "Accepted publickey for alice from 203.0.113.7 port 0 ssh2",
                "Accepted publickey for alice from 203.0.113.7 port 70000 ssh2",
                "Accepted publickey for alice from 203.0.113.7 port 22 ssh2 and more",
                "Accepted publickey for alice from 203.0.113.7",
                "Received disconnect from 203.0.113.7 port 50022:11: disconnected by user",
                "",
        };
        for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
                assert_int_equal(sshd_parse_accepted(other[i], &login), -EINVAL);
}

static void test_idle_policy(void **state) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        _cleanup_(freep) char *text = NULL;
        Config config;

        config_defaults(&config);
        record.uid = 1000;
        assert_int_equal(record_set_string(&record.user, "alice"), 0);
        assert_int_equal(record_set_string(&record.service, "sshd"), 0);
        assert_int_equal(record_set_string(&record.logind_session, "5"), 0);
        record.last_active_usec = LOGIN;

        /* Off by default. */
        assert_int_equal(idle_judge(&config, &record, LOGIN + 86400 * SECOND, false), IDLE_NOTHING);

        config.idle_timeout_usec = 3600 * SECOND;
        config.idle_warning_usec = 300 * SECOND;
        assert_int_equal(idle_judge(&config, &record, LOGIN + 3000 * SECOND, false), IDLE_NOTHING);
        assert_int_equal(idle_judge(&config, &record, LOGIN + 3300 * SECOND, false), IDLE_WARN);
        assert_int_equal(idle_judge(&config, &record, LOGIN + 3300 * SECOND, true), IDLE_NOTHING);  /* warned once */
        assert_int_equal(idle_judge(&config, &record, LOGIN + 3600 * SECOND, true), IDLE_LOG_OUT);

        assert_int_equal(idle_warning_text(&config, &record, LOGIN + 3300 * SECOND, &text), 0);
        assert_non_null(strstr(text, "logged out in 5 minutes"));

        /* Exempt users and services, sessions already closing, sessions logind does not know. */
        char *users[] = { (char *) "root", (char *) "alice", NULL };
        config.exempt_users = users;
        assert_int_equal(idle_judge(&config, &record, LOGIN + 7200 * SECOND, true), IDLE_NOTHING);
        config.exempt_users = NULL;
        char *services[] = { (char *) "sshd", NULL };
        config.exempt_services = services;
        assert_int_equal(idle_judge(&config, &record, LOGIN + 7200 * SECOND, true), IDLE_NOTHING);
        config.exempt_services = NULL;
        record.state = SESSION_CLOSING;
        assert_int_equal(idle_judge(&config, &record, LOGIN + 7200 * SECOND, true), IDLE_NOTHING);
        record.state = SESSION_ACTIVE;
        record.parent_id = 7;           /* sudo inside a login: the login is judged, not it */
        assert_int_equal(idle_judge(&config, &record, LOGIN + 7200 * SECOND, true), IDLE_NOTHING);
        record.parent_id = 0;
        record.state = SESSION_ACTIVE;
        assert_int_equal(record_set_string(&record.logind_session, NULL), 0);
        assert_int_equal(idle_judge(&config, &record, LOGIN + 7200 * SECOND, true), IDLE_NOTHING);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_process_activity),
                cmocka_unit_test(test_io_counts_and_counter_reset),
                cmocka_unit_test(test_tty_input),
                cmocka_unit_test(test_tty_session_counting_process_activity),
                cmocka_unit_test(test_tty_names),
                cmocka_unit_test(test_sshd_accepted),
                cmocka_unit_test(test_idle_policy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
