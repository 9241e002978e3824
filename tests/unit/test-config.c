/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

#define SECOND 1000000LL

static void test_defaults(void **state) {
        Config config;

        config_defaults(&config);
        assert_int_equal(config.poll_interval_usec, 30 * SECOND);
        assert_int_equal(config.retention_usec, 90 * 86400 * SECOND);
        assert_int_equal(config.flush_interval_usec, SECOND);
        assert_int_equal(config.idle_timeout_usec, 0);
        assert_null(config.exempt_users);
        config_done(&config);
}

static void test_every_setting(void **state) {
        _cleanup_(freep) char *error = NULL;
        Config config;

        config_defaults(&config);
        assert_int_equal(config_parse_string(&config,
                                             "# sessmgrd.conf\n"
                                             "[Database]\nFlushIntervalSec=5\n"
                                             "[Activity]\nPollIntervalSec=10\n\n"
                                             "[History]\nRetentionDays = 7\n"
                                             "[IdleLogout]\nIdleTimeoutSec=3600\nWarnSec=60\n"
                                             "ExemptUsers=root, backup  nagios\nExemptServices=cron\n", &error), 0);
        assert_null(error);
        assert_int_equal(config.flush_interval_usec, 5 * SECOND);
        assert_int_equal(config.poll_interval_usec, 10 * SECOND);
        assert_int_equal(config.retention_usec, 7 * 86400 * SECOND);
        assert_int_equal(config.idle_timeout_usec, 3600 * SECOND);
        assert_int_equal(config.idle_warning_usec, 60 * SECOND);
        assert_true(config_list_contains(config.exempt_users, "backup"));
        assert_true(config_list_contains(config.exempt_users, "nagios"));
        assert_false(config_list_contains(config.exempt_users, "alice"));
        assert_true(config_list_contains(config.exempt_services, "cron"));
        config_done(&config);
}

static void assert_error(const char *text, const char *expected) {
        _cleanup_(freep) char *error = NULL;
        Config config;

        config_defaults(&config);
        assert_int_equal(config_parse_string(&config, text, &error), -EINVAL);
        assert_non_null(error);
        if (!strstr(error, expected))
                fail_msg("\"%s\" does not say \"%s\"", error, expected);
        config_done(&config);
}

static void test_errors_name_the_line_and_the_problem(void **state) {
        assert_error("[History]\nRetentionDays=seven\n", "(text):2: [History] RetentionDays=: invalid value \"seven\"");
        assert_error("[History]\n\n\nRetentionDays=-1\n", ":4:");
        assert_error("[Activity]\nPollIntervalSec=0\n", "invalid value \"0\"");
        assert_error("[Fleet]\nAgentUser=a user\n", "[Fleet] AgentUser=: invalid value");
        assert_error("[Database]\nFlushIntervalSec=61\n", "[Database] FlushIntervalSec=: invalid value \"61\"");
        assert_error("[Activity]\nPollIntervalSec=86401\n", "invalid value");
        assert_error("[Activity]\nPollInterval=5\n", "unknown setting PollInterval= in [Activity]");
        assert_error("[Nonsense]\nA=1\n", "unknown setting A= in [Nonsense]");
        assert_error("RetentionDays=5\n", "setting RetentionDays= outside any [section]");
        assert_error("[History]\nthis is not a setting\n", ":2:");
        /* The first problem is reported, whichever kind it is. */
        assert_error("[History]\nnot a setting\nFoo=1\n", "(text):2: not a setting");
        assert_error("[History]\nFoo=1\nnot a setting\n", "(text):2: unknown setting Foo= in [History]");
        assert_error("[IdleLogout]\nIdleTimeoutSec=60\nWarnSec=60\n", "WarnSec= must be shorter than IdleTimeoutSec=");
}

static void test_long_line(void **state) {
        char text[600] = "[IdleLogout]\nExemptUsers=";

        memset(text + strlen(text), 'a', 400);
        strcat(text, "\n");
        assert_error(text, "(text):2: line too long");
}

static void test_directory_is_refused(void **state) {
        _cleanup_(freep) char *error = NULL;
        Config config;

        config_defaults(&config);
        assert_int_equal(config_load(&config, "/tmp", &error), -EINVAL);
        assert_non_null(strstr(error, "/tmp: cannot read it"));
}

static void test_missing_file_keeps_defaults(void **state) {
        _cleanup_(freep) char *error = NULL;
        Config config;

        config_defaults(&config);
        assert_int_equal(config_load(&config, "/nonexistent/sessmgrd.conf", &error), 0);
        assert_null(error);
        assert_int_equal(config.retention_usec, 90 * 86400 * SECOND);
}

static void test_file(void **state) {
        char path[] = "/tmp/sessmgr-test-config-XXXXXX";
        _cleanup_(freep) char *error = NULL;
        Config config;
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "w");

        assert_non_null(f);
        fputs("[IdleLogout]\nIdleTimeoutSec=120\n[Bad]\nX=1\n", f);
        fclose(f);
        config_defaults(&config);
        assert_int_equal(config_load(&config, path, &error), -EINVAL);
        assert_non_null(strstr(error, path));
        assert_non_null(strstr(error, ":4: unknown setting X= in [Bad]"));
        assert_int_equal(config.idle_timeout_usec, 120 * SECOND);      /* read up to the error */
        config_done(&config);
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_every_setting),
                cmocka_unit_test(test_errors_name_the_line_and_the_problem),
                cmocka_unit_test(test_missing_file_keeps_defaults),
                cmocka_unit_test(test_long_line),
                cmocka_unit_test(test_directory_is_refused),
                cmocka_unit_test(test_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
