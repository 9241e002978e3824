/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "alloc-util.h"

/* Fewer elements than this are not worth a realloc of their own. */
#define GREEDY_ALLOCATED_MIN 16

void *greedy_realloc(void **p, size_t *allocated, size_t need, size_t size) {
        size_t more;
        void *grown;

        if (*allocated >= need)
                return *p;
        if (need > SIZE_MAX / 2)
                return NULL;
        more = need * 2;
        if (more < GREEDY_ALLOCATED_MIN)
                more = GREEDY_ALLOCATED_MIN;
        /* reallocarray() refuses a product that overflows. */
        grown = reallocarray(*p, more, size);
        if (!grown)
                return NULL;
        *p = grown;
        *allocated = more;
        return grown;
}
