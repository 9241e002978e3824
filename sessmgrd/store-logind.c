/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "log.h"
#include "store-internal.h"

/* What following logind writes: sessions logind reports closing or gone, sessions of
 * earlier boots, who revoked a session, and the look-ups those need. */

int store_logind_session_closing(Store *store, const char *logind_session, const char *boot_id, int64_t now) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_LOGIND_CLOSING];
        int r;

        r = store_bind(store, statement, bind_text(logind_session), bind_text(boot_id), bind_int(now));
        if (r < 0)
                return r;
        return run_update(store, statement, "cannot mark a session closing");
}

int store_logind_session_removed(Store *store, const char *logind_session, const char *boot_id,
                                 int64_t now, const char *reason) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_LOGIND_REMOVED];
        int r;

        r = store_bind(store, statement, bind_text(logind_session), bind_text(boot_id), bind_int(now),
                       bind_text(reason));
        if (r < 0)
                return r;
        return run_update(store, statement, "cannot close a session");
}

int store_logind_session_finish(Store *store, const char *logind_session, const char *boot_id) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_LOGIND_FINISH];
        int r;

        r = store_bind(store, statement, bind_text(logind_session), bind_text(boot_id));
        if (r < 0)
                return r;
        return run_update(store, statement, "cannot close a session");
}

int store_close_previous_boots(Store *store, const char *boot_id) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_PREVIOUS_BOOTS];
        int r;

        r = store_bind(store, statement, bind_text(boot_id));
        if (r < 0)
                return r;
        return run_update(store, statement, "cannot close the sessions of earlier boots");
}

int store_set_revoke_reason(Store *store, uint64_t id, const char *reason, int64_t now) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_SET_REVOKE_REASON];
        int r;

        r = store_bind(store, statement, bind_int((int64_t) id), bind_text(reason), bind_int(now));
        if (r < 0)
                return r;
        r = run_update(store, statement, "cannot record who ends a session");
        return r < 0 ? r : r > 0 ? 0 : -ENOENT;
}

int store_list_open_logind_sessions(Store *store, const char *boot_id, StringSet *ret) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_LOGIND_OPEN_IDS];
        int rc, r;

        r = store_bind(store, statement, bind_text(boot_id));
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
                r = string_set_add(ret, (const char *) sqlite3_column_text(statement, 0));
                if (r < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : store_error(store, rc, "cannot list sessions");
}

int store_find_by_logind_session(Store *store, const char *logind_session, const char *boot_id, uid_t uid,
                                 SessionRecord *ret) {
        _cleanup_(statement_resetp) sqlite3_stmt *statement = store->statements[STATEMENT_FIND_BY_LOGIND];
        int r;

        r = store_bind(store, statement, bind_text(logind_session), bind_text(boot_id), bind_int(uid));
        if (r < 0)
                return r;
        return read_one_row(store, statement, ret);
}
