/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "bench-stats.h"

void samples_add(Samples *samples, int64_t value) {
        if (!GREEDY_REALLOC(samples->values, samples->allocated, samples->count + 1))
                abort();
        samples->values[samples->count++] = value;
}

void samples_merge(Samples *into, Samples *from) {
        for (size_t i = 0; i < from->count; i++)
                samples_add(into, from->values[i]);
        free(from->values);
        *from = (Samples) {};
}

static int compare(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
        return x < y ? -1 : x > y;
}

double samples_percentile(Samples *samples, double p) {
        size_t index;

        if (samples->count == 0)
                return 0;
        qsort(samples->values, samples->count, sizeof(int64_t), compare);
        index = (size_t) (p / 100.0 * (double) (samples->count - 1) + 0.5);
        return (double) samples->values[index];
}

void samples_print(Samples *samples, const char *name) {
        printf("%s_median_ms=%.3f %s_p90_ms=%.3f %s_p99_ms=%.3f %s_max_ms=%.3f\n",
               name, samples_percentile(samples, 50) / 1000.0,
               name, samples_percentile(samples, 90) / 1000.0,
               name, samples_percentile(samples, 99) / 1000.0,
               name, samples_percentile(samples, 100) / 1000.0);
}
