/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parse-util.h"
#include "time-format.h"

int64_t now_usec(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (int64_t) ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

static int split_usec(int64_t usec, time_t *ret_seconds, long *ret_micro) {
        if (usec <= 0)
                return -EINVAL;
        *ret_seconds = (time_t) (usec / USEC_PER_SEC);
        *ret_micro = (long) (usec % USEC_PER_SEC);
        return 0;
}

static char *put_digits(char *p, unsigned long value, int width) {
        for (int i = width - 1; i >= 0; i--, value /= 10)
                p[i] = (char) ('0' + value % 10);
        return p + width;
}

const char *format_timestamp_iso(char buf[static TIMESTAMP_MAX], int64_t usec) {
        struct tm tm;
        time_t seconds;
        long micro;
        char *p = buf;

        if (split_usec(usec, &seconds, &micro) < 0 || !gmtime_r(&seconds, &tm) || tm.tm_year + 1900 > 9999)
                return NULL;

        /* Digit by digit: a JSON list of 1,000 sessions has 2,000 of these, and
         * strftime() with snprintf() took a fifth of writing it. */
        p = put_digits(p, (unsigned long) tm.tm_year + 1900, 4);
        *p++ = '-';
        p = put_digits(p, (unsigned long) tm.tm_mon + 1, 2);
        *p++ = '-';
        p = put_digits(p, (unsigned long) tm.tm_mday, 2);
        *p++ = 'T';
        p = put_digits(p, (unsigned long) tm.tm_hour, 2);
        *p++ = ':';
        p = put_digits(p, (unsigned long) tm.tm_min, 2);
        *p++ = ':';
        p = put_digits(p, (unsigned long) tm.tm_sec, 2);
        *p++ = '.';
        p = put_digits(p, (unsigned long) micro, 6);
        *p++ = 'Z';
        *p = '\0';
        return buf;
}

const char *format_timestamp_short(char buf[static TIMESTAMP_MAX], int64_t usec) {
        struct tm tm;
        time_t seconds;
        long micro;

        if (split_usec(usec, &seconds, &micro) < 0 || !localtime_r(&seconds, &tm))
                return NULL;
        if (strftime(buf, TIMESTAMP_MAX, "%Y-%m-%d %H:%M", &tm) == 0)
                return NULL;
        return buf;
}

const char *format_timestamp_relative(char buf[static TIMESTAMP_MAX], int64_t usec, int64_t now) {
        const int64_t minute = 60 * USEC_PER_SEC, hour = 60 * minute, day = 24 * hour;
        int64_t delta;

        if (usec <= 0)
                return NULL;

        /* A little clock skew between the daemon and this host is not "the future". */
        delta = now - usec;
        if (delta < minute)
                snprintf(buf, TIMESTAMP_MAX, "just now");
        else if (delta < hour)
                snprintf(buf, TIMESTAMP_MAX, "%" PRIi64 " min ago", delta / minute);
        else if (delta < 2 * day)
                snprintf(buf, TIMESTAMP_MAX, "%" PRIi64 " h ago", delta / hour);
        else
                snprintf(buf, TIMESTAMP_MAX, "%" PRIi64 " days ago", delta / day);
        return buf;
}

const char *format_duration(char buf[static TIMESTAMP_MAX], int64_t usec) {
        const int64_t minute = 60 * USEC_PER_SEC, hour = 60 * minute, day = 24 * hour;

        if (usec < 0)
                return NULL;
        if (usec < minute)
                snprintf(buf, TIMESTAMP_MAX, "%" PRIi64 " s", usec / USEC_PER_SEC);
        else if (usec < hour)
                snprintf(buf, TIMESTAMP_MAX, "%" PRIi64 " min", usec / minute);
        else if (usec < day)
                snprintf(buf, TIMESTAMP_MAX, "%" PRIi64 " h %" PRIi64 " min", usec / hour, usec % hour / minute);
        else
                snprintf(buf, TIMESTAMP_MAX, "%" PRIi64 " day%s %" PRIi64 " h", usec / day,
                         usec / day == 1 ? "" : "s", usec % day / hour);
        return buf;
}

static int parse_age(const char *text, int64_t *ret) {
        static const struct { const char *suffix; int64_t usec; } units[] = {
                { "s",   USEC_PER_SEC },
                { "min", 60 * USEC_PER_SEC },
                { "h",   3600 * USEC_PER_SEC },
                { "d",   86400 * USEC_PER_SEC },
                { "w",   7 * 86400 * USEC_PER_SEC },
        };
        unsigned long long number;
        const char *end;

        if (parse_unsigned_prefix(text, 0, ULLONG_MAX, &number, &end) < 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strcmp(end, units[i].suffix) == 0) {
                        if (number > (unsigned long long) (INT64_MAX / units[i].usec))
                                return -ERANGE;
                        *ret = (int64_t) number * units[i].usec;
                        return 0;
                }
        return -EINVAL;
}

static int local_midnight(int64_t now, int days_back, int64_t *ret) {
        time_t seconds = (time_t) (now / USEC_PER_SEC);
        struct tm tm;

        if (!localtime_r(&seconds, &tm))
                return -EINVAL;
        tm.tm_mday -= days_back;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        seconds = mktime(&tm);
        if (seconds == (time_t) -1)
                return -EINVAL;
        *ret = (int64_t) seconds * USEC_PER_SEC;
        return 0;
}

int parse_timestamp(const char *text, int64_t now, int64_t *ret) {
        static const char *const formats[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d" };
        int64_t age;

        if (strcmp(text, "today") == 0)
                return local_midnight(now, 0, ret);
        if (strcmp(text, "yesterday") == 0)
                return local_midnight(now, 1, ret);
        if (parse_age(text, &age) == 0) {
                *ret = now - age;
                return 0;
        }

        for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                struct tm tm = { .tm_isdst = -1 };
                const char *end = strptime(text, formats[i], &tm);
                time_t seconds;

                if (!end || *end != '\0')
                        continue;
                seconds = mktime(&tm);
                if (seconds == (time_t) -1)
                        return -EINVAL;
                *ret = (int64_t) seconds * USEC_PER_SEC;
                return 0;
        }
        return -EINVAL;
}
