/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "macro.h"

typedef enum SessionState {
        SESSION_ACTIVE,
        SESSION_CLOSING,
        SESSION_CLOSED,
        _SESSION_STATE_MAX,
        _SESSION_STATE_INVALID = -1,
} SessionState;

/* One login as sessmgr knows it. Times are microseconds since the epoch, 0 when unknown.
 * Strings are NULL when unknown. The same struct travels over the socket (as a{sv} with
 * the keys in record.c) and into the store. */
typedef struct SessionRecord {
        uint64_t id;                    /* assigned by sessmgrd */
        char *logind_session;           /* logind's session id, restarts every boot */
        char *boot_id;                  /* 32 hex digits */
        uid_t uid;
        char *user;
        char *service;                  /* PAM_SERVICE */
        char *tty;                      /* PAM_TTY ("ssh" for sshd) */
        char *seat;
        uint32_t vt;
        char *remote_host;              /* PAM_RHOST, may be a name */
        char *remote_address;           /* client address from SSH_CONNECTION */
        uint16_t remote_port;
        uint32_t leader_pid;
        int64_t login_time_usec;
        int64_t last_active_usec;
        SessionState state;
        int64_t end_time_usec;
        char *end_reason;
        char *origin;                   /* "pam", or "logind" when imported from logind */
        char *ttys;                     /* terminals the session's processes use, "pts/3 pts/5" */
        char *last_active_source;       /* "login", "tty-input" or "process-activity" */
        char *auth_method;              /* how sshd authenticated it, e.g. "publickey" */
        char *auth_key;                 /* the key, as sshd logs it: "ED25519 SHA256:..." */
        char *display;                  /* graphical sessions, from logind */
        char *desktop;
        uint64_t parent_id;             /* su/sudo: the session it was started from */
} SessionRecord;

#define SESSION_RECORD_INIT { .uid = (uid_t) -1, .state = SESSION_ACTIVE }

/* Longest string field stored: far above any real host name or tty; a longer one is cut. */
#define RECORD_STRING_MAX 256

void session_record_done(SessionRecord *record);
void session_record_array_free(SessionRecord *records, size_t n);
/* Appends an empty record to a growing array and returns it; NULL when out of memory. */
SessionRecord *session_record_array_add(SessionRecord **records, size_t *count, size_t *allocated);

/* Where the session came from, as people read it: the client address sshd saw, else
 * the host name PAM was given, else fallback ("local", "this machine"). */
const char *session_record_from(const SessionRecord *record, const char *fallback);

const char *session_state_to_string(SessionState state);
SessionState session_state_from_string(const char *s);

/* Replaces *field with a copy of value (NULL and "" both mean unknown). */
int record_set_string(char **field, const char *value);

/* Valid UTF-8 without control, bidi or other format characters (they could drive or
 * garble the terminal of whoever reads the record): see text.h. */
bool text_is_printable(const char *s);

/* Escapes every text field that is not printable and cuts one longer than
 * RECORD_STRING_MAX, in the stored form documented in sessmgrd(8) (text_escape()).
 * Idempotent. 0, or -ENOMEM. */
int session_record_make_safe(SessionRecord *record);

/* Checks a record before it is stored: uid and user name present, valid state and times,
 * text made safe (call session_record_make_safe() first). */
int session_record_validate(const SessionRecord *record, const char **ret_reason);

/* a{sv} encoding. Reading skips keys it does not know, so newer peers can add fields. */
int session_record_append(sd_bus_message *m, const SessionRecord *record);
int session_record_read(sd_bus_message *m, SessionRecord *record);

/* The struct encoding of the lists (ListSessions, ListHistory): every field in the order
 * of record_fields[], texts "" when unknown. A list of 1,000 records costs a fraction of
 * what 1,000 dictionaries do to write and to read. tests/unit/test-record.c checks the
 * signature against the table. */
#define SESSION_RECORD_STRUCT_FIELDS "tssussssussquxxsxsssssssst"
#define SESSION_RECORD_STRUCT "(" SESSION_RECORD_STRUCT_FIELDS ")"
int session_record_append_struct(sd_bus_message *m, const SessionRecord *record);
int session_record_read_struct(sd_bus_message *m, SessionRecord *record);
