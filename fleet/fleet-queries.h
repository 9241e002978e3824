/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libpq-fe.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "clients.h"

/* The statements behind the agent's socket. Each returns rows in the same columns, which
 * fleet_row_append() turns into one FLEET_SESSION_STRUCT. caller: the caller's name;
 * current: the caller's session id on this machine (0: none), marked when it is one of
 * the caller's open sessions here. On failure *ret_error has the server's message. */

enum {
        FLEET_COLUMN_HOST,
        FLEET_COLUMN_MACHINE,
        FLEET_COLUMN_LAST_SYNC,
        FLEET_COLUMN_STALE,
        FLEET_COLUMN_CURRENT,
        FLEET_COLUMN_BOOT,
        FLEET_COLUMN_ID,
        FLEET_COLUMN_USER,
        FLEET_COLUMN_STATE,
        FLEET_COLUMN_REMOTE_ADDRESS,
        _FLEET_COLUMN_RECORD,   /* the rest of the record from here (fleet-queries.c) */
};

/* Open sessions of user (NULL: every user), by host, then login. */
int fleet_query_open(PGconn *queries, const ClientsContext *context, const char *caller, uint64_t current,
                     const char *user, PGresult **ret, char **ret_error);
/* Ended sessions of user (NULL: every user), newest end first. */
int fleet_query_history(PGconn *queries, const ClientsContext *context, const char *caller, const char *user,
                        int64_t since_usec, uint32_t limit, PGresult **ret, char **ret_error);
/* Session id on the machine named host: 0 or 1 row (an open one before an ended one, then
 * the newest, should a renumbered machine have two). */
int fleet_query_one(PGconn *queries, const ClientsContext *context, const char *caller, uint64_t current,
                    const char *host, uint64_t id, PGresult **ret, char **ret_error);

int fleet_row_append(sd_bus_message *reply, PGresult *result, int row);
