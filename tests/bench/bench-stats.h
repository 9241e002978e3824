/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Latency samples in microseconds, and their percentiles. */
typedef struct Samples {
        int64_t *values;
        size_t count, allocated;
} Samples;

void samples_add(Samples *samples, int64_t value);
void samples_merge(Samples *into, Samples *from);
/* The p-th percentile (0..100) in µs; sorts the samples. */
double samples_percentile(Samples *samples, double p);
/* "NAME_median_ms=... NAME_p90_ms=... NAME_p99_ms=... NAME_max_ms=..." and a newline. */
void samples_print(Samples *samples, const char *name);
