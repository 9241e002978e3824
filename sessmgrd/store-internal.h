/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sqlite3.h>

#include "store.h"

/* Shared by the store's files: store.c (opening, transactions, records) and
 * store-logind.c (what following logind writes). */

typedef enum StatementId {
        STATEMENT_INSERT,
        STATEMENT_REPLACE,
        STATEMENT_ACTIVITY,
        STATEMENT_AUTH,
        STATEMENT_DELETE_HISTORY,
        STATEMENT_ADDRESS_SEEN,
        STATEMENT_END,
        STATEMENT_GET,
        STATEMENT_LIST_UID,
        STATEMENT_LIST_ALL,
        STATEMENT_OPEN_PAGE,
        STATEMENT_OPEN_BY_LOGIND,
        STATEMENT_OPEN_OTHER_BOOTS,
        STATEMENT_HISTORY_UID,
        STATEMENT_HISTORY_ALL,
        STATEMENT_FIND_BY_LOGIND,
        STATEMENT_LOGIND_CLOSING,
        STATEMENT_LOGIND_REMOVED,
        STATEMENT_LOGIND_FINISH,
        STATEMENT_LOGIND_OPEN_IDS,
        STATEMENT_PREVIOUS_BOOTS,
        STATEMENT_SET_REVOKE_REASON,
        STATEMENT_BEGIN,
        STATEMENT_COMMIT,
        STATEMENT_ROLLBACK,
        _STATEMENT_MAX,
} StatementId;

struct Store {
        sqlite3 *database;
        char *path;
        sqlite3_stmt *statements[_STATEMENT_MAX];
};

/* Logs what failed with SQLite's own words and returns a negative errno. */
int store_error(Store *store, int rc, const char *what);
/* Cleanup: returns a statement to a clean state when it goes out of scope. */
void statement_resetp(sqlite3_stmt **statement);
/* Runs an UPDATE whose parameters are bound; returns the number of rows it changed. */
int run_update(Store *store, sqlite3_stmt *statement, const char *what);
/* Reads the current row of a SELECT of all record columns. */
int read_row(Store *store, sqlite3_stmt *statement, SessionRecord *record);
/* Steps a bound SELECT of all record columns once: the record, or -ENOENT for no row. */
int read_one_row(Store *store, sqlite3_stmt *statement, SessionRecord *ret);
