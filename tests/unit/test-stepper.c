/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The walker the poller and retention share: a timer begins a walk, its steps run at idle
 * priority one per loop iteration until one says done, and the next walk begins an
 * interval later. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "stepper.h"

#define STEPS_PER_WALK 3

typedef struct Walks {
        sd_event_source *other;
        unsigned begun;
        unsigned steps;         /* in all walks */
        unsigned left;          /* in the walk under way */
        bool other_waiting;     /* work a step made ready has not run yet */
} Walks;

static void begin(void *userdata) {
        Walks *walks = userdata;

        walks->begun++;
        walks->left = STEPS_PER_WALK;
}

static int step(void *userdata) {
        Walks *walks = userdata;

        /* What became ready since the last step ran before this one. */
        assert_false(walks->other_waiting);
        walks->other_waiting = true;
        assert_int_equal(sd_event_source_set_enabled(walks->other, SD_EVENT_ONESHOT), 0);
        walks->steps++;
        return --walks->left > 0;
}

/* Work of normal priority, as a login being recorded: no step may hold it up. */
static int other_work(sd_event_source *source, void *userdata) {
        Walks *walks = userdata;

        walks->other_waiting = false;
        return 0;
}

/* Runs the loop until done says so, for 10 s at most (the timer's accuracy is a second). */
static void run_until(sd_event *event, Walks *walks, bool (*done)(const Walks *walks)) {
        uint64_t start, now;

        assert_int_equal(sd_event_now(event, CLOCK_MONOTONIC, &start), 0);
        do {
                assert_true(sd_event_run(event, 100 * 1000) >= 0);
                assert_int_equal(sd_event_now(event, CLOCK_MONOTONIC, &now), 0);
        } while (!done(walks) && now - start < 10 * 1000 * 1000);
}

static bool second_walk_begun(const Walks *walks) {
        return walks->begun == 2;
}

static bool walk_done(const Walks *walks) {
        return walks->left == 0;
}

static void test_walks_in_steps_on_an_interval(void **state) {
        _cleanup_(stepper_freep) Stepper *stepper = NULL;
        sd_event *event = NULL;
        Walks walks = {};

        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(stepper_new(event, 200 * 1000, 1000, begin, step, &walks, &stepper), 0);
        assert_int_equal(sd_event_add_defer(event, &walks.other, other_work, &walks), 0);
        assert_int_equal(sd_event_source_set_enabled(walks.other, SD_EVENT_OFF), 0);

        /* Nothing before the first timer. */
        assert_true(sd_event_run(event, 0) >= 0);
        assert_int_equal(walks.begun, 0);

        /* The first walk took all its steps, then the second began. */
        run_until(event, &walks, second_walk_begun);
        assert_int_equal(walks.begun, 2);
        assert_int_equal(walks.steps, STEPS_PER_WALK);

        run_until(event, &walks, walk_done);
        assert_int_equal(walks.steps, 2 * STEPS_PER_WALK);
        assert_int_equal(walks.begun, 2);

        stepper = stepper_free(stepper);
        sd_event_source_disable_unref(walks.other);
        sd_event_unref(event);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_walks_in_steps_on_an_interval),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
