/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "record.h"

/* The agent's side of sessmgrd's socket: the two methods sessmgrd grants the user of
 * [Fleet] AgentUser= (sessmgrd(8), FLEET). */

typedef struct ChangeBatch {
        char *feed;                     /* the identity of the numbering */
        uint64_t cursor;                /* the change number of the last record */
        SessionRecord *records;
        size_t count;
} ChangeBatch;

void change_batch_done(ChangeBatch *batch);

int feed_connect(const char *socket_path, sd_bus **ret);

/* GetChanges(after, limit). On a refusal, *error says why. */
int feed_get_changes(sd_bus *bus, uint64_t after, uint32_t limit, ChangeBatch *ret, sd_bus_error *error);

/* ApplyRevocation(id, user, reason) -> outcome (to be freed). */
int feed_apply_revocation(sd_bus *bus, uint64_t id, const char *user, const char *reason, char **ret_outcome,
                          sd_bus_error *error);
