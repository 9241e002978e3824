/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config-files.h"
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

static void test_lists_add_up_and_an_empty_value_empties_them(void **state) {
        _cleanup_(freep) char *error = NULL;
        Config config;

        config_defaults(&config);
        assert_int_equal(config_parse_string(&config, "[IdleLogout]\nExemptUsers=root\nExemptUsers=bob, carol\n",
                                             &error), 0);
        assert_true(config_list_contains(config.exempt_users, "root"));
        assert_true(config_list_contains(config.exempt_users, "carol"));
        assert_int_equal(config_parse_string(&config, "[IdleLogout]\nExemptUsers=\nExemptUsers=dave\n", &error), 0);
        assert_false(config_list_contains(config.exempt_users, "root"));
        assert_true(config_list_contains(config.exempt_users, "dave"));
        config_done(&config);
}

static void test_booleans(void **state) {
        _cleanup_(freep) char *error = NULL;
        Config config;

        config_defaults(&config);
        assert_false(config.count_process_activity);
        assert_int_equal(config_parse_string(&config, "[IdleLogout]\nCountProcessActivity=Yes\n", &error), 0);
        assert_true(config.count_process_activity);
        assert_int_equal(config_parse_string(&config, "[IdleLogout]\nCountProcessActivity=off\n", &error), 0);
        assert_false(config.count_process_activity);
        config_done(&config);
        assert_error("[IdleLogout]\nCountProcessActivity=maybe\n",
                     "(text):2: [IdleLogout] CountProcessActivity=: invalid value \"maybe\"");
}

/* What --dump-config prints reads back to the same settings. */
static void test_dump_reads_back(void **state) {
        _cleanup_(freep) char *error = NULL, *text = NULL, *again = NULL;
        size_t size = 0, size_again = 0;
        Config config, copy;
        FILE *f;

        config_defaults(&config);
        assert_int_equal(config_parse_string(&config, "[Activity]\nPollIntervalSec=7\n[IdleLogout]\n"
                                             "IdleTimeoutSec=600\nExemptUsers=a b\nCountProcessActivity=yes\n",
                                             &error), 0);
        f = open_memstream(&text, &size);
        assert_int_equal(config_dump(&config, f), 0);
        fclose(f);
        assert_non_null(strstr(text, "[Activity]\nPollIntervalSec=7\n\n[History]\nRetentionDays=90\n"));
        assert_non_null(strstr(text, "ExemptUsers=a b\nExemptServices=\nCountProcessActivity=yes\n"));

        config_defaults(&copy);
        assert_int_equal(config_parse_string(&copy, text, &error), 0);
        f = open_memstream(&again, &size_again);
        assert_int_equal(config_dump(&copy, f), 0);
        fclose(f);
        assert_string_equal(text, again);
        assert_int_equal(config_compare_for_reload(&config, &copy), 0);
        config_done(&config);
        config_done(&copy);
}

static void test_reload_counts_changes(void **state) {
        _cleanup_(freep) char *error = NULL;
        Config running, loaded;

        config_defaults(&running);
        config_defaults(&loaded);
        assert_int_equal(config_parse_string(&loaded, "[IdleLogout]\nIdleTimeoutSec=60\nWarnSec=0\nExemptUsers=x\n",
                                             &error), 0);
        assert_int_equal(config_compare_for_reload(&running, &loaded), 3);
        config_done(&running);
        config_done(&loaded);
}

static void write_file(const char *root, const char *path, const char *text) {
        _cleanup_(freep) char *full = NULL;
        FILE *f;

        assert_true(asprintf(&full, "%s%s", root, path) > 0);
        for (char *slash = strchr(full + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                (void) mkdir(full, 0755);
                *slash = '/';
        }
        if (!text) {
                assert_int_equal(symlink("/dev/null", full), 0);
                return;
        }
        f = fopen(full, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* The order and masking of systemd's configuration directories. */
static void test_files_order_and_masking(void **state) {
        char root[] = "/tmp/sessmgr-test-config-root-XXXXXX";
        _cleanup_(config_files_freep) char **paths = NULL;
        _cleanup_(freep) char *error = NULL, *command = NULL;
        const char *etc = config_directories[0], *run = config_directories[1], *usr = config_directories[2];
        char expected[6][PATH_MAX];
        char path[PATH_MAX];
        Config config;
        size_t count = 0;

        assert_non_null(mkdtemp(root));
        /* The main file: /etc's, though the package has one too. */
        snprintf(path, sizeof(path), "%s/sessmgrd.conf", usr);
        write_file(root, path, "[History]\nRetentionDays=1\n");
        snprintf(path, sizeof(path), "%s/sessmgrd.conf", etc);
        write_file(root, path, "[History]\nRetentionDays=2\n[IdleLogout]\nExemptUsers=etc\n");
        /* Drop-ins by name, whichever the directory; /etc over /run over /usr/lib. */
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/30-usr.conf", usr);
        write_file(root, path, "[IdleLogout]\nExemptUsers=usr30\n");
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/10-run.conf", run);
        write_file(root, path, "[IdleLogout]\nExemptUsers=run10\n");
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/10-run.conf", usr);
        write_file(root, path, "not even a setting\n");
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/20-etc.conf", etc);
        write_file(root, path, "[History]\nRetentionDays=3\n");
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/20-etc.conf", run);
        write_file(root, path, "not even a setting\n");
        /* Masked by a link to /dev/null, and by an empty file. */
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/40-masked.conf", usr);
        write_file(root, path, "not even a setting\n");
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/40-masked.conf", etc);
        write_file(root, path, NULL);
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/45-empty.conf", usr);
        write_file(root, path, "not even a setting\n");
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/45-empty.conf", run);
        write_file(root, path, "");
        /* Not drop-ins: another suffix, hidden. */
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/50-backup.conf~", etc);
        write_file(root, path, "not even a setting\n");
        snprintf(path, sizeof(path), "%s/sessmgrd.conf.d/.60-hidden.conf", etc);
        write_file(root, path, "not even a setting\n");

        assert_int_equal(config_files_find(root, &paths, &error), 0);
        snprintf(expected[0], PATH_MAX, "%s%s/sessmgrd.conf", root, etc);
        snprintf(expected[1], PATH_MAX, "%s%s/sessmgrd.conf.d/10-run.conf", root, run);
        snprintf(expected[2], PATH_MAX, "%s%s/sessmgrd.conf.d/20-etc.conf", root, etc);
        snprintf(expected[3], PATH_MAX, "%s%s/sessmgrd.conf.d/30-usr.conf", root, usr);
        for (; paths[count]; count++) {
                assert_true(count < 4);
                assert_string_equal(paths[count], expected[count]);
        }
        assert_int_equal(count, 4);

        config_defaults(&config);
        assert_int_equal(config_load_files(&config, paths, &error), 0);
        assert_int_equal(config.retention_usec, 3 * 86400 * SECOND);
        assert_true(config_list_contains(config.exempt_users, "etc"));
        assert_true(config_list_contains(config.exempt_users, "run10"));
        assert_true(config_list_contains(config.exempt_users, "usr30"));
        config_done(&config);

        /* A main file in /etc linked to /dev/null masks the package's. */
        snprintf(path, sizeof(path), "%s%s/sessmgrd.conf", root, etc);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(symlink("/dev/null", path), 0);
        config_files_free(TAKE_PTR(paths));
        assert_int_equal(config_files_find(root, &paths, &error), 0);
        assert_string_equal(paths[0], expected[1]);

        assert_true(asprintf(&command, "rm -rf '%s'", root) > 0);
        assert_int_equal(system(command), 0);
}

/* Checked once all files are read: a later drop-in may lift IdleTimeoutSec= above WarnSec=. */
static void test_settings_checked_against_each_other_after_the_last_file(void **state) {
        char first[] = "/tmp/sessmgr-test-config-a-XXXXXX", second[] = "/tmp/sessmgr-test-config-b-XXXXXX";
        char *paths[] = { first, second, NULL };
        _cleanup_(freep) char *error = NULL;
        Config config;
        FILE *f;

        f = fdopen(mkstemp(first), "w");
        fputs("[IdleLogout]\nIdleTimeoutSec=600\nWarnSec=900\n", f);
        fclose(f);
        f = fdopen(mkstemp(second), "w");
        fputs("[IdleLogout]\nIdleTimeoutSec=3600\n", f);
        fclose(f);
        config_defaults(&config);
        assert_int_equal(config_load_files(&config, paths, &error), 0);
        config_done(&config);

        /* The other way round, the result is refused, and the message says it is the merge. */
        paths[0] = second;
        paths[1] = first;
        config_defaults(&config);
        assert_int_equal(config_load_files(&config, paths, &error), -EINVAL);
        assert_non_null(strstr(error, "the files merged (see sessmgrd --cat-config): [IdleLogout] WarnSec="));
        config_done(&config);
        unlink(first);
        unlink(second);
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
                cmocka_unit_test(test_lists_add_up_and_an_empty_value_empties_them),
                cmocka_unit_test(test_booleans),
                cmocka_unit_test(test_dump_reads_back),
                cmocka_unit_test(test_reload_counts_changes),
                cmocka_unit_test(test_files_order_and_masking),
                cmocka_unit_test(test_settings_checked_against_each_other_after_the_last_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
