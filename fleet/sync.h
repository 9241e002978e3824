/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "database.h"
#include "feed.h"
#include "round.h"

/* Ships one batch of the local change feed to the database: the rows and the cursor in one
 * transaction, so that after any crash or outage the agent resumes where the last commit
 * left it, with nothing lost or doubled (docs/FLEET.md, "Sync"). *ret_more: the batch was
 * full, more changes are waiting. *ret_shipped: how many records went out. */
int sync_round(Database *database, sd_bus *bus, uint32_t limit, bool *ret_more, size_t *ret_shipped,
               RoundError *error);

/* Reports in without changes, so that the machine is not shown as stale. */
int sync_heartbeat(Database *database, RoundError *error);

/* One batch as the database receives it; exported for --status and the tests' reference. */
int sync_push(Database *database, const ChangeBatch *batch, bool reset, char **ret_error);
