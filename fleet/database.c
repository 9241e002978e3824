/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "database.h"
#include "log.h"

/* Defaults that suit an agent that must notice a dead server rather than wait on it
 * forever; listed before the administrator's string, which therefore overrides them. The
 * client encoding comes after it: the records are UTF-8, whatever the locale. */
static int connect_with_defaults(const char *conninfo, PGconn **ret, char **ret_error) {
        static const char *const keywords[] = {
                "connect_timeout", "application_name", "keepalives", "keepalives_idle",
                "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname", "client_encoding", NULL,
        };
        const char *values[] = { "10", "sessmgr-fleet", "1", "30", "10", "3", "30000", conninfo, "UTF8", NULL };
        PGconn *connection;

        connection = PQconnectdbParams(keywords, values, /* expand_dbname= */ 1);
        if (!connection)
                return -ENOMEM;
        if (PQstatus(connection) != CONNECTION_OK) {
                *ret_error = database_error_message(connection, NULL);
                PQfinish(connection);
                return -ENOTCONN;
        }
        *ret = connection;
        return 0;
}

char *database_error_message(PGconn *connection, const PGresult *result) {
        const char *message = result ? PQresultErrorMessage(result) : NULL;
        char *text;
        size_t length;

        if (isempty(message))
                message = connection ? PQerrorMessage(connection) : NULL;
        text = strdup(isempty(message) ? "unknown error" : message);
        if (!text)
                return NULL;
        /* libpq's messages span lines ("connection to server ... failed: \n..."). */
        for (char *c = text; *c; c++)
                if (*c == '\n' || *c == '\t')
                        *c = ' ';
        length = strlen(text);
        while (length > 0 && text[length - 1] == ' ')
                text[--length] = '\0';
        return text;
}

int database_exec(PGconn *connection, const char *sql, int n_params, const char *const *params,
                  ExecStatusType expected, PGresult **ret_result, char **ret_error) {
        _cleanup_(PQclearp) PGresult *result = NULL;

        result = PQexecParams(connection, sql, n_params, NULL, params, NULL, NULL, 0);
        if (!result || PQresultStatus(result) != expected) {
                if (ret_error)
                        *ret_error = database_error_message(connection, result);
                return PQstatus(connection) == CONNECTION_BAD ? -ENOTCONN : -EIO;
        }
        if (ret_result)
                *ret_result = TAKE_PTR(result);
        return 0;
}

int database_connect_plain(const char *conninfo, PGconn **ret, char **ret_error) {
        *ret_error = NULL;
        return connect_with_defaults(conninfo, ret, ret_error);
}

Database *database_free(Database *database) {
        if (!database)
                return NULL;
        if (database->connection)
                PQfinish(database->connection);
        if (database->queries)
                PQfinish(database->queries);
        free(database->host_name);
        free(database->synced_feed);
        free(database);
        return NULL;
}

static int read_identity(Database *database, char **ret_error) {
        _cleanup_(PQclearp) PGresult *result = NULL;
        const char *params[] = { database->machine_id };
        uint64_t cursor;
        int r;

        r = database_exec(database->connection,
                          "SELECT host_name, role_name = current_user, current_user, synced_cursor, synced_feed, admin "
                          "FROM sessmgr.machines WHERE machine_id = $1",
                          1, params, PGRES_TUPLES_OK, &result, ret_error);
        if (r < 0)
                return r;
        if (PQntuples(result) == 0) {
                if (asprintf(ret_error, "machine %s is not registered in the fleet database "
                             "(the DBA adds it with sessmgr.add_machine())", database->machine_id) < 0)
                        *ret_error = NULL;
                return -ENOENT;
        }
        if (strcmp(PQgetvalue(result, 0, 1), "t") != 0) {
                if (asprintf(ret_error, "the database role %s is not the one of machine %s: "
                             "check user= in [Database] Connection=", PQgetvalue(result, 0, 2),
                             database->machine_id) < 0)
                        *ret_error = NULL;
                return -EPERM;
        }
        if (sscanf(PQgetvalue(result, 0, 3), "%" SCNu64, &cursor) != 1)
                return -EBADMSG;
        database->synced_cursor = cursor;
        database->host_name = strdup(PQgetvalue(result, 0, 0));
        if (!PQgetisnull(result, 0, 4))
                database->synced_feed = strdup(PQgetvalue(result, 0, 4));
        database->admin = strcmp(PQgetvalue(result, 0, 5), "t") == 0;
        if (!database->host_name || (!PQgetisnull(result, 0, 4) && !database->synced_feed))
                return -ENOMEM;
        return 0;
}

int database_connect(const char *conninfo, const char *machine_id, Database **ret, char **ret_error) {
        _cleanup_(database_freep) Database *database = NULL;
        int r;

        *ret_error = NULL;
        if (strlen(machine_id) != 32)
                return -EINVAL;
        database = calloc(1, sizeof(Database));
        if (!database)
                return -ENOMEM;
        memcpy(database->machine_id, machine_id, 33);

        r = connect_with_defaults(conninfo, &database->connection, ret_error);
        if (r < 0)
                return r;
        /* A statement that hangs (a lock held elsewhere, a server in trouble) ends, and
         * the agent tries again, rather than waiting forever. */
        r = database_exec(database->connection, "SET statement_timeout = '60s'", 0, NULL, PGRES_COMMAND_OK, NULL,
                          ret_error);
        if (r >= 0)
                r = read_identity(database, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(database);
        return 0;
}

bool database_is_open(const Database *database) {
        return database && database->connection && PQstatus(database->connection) == CONNECTION_OK;
}

int database_listen(Database *database, char **ret_error) {
        char sql[64];

        /* The machine id is 32 hex digits (checked by the database's domain and by the
         * agent): nothing to quote. */
        snprintf(sql, sizeof(sql), "LISTEN sessmgr_%s", database->machine_id);
        return database_exec(database->connection, sql, 0, NULL, PGRES_COMMAND_OK, NULL, ret_error);
}

int database_socket(const Database *database) {
        return database_is_open(database) ? PQsocket(database->connection) : -1;
}

int database_open_queries(Database *database, const char *conninfo, char **ret_error) {
        PGconn *connection = NULL;
        int r;

        *ret_error = NULL;
        if (database->queries) {
                PQfinish(database->queries);
                database->queries = NULL;
        }
        r = connect_with_defaults(conninfo, &connection, ret_error);
        if (r < 0)
                return r;
        /* A person waits for these: a few seconds, not the sync's minute. */
        r = database_exec(connection, "SET statement_timeout = '5s'", 0, NULL, PGRES_COMMAND_OK, NULL, ret_error);
        if (r < 0) {
                PQfinish(connection);
                return r;
        }
        database->queries = connection;
        return 0;
}

int database_read_notifications(Database *database, unsigned *ret_revocations,
                                void (*on_outcome)(uint64_t request_id, void *userdata), void *userdata) {
        PGnotify *notify;
        unsigned revocations = 0;

        if (PQconsumeInput(database->connection) == 0)
                return -ENOTCONN;
        while ((notify = PQnotifies(database->connection))) {
                uint64_t id;

                if (strncmp(notify->extra, "revoke ", 7) == 0)
                        revocations++;
                /* A request made here finished: a RequestLogout may be waiting for it. */
                else if (on_outcome && strncmp(notify->extra, "outcome ", 8) == 0 &&
                         sscanf(notify->extra + 8, "%" SCNu64, &id) == 1)
                        on_outcome(id, userdata);
                PQfreemem(notify);
        }
        *ret_revocations = revocations;
        return 0;
}
