/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "database.h"
#include "round.h"

/* Takes this machine's pending revocation requests from the database, asks sessmgrd to
 * apply each (it checks the user and ends the session through logind: the agent never
 * ends anything itself) and writes each outcome back, once. A request past its expiry is
 * answered "expired" without asking. *ret_answered: how many were answered; *ret_more:
 * more are waiting. */
int revocations_round(Database *database, sd_bus *bus, unsigned *ret_answered, bool *ret_more, RoundError *error);

/* The reason sessmgrd records as the session's end: "revoked by session N on HOST from
 * ADDRESS" (the parts that are known). Exposed for the unit test. */
char *revocation_reason(uint64_t requester_session, const char *requester_user, const char *host,
                        const char *address);
