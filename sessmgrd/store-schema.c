/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "log.h"
#include "macro.h"
#include "store-schema.h"

/* Migration N takes a database from user_version N to N+1. Never edit one that has
 * shipped: databases in the field were made by it. Add a new one at the end. */
static const char *const migrations[] = {
        /* 0 → 1: the sessions table. AUTOINCREMENT: an id is never reused, so an old id
         * in a user's scrollback can never name somebody's new session. */
        "CREATE TABLE sessions ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  logind_session TEXT,"
        "  boot_id TEXT,"
        "  uid INTEGER NOT NULL,"
        "  user TEXT NOT NULL,"
        "  service TEXT,"
        "  tty TEXT,"
        "  seat TEXT,"
        "  vt INTEGER NOT NULL DEFAULT 0,"
        "  remote_host TEXT,"
        "  remote_address TEXT,"
        "  remote_port INTEGER NOT NULL DEFAULT 0,"
        "  leader_pid INTEGER NOT NULL DEFAULT 0,"
        "  login_time_usec INTEGER NOT NULL,"
        "  last_active_usec INTEGER NOT NULL,"
        "  state TEXT NOT NULL,"
        "  end_time_usec INTEGER NOT NULL DEFAULT 0,"
        "  end_reason TEXT"
        ");",

        /* 1 → 2: listing a user's open sessions must not scan the whole history. */
        "CREATE INDEX sessions_open_by_uid ON sessions(uid, state);",

        /* 2 → 3: following logind. Who asked for a session to end ("revoked by session 12
         * from 203.0.113.7") waits here until it ends; whether the record came from PAM or
         * was imported from logind; logind events find the open sessions of a logind id,
         * and history listings the ended ones, without scanning everything. */
        "ALTER TABLE sessions ADD COLUMN revoke_reason TEXT;"
        "ALTER TABLE sessions ADD COLUMN origin TEXT DEFAULT 'pam';"
        "CREATE INDEX sessions_open_by_logind ON sessions(logind_session, boot_id) WHERE state != 'closed';"
        "CREATE INDEX sessions_history_by_uid ON sessions(uid, end_time_usec) WHERE state = 'closed';"
        "CREATE INDEX sessions_history ON sessions(end_time_usec) WHERE state = 'closed';",

        /* 3 → 4: what the session is (all its terminals, how sshd authenticated it, the
         * display of a graphical one, the session su was started from), where its last
         * activity was seen, and when a revocation was announced; the poller walks the
         * open sessions by id without touching the history. */
        "ALTER TABLE sessions ADD COLUMN ttys TEXT;"
        "ALTER TABLE sessions ADD COLUMN last_active_source TEXT DEFAULT 'login';"
        "ALTER TABLE sessions ADD COLUMN auth_method TEXT;"
        "ALTER TABLE sessions ADD COLUMN auth_key TEXT;"
        "ALTER TABLE sessions ADD COLUMN display TEXT;"
        "ALTER TABLE sessions ADD COLUMN desktop TEXT;"
        "ALTER TABLE sessions ADD COLUMN parent_id INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE sessions ADD COLUMN revoke_time_usec INTEGER NOT NULL DEFAULT 0;"
        "CREATE INDEX sessions_open ON sessions(id) WHERE state != 'closed';",

        /* 4 → 5: the fleet's change feed and readers without sessmgrd. change_seq numbers
         * every change of a record, from change_counter, so that the fleet agent reads
         * what changed after the last change it shipped (store-changes.c; the triggers
         * that number changes exist only while a fleet agent is configured, so that
         * other machines' logins do not pay for them). feed_identity names this
         * numbering: a new one (a new database, the feed turned back on) tells the agent
         * to ship everything again. sessions_v1 is the stable view for other readers
         * (sessmgrd(8), READING THE DATABASE): new columns may be added, none renamed or
         * dropped. */
        "ALTER TABLE sessions ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;"
        /* Partial: while the feed is off every change_seq is 0, and a login writes no
         * page of this index. */
        "CREATE INDEX sessions_by_change ON sessions(change_seq) WHERE change_seq > 0;"
        "CREATE TABLE change_counter (value INTEGER NOT NULL);"
        "INSERT INTO change_counter VALUES (0);"
        "CREATE TABLE feed_identity (id TEXT NOT NULL);"
        "INSERT INTO feed_identity VALUES (lower(hex(randomblob(16))));"
        "CREATE VIEW sessions_v1 AS SELECT"
        "  id, user, uid, service, tty, ttys, seat, vt, display, desktop,"
        "  remote_host, remote_address, remote_port, auth_method, auth_key,"
        "  logind_session, boot_id, leader_pid, parent_id, origin, state,"
        "  login_time_usec, last_active_usec, last_active_source, end_time_usec,"
        "  end_reason FROM sessions;",
};

int store_schema_latest(void) {
        return (int) ELEMENTSOF(migrations);
}

static int read_user_version(sqlite3 *database, int *ret) {
        sqlite3_stmt *statement = NULL;
        int rc;

        rc = sqlite3_prepare_v2(database, "PRAGMA user_version;", -1, &statement, NULL);
        if (rc == SQLITE_OK) {
                rc = sqlite3_step(statement);
                if (rc == SQLITE_ROW) {
                        *ret = sqlite3_column_int(statement, 0);
                        rc = SQLITE_OK;
                }
        }
        sqlite3_finalize(statement);
        return rc;
}

/* Returns the number of tables, or -1 when it cannot be read. */
static int count_tables(sqlite3 *database) {
        sqlite3_stmt *statement = NULL;
        int count = -1;

        if (sqlite3_prepare_v2(database, "SELECT count(*) FROM sqlite_master;", -1, &statement, NULL) == SQLITE_OK &&
            sqlite3_step(statement) == SQLITE_ROW)
                count = sqlite3_column_int(statement, 0);
        sqlite3_finalize(statement);
        return count;
}

static int exec(sqlite3 *database, const char *sql) {
        return sqlite3_exec(database, sql, NULL, NULL, NULL);
}

int store_schema_migrate(sqlite3 *database, const char *path) {
        int version = 0, latest = store_schema_latest(), rc;
        char set_version[64];

        rc = read_user_version(database, &version);
        if (rc != SQLITE_OK)
                return log_error_errno(EBADMSG, "%s: cannot read the database (%s); it is corrupt or not a "
                                       "database, leaving it untouched", path, sqlite3_errmsg(database));
        if (version > latest)
                return log_error_errno(EPROTONOSUPPORT,
                                       "%s: schema version %d is newer than this sessmgrd understands (%d); "
                                       "it was written by a newer sessmgr, refusing to touch it",
                                       path, version, latest);
        if (version < 0)
                return log_error_errno(EBADMSG, "%s: invalid schema version %d", path, version);
        if (version == latest)
                return 0;
        if (version == 0 && count_tables(database) != 0)
                return log_error_errno(EBADMSG, "%s: the file is a database of something else (it has tables "
                                       "but no sessmgr schema version), leaving it untouched", path);

        rc = exec(database, "BEGIN IMMEDIATE;");
        for (int step = version; rc == SQLITE_OK && step < latest; step++) {
                log_debug("%s: migrating schema from version %d to %d", path, step, step + 1);
                rc = exec(database, migrations[step]);
        }
        if (rc == SQLITE_OK) {
                snprintf(set_version, sizeof(set_version), "PRAGMA user_version = %d;", latest);
                rc = exec(database, set_version);
        }
        if (rc == SQLITE_OK)
                rc = exec(database, "COMMIT;");
        if (rc != SQLITE_OK) {
                int error = log_error_errno(EIO, "%s: schema migration from version %d failed: %s",
                                            path, version, sqlite3_errmsg(database));
                exec(database, "ROLLBACK;");
                return error;
        }

        if (version > 0)
                log_info("%s: migrated schema from version %d to %d", path, version, latest);
        return 0;
}
