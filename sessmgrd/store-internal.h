/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sqlite3.h>

#include "flusher.h"
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
        Flusher *flusher;
};

/* Logs what failed with SQLite's own words and returns a negative errno. */
int store_error(Store *store, int rc, const char *what);

/* One parameter of a statement, made by bind_text() (NULL binds SQL NULL) or bind_int():
 * the compiler checks each value against its kind. */
typedef struct BindValue {
        bool is_text;
        const char *text;
        int64_t number;
} BindValue;

static inline BindValue bind_text(const char *text) {
        return (BindValue) { .is_text = true, .text = text };
}

static inline BindValue bind_int(int64_t number) {
        return (BindValue) { .number = number };
}

/* Binds values to ?first, ?first+1 …; on failure logs once and returns a negative errno. */
int store_bind_values(Store *store, sqlite3_stmt *statement, int first, const BindValue *values, size_t count);

/* store_bind(store, statement, bind_int(id), bind_text(reason)): binds ?1, ?2 … */
#define store_bind_from(store, statement, first, ...)                                           \
        store_bind_values((store), (statement), (first), (const BindValue[]) { __VA_ARGS__ },   \
                          sizeof((const BindValue[]) { __VA_ARGS__ }) / sizeof(BindValue))
#define store_bind(store, statement, ...) store_bind_from(store, statement, 1, __VA_ARGS__)
/* Cleanup: finalizes a statement prepared for one use. */
static inline void sqlite3_finalizep(sqlite3_stmt **statement) {
        sqlite3_finalize(*statement);
}
/* "id,logind_session,…": the record's columns, in record-fields.h's order, to be freed. */
char *store_columns_list(bool include_id);
/* Cleanup: returns a statement to a clean state when it goes out of scope. */
void statement_resetp(sqlite3_stmt **statement);
/* Runs an UPDATE whose parameters are bound; returns the number of rows it changed. */
int run_update(Store *store, sqlite3_stmt *statement, const char *what);
/* Reads the current row of a SELECT of all record columns. */
int read_row(Store *store, sqlite3_stmt *statement, SessionRecord *record);
/* Steps a bound SELECT of all record columns once: the record, or -ENOENT for no row. */
int read_one_row(Store *store, sqlite3_stmt *statement, SessionRecord *ret);
