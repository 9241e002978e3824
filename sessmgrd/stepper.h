/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* A walk over many records in small steps, again and again: a timer starts a walk, whose
 * steps then run one per loop iteration at idle priority (a step never delays a login
 * being recorded), until a step says the walk is done; the next walk starts an interval
 * after that. The poller and retention walk this way. */

typedef struct Stepper Stepper;

/* A walk begins: reset where it is. */
typedef void (*StepperBegin)(void *userdata);
/* One step: > 0 when there is more to walk, else the walk is done. */
typedef int (*StepperStep)(void *userdata);

/* The first walk begins first_usec from now, each further one interval_usec after the
 * previous one ended (CLOCK_MONOTONIC, give or take a second). */
int stepper_new(sd_event *event, int64_t first_usec, int64_t interval_usec, StepperBegin begin, StepperStep step,
                void *userdata, Stepper **ret);
Stepper *stepper_free(Stepper *stepper);
DEFINE_POINTER_CLEANUP_FUNC(Stepper, stepper_free);
