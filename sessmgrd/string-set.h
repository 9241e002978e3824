/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* A set of strings kept sorted: lookups are a binary search, and the sets sessmgrd
 * keeps (logind's session ids) are small enough that insertion's memmove is cheap. */
typedef struct StringSet {
        char **items;
        size_t count, allocated;
} StringSet;

bool string_set_contains(const StringSet *set, const char *item);
/* 1 when added, 0 when it was there already. */
int string_set_add(StringSet *set, const char *item);
/* 1 when removed, 0 when it was not there. */
int string_set_remove(StringSet *set, const char *item);
/* Takes out the greatest item and hands it to the caller; NULL when empty. */
char *string_set_pop(StringSet *set);
void string_set_clear(StringSet *set);
