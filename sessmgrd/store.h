/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* The session database: one SQLite file owned by sessmgrd alone. Every write happens
 * inside a transaction the caller opens with store_begin() and ends with store_commit(),
 * so that many logins can share one fsync (see batch.c). */

typedef struct Store Store;

/* Opens or creates the database and brings its schema up to date. Refuses, with a
 * message saying why, a file that is not a database, is corrupt, is read-only or comes
 * from a newer sessmgr; such a file is never modified. */
int store_open(const char *path, Store **ret);
Store *store_free(Store *store);
DEFINE_POINTER_CLEANUP_FUNC(Store, store_free);

int store_begin(Store *store);
int store_commit(Store *store);
void store_rollback(Store *store);
bool store_in_transaction(Store *store);

/* Inserts a new session and sets record->id. */
int store_add_session(Store *store, SessionRecord *record);
/* Marks an open session closed. -ENOENT when there is no open session with that id. */
int store_end_session(Store *store, uint64_t id, int64_t end_time_usec, const char *reason);
/* -ENOENT when there is no such session. */
int store_get_session(Store *store, uint64_t id, SessionRecord *ret);
/* Sessions not yet closed, of one uid or of all (SESSMGR_UID_ALL), oldest login first. */
int store_list_open_sessions(Store *store, uint32_t uid, SessionRecord **ret, size_t *ret_count);

/* The schema version this build writes. */
int store_schema_version(void);
