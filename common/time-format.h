/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <time.h>

/* Buffers large enough for every format below. */
#define TIMESTAMP_MAX 48

int64_t now_usec(clockid_t clock);

/* "2026-11-28T06:52:31.123456Z": UTC, for machines. */
const char *format_timestamp_iso(char buf[static TIMESTAMP_MAX], int64_t usec);

/* "2026-11-28 06:52": local time, for the table. */
const char *format_timestamp_short(char buf[static TIMESTAMP_MAX], int64_t usec);

/* "45 s", "12 min", "3 h 12 min", "2 days 3 h". */
const char *format_duration(char buf[static TIMESTAMP_MAX], int64_t usec);

/* Parses a point in time for --since, relative to now (µs since the epoch):
 * "2026-11-28", "2026-11-28 06:52[:31]" (local time), "today", "yesterday", or an age
 * such as "30min", "12h", "7d", "2w" (that long ago). -EINVAL when it is none of these. */
int parse_timestamp(const char *text, int64_t now, int64_t *ret);

/* "just now", "3 min ago", "5 h ago", "2 days ago", relative to now_usec. */
const char *format_timestamp_relative(char buf[static TIMESTAMP_MAX], int64_t usec, int64_t now_usec);
