/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "alloc-util.h"
#include "macro.h"

static void test_grows_keeping_what_is_there(void **state) {
        _cleanup_(freep) uint64_t *numbers = NULL;
        size_t count = 0, allocated = 0;

        for (uint64_t i = 0; i < 1000; i++) {
                assert_non_null(GREEDY_REALLOC(numbers, allocated, count + 1));
                assert_true(allocated >= count + 1);
                numbers[count++] = i;
        }
        for (uint64_t i = 0; i < 1000; i++)
                assert_int_equal(numbers[i], i);
}

static void test_grows_greedily(void **state) {
        _cleanup_(freep) char **items = NULL;
        size_t allocated = 0;
        char **before;

        /* Room for one is room for a few: the next appends cost no realloc. */
        assert_non_null(GREEDY_REALLOC(items, allocated, 1));
        assert_int_equal(allocated, 16);
        before = items;
        assert_ptr_equal(GREEDY_REALLOC(items, allocated, 16), before);
        assert_int_equal(allocated, 16);

        /* Past that, twice what is needed. */
        assert_non_null(GREEDY_REALLOC(items, allocated, 17));
        assert_int_equal(allocated, 34);

        /* Asking for less never shrinks. */
        assert_non_null(GREEDY_REALLOC(items, allocated, 3));
        assert_int_equal(allocated, 34);
}

static void test_overflow_is_refused(void **state) {
        _cleanup_(freep) uint64_t *numbers = NULL;
        size_t allocated = 0;

        assert_non_null(GREEDY_REALLOC(numbers, allocated, 4));
        assert_int_equal(allocated, 16);

        /* Sizes whose product overflows fail, and leave the array as it was. */
        assert_null(GREEDY_REALLOC(numbers, allocated, SIZE_MAX / 2 + 1));
        assert_null(GREEDY_REALLOC(numbers, allocated, SIZE_MAX / 4));
        assert_non_null(numbers);
        assert_int_equal(allocated, 16);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_grows_keeping_what_is_there),
                cmocka_unit_test(test_grows_greedily),
                cmocka_unit_test(test_overflow_is_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
