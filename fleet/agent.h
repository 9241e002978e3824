/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "config.h"
#include "database.h"

/* The agent's loop: keeps a connection to sessmgrd and one to the database, ships changes
 * every [Sync] IntervalSec=, answers revocations on NOTIFY and every [Revocations]
 * PollIntervalSec=, and reconnects either side with a growing delay when it goes away,
 * logging the outage once and the recovery once. Returns at SIGTERM or SIGINT. */

typedef struct AgentOptions {
        const FleetConfig *config;
        const char *machine_id;
        const char *socket_path;
        const char *listen_path;        /* the agent's own socket, for sessmgrctl --fleet; NULL: none */
        bool once;              /* one sync round and one look at revocations, then exit */
} AgentOptions;

int agent_run(const AgentOptions *options);
