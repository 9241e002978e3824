/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "string-set.h"

/* The session database: one SQLite file owned by sessmgrd alone. Every write happens
 * inside a transaction the caller opens with store_begin() and ends with store_commit(),
 * so that many logins can share one fsync (see batch.c). Only the sessions layer
 * (sessions.c) calls the writes; anyone may read. */

typedef struct Store Store;

/* Opens or creates the database and brings its schema up to date. Refuses, with a
 * message saying why, a file that is not a database, is corrupt, is read-only or comes
 * from a newer sessmgr; such a file is never modified. */
int store_open(const char *path, Store **ret);
Store *store_free(Store *store);
DEFINE_POINTER_CLEANUP_FUNC(Store, store_free);

/* How a commit reaches the disk. 0: before it returns (synchronous=FULL). Otherwise it
 * returns once in the WAL, which outlives any crash of sessmgrd, and a thread flushes
 * it at the latest this long after (synchronous=NORMAL): a power cut loses at most
 * that much. See flusher.h. */
int store_configure_flushing(Store *store, int64_t interval_usec);

/* The fleet's change feed (store-changes.c): on while a fleet agent is configured. */
int store_configure_change_feed(Store *store, bool on);
/* Names the numbering of changes: a new one means every record is to be shipped again. */
int store_get_feed_identity(Store *store, char **ret);
/* Up to limit records changed after cursor `after`, oldest change first; *ret_cursor is
 * the last one's change number (`after` when none). */
int store_list_changes(Store *store, uint64_t after, uint32_t limit, SessionRecord **ret, size_t *ret_count,
                       uint64_t *ret_cursor);

int store_begin(Store *store);
int store_commit(Store *store);
void store_rollback(Store *store);
bool store_in_transaction(Store *store);

/* Inserts a new session and sets record->id. */
int store_add_session(Store *store, SessionRecord *record);
/* Overwrites every field of session record->id. */
int store_replace_session(Store *store, const SessionRecord *record);
/* 1 when uid has another session (open or ended) from this address, else 0. */
int store_address_seen(Store *store, uid_t uid, const char *address, uint64_t except_id);
/* Deletes up to limit ended sessions that ended before the cutoff; returns how many. */
int store_delete_history(Store *store, int64_t ended_before_usec, uint32_t limit);
/* Where and when the session was last seen in use, and its terminals. */
int store_update_activity(Store *store, uint64_t id, int64_t last_active_usec, const char *source, const char *ttys);
/* How sshd authenticated the open session of user from address:port. Returns the number
 * of sessions changed (0: not recorded yet). */
int store_set_auth(Store *store, const char *boot_id, const char *user, const char *address, uint16_t port,
                   const char *method, const char *key);
/* Records the end of a login as the PAM stack reports it: state becomes `state` (closing
 * while logind still has the session), the reason the one announced by whoever revoked
 * it, else `reason`. -ENOENT when there is no open session with that id. */
int store_end_session(Store *store, uint64_t id, int64_t end_time_usec, const char *reason, SessionState state);

/* What logind reports, for the open sessions with that logind id in that boot; each
 * returns how many records changed. Closing: processes may linger, the login is over.
 * Removed: closed, with the reason known already or else `reason`. */
int store_logind_session_closing(Store *store, const char *logind_session, const char *boot_id, int64_t now);
int store_logind_session_removed(Store *store, const char *logind_session, const char *boot_id,
                                 int64_t now, const char *reason);
/* Closes the sessions whose end PAM reported already and that logind has now dropped. */
int store_logind_session_finish(Store *store, const char *logind_session, const char *boot_id);
/* Closes what was left open in other boots, with reason "reboot". */
int store_close_previous_boots(Store *store, const char *boot_id);
/* Remembers who asked for the session to end; it becomes the end reason if the session
 * ends within a minute (else the logout was refused or never happened). */
int store_set_revoke_reason(Store *store, uint64_t id, const char *reason, int64_t now);
/* The logind ids of this boot's open sessions, added to *ret. */
int store_list_open_logind_sessions(Store *store, const char *boot_id, StringSet *ret);
/* The open session with that logind id, preferring one of uid. -ENOENT if none. */
int store_find_by_logind_session(Store *store, const char *logind_session, const char *boot_id, uid_t uid,
                                 SessionRecord *ret);
/* -ENOENT when there is no such session. */
int store_get_session(Store *store, uint64_t id, SessionRecord *ret);
/* Sessions not yet closed, of one uid or of all (SESSMGR_UID_ALL), oldest login first. */
int store_list_open_sessions(Store *store, uint32_t uid, SessionRecord **ret, size_t *ret_count);
/* The open sessions of a logind session, and those left open by other boots. */
int store_list_open_by_logind(Store *store, const char *logind_session, const char *boot_id,
                              SessionRecord **ret, size_t *ret_count);
int store_list_open_other_boots(Store *store, const char *boot_id, SessionRecord **ret, size_t *ret_count);
/* Up to limit open sessions with ids above after_id, by id: a long walk in small steps. */
int store_list_open_page(Store *store, uint64_t after_id, uint32_t limit, SessionRecord **ret, size_t *ret_count);
/* Ended sessions of one uid or of all that ended at or after since_usec, newest end
 * first, at most limit of them. */
int store_list_history(Store *store, uint32_t uid, int64_t since_usec, uint32_t limit,
                       SessionRecord **ret, size_t *ret_count);

/* The schema version this build writes. */
int store_schema_version(void);
