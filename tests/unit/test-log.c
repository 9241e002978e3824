/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"

/* Runs the log call with stderr in a temporary file and returns what it wrote. */
#define CAPTURE(buffer, call) ({                                                        \
        int _saved = dup(STDERR_FILENO), _r;                                            \
        FILE *_file = tmpfile();                                                        \
        assert_non_null(_file);                                                         \
        fflush(stderr);                                                                 \
        assert_true(dup2(fileno(_file), STDERR_FILENO) >= 0);                           \
        _r = (call);                                                                    \
        fflush(stderr);                                                                 \
        assert_true(dup2(_saved, STDERR_FILENO) >= 0);                                  \
        close(_saved);                                                                  \
        rewind(_file);                                                                  \
        buffer[fread(buffer, 1, sizeof(buffer) - 1, _file)] = '\0';                     \
        fclose(_file);                                                                  \
        _r;                                                                             \
})

static void test_errno_message(void **state) {
        char text[256];
        int r;

        /* Negative or positive, the error is what "%m" says; errno stays as it was. */
        errno = EAGAIN;
        r = CAPTURE(text, log_error_errno(-ENOENT, "cannot open %s: %m", "/x"));
        assert_int_equal(r, -ENOENT);
        assert_int_equal(errno, EAGAIN);
        assert_string_equal(text, "test-log: cannot open /x: No such file or directory\n");

        r = CAPTURE(text, log_warning_errno(EACCES, "no: %m"));
        assert_int_equal(r, -EACCES);
        assert_int_equal(errno, EAGAIN);
        assert_string_equal(text, "test-log: no: Permission denied\n");
}

static void test_without_error(void **state) {
        char text[256];

        /* No error given: "%m" is errno as the caller left it, and the result still fails. */
        errno = EPERM;
        assert_int_equal(CAPTURE(text, log_error("plain %m")), -EIO);
        assert_string_equal(text, "test-log: plain Operation not permitted\n");
        assert_int_equal(errno, EPERM);
}

static void test_below_max_level_is_silent(void **state) {
        char text[256];

        assert_int_equal(CAPTURE(text, log_debug_errno(-EBUSY, "hidden: %m")), -EBUSY);
        assert_string_equal(text, "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_errno_message),
                cmocka_unit_test(test_without_error),
                cmocka_unit_test(test_below_max_level_is_silent),
        };

        unsetenv("JOURNAL_STREAM");
        log_setup("test-log");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
