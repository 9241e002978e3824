/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Makes room for at least need elements of size bytes in *p, which holds *allocated:
 * grows to twice what is needed (at least 16), so appending one at a time costs
 * amortized constant time. *p and *allocated change only on success.
 * Returns *p, or NULL when out of memory (or when the size would overflow). */
void *greedy_realloc(void **p, size_t *allocated, size_t need, size_t size);

/* GREEDY_REALLOC(array, allocated, need): the same, with the element size taken from
 * the array itself, e.g. "if (!GREEDY_REALLOC(set->items, set->allocated, set->count + 1))". */
#define GREEDY_REALLOC(array, allocated, need) \
        greedy_realloc((void **) &(array), &(allocated), (need), sizeof((array)[0]))
