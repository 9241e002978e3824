/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "record.h"
#include "sshd-auth.h"

typedef struct Manager Manager;
typedef struct Sessions Sessions;

/* The sessions layer: every change to the session records goes through one function here,
 * and nothing else in sessmgrd writes to the store or touches the group commit (batch.c;
 * tests/check-layers.sh checks it). Each function owns its whole change: it joins the
 * shared transaction of the loop turn, rolls it back if a write fails, queues the journal
 * event to be sent after the commit, and queues its method reply (if it answers a call)
 * behind the commit too. So "answered only once recorded" and "a journal event only
 * after its commit" hold by construction, not by each caller's care. systemd-logind's
 * logind-session.c is the model: the session's start and stop own its state changes and
 * signals, and the bus methods and the logind follower only call them.
 *
 * The functions that answer a call take the call and an error and return like a method
 * handler; a failed write then also fails every reply waiting for the same commit. The
 * others return 0 or a negative errno (after the rollback). */

/* after_send runs once replies went out from a commit (connections may have output). */
int sessions_new(Manager *manager, void (*after_send)(void *userdata), void *userdata, Sessions **ret);
/* Commits and answers what is waiting first. */
Sessions *sessions_free(Sessions *sessions);
/* Commits now and sends the waiting replies and events. */
int sessions_flush(Sessions *sessions);

/* A reply that reads records: it waits for the commit of the writes it may have seen. */
int sessions_reply(Sessions *sessions, sd_bus_message *call, sd_bus_message *reply);

/* OpenSession: records a login (fields only the daemon sets already set) under its parent
 * (the login that su or sudo ran in), or takes over the import logind made of it first.
 * Answers with the record's id. */
int sessions_open(Sessions *sessions, sd_bus_message *call, SessionRecord *record, sd_bus_error *error);
/* CloseSession: the end the PAM stack reports. "closing" while logind still has the
 * session's processes, "closed" for su and sudo (their logind session is the outer
 * login's) and when logind does not have it. */
int sessions_close(Sessions *sessions, sd_bus_message *call, uint64_t id, const char *reason, sd_bus_error *error);
/* Remembers why the session is about to end ("revoked by ...", "idle"): the end that
 * follows takes it as its reason. With a call (AnnounceLogout), answers it; without, error
 * may be NULL. A session that ended meanwhile is no failure. */
int sessions_revoke(Sessions *sessions, sd_bus_message *call, uint64_t id, const char *reason, sd_bus_error *error);

/* What logind says. A session logind has that no record holds is imported (logged as a
 * login when announce is set; a reconcile at start logs its imports in one line); one
 * recorded already is marked closing if logind says so. Returns 1 when imported. */
int sessions_logind_import(Sessions *sessions, SessionRecord *record, bool announce);
int sessions_logind_closing(Sessions *sessions, const char *logind_session);
/* Gone for good: what is still open of it is closed, "terminated" unless its end was
 * reported or announced already. */
int sessions_logind_removed(Sessions *sessions, const char *logind_session);
/* Gone, and the PAM stack reported the end already: closed at once. */
int sessions_logind_finish(Sessions *sessions, const char *logind_session);

/* At start: what an earlier boot left open ended with it ("reboot"). Committed at once. */
int sessions_close_previous_boots(Sessions *sessions);

/* The poller's look at a session: when and where it was last used, and its terminals
 * (taken from *ttys). The record in memory follows. */
int sessions_set_activity(Sessions *sessions, SessionRecord *record, int64_t last_active_usec, const char *source,
                          char **ttys);
/* su or sudo whose process is gone without its PAM stack reporting the end: "terminated". */
int sessions_end_unreported(Sessions *sessions, const SessionRecord *record);

/* Retention: deletes up to limit sessions that ended before the cutoff; returns how many. */
int sessions_expire(Sessions *sessions, int64_t ended_before_usec, uint32_t limit);

/* How sshd authenticated a login; returns how many open records took it (0: not recorded
 * yet, sshd logs before the PAM session opens). */
int sessions_set_auth(Sessions *sessions, const SshdLogin *login);
