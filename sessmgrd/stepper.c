/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "stepper.h"

struct Stepper {
        sd_event_source *timer;
        sd_event_source *step_source;
        int64_t interval_usec;
        StepperBegin begin;
        StepperStep step;
        void *userdata;
};

static int on_step(sd_event_source *source, void *userdata) {
        Stepper *stepper = userdata;

        if (stepper->step(stepper->userdata) > 0)
                return 0;       /* more: the next step runs when the loop is idle again */

        /* The walk is done: the next one after the interval. */
        (void) sd_event_source_set_enabled(stepper->step_source, SD_EVENT_OFF);
        (void) sd_event_source_set_time_relative(stepper->timer, (uint64_t) stepper->interval_usec);
        return sd_event_source_set_enabled(stepper->timer, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Stepper *stepper = userdata;

        if (stepper->begin)
                stepper->begin(stepper->userdata);
        return sd_event_source_set_enabled(stepper->step_source, SD_EVENT_ON);
}

int stepper_new(sd_event *event, int64_t first_usec, int64_t interval_usec, StepperBegin begin, StepperStep step,
                void *userdata, Stepper **ret) {
        _cleanup_(stepper_freep) Stepper *stepper = NULL;
        int r;

        stepper = calloc(1, sizeof(*stepper));
        if (!stepper)
                return -ENOMEM;
        *stepper = (Stepper) {
                .interval_usec = interval_usec,
                .begin = begin,
                .step = step,
                .userdata = userdata,
        };

        r = sd_event_add_time_relative(event, &stepper->timer, CLOCK_MONOTONIC, (uint64_t) first_usec,
                                       USEC_PER_SEC, on_timer, stepper);
        if (r < 0)
                return r;
        r = sd_event_add_defer(event, &stepper->step_source, on_step, stepper);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(stepper->step_source, SD_EVENT_OFF);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(stepper->step_source, SD_EVENT_PRIORITY_IDLE);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(stepper);
        return 0;
}

Stepper *stepper_free(Stepper *stepper) {
        if (!stepper)
                return NULL;
        sd_event_source_disable_unref(stepper->timer);
        sd_event_source_disable_unref(stepper->step_source);
        free(stepper);
        return NULL;
}
