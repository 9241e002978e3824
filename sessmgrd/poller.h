/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "record.h"

typedef struct Manager Manager;
typedef struct Poller Poller;


/* Looks at every open session of this boot on an interval: its terminals, and when it was
 * last used (activity.c). Changes of one look are written in one transaction. cgroup_root
 * NULL: the system's cgroup v2 hierarchy. */
int poller_start(Manager *manager, int64_t interval_usec, const char *cgroup_root);
Poller *poller_free(Poller *poller);

/* A new interval (a reload): the next walk begins one new interval from now. */
int poller_set_interval(Poller *poller, int64_t interval_usec);

/* Looks at these sessions now (a user asking for their list sees fresh terminals and
 * activity); updates the records in place and in the store. */
void poller_refresh(Poller *poller, SessionRecord *records, size_t count);
