/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

/* The same statements as tests/fleet/sync.py (push_copy), which the database's tests and
 * benchmark use: COPY into a temporary table, then one INSERT ... SELECT that applies a
 * change only when it is newer than the row (change_cursor). */

#define COLUMNS                                                                                         \
        "machine_id, boot_id, session_id, change_cursor, logind_session, user_name, service, tty, seat, " \
        "remote_host, remote_address, last_active_source, state, end_reason, origin, ttys, auth_method, " \
        "auth_key, display, desktop, uid, vt, remote_port, leader_pid, parent_id, login_time, last_active, end_time"

static const char create_incoming[] =
        "CREATE TEMPORARY TABLE IF NOT EXISTS sessions_incoming ("
        "machine_id text, boot_id text, session_id bigint, change_cursor bigint, logind_session text, "
        "user_name text, service text, tty text, seat text, remote_host text, remote_address text, "
        "last_active_source text, state text, end_reason text, origin text, ttys text, auth_method text, "
        "auth_key text, display text, desktop text, uid bigint, vt bigint, remote_port bigint, leader_pid bigint, "
        "parent_id bigint, login_time bigint, last_active bigint, end_time bigint) ON COMMIT DELETE ROWS";

static const char merge_incoming[] =
        "INSERT INTO sessmgr.sessions (" COLUMNS ") "
        "SELECT DISTINCT ON (machine_id, boot_id, session_id) "
        "machine_id, boot_id, session_id, change_cursor, logind_session, user_name, service, tty, seat, "
        "remote_host, remote_address, last_active_source, state, end_reason, origin, ttys, auth_method, auth_key, "
        "display, desktop, uid, vt, remote_port, leader_pid, parent_id, sessmgr.from_usec(login_time), "
        "sessmgr.from_usec(last_active), sessmgr.from_usec(end_time) "
        "FROM sessions_incoming ORDER BY machine_id, boot_id, session_id, change_cursor DESC "
        "ON CONFLICT (machine_id, boot_id, session_id) DO UPDATE SET "
        "change_cursor = EXCLUDED.change_cursor, logind_session = EXCLUDED.logind_session, "
        "user_name = EXCLUDED.user_name, service = EXCLUDED.service, tty = EXCLUDED.tty, seat = EXCLUDED.seat, "
        "remote_host = EXCLUDED.remote_host, remote_address = EXCLUDED.remote_address, "
        "last_active_source = EXCLUDED.last_active_source, state = EXCLUDED.state, "
        "end_reason = EXCLUDED.end_reason, origin = EXCLUDED.origin, ttys = EXCLUDED.ttys, "
        "auth_method = EXCLUDED.auth_method, auth_key = EXCLUDED.auth_key, display = EXCLUDED.display, "
        "desktop = EXCLUDED.desktop, uid = EXCLUDED.uid, vt = EXCLUDED.vt, remote_port = EXCLUDED.remote_port, "
        "leader_pid = EXCLUDED.leader_pid, parent_id = EXCLUDED.parent_id, login_time = EXCLUDED.login_time, "
        "last_active = EXCLUDED.last_active, end_time = EXCLUDED.end_time, synced_at = now() "
        "WHERE sessions.change_cursor < EXCLUDED.change_cursor";

/* sessmgrd numbered its records anew: the rows' cursors of the old numbering would make
 * every change of the new one look old. 0 is below any change of any numbering. */
static const char reset_cursors[] =
        "UPDATE sessmgr.sessions SET change_cursor = 0 WHERE machine_id = $1 AND change_cursor > 0";

static const char mark_synced[] =
        "UPDATE sessmgr.machines SET synced_cursor = $2, synced_feed = $3 WHERE machine_id = $1";

/* One field of COPY's text format: \N for NULL, backslash escapes for what would end it. */
static void copy_text(FILE *f, const char *value) {
        if (!value) {
                fputs("\\N", f);
                return;
        }
        for (const char *c = value; *c; c++)
                switch (*c) {
                case '\\': fputs("\\\\", f); break;
                case '\t': fputs("\\t", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                default: fputc(*c, f);
                }
}

static bool is_hex_id(const char *s) {
        return s && strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

static void copy_record(FILE *f, const char *machine_id, uint64_t cursor, const SessionRecord *record) {
        const char *const texts[] = {
                record->logind_session, record->user, record->service, record->tty, record->seat,
                record->remote_host, record->remote_address, record->last_active_source,
                session_state_to_string(record->state), record->end_reason, record->origin, record->ttys,
                record->auth_method, record->auth_key, record->display, record->desktop,
        };

        /* A session id is never reused in the local store (AUTOINCREMENT), so a record
         * without a boot id (never seen in practice) still has a key of its own. */
        fprintf(f, "%s\t%s\t%" PRIu64 "\t%" PRIu64, machine_id,
                is_hex_id(record->boot_id) ? record->boot_id : "00000000000000000000000000000000", record->id,
                cursor);
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                fputc('\t', f);
                copy_text(f, texts[i]);
        }
        fprintf(f, "\t%u\t%" PRIu32 "\t%u\t%" PRIu32 "\t%" PRIu64 "\t%" PRIi64 "\t%" PRIi64 "\t%" PRIi64 "\n",
                (unsigned) record->uid, record->vt, (unsigned) record->remote_port, record->leader_pid,
                record->parent_id, record->login_time_usec, record->last_active_usec, record->end_time_usec);
}

static int copy_batch(Database *database, const ChangeBatch *batch, char **ret_error) {
        _cleanup_(PQclearp) PGresult *result = NULL;
        _cleanup_(freep) char *data = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        f = open_memstream(&data, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < batch->count; i++)
                copy_record(f, database->machine_id, batch->cursor, &batch->records[i]);
        if (fclose(f) != 0)
                return -ENOMEM;

        r = database_exec(database->connection, "COPY sessions_incoming (" COLUMNS ") FROM STDIN", 0, NULL,
                          PGRES_COPY_IN, NULL, ret_error);
        if (r < 0)
                return r;
        if (PQputCopyData(database->connection, data, (int) size) != 1 ||
            PQputCopyEnd(database->connection, NULL) != 1) {
                *ret_error = database_error_message(database->connection, NULL);
                return -ENOTCONN;
        }
        result = PQgetResult(database->connection);
        if (PQresultStatus(result) != PGRES_COMMAND_OK) {
                *ret_error = database_error_message(database->connection, result);
                /* The end of the COPY's results, before the next statement. */
                while ((result = (PQclear(result), PQgetResult(database->connection))))
                        ;
                return PQstatus(database->connection) == CONNECTION_BAD ? -ENOTCONN : -EIO;
        }
        while ((result = (PQclear(result), PQgetResult(database->connection))))
                ;
        return 0;
}

static int push_in_transaction(Database *database, const ChangeBatch *batch, bool reset, char **ret_error) {
        _cleanup_(PQclearp) PGresult *result = NULL;
        char cursor[32];
        const char *mark_params[] = { database->machine_id, cursor, batch->feed };
        const char *machine_params[] = { database->machine_id };
        int r;

        r = database_exec(database->connection, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, ret_error);
        if (r >= 0 && reset)
                r = database_exec(database->connection, reset_cursors, 1, machine_params, PGRES_COMMAND_OK, NULL,
                                  ret_error);
        if (r >= 0 && batch->count > 0) {
                r = copy_batch(database, batch, ret_error);
                if (r >= 0)
                        r = database_exec(database->connection, merge_incoming, 0, NULL, PGRES_COMMAND_OK, NULL,
                                          ret_error);
        }
        if (r < 0)
                return r;

        snprintf(cursor, sizeof(cursor), "%" PRIu64, batch->cursor);
        r = database_exec(database->connection, mark_synced, 3, mark_params, PGRES_COMMAND_OK, &result, ret_error);
        if (r < 0)
                return r;
        if (strcmp(PQcmdTuples(result), "1") != 0) {
                /* Row-level security hides the row of a machine that is not this role's. */
                if (asprintf(ret_error, "the database did not take the report of machine %s",
                             database->machine_id) < 0)
                        *ret_error = NULL;
                return -EPERM;
        }
        return database_exec(database->connection, "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL, ret_error);
}

int sync_push(Database *database, const ChangeBatch *batch, bool reset, char **ret_error) {
        char *feed;
        int r;

        *ret_error = NULL;
        if (!database->incoming_created) {
                /* Outside the batch's transaction: a rollback would take the table with it. */
                r = database_exec(database->connection, create_incoming, 0, NULL, PGRES_COMMAND_OK, NULL, ret_error);
                if (r < 0)
                        return r;
                database->incoming_created = true;
        }

        r = push_in_transaction(database, batch, reset, ret_error);
        if (r < 0) {
                if (PQtransactionStatus(database->connection) != PQTRANS_IDLE)
                        PQclear(PQexec(database->connection, "ROLLBACK"));
                return r;
        }

        feed = strdup(batch->feed);
        if (!feed)
                return -ENOMEM;
        free(database->synced_feed);
        database->synced_feed = feed;
        database->synced_cursor = batch->cursor;
        return 0;
}

int sync_round(Database *database, sd_bus *bus, uint32_t limit, bool *ret_more, size_t *ret_shipped,
               RoundError *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error bus_error = SD_BUS_ERROR_NULL;
        _cleanup_(change_batch_done) ChangeBatch batch = {};
        char *message = NULL;
        bool renumbered;
        uint64_t after;
        int r;

        *ret_more = false;
        *ret_shipped = 0;
        after = database->synced_feed ? database->synced_cursor : 0;
        r = feed_get_changes(bus, after, limit, &batch, &bus_error);
        renumbered = r >= 0 && !streq_ptr(batch.feed, database->synced_feed);
        if (renumbered && after > 0) {
                /* Numbered anew: everything again, from the start. */
                change_batch_done(&batch);
                r = feed_get_changes(bus, 0, limit, &batch, &bus_error);
        }
        if (r < 0)
                return round_fail(error, ROUND_FEED, r,
                                  sd_bus_error_is_set(&bus_error) ? strdup(bus_error.message) : NULL);
        if (batch.count == 0 && !renumbered)
                return 0;

        r = sync_push(database, &batch, renumbered, &message);
        if (r < 0)
                return round_fail(error, ROUND_DATABASE, r, message);
        *ret_more = batch.count >= limit;
        *ret_shipped = batch.count;
        return 0;
}

int sync_heartbeat(Database *database, RoundError *error) {
        const char *params[] = { database->machine_id };
        char *message = NULL;
        int r;

        /* The database sets last_sync to its own clock on any update of the row. */
        r = database_exec(database->connection,
                          "UPDATE sessmgr.machines SET synced_cursor = synced_cursor WHERE machine_id = $1",
                          1, params, PGRES_COMMAND_OK, NULL, &message);
        if (r < 0)
                return round_fail(error, ROUND_DATABASE, r, message);
        return 0;
}
