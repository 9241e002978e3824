/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record-fields.h"
#include "store-internal.h"

/* The fleet's change feed: every change of a record takes the next number of
 * change_counter into its change_seq, by trigger, so that no write of the store can
 * forget it. The triggers exist only while the feed is on. Turning it on numbers every
 * record again under a new feed identity: changes made while it was off were not
 * numbered, and the agent, seeing a new identity, ships everything once more. */

static const char *const triggers =
        "CREATE TRIGGER sessions_change_inserted AFTER INSERT ON sessions BEGIN"
        "  UPDATE change_counter SET value = value + 1;"
        "  UPDATE sessions SET change_seq = (SELECT value FROM change_counter) WHERE id = NEW.id;"
        " END;"
        /* Not for its own UPDATE of change_seq (SQLite's triggers do not recurse by
         * default; the condition says so anyway). */
        "CREATE TRIGGER sessions_change_updated AFTER UPDATE ON sessions"
        "  WHEN NEW.change_seq = OLD.change_seq BEGIN"
        "  UPDATE change_counter SET value = value + 1;"
        "  UPDATE sessions SET change_seq = (SELECT value FROM change_counter) WHERE id = NEW.id;"
        " END;";

static const char *const renumber =
        "UPDATE sessions SET change_seq = id;"
        "UPDATE change_counter SET value = (SELECT coalesce(max(id), 0) FROM sessions);"
        "UPDATE feed_identity SET id = lower(hex(randomblob(16)));";

static int feed_is_on(Store *store) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *statement = NULL;
        int rc;

        rc = sqlite3_prepare_v2(store->database, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                                "AND name = 'sessions_change_inserted';", -1, &statement, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(statement);
        if (rc != SQLITE_ROW)
                return store_error(store, rc, "cannot read whether the change feed is on");
        return sqlite3_column_int(statement, 0) > 0;
}

static int run_in_transaction(Store *store, const char *sql, const char *what) {
        int rc = sqlite3_exec(store->database, "BEGIN IMMEDIATE;", NULL, NULL, NULL);

        if (rc == SQLITE_OK)
                rc = sqlite3_exec(store->database, sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(store->database, "COMMIT;", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                int r = store_error(store, rc, what);
                sqlite3_exec(store->database, "ROLLBACK;", NULL, NULL, NULL);
                return r;
        }
        return 0;
}

int store_configure_change_feed(Store *store, bool on) {
        _cleanup_(freep) char *sql = NULL;
        int r;

        r = feed_is_on(store);
        if (r < 0 || r == on)
                return r < 0 ? r : 0;
        if (!on) {
                log_info("%s: the fleet's change feed is off", store->path);
                return run_in_transaction(store, "DROP TRIGGER sessions_change_inserted;"
                                          "DROP TRIGGER sessions_change_updated;", "cannot turn the change feed off");
        }
        if (asprintf(&sql, "%s%s", renumber, triggers) < 0)
                return -ENOMEM;
        log_info("%s: the fleet's change feed is on", store->path);
        return run_in_transaction(store, sql, "cannot turn the change feed on");
}

int store_get_feed_identity(Store *store, char **ret) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *statement = NULL;
        const char *text;
        int rc;

        rc = sqlite3_prepare_v2(store->database, "SELECT id FROM feed_identity;", -1, &statement, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(statement);
        if (rc != SQLITE_ROW)
                return store_error(store, rc, "cannot read the change feed's identity");
        text = (const char *) sqlite3_column_text(statement, 0);
        *ret = strdup(text ?: "");
        return *ret ? 0 : -ENOMEM;
}

int store_list_changes(Store *store, uint64_t after, uint32_t limit, SessionRecord **ret, size_t *ret_count,
                       uint64_t *ret_cursor) {
        _cleanup_(sqlite3_finalizep) sqlite3_stmt *statement = NULL;
        _cleanup_(freep) char *sql = NULL, *columns = NULL;
        SessionRecord *records = NULL;
        size_t count = 0, allocated = 0;
        uint64_t cursor = after;
        /* Only what is on disk: a power cut takes back the last commits, and their change
         * numbers go to later changes, which an agent that shipped the lost ones would skip. */
        int64_t durable = store->flusher ? flusher_durable_change(store->flusher) : INT64_MAX;
        int rc, r = 0;

        columns = store_columns_list(true);
        if (!columns || asprintf(&sql, "SELECT %s, change_seq FROM sessions WHERE change_seq > ?1 AND change_seq > 0 "
                                 "AND change_seq <= ?3 ORDER BY change_seq LIMIT ?2;", columns) < 0)
                return -ENOMEM;
        /* Not a persistent statement: the agent asks a few times a second at most. */
        rc = sqlite3_prepare_v2(store->database, sql, -1, &statement, NULL);
        if (rc != SQLITE_OK)
                return store_error(store, rc, "cannot read the change feed");
        r = store_bind(store, statement, bind_int((int64_t) after), bind_int(limit), bind_int(durable));
        if (r < 0)
                return r;

        while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
                SessionRecord *record = session_record_array_add(&records, &count, &allocated);

                r = record ? read_row(store, statement, record) : -ENOMEM;
                if (r < 0)
                        break;
                cursor = (uint64_t) sqlite3_column_int64(statement, (int) record_fields_count);
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_error(store, rc, "cannot read the change feed");
        if (r < 0) {
                session_record_array_free(records, count);
                return r;
        }
        *ret = records;
        *ret_count = count;
        *ret_cursor = cursor;
        return 0;
}
