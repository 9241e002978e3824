/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "record.h"

typedef struct JournalEntry JournalEntry;

/* Structured journal events, so existing log pipelines can collect the sessions of a
 * whole fleet. Each kind has its MESSAGE_ID; the fields are documented in sessmgrd(8):
 * SESSMGR_SESSION, SESSMGR_USER, SESSMGR_UID, SESSMGR_SERVICE, SESSMGR_TTY,
 * SESSMGR_FROM, SESSMGR_REMOTE_PORT, SESSMGR_LOGIND_SESSION, and for ends
 * SESSMGR_END_REASON and SESSMGR_DURATION_USEC. */

#define EVENT_LOGIN  "5abcfe7cc2f44b76bab9609d24fd856c"
#define EVENT_LOGOUT "a7d81171488a4bff85de41be11c47acd"        /* logout, terminated, reboot */
#define EVENT_REVOKE "4511915030ee4e729dbeea54bfa2e0ab"        /* ended through sessmgrctl logout */
#define EVENT_IDLE   "dd5956174e2049febdd9fa049077f34e"        /* ended by the idle logout policy */

/* Built at once, from the record as it is now; NULL when out of memory. The sessions
 * layer (sessions.c) queues each with the batch, which sends it once the change it tells
 * of is committed: the journal never reports a login or an end the database rolled back. */
JournalEntry *event_login(const SessionRecord *record);
/* The record as stored after its end; the kind follows its end reason. */
JournalEntry *event_end(const SessionRecord *record);

void journal_entry_send(JournalEntry *entry);
JournalEntry *journal_entry_free(JournalEntry *entry);
