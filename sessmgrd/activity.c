/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "activity.h"

static bool counters_grew(const ActivitySample *sample, const ActivityCounters *previous) {
        if (!previous->known)
                return false;   /* the first look only sets the baseline */
        if (sample->cpu_usec >= 0 && sample->cpu_usec - previous->cpu_usec >= ACTIVITY_CPU_THRESHOLD_USEC)
                return true;
        return sample->io_bytes >= 0 && previous->io_bytes >= 0 && sample->io_bytes > previous->io_bytes;
}

bool activity_judge(const ActivitySample *sample, ActivityCounters *previous, int64_t now_usec,
                    bool count_process_activity, int64_t *last_active_usec, const char **source) {
        bool moved = false;

        if (sample->has_tty) {
                /* Input never lies in the future: a clock set back must not pin the session. */
                int64_t input = sample->tty_input_usec < now_usec ? sample->tty_input_usec : now_usec;
                if (input > *last_active_usec) {
                        *last_active_usec = input;
                        *source = ACTIVITY_SOURCE_TTY;
                        moved = true;
                }
        }
        if ((!sample->has_tty || count_process_activity) && counters_grew(sample, previous) &&
            now_usec > *last_active_usec) {
                *last_active_usec = now_usec;
                *source = ACTIVITY_SOURCE_PROCESS;
                moved = true;
        }

        /* A counter that went down belongs to a new cgroup: start over from it. */
        *previous = (ActivityCounters) {
                .cpu_usec = sample->cpu_usec,
                .io_bytes = sample->io_bytes,
                .known = sample->cpu_usec >= 0,
        };
        return moved;
}
