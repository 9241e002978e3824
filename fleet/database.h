/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* The agent's connection to the fleet's PostgreSQL, as this machine's role. Every call
 * here may block for as long as the server takes (bounded by the connection's timeouts):
 * only the agent waits, never sessmgrd or a login. */

typedef struct Database {
        PGconn *connection;
        /* The answers to sessmgrctl --fleet (clients.c), on a connection of their own
         * with a short statement timeout: a slow one holds no batch of the sync. */
        PGconn *queries;
        char machine_id[33];
        /* As the database knows this machine: */
        char *host_name;
        uint64_t synced_cursor;
        char *synced_feed;              /* NULL: never synced */
        bool admin;
        bool incoming_created;          /* the COPY table of this connection (sync.c) */
} Database;

/* Connects with conninfo (the administrator's settings win over the agent's defaults:
 * timeouts, keepalives, application name), checks that the role is machine_id's and reads
 * what the database knows of it. On failure *ret_error says why, for people. -ENOTCONN:
 * the server could not be reached or refused the login; -ENOENT: machine not registered;
 * -EPERM: the role is another machine's; other negative errno otherwise. */
int database_connect(const char *conninfo, const char *machine_id, Database **ret, char **ret_error);

/* Connects without the machine's identity (sessmgr-fleet --init, as the DBA). */
int database_connect_plain(const char *conninfo, PGconn **ret, char **ret_error);

Database *database_free(Database *database);
DEFINE_POINTER_CLEANUP_FUNC(Database, database_free);
DEFINE_POINTER_CLEANUP_FUNC(PGconn, PQfinish);
DEFINE_POINTER_CLEANUP_FUNC(PGresult, PQclear);

/* Whether the connection is still usable (false once the server went away). */
bool database_is_open(const Database *database);

/* Runs a statement with text parameters; returns 0 when its result has the expected
 * status, else logs nothing and fills *ret_error with the server's message. The result
 * is handed over in *ret_result when that is not NULL. */
int database_exec(PGconn *connection, const char *sql, int n_params, const char *const *params,
                  ExecStatusType expected, PGresult **ret_result, char **ret_error);

/* The server's message (or libpq's), one line, trimmed; NULL when out of memory. */
char *database_error_message(PGconn *connection, const PGresult *result);

/* LISTEN on this machine's channel, sessmgr.channel(machine_id). */
int database_listen(Database *database, char **ret_error);

/* The socket to wait on for notifications, -1 when not connected. */
int database_socket(const Database *database);

/* Opens database->queries (again), as database_connect() does, with a statement timeout
 * of a few seconds. */
int database_open_queries(Database *database, const char *conninfo, char **ret_error);

/* Reads what the server sent and counts the revocation requests announced
 * ("revoke ID"); each request of this machine that finished ("outcome ID") goes to
 * on_outcome. Negative when the connection broke. */
int database_read_notifications(Database *database, unsigned *ret_revocations,
                                void (*on_outcome)(uint64_t request_id, void *userdata), void *userdata);
