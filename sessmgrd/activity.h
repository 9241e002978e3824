/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* When was a session last used? The rules, apart from where the numbers come from
 * (activity-probe.c), so that they can be tested with made-up counters and clocks.
 *
 * A session with a terminal is active when someone types into it: the newest input time
 * (atime) of its terminals, what w(1) and logind use. A session without one (sftp,
 * "ssh host cmd", port forwarding) is active when its processes did something since the
 * last look: CPU time or I/O went up, and that counts as activity at the time of the look.
 * With [IdleLogout] CountProcessActivity=yes, the latter counts for terminal sessions too
 * (a build or a job left running in one). */

/* Less CPU than this between two looks is housekeeping, not use. */
#define ACTIVITY_CPU_THRESHOLD_USEC 10000

typedef struct ActivitySample {
        int64_t cpu_usec;               /* CPU time of all the session's processes, -1 unknown */
        int64_t io_bytes;               /* bytes read and written, -1 unknown */
        int64_t tty_input_usec;         /* newest input on any of its terminals, 0 none */
        bool has_tty;
} ActivitySample;

/* What the previous look saw. */
typedef struct ActivityCounters {
        int64_t cpu_usec;
        int64_t io_bytes;
        bool known;
} ActivityCounters;

#define ACTIVITY_SOURCE_LOGIN   "login"
#define ACTIVITY_SOURCE_TTY     "tty-input"
#define ACTIVITY_SOURCE_PROCESS "process-activity"

/* Moves *last_active_usec and *source when the sample shows newer activity; remembers the
 * sample's counters in *previous. count_process_activity: the processes' work counts for a
 * session with a terminal too. Returns true when the last activity moved. */
bool activity_judge(const ActivitySample *sample, ActivityCounters *previous, int64_t now_usec,
                    bool count_process_activity, int64_t *last_active_usec, const char **source);
