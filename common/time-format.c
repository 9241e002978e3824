/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "macro.h"
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

const char *format_timestamp_iso(char buf[static TIMESTAMP_MAX], int64_t usec) {
        struct tm tm;
        time_t seconds;
        long micro;
        size_t n;

        if (split_usec(usec, &seconds, &micro) < 0 || !gmtime_r(&seconds, &tm))
                return NULL;
        n = strftime(buf, TIMESTAMP_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
        if (n == 0)
                return NULL;
        snprintf(buf + n, TIMESTAMP_MAX - n, ".%06ldZ", micro);
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
