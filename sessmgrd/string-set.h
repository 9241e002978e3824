/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* A set of strings kept sorted: lookups are a binary search, and the sets sessmgrd
 * keeps (logind's session ids) are small enough that insertion's memmove is cheap.
 * A set with a limit holds at most that many items: what fills it comes from outside. */
typedef struct StringSet {
        char **items;
        size_t count, allocated;
        size_t limit;           /* 0: none */
} StringSet;

bool string_set_contains(const StringSet *set, const char *item);
/* 1 when added, 0 when it was there already, -ENOSPC when the set is at its limit. */
int string_set_add(StringSet *set, const char *item);
/* 1 when removed, 0 when it was not there. */
int string_set_remove(StringSet *set, const char *item);
/* Takes out the greatest item and hands it to the caller; NULL when empty. */
char *string_set_pop(StringSet *set);
/* Empties the set; its limit stays. */
void string_set_clear(StringSet *set);
