/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "macro.h"
#include "time-format.h"

#define MINUTE (60 * USEC_PER_SEC)

static void test_iso_is_utc_with_microseconds(void **state) {
        char buffer[TIMESTAMP_MAX];

        /* 2026-11-28 06:52:31.000123 UTC */
        assert_string_equal(format_timestamp_iso(buffer, 1795848751 * USEC_PER_SEC + 123),
                            "2026-11-28T06:52:31.000123Z");
        /* Past 2038: times are 64-bit everywhere. */
        assert_string_equal(format_timestamp_iso(buffer, (int64_t) 4102444800 * USEC_PER_SEC),
                            "2100-01-01T00:00:00.000000Z");
        assert_null(format_timestamp_iso(buffer, 0));
        assert_null(format_timestamp_iso(buffer, -5));
}

static void test_short_uses_local_time(void **state) {
        char buffer[TIMESTAMP_MAX];

        setenv("TZ", "Europe/Berlin", 1);
        tzset();
        assert_string_equal(format_timestamp_short(buffer, 1795848751 * USEC_PER_SEC), "2026-11-28 07:52");
        setenv("TZ", "UTC", 1);
        tzset();
        assert_string_equal(format_timestamp_short(buffer, 1795848751 * USEC_PER_SEC), "2026-11-28 06:52");
        assert_null(format_timestamp_short(buffer, 0));
}

static void test_relative(void **state) {
        const int64_t now = 1795848751 * USEC_PER_SEC;
        char buffer[TIMESTAMP_MAX];

        assert_string_equal(format_timestamp_relative(buffer, now, now), "just now");
        assert_string_equal(format_timestamp_relative(buffer, now - 59 * USEC_PER_SEC, now), "just now");
        /* A daemon clock slightly ahead of ours is not "in the future". */
        assert_string_equal(format_timestamp_relative(buffer, now + 5 * USEC_PER_SEC, now), "just now");
        assert_string_equal(format_timestamp_relative(buffer, now - 3 * MINUTE - 10 * USEC_PER_SEC, now), "3 min ago");
        assert_string_equal(format_timestamp_relative(buffer, now - 59 * MINUTE, now), "59 min ago");
        assert_string_equal(format_timestamp_relative(buffer, now - 60 * MINUTE, now), "1 h ago");
        assert_string_equal(format_timestamp_relative(buffer, now - 47 * 60 * MINUTE, now), "47 h ago");
        assert_string_equal(format_timestamp_relative(buffer, now - 3 * 24 * 60 * MINUTE, now), "3 days ago");
        assert_null(format_timestamp_relative(buffer, 0, now));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_iso_is_utc_with_microseconds),
                cmocka_unit_test(test_short_uses_local_time),
                cmocka_unit_test(test_relative),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
