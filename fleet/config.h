/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "macro.h"

/* /etc/sessmgr/fleet.conf, documented in sessmgr-fleet(8). It may hold the database's
 * password (or name the files that do): root and the agent's user only. */

typedef struct FleetConfig {
        char *connection;               /* [Database] Connection=, a libpq conninfo string */
        int64_t retry_max_usec;         /* [Database] RetryMaxSec=: the longest wait between attempts */
        int64_t sync_interval_usec;     /* [Sync] IntervalSec= */
        int64_t heartbeat_usec;         /* [Sync] HeartbeatSec=: report in even without changes */
        uint32_t batch_size;            /* [Sync] BatchSize=: changes per transaction (1 to 1000) */
        int64_t revocation_poll_usec;   /* [Revocations] PollIntervalSec= */
        int64_t revocation_expire_usec; /* [Revocations] ExpireSec=: how long a request made here waits */
        int64_t logout_wait_usec;       /* [Revocations] WaitSec=: how long RequestLogout waits for outcomes */
        int64_t stale_usec;             /* [Clients] StaleSec=: a machine silent this long is shown stale */
} FleetConfig;

void fleet_config_defaults(FleetConfig *config);
void fleet_config_done(FleetConfig *config);

/* Reads the file over the defaults. A missing or invalid file is an error, with file, line
 * and reason in *ret_error (to be freed); -ENOENT for a missing one. */
int fleet_config_load(FleetConfig *config, const char *path, char **ret_error);

/* The same for text in memory (tests). */
int fleet_config_parse_string(FleetConfig *config, const char *text, char **ret_error);
