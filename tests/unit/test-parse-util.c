/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "macro.h"
#include "parse-util.h"

static void test_whole_numbers(void **state) {
        unsigned long long value = 0;

        assert_int_equal(parse_unsigned("0", 0, 10, &value), 0);
        assert_int_equal(value, 0);
        assert_int_equal(parse_unsigned("10", 0, 10, &value), 0);
        assert_int_equal(value, 10);
        assert_int_equal(parse_unsigned("007", 0, 10, &value), 0);
        assert_int_equal(value, 7);
        assert_int_equal(parse_unsigned("18446744073709551615", 0, ULLONG_MAX, &value), 0);
        assert_true(value == ULLONG_MAX);
}

static void test_not_numbers(void **state) {
        static const char *const bad[] = {
                "", " 1", "1 ", "+1", "-1", "-0", "0x10", "1x", "1.5", "1e3", "\t1", "one",
                "99999999999999999999x",        /* too big, but first of all no number */
        };
        unsigned long long value = 42;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(parse_unsigned(bad[i], 0, ULLONG_MAX, &value), -EINVAL);
                assert_int_equal(value, 42);    /* untouched */
        }
        assert_int_equal(parse_unsigned(NULL, 0, 10, &value), -EINVAL);
}

static void test_out_of_range(void **state) {
        unsigned long long value = 42;

        assert_int_equal(parse_unsigned("11", 0, 10, &value), -ERANGE);
        assert_int_equal(parse_unsigned("0", 1, 10, &value), -ERANGE);
        assert_int_equal(parse_unsigned("18446744073709551616", 0, ULLONG_MAX, &value), -ERANGE);
        assert_int_equal(parse_unsigned("99999999999999999999999", 0, ULLONG_MAX, &value), -ERANGE);
        assert_int_equal(value, 42);
}

static void test_prefix(void **state) {
        unsigned long long value = 0;
        const char *end = NULL;

        assert_int_equal(parse_unsigned_prefix("22 10.0.0.1 22", 1, 65535, &value, &end), 0);
        assert_int_equal(value, 22);
        assert_string_equal(end, " 10.0.0.1 22");
        assert_int_equal(parse_unsigned_prefix("12h", 0, ULLONG_MAX, &value, &end), 0);
        assert_int_equal(value, 12);
        assert_string_equal(end, "h");
        assert_int_equal(parse_unsigned_prefix("7", 0, 10, &value, NULL), 0);
        assert_int_equal(value, 7);

        assert_int_equal(parse_unsigned_prefix("h", 0, 10, &value, &end), -EINVAL);
        assert_int_equal(parse_unsigned_prefix("", 0, 10, &value, &end), -EINVAL);
        assert_int_equal(parse_unsigned_prefix(" 1", 0, 10, &value, &end), -EINVAL);
        assert_int_equal(parse_unsigned_prefix("-1", 0, 10, &value, &end), -EINVAL);
        assert_int_equal(parse_unsigned_prefix(NULL, 0, 10, &value, &end), -EINVAL);
        assert_int_equal(parse_unsigned_prefix("65536 x", 1, 65535, &value, &end), -ERANGE);
        assert_int_equal(parse_unsigned_prefix("0 x", 1, 65535, &value, &end), -ERANGE);
        assert_int_equal(parse_unsigned_prefix("99999999999999999999d", 0, ULLONG_MAX, &value, &end), -ERANGE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_whole_numbers),
                cmocka_unit_test(test_not_numbers),
                cmocka_unit_test(test_out_of_range),
                cmocka_unit_test(test_prefix),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
