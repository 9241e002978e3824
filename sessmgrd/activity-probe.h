/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "activity.h"

/* Reads what the kernel knows about a logind session: its cgroup's CPU and I/O counters,
 * the terminals its processes use, and when those last saw input. */

/* The cgroup v2 hierarchy ("/sys/fs/cgroup", or "/sys/fs/cgroup/unified" on hybrid
 * systems), or NULL when there is none: then only terminals are looked at. */
const char *activity_cgroup_root(void);

/* Fills *sample and *ret_ttys ("pts/3 pts/5", NULL for none), from the terminals of the
 * first max_processes processes of the session; *ret_processes: how many it read.
 * -ENOENT when the session's cgroup is gone. */
int activity_probe_session(const char *cgroup_root, uid_t uid, const char *logind_session, unsigned max_processes,
                           ActivitySample *sample, char **ret_ttys, unsigned *ret_processes);

/* "pts/3", "tty2" or "ttyS0" for a tty_nr of /proc/PID/stat; NULL for anything else. */
char *tty_name_from_number(unsigned long tty_number);

/* When a process started, in microseconds since the epoch; -ENOENT once it is gone. */
int process_start_time_usec(pid_t pid, int64_t *ret);
