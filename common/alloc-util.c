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
        /* Checked here, not left to reallocarray(): sanitizers treat an overflowing
         * product as a bug of the caller and abort. */
        if (size == 0 || need > SIZE_MAX / size)
                return NULL;
        more = need <= SIZE_MAX / size / 2 ? need * 2 : SIZE_MAX / size;
        if (more < GREEDY_ALLOCATED_MIN)
                more = GREEDY_ALLOCATED_MIN;
        grown = reallocarray(*p, more, size);
        if (!grown)
                return NULL;
        *p = grown;
        *allocated = more;
        return grown;
}
