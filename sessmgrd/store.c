/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "protocol.h"
#include "record-fields.h"
#include "store-schema.h"
#include "store-internal.h"

/* Columns are named like the record's fields (record-fields.h), so binding and reading
 * walk that one table instead of repeating every field here. */


int store_schema_version(void) {
        return store_schema_latest();
}

static int sqlite_to_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:     return 0;
        case SQLITE_NOMEM:    return -ENOMEM;
        case SQLITE_FULL:     return -ENOSPC;
        case SQLITE_READONLY: return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:     return -EACCES;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:   return -EBUSY;
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:  return -EBADMSG;
        case SQLITE_CANTOPEN: return -ENOENT;
        case SQLITE_CONSTRAINT:
        case SQLITE_MISMATCH: return -EINVAL;
        default:              return -EIO;
        }
}

int store_error(Store *store, int rc, const char *what) {
        return log_error_errno(sqlite_to_errno(rc) ?: -EIO, "%s: %s: %s",
                               store->path, what, sqlite3_errmsg(store->database));
}

int store_bind_values(Store *store, sqlite3_stmt *statement, int first, const BindValue *values, size_t count) {
        for (size_t i = 0; i < count; i++) {
                int index = first + (int) i, rc;

                if (values[i].is_text)
                        rc = sqlite3_bind_text(statement, index, values[i].text, -1, SQLITE_STATIC);
                else
                        rc = sqlite3_bind_int64(statement, index, values[i].number);
                if (rc != SQLITE_OK)
                        return store_error(store, SQLITE_MISUSE, "cannot bind");
        }
        return 0;
}

/* Returns the statement to a clean state when it goes out of scope. */
void statement_resetp(sqlite3_stmt **statement) {
        if (*statement) {
                sqlite3_reset(*statement);
                sqlite3_clear_bindings(*statement);
        }
}

/* Runs an UPDATE whose parameters are already bound; returns the rows it changed. */
int run_update(Store *store, sqlite3_stmt *statement, const char *what) {
        int rc = sqlite3_step(statement);

        if (rc != SQLITE_DONE)
                return store_error(store, rc, what);
        return sqlite3_changes(store->database);
}

char *store_columns_list(bool include_id) {
        size_t size = 1;
        char *list;

        for (size_t i = 0; i < record_fields_count; i++)
                size += strlen(record_fields[i].key) + 2;
        list = calloc(1, size);
        if (!list)
                return NULL;
        for (size_t i = include_id ? 0 : 1; i < record_fields_count; i++) {
                if (*list)
                        strcat(list, ",");
                strcat(list, record_fields[i].key);
        }
        return list;
}

/* The announced revocation, if the session ended soon after it (SQL, given the end time).
 * A logout that logind refused or that never happened must not rewrite a later, ordinary
 * end of the session. */
#define REVOKED_WITHIN_USEC "60000000"
#define REVOKED_BY(end) \
        "CASE WHEN revoke_reason IS NOT NULL AND " end " - revoke_time_usec <= " REVOKED_WITHIN_USEC \
        " THEN revoke_reason END"

static int prepare_statements(Store *store) {
        _cleanup_(freep) char *all = store_columns_list(true), *without_id = store_columns_list(false), *placeholders = NULL;
        char *sql[_STATEMENT_MAX] = {};
        int r = 0;

        if (!all || !without_id)
                return -ENOMEM;
        placeholders = calloc(1, 2 * record_fields_count);
        if (!placeholders)
                return -ENOMEM;
        for (size_t i = 1; i < record_fields_count; i++)
                strcat(placeholders, i == 1 ? "?" : ",?");

        if (asprintf(&sql[STATEMENT_INSERT], "INSERT INTO sessions (%s) VALUES (%s);", without_id, placeholders) < 0 ||
            asprintf(&sql[STATEMENT_REPLACE], "UPDATE sessions SET (%s) = (%s) WHERE id = ?%zu;",
                     without_id, placeholders, record_fields_count) < 0 ||
            asprintf(&sql[STATEMENT_GET], "SELECT %s FROM sessions WHERE id = ?1;", all) < 0 ||
            /* Sorted by store_list_open_sessions(): SQLite's sorter copies every column
             * of every row, a millisecond for a thousand. */
            asprintf(&sql[STATEMENT_LIST_UID], "SELECT %s FROM sessions WHERE uid = ?1 AND state != 'closed';",
                     all) < 0 ||
            asprintf(&sql[STATEMENT_LIST_ALL], "SELECT %s FROM sessions WHERE state != 'closed';", all) < 0 ||
            asprintf(&sql[STATEMENT_OPEN_BY_LOGIND], "SELECT %s FROM sessions WHERE logind_session = ?1 "
                     "AND boot_id = ?2 AND state != 'closed' ORDER BY id;", all) < 0 ||
            asprintf(&sql[STATEMENT_OPEN_OTHER_BOOTS], "SELECT %s FROM sessions WHERE state != 'closed' "
                     "AND boot_id != ?1 ORDER BY id;", all) < 0 ||
            asprintf(&sql[STATEMENT_OPEN_PAGE], "SELECT %s FROM sessions WHERE state != 'closed' AND id > ?1 "
                     "ORDER BY id LIMIT ?2;", all) < 0 ||
            asprintf(&sql[STATEMENT_HISTORY_UID], "SELECT %s FROM sessions WHERE uid = ?3 AND state = 'closed' "
                     "AND end_time_usec >= ?1 ORDER BY end_time_usec DESC, id DESC LIMIT ?2;", all) < 0 ||
            asprintf(&sql[STATEMENT_HISTORY_ALL], "SELECT %s FROM sessions WHERE state = 'closed' "
                     "AND end_time_usec >= ?1 ORDER BY end_time_usec DESC, id DESC LIMIT ?2;", all) < 0 ||
            /* The caller's own record first: after "su", one logind session holds several. */
            asprintf(&sql[STATEMENT_FIND_BY_LOGIND], "SELECT %s FROM sessions WHERE logind_session = ?1 AND boot_id = ?2 "
                     "AND state != 'closed' ORDER BY uid = ?3 DESC, login_time_usec LIMIT 1;", all) < 0)
                r = -ENOMEM;

        for (StatementId id = 0; r == 0 && id < _STATEMENT_MAX; id++) {
                static const char *const fixed[_STATEMENT_MAX] = {
                        /* The end of a login as the PAM stack reports it. A session logind
                         * already reported closing has its end time, not yet its reason. */
                        [STATEMENT_END] =
                                "UPDATE sessions SET state = ?4,"
                                " end_time_usec = CASE WHEN end_time_usec > 0 THEN end_time_usec ELSE ?2 END,"
                                " end_reason = COALESCE(" REVOKED_BY("?2") ", ?3) "
                                "WHERE id = ?1 AND (state = 'active' OR (state = 'closing' AND end_reason IS NULL));",
                        [STATEMENT_ACTIVITY] =
                                "UPDATE sessions SET last_active_usec = ?2, last_active_source = ?3, ttys = ?4 WHERE id = ?1;",
                        [STATEMENT_AUTH] =
                                "UPDATE sessions SET auth_method = ?5, auth_key = ?6 "
                                "WHERE boot_id = ?1 AND user = ?2 AND remote_address = ?3 AND remote_port = ?4 "
                                "AND state != 'closed' AND auth_method IS NULL;",
                        [STATEMENT_ADDRESS_SEEN] =
                                "SELECT 1 FROM sessions WHERE uid = ?1 AND remote_address = ?2 AND id != ?3 LIMIT 1;",
                        [STATEMENT_DELETE_HISTORY] =
                                "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions "
                                "WHERE state = 'closed' AND end_time_usec < ?1 LIMIT ?2);",
                        [STATEMENT_LOGIND_CLOSING] =
                                "UPDATE sessions SET state = 'closing', end_time_usec = ?3 "
                                "WHERE logind_session = ?1 AND boot_id = ?2 AND state = 'active';",
                        [STATEMENT_LOGIND_REMOVED] =
                                "UPDATE sessions SET state = 'closed',"
                                " end_time_usec = CASE WHEN end_time_usec > 0 THEN end_time_usec ELSE ?3 END,"
                                " end_reason = COALESCE(end_reason, " REVOKED_BY("?3") ", ?4) "
                                "WHERE logind_session = ?1 AND boot_id = ?2 AND state != 'closed';",
                        [STATEMENT_LOGIND_FINISH] =
                                "UPDATE sessions SET state = 'closed' "
                                "WHERE logind_session = ?1 AND boot_id = ?2 AND state = 'closing' AND end_reason IS NOT NULL;",
                        [STATEMENT_LOGIND_OPEN_IDS] =
                                "SELECT DISTINCT logind_session FROM sessions "
                                "WHERE boot_id = ?1 AND state != 'closed' AND logind_session IS NOT NULL;",
                        /* Nobody knows when the machine went down: the last sign of life
                         * is the best end time there is. A revocation announced for a
                         * session still open at the reboot did not end it. */
                        [STATEMENT_PREVIOUS_BOOTS] =
                                "UPDATE sessions SET state = 'closed',"
                                " end_time_usec = CASE WHEN end_time_usec > 0 THEN end_time_usec ELSE last_active_usec END,"
                                " end_reason = COALESCE(end_reason, 'reboot') "
                                "WHERE state != 'closed' AND boot_id != ?1;",
                        [STATEMENT_SET_REVOKE_REASON] =
                                "UPDATE sessions SET revoke_reason = ?2, revoke_time_usec = ?3 "
                                "WHERE id = ?1 AND state != 'closed';",
                        [STATEMENT_BEGIN] = "BEGIN IMMEDIATE;",
                        [STATEMENT_COMMIT] = "COMMIT;",
                        [STATEMENT_ROLLBACK] = "ROLLBACK;",
                };
                int rc = sqlite3_prepare_v3(store->database, sql[id] ?: fixed[id], -1,
                                            SQLITE_PREPARE_PERSISTENT, &store->statements[id], NULL);
                if (rc != SQLITE_OK)
                        r = store_error(store, rc, "cannot prepare statement");
        }

        for (StatementId id = 0; id < _STATEMENT_MAX; id++)
                free(sql[id]);
        return r;
}

#define STARTUP_BUSY_TIMEOUT_MSEC 5000

static int configure(Store *store) {
        static const char *const pragmas[] = {
                /* WAL: readers never block the writer. FULL until the daemon says
                 * how it flushes (store_configure_flushing()). */
                "PRAGMA journal_mode = WAL;",
                "PRAGMA synchronous = FULL;",
                "PRAGMA foreign_keys = ON;",
                "PRAGMA trusted_schema = OFF;",
        };

        for (size_t i = 0; i < ELEMENTSOF(pragmas); i++) {
                int rc = sqlite3_exec(store->database, pragmas[i], NULL, NULL, NULL);
                if (rc != SQLITE_OK)
                        return store_error(store, rc, "cannot configure the database (is it a sessmgr database?)");
        }
        return 0;
}

int store_open(const char *path, Store **ret) {
        _cleanup_(store_freep) Store *store = NULL;
        int rc, r;

        store = calloc(1, sizeof(*store));
        if (!store)
                return -ENOMEM;
        store->path = strdup(path);
        if (!store->path)
                return -ENOMEM;

        rc = sqlite3_open_v2(path, &store->database,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK)
                return store->database ? store_error(store, rc, "cannot open the database")
                                       : log_error_errno(ENOMEM, "%s: cannot open the database", path);

        /* Another program that has the file open (an admin's sqlite3, a backup, the last
         * close of a reader checkpointing the WAL) may hold a lock for a moment: wait for
         * it at start rather than call the file unreadable. Not afterwards: a write that
         * waited would hold up every login behind it in the event loop. */
        (void) sqlite3_busy_timeout(store->database, STARTUP_BUSY_TIMEOUT_MSEC);

        /* A file we may not write is refused now, not at the first login. */
        if (sqlite3_db_readonly(store->database, "main") == 1)
                return log_error_errno(EROFS, "%s: the database is read-only", path);

        /* Read before anything writes: a corrupt file or one from a newer version must be
         * refused untouched, and switching to WAL would already write to it. */
        r = store_schema_migrate(store->database, path);
        if (r < 0)
                return r;

        r = configure(store);
        if (r < 0)
                return r;
        r = prepare_statements(store);
        if (r < 0)
                return r;
        (void) sqlite3_busy_timeout(store->database, 0);

        *ret = TAKE_PTR(store);
        return 0;
}

int store_configure_flushing(Store *store, int64_t interval_usec) {
        int rc;

        store->flusher = flusher_stop(store->flusher);
        rc = sqlite3_exec(store->database, interval_usec > 0 ? "PRAGMA synchronous = NORMAL;" : "PRAGMA synchronous = FULL;",
                          NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_error(store, rc, "cannot set how commits reach the disk");
        if (interval_usec == 0)
                return 0;
        if (flusher_start(store->database, store->path, interval_usec, &store->flusher) >= 0)
                return 0;
        /* Without the thread nothing would flush: every commit does again. */
        log_warning("%s: every commit is flushed to disk before it is answered", store->path);
        return store_configure_flushing(store, 0);
}

Store *store_free(Store *store) {
        if (!store)
                return NULL;
        /* The thread flushes what is left; the writer's close, the last, checkpoints. */
        store->flusher = flusher_stop(store->flusher);
        for (StatementId id = 0; id < _STATEMENT_MAX; id++)
                sqlite3_finalize(store->statements[id]);
        sqlite3_close_v2(store->database);
        free(store->path);
        free(store);
        return NULL;
}

static int run_simple(Store *store, StatementId id, const char *what) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[id];
        int rc = sqlite3_step(statement);

        return rc == SQLITE_DONE ? 0 : store_error(store, rc, what);
}

bool store_in_transaction(Store *store) {
        return !sqlite3_get_autocommit(store->database);
}

int store_begin(Store *store) {
        return run_simple(store, STATEMENT_BEGIN, "cannot begin a transaction");
}

int store_commit(Store *store) {
        return run_simple(store, STATEMENT_COMMIT, "cannot commit");
}

void store_rollback(Store *store) {
        /* SQLite rolls back by itself after some errors (disk full, I/O): then there is
         * nothing left to roll back. */
        if (store_in_transaction(store))
                (void) run_simple(store, STATEMENT_ROLLBACK, "cannot roll back");
}

static int bind_field(sqlite3_stmt *statement, int index, const SessionRecord *record, const RecordField *field) {
        const void *p = record_field_pointer(record, field);

        switch (field->type) {
        case FIELD_STRING: {
                const char *s = *(char *const *) p;
                return s ? sqlite3_bind_text(statement, index, s, -1, SQLITE_STATIC) : sqlite3_bind_null(statement, index);
        }
        case FIELD_STATE:
                return sqlite3_bind_text(statement, index, session_state_to_string(*(const SessionState *) p), -1, SQLITE_STATIC);
        case FIELD_UINT64: return sqlite3_bind_int64(statement, index, (sqlite3_int64) *(const uint64_t *) p);
        case FIELD_UINT32: return sqlite3_bind_int64(statement, index, *(const uint32_t *) p);
        case FIELD_UINT16: return sqlite3_bind_int64(statement, index, *(const uint16_t *) p);
        case FIELD_TIME:   return sqlite3_bind_int64(statement, index, *(const int64_t *) p);
        }
        return SQLITE_MISUSE;
}

static int column_in_range(sqlite3_int64 value, sqlite3_int64 max, void *target, size_t size) {
        if (value < 0 || value > max)
                return -EBADMSG;
        if (size == sizeof(uint64_t))
                *(uint64_t *) target = (uint64_t) value;
        else if (size == sizeof(uint32_t))
                *(uint32_t *) target = (uint32_t) value;
        else
                *(uint16_t *) target = (uint16_t) value;
        return 0;
}

static int read_field(sqlite3_stmt *statement, int column, SessionRecord *record, const RecordField *field) {
        void *p = record_field_pointer(record, field);
        sqlite3_int64 value;

        switch (field->type) {
        case FIELD_STRING:
                return record_set_string(p, (const char *) sqlite3_column_text(statement, column));
        case FIELD_STATE:
                *(SessionState *) p = session_state_from_string((const char *) sqlite3_column_text(statement, column));
                return *(SessionState *) p < 0 ? -EBADMSG : 0;
        default:
                break;
        }

        /* Asked for text, SQLite would format every number first. */
        value = sqlite3_column_int64(statement, column);
        switch (field->type) {
        case FIELD_STRING:
        case FIELD_STATE:
                break;
        case FIELD_UINT64: return column_in_range(value, INT64_MAX, p, sizeof(uint64_t));
        case FIELD_UINT32: return column_in_range(value, UINT32_MAX, p, sizeof(uint32_t));
        case FIELD_UINT16: return column_in_range(value, UINT16_MAX, p, sizeof(uint16_t));
        case FIELD_TIME:
                *(int64_t *) p = value;
                return value < 0 ? -EBADMSG : 0;
        }
        return -EINVAL;
}

int read_row(Store *store, sqlite3_stmt *statement, SessionRecord *record) {
        for (size_t i = 0; i < record_fields_count; i++) {
                int r = read_field(statement, (int) i, record, &record_fields[i]);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return log_error_errno(EBADMSG, "%s: session %lld has an invalid %s; the database was modified by something else",
                                               store->path, sqlite3_column_int64(statement, 0), record_fields[i].key);
        }
        return 0;
}

int read_one_row(Store *store, sqlite3_stmt *statement, SessionRecord *ret) {
        int rc = sqlite3_step(statement);

        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return store_error(store, rc, "cannot read a session");
        return read_row(store, statement, ret);
}

/* Binds every field but the id to ?1 … ?N-1, in the order of record-fields.h. */
static int bind_fields(Store *store, sqlite3_stmt *statement, const SessionRecord *record) {
        for (size_t i = 1; i < record_fields_count; i++) {
                int rc = bind_field(statement, (int) i, record, &record_fields[i]);
                if (rc != SQLITE_OK)
                        return store_error(store, rc, "cannot bind a session field");
        }
        return 0;
}

int store_add_session(Store *store, SessionRecord *record) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_INSERT];
        int rc, r;

        r = bind_fields(store, statement, record);
        if (r < 0)
                return r;
        rc = sqlite3_step(statement);
        if (rc != SQLITE_DONE)
                return store_error(store, rc, "cannot add a session");
        record->id = (uint64_t) sqlite3_last_insert_rowid(store->database);
        return 0;
}

int store_replace_session(Store *store, const SessionRecord *record) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_REPLACE];
        int r;

        r = bind_fields(store, statement, record);
        if (r < 0)
                return r;
        r = store_bind_from(store, statement, (int) record_fields_count, bind_int((int64_t) record->id));
        if (r < 0)
                return r;
        r = run_update(store, statement, "cannot update a session");
        return r < 0 ? r : r > 0 ? 0 : -ENOENT;
}

int store_end_session(Store *store, uint64_t id, int64_t end_time_usec, const char *reason, SessionState state) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_END];
        int r;

        r = store_bind(store, statement, bind_int((int64_t) id), bind_int(end_time_usec), bind_text(reason),
                       bind_text(session_state_to_string(state)));
        if (r < 0)
                return r;
        r = run_update(store, statement, "cannot end a session");
        return r < 0 ? r : r > 0 ? 0 : -ENOENT;
}

int store_update_activity(Store *store, uint64_t id, int64_t last_active_usec, const char *source, const char *ttys) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_ACTIVITY];
        int r;

        r = store_bind(store, statement, bind_int((int64_t) id), bind_int(last_active_usec), bind_text(source),
                       bind_text(ttys));
        if (r < 0)
                return r;
        return run_update(store, statement, "cannot record activity");
}

int store_set_auth(Store *store, const char *boot_id, const char *user, const char *address, uint16_t port,
                   const char *method, const char *key) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_AUTH];
        int r;

        r = store_bind(store, statement, bind_text(boot_id), bind_text(user), bind_text(address), bind_int(port),
                       bind_text(method), bind_text(isempty(key) ? NULL : key));
        if (r < 0)
                return r;
        return run_update(store, statement, "cannot record how a session was authenticated");
}

int store_address_seen(Store *store, uid_t uid, const char *address, uint64_t except_id) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_ADDRESS_SEEN];
        int rc, r;

        r = store_bind(store, statement, bind_int(uid), bind_text(address), bind_int((int64_t) except_id));
        if (r < 0)
                return r;
        rc = sqlite3_step(statement);
        if (rc == SQLITE_ROW)
                return 1;
        return rc == SQLITE_DONE ? 0 : store_error(store, rc, "cannot read the history");
}

int store_delete_history(Store *store, int64_t ended_before_usec, uint32_t limit) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_DELETE_HISTORY];
        int r;

        r = store_bind(store, statement, bind_int(ended_before_usec), bind_int(limit));
        if (r < 0)
                return r;
        return run_update(store, statement, "cannot delete old history");
}

int store_get_session(Store *store, uint64_t id, SessionRecord *ret) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_GET];
        int r;

        if (id > INT64_MAX)
                return -ENOENT;
        r = store_bind(store, statement, bind_int((int64_t) id));
        if (r < 0)
                return r;
        return read_one_row(store, statement, ret);
}

/* Steps a bound SELECT of whole records to its end. */
static int collect_rows(Store *store, sqlite3_stmt *statement, SessionRecord **ret, size_t *ret_count) {
        SessionRecord *records = NULL;
        size_t count = 0, allocated = 0;
        int rc, r = 0;

        while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
                SessionRecord *record = session_record_array_add(&records, &count, &allocated);

                r = record ? read_row(store, statement, record) : -ENOMEM;
                if (r < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_error(store, rc, "cannot list sessions");
        if (r < 0) {
                session_record_array_free(records, count);
                return r;
        }

        *ret = records;
        *ret_count = count;
        return 0;
}

static int compare_login_time(const void *a, const void *b) {
        const SessionRecord *x = a, *y = b;

        if (x->login_time_usec != y->login_time_usec)
                return x->login_time_usec < y->login_time_usec ? -1 : 1;
        return x->id < y->id ? -1 : x->id > y->id;
}

int store_list_open_sessions(Store *store, uint32_t uid, SessionRecord **ret, size_t *ret_count) {
        StatementId id = uid == SESSMGR_UID_ALL ? STATEMENT_LIST_ALL : STATEMENT_LIST_UID;
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[id];
        int r;

        if (id == STATEMENT_LIST_UID) {
                r = store_bind(store, statement, bind_int(uid));
                if (r < 0)
                        return r;
        }
        r = collect_rows(store, statement, ret, ret_count);
        if (r >= 0 && *ret_count > 1)
                qsort(*ret, *ret_count, sizeof(SessionRecord), compare_login_time);
        return r;
}

int store_list_open_by_logind(Store *store, const char *logind_session, const char *boot_id,
                              SessionRecord **ret, size_t *ret_count) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_OPEN_BY_LOGIND];
        int r;

        r = store_bind(store, statement, bind_text(logind_session), bind_text(boot_id));
        if (r < 0)
                return r;
        return collect_rows(store, statement, ret, ret_count);
}

int store_list_open_other_boots(Store *store, const char *boot_id, SessionRecord **ret, size_t *ret_count) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_OPEN_OTHER_BOOTS];
        int r;

        r = store_bind(store, statement, bind_text(boot_id));
        if (r < 0)
                return r;
        return collect_rows(store, statement, ret, ret_count);
}

int store_list_open_page(Store *store, uint64_t after_id, uint32_t limit, SessionRecord **ret, size_t *ret_count) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_OPEN_PAGE];
        int r;

        r = store_bind(store, statement, bind_int((int64_t) after_id), bind_int(limit));
        if (r < 0)
                return r;
        return collect_rows(store, statement, ret, ret_count);
}

int store_list_history(Store *store, uint32_t uid, int64_t since_usec, uint32_t limit,
                       SessionRecord **ret, size_t *ret_count) {
        StatementId id = uid == SESSMGR_UID_ALL ? STATEMENT_HISTORY_ALL : STATEMENT_HISTORY_UID;
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[id];
        int r;

        r = store_bind(store, statement, bind_int(since_usec), bind_int(limit));
        if (r >= 0 && id == STATEMENT_HISTORY_UID)
                r = store_bind_from(store, statement, 3, bind_int(uid));
        if (r < 0)
                return r;
        return collect_rows(store, statement, ret, ret_count);
}
