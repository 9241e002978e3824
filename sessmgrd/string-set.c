/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "string-set.h"

/* Index of item, or of where it would go, with *found set accordingly. */
static size_t position(const StringSet *set, const char *item, bool *found) {
        size_t low = 0, high = set->count;

        while (low < high) {
                size_t middle = low + (high - low) / 2;
                int order = strcmp(set->items[middle], item);

                if (order == 0) {
                        *found = true;
                        return middle;
                }
                if (order < 0)
                        low = middle + 1;
                else
                        high = middle;
        }
        *found = false;
        return low;
}

bool string_set_contains(const StringSet *set, const char *item) {
        bool found;

        (void) position(set, item, &found);
        return found;
}

int string_set_add(StringSet *set, const char *item) {
        bool found;
        size_t index = position(set, item, &found);
        char *copy;

        if (found)
                return 0;
        if (set->limit > 0 && set->count >= set->limit)
                return -ENOSPC;
        if (!GREEDY_REALLOC(set->items, set->allocated, set->count + 1))
                return -ENOMEM;
        copy = strdup(item);
        if (!copy)
                return -ENOMEM;
        memmove(set->items + index + 1, set->items + index, (set->count - index) * sizeof(char *));
        set->items[index] = copy;
        set->count++;
        return 1;
}

int string_set_remove(StringSet *set, const char *item) {
        bool found;
        size_t index = position(set, item, &found);

        if (!found)
                return 0;
        free(set->items[index]);
        memmove(set->items + index, set->items + index + 1, (set->count - index - 1) * sizeof(char *));
        set->count--;
        return 1;
}

char *string_set_pop(StringSet *set) {
        return set->count > 0 ? set->items[--set->count] : NULL;
}

void string_set_clear(StringSet *set) {
        for (size_t i = 0; i < set->count; i++)
                free(set->items[i]);
        free(set->items);
        *set = (StringSet) { .limit = set->limit };
}
