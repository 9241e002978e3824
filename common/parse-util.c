/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "parse-util.h"

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* The value of the digits at the start of text; *ret_end is set past them whatever the
 * result, so callers can tell "too big" from "not a number". By hand rather than with
 * strtoull(), which takes spaces and signs ("-1" is ULLONG_MAX) and answers through errno. */
static int parse_digits(const char *text, unsigned long long *ret, const char **ret_end) {
        unsigned long long value = 0;
        bool overflow = false;
        const char *p = text;

        for (; is_digit(*p); p++) {
                unsigned digit = (unsigned) (*p - '0');

                if (value > (ULLONG_MAX - digit) / 10)
                        overflow = true;
                else
                        value = value * 10 + digit;
        }
        *ret_end = p;
        if (p == text)
                return -EINVAL;
        if (overflow)
                return -ERANGE;
        *ret = value;
        return 0;
}

static int parse_in_range(const char *text, bool whole, unsigned long long min, unsigned long long max,
                          unsigned long long *ret, const char **ret_end) {
        unsigned long long value = 0;
        const char *end;
        int r;

        if (!text)
                return -EINVAL;
        r = parse_digits(text, &value, &end);
        if (whole && *end != '\0')
                return -EINVAL;         /* trailing text makes it no number, big or not */
        if (r < 0)
                return r;
        if (value < min || value > max)
                return -ERANGE;
        *ret = value;
        if (ret_end)
                *ret_end = end;
        return 0;
}

int parse_unsigned_prefix(const char *text, unsigned long long min, unsigned long long max,
                          unsigned long long *ret, const char **ret_end) {
        return parse_in_range(text, false, min, max, ret, ret_end);
}

int parse_unsigned(const char *text, unsigned long long min, unsigned long long max, unsigned long long *ret) {
        return parse_in_range(text, true, min, max, ret, NULL);
}
