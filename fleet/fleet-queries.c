/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fleet-protocol.h"
#include "fleet-queries.h"
#include "record-fields.h"

#define USEC(column) "coalesce((extract(epoch FROM " column ") * 1000000)::bigint, 0)"

#define STRINGIFY_VALUE(x) #x
#define STRINGIFY(x) STRINGIFY_VALUE(x)

/* $1 this machine, $2 the caller's session here, $3 the caller's name, $4 StaleSec=.
 * The columns of FLEET_COLUMN_*, then the record's in the order of record_fields[]. */
#define SELECT_SESSIONS                                                                                 \
        "SELECT m.host_name, s.machine_id, " USEC("m.last_sync") ", "                                   \
        "m.last_sync IS NULL OR m.last_sync < now() - $4::bigint * interval '1 second', "               \
        "s.machine_id = $1 AND s.session_id = $2::bigint AND s.user_name = $3 AND s.state <> 'closed', " \
        "s.boot_id, s.session_id, s.user_name, s.state, s.remote_address, "                             \
        "s.session_id, s.logind_session, s.boot_id, s.uid, s.user_name, s.service, s.tty, s.seat, s.vt, " \
        "s.remote_host, s.remote_address, s.remote_port, s.leader_pid, " USEC("s.login_time") ", "      \
        USEC("s.last_active") ", s.state, " USEC("s.end_time") ", s.end_reason, s.origin, s.ttys, "      \
        "s.last_active_source, s.auth_method, s.auth_key, s.display, s.desktop, s.parent_id "

/* Each machine says what it likes of its own rows, and a compromised one may write
 * thousands of sessions of any user with every text 1,024 bytes long. So each machine
 * gives at most FLEET_MACHINE_ROWS_MAX rows and FLEET_MACHINE_BYTES_MAX bytes to one
 * answer (its first in `order`): it can neither push the user's sessions on the other
 * machines past the answer's limit, nor make the answer (held by libpq, then by the
 * reply) outgrow the agent's memory. `filter` picks the rows, on sessmgr.sessions s. */
#define FROM_SESSIONS_CAPPED(filter, order)                                                             \
        "FROM (SELECT s.*, row_number() OVER per_machine AS nth, "                                      \
        "sum(octet_length(s::text)) OVER per_machine AS bytes FROM sessmgr.sessions s WHERE " filter " " \
        "WINDOW per_machine AS (PARTITION BY s.machine_id ORDER BY " order " ROWS UNBOUNDED PRECEDING)) s " \
        "JOIN sessmgr.machines m USING (machine_id) "                                                   \
        "WHERE s.nth <= " STRINGIFY(FLEET_MACHINE_ROWS_MAX) " AND s.bytes <= " STRINGIFY(FLEET_MACHINE_BYTES_MAX) " "

static int run(PGconn *queries, const char *sql, const ClientsContext *context, const char *caller,
               uint64_t current, const char *const *more, int n_more, PGresult **ret, char **ret_error) {
        char current_text[24], stale_text[24];
        const char *params[8] = { context->machine_id, current_text, caller, stale_text };

        snprintf(current_text, sizeof(current_text), "%" PRIu64, current);
        snprintf(stale_text, sizeof(stale_text), "%" PRId64, context->config->stale_usec / USEC_PER_SEC);
        for (int i = 0; i < n_more && i < 4; i++)
                params[4 + i] = more[i];
        return database_exec(queries, sql, 4 + n_more, params, PGRES_TUPLES_OK, ret, ret_error);
}

int fleet_query_open(PGconn *queries, const ClientsContext *context, const char *caller, uint64_t current,
                     const char *user, PGresult **ret, char **ret_error) {
        /* Two statements: with the user named, the partial index of open sessions by
         * user serves it. */
        static const char by_user[] = SELECT_SESSIONS
                FROM_SESSIONS_CAPPED("s.state <> 'closed' AND s.user_name = $5", "s.login_time DESC")
                "ORDER BY m.host_name, s.login_time LIMIT " STRINGIFY(FLEET_LIST_MAX);
        static const char every_user[] = SELECT_SESSIONS
                FROM_SESSIONS_CAPPED("s.state <> 'closed'", "s.login_time DESC")
                "ORDER BY s.user_name, m.host_name, s.login_time LIMIT " STRINGIFY(FLEET_LIST_MAX);
        const char *more[] = { user };

        return user ? run(queries, by_user, context, caller, current, more, 1, ret, ret_error)
                    : run(queries, every_user, context, caller, current, NULL, 0, ret, ret_error);
}

int fleet_query_history(PGconn *queries, const ClientsContext *context, const char *caller, const char *user,
                        int64_t since_usec, uint32_t limit, PGresult **ret, char **ret_error) {
        static const char sql[] = SELECT_SESSIONS
                FROM_SESSIONS_CAPPED("s.state = 'closed' AND ($5::text IS NULL OR s.user_name = $5) "
                                     "AND ($6::bigint = 0 OR s.end_time >= sessmgr.from_usec($6::bigint))",
                                     "s.end_time DESC NULLS LAST")
                "ORDER BY s.end_time DESC NULLS LAST LIMIT $7::bigint";
        char since_text[24], limit_text[16];
        const char *more[] = { user, since_text, limit_text };

        snprintf(since_text, sizeof(since_text), "%" PRId64, since_usec);
        snprintf(limit_text, sizeof(limit_text), "%" PRIu32, limit);
        return run(queries, sql, context, caller, 0, more, 3, ret, ret_error);
}

int fleet_query_one(PGconn *queries, const ClientsContext *context, const char *caller, uint64_t current,
                    const char *host, uint64_t id, PGresult **ret, char **ret_error) {
        static const char sql[] = SELECT_SESSIONS
                "FROM sessmgr.sessions s JOIN sessmgr.machines m USING (machine_id) "
                "WHERE m.host_name = $5 AND s.session_id = $6::bigint "
                "ORDER BY s.state <> 'closed' DESC, s.login_time DESC LIMIT 1";
        char id_text[24];
        const char *more[] = { host, id_text };

        snprintf(id_text, sizeof(id_text), "%" PRIu64, id);
        return run(queries, sql, context, caller, current, more, 2, ret, ret_error);
}

static int64_t number(PGresult *result, int row, int column) {
        long long value = 0;

        if (!PQgetisnull(result, row, column))
                (void) sscanf(PQgetvalue(result, row, column), "%lld", &value);
        return (int64_t) value;
}

static bool boolean(PGresult *result, int row, int column) {
        return !PQgetisnull(result, row, column) && strcmp(PQgetvalue(result, row, column), "t") == 0;
}

int fleet_row_append(sd_bus_message *reply, PGresult *result, int row) {
        SessionRecord record = SESSION_RECORD_INIT;     /* its texts point into result */
        int r;

        for (size_t i = 0; i < record_fields_count; i++) {
                const RecordField *field = &record_fields[i];
                int column = _FLEET_COLUMN_RECORD + (int) i;
                void *pointer = record_field_pointer(&record, field);
                int64_t value = number(result, row, column);

                switch (field->type) {
                case FIELD_STRING:
                        *(char **) pointer = PQgetisnull(result, row, column) ? NULL : PQgetvalue(result, row, column);
                        break;
                case FIELD_STATE:
                        record.state = session_state_from_string(PQgetvalue(result, row, column));
                        if (record.state < 0)
                                record.state = SESSION_CLOSED;
                        break;
                case FIELD_UINT64:
                        *(uint64_t *) pointer = (uint64_t) value;
                        break;
                case FIELD_UINT32:
                        *(uint32_t *) pointer = (uint32_t) value;
                        break;
                case FIELD_UINT16:
                        *(uint16_t *) pointer = (uint16_t) value;
                        break;
                case FIELD_TIME:
                        *(int64_t *) pointer = value;
                        break;
                }
        }

        r = sd_bus_message_open_container(reply, 'r', "ssxb" SESSION_RECORD_STRUCT "b");
        if (r >= 0)
                r = sd_bus_message_append(reply, "ssxb", PQgetvalue(result, row, FLEET_COLUMN_HOST),
                                          PQgetvalue(result, row, FLEET_COLUMN_MACHINE),
                                          number(result, row, FLEET_COLUMN_LAST_SYNC),
                                          (int) boolean(result, row, FLEET_COLUMN_STALE));
        if (r >= 0)
                r = session_record_append_struct(reply, &record);
        if (r >= 0)
                r = sd_bus_message_append(reply, "b", (int) boolean(result, row, FLEET_COLUMN_CURRENT));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}
