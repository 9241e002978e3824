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
        assert_string_equal(format_timestamp_iso(buffer, 1),                        /* the first µs */
                            "1970-01-01T00:00:00.000001Z");
        assert_string_equal(format_timestamp_iso(buffer, (int64_t) 253402300799 * USEC_PER_SEC + 999999),
                            "9999-12-31T23:59:59.999999Z");
        assert_null(format_timestamp_iso(buffer, (int64_t) 253402300800 * USEC_PER_SEC));     /* year 10000 */
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

static void test_duration(void **state) {
        char buffer[TIMESTAMP_MAX];

        assert_string_equal(format_duration(buffer, 0), "0 s");
        assert_string_equal(format_duration(buffer, 59 * USEC_PER_SEC), "59 s");
        assert_string_equal(format_duration(buffer, 12 * MINUTE + 5 * USEC_PER_SEC), "12 min");
        assert_string_equal(format_duration(buffer, 3 * 60 * MINUTE + 12 * MINUTE), "3 h 12 min");
        assert_string_equal(format_duration(buffer, 24 * 60 * MINUTE + 60 * MINUTE), "1 day 1 h");
        assert_string_equal(format_duration(buffer, 3 * 24 * 60 * MINUTE), "3 days 0 h");
        assert_null(format_duration(buffer, -1));
}

static void test_parse_timestamp(void **state) {
        const int64_t now = 1795848751 * USEC_PER_SEC;         /* 2026-11-28 06:52:31 UTC */
        int64_t t = 0;

        setenv("TZ", "UTC", 1);
        tzset();
        assert_int_equal(parse_timestamp("2026-11-28", now, &t), 0);
        assert_int_equal(t, (int64_t) 1795824000 * USEC_PER_SEC);
        assert_int_equal(parse_timestamp("2026-11-28 06:52", now, &t), 0);
        assert_int_equal(t, (int64_t) (1795848751 - 31) * USEC_PER_SEC);
        assert_int_equal(parse_timestamp("2026-11-28 06:52:31", now, &t), 0);
        assert_int_equal(t, now);
        assert_int_equal(parse_timestamp("today", now, &t), 0);
        assert_int_equal(t, (int64_t) 1795824000 * USEC_PER_SEC);
        assert_int_equal(parse_timestamp("yesterday", now, &t), 0);
        assert_int_equal(t, (int64_t) (1795824000 - 86400) * USEC_PER_SEC);
        assert_int_equal(parse_timestamp("12h", now, &t), 0);
        assert_int_equal(t, now - 12 * 60 * MINUTE);
        assert_int_equal(parse_timestamp("30min", now, &t), 0);
        assert_int_equal(t, now - 30 * MINUTE);
        assert_int_equal(parse_timestamp("7d", now, &t), 0);
        assert_int_equal(t, now - 7 * 24 * 60 * MINUTE);
        assert_int_equal(parse_timestamp("2w", now, &t), 0);
        assert_int_equal(t, now - 14 * 24 * 60 * MINUTE);

        setenv("TZ", "Europe/Berlin", 1);
        tzset();
        assert_int_equal(parse_timestamp("2026-11-28 07:52", now, &t), 0);
        assert_int_equal(t, (int64_t) (1795848751 - 31) * USEC_PER_SEC);
        setenv("TZ", "UTC", 1);
        tzset();

        const char *bad[] = { "", "soon", "12", "12x", "-5d", "2026-13-01", "2026-11-28 25:00", "2026-11-28T06:52",
                              "99999999999999999999d", "7 d" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_not_equal(parse_timestamp(bad[i], now, &t), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_iso_is_utc_with_microseconds),
                cmocka_unit_test(test_short_uses_local_time),
                cmocka_unit_test(test_relative),
                cmocka_unit_test(test_duration),
                cmocka_unit_test(test_parse_timestamp),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
