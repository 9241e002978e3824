/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "events.h"
#include "log.h"
#include "manager.h"
#include "protocol.h"
#include "sessions.h"
#include "time-format.h"

/* Every write to the session records, each rule in one place (see sessions.h). The
 * pattern of each: batch_begin() joins the loop turn's transaction; a failed write calls
 * batch_abort(), which rolls back and fails every reply and drops every event waiting for
 * that commit; events and replies are queued with the batch, which sends them only after
 * the commit. */

struct Sessions {
        Manager *manager;
        Batch *batch;
};

int sessions_new(Manager *manager, void (*after_send)(void *userdata), void *userdata, Sessions **ret) {
        _cleanup_(freep) Sessions *sessions = NULL;
        int r;

        sessions = calloc(1, sizeof(*sessions));
        if (!sessions)
                return -ENOMEM;
        sessions->manager = manager;
        r = batch_new(manager->event, manager->store, after_send, userdata, &sessions->batch);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(sessions);
        return 0;
}

Sessions *sessions_free(Sessions *sessions) {
        if (!sessions)
                return NULL;
        batch_free(sessions->batch);
        free(sessions);
        return NULL;
}

int sessions_flush(Sessions *sessions) {
        return batch_flush(sessions->batch);
}

int sessions_reply(Sessions *sessions, sd_bus_message *call, sd_bus_message *reply) {
        return batch_reply(sessions->batch, call, reply);
}

/* Rolls back; a caller waiting on a method learns why. */
static int write_failed(Sessions *sessions, int r, sd_bus_error *error) {
        batch_abort(sessions->batch, r);
        if (!error)
                return r;
        return sd_bus_error_setf(error, SESSMGR_ERROR_STORE, "The session database could not be written: %s",
                                 strerror(-r));
}

/* Joins the shared transaction; on failure, rolls back what the turn wrote. */
static int begin(Sessions *sessions) {
        int r = batch_begin(sessions->batch);

        if (r < 0)
                batch_abort(sessions->batch, r);
        return r;
}

/* The end as stored (its reason may be a revocation announced before). */
static void queue_end_event(Sessions *sessions, uint64_t id) {
        _cleanup_(session_record_done) SessionRecord ended = SESSION_RECORD_INIT;

        if (store_get_session(sessions->manager->store, id, &ended) >= 0)
                batch_event(sessions->batch, event_end(&ended));
}

static int reply_empty(Sessions *sessions, sd_bus_message *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        return batch_reply(sessions->batch, call, reply);
}

/* su and sudo -i open a PAM session inside a logind session that already has a record:
 * that one is where they were started from. */
static int find_parent(Manager *manager, SessionRecord *record) {
        _cleanup_(session_record_done) SessionRecord parent = SESSION_RECORD_INIT;
        int r;

        if (!record->logind_session)
                return 0;
        /* No uid prefers none: the earliest login of the logind session is the parent. */
        r = store_find_by_logind_session(manager->store, record->logind_session, manager->boot_id,
                                         (uid_t) -1, &parent);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!(streq_ptr(parent.origin, "logind") && parent.uid == record->uid &&
              streq_ptr(parent.service, record->service)))
                record->parent_id = parent.id;
        return 0;
}

/* sessmgrd may have imported this very login from logind before its PAM call got
 * through (it was started by that call, and read logind's list first): the PAM record
 * then takes over the imported one instead of doubling it. Returns 1 when it did. */
static int add_or_adopt(Manager *manager, SessionRecord *record) {
        _cleanup_(session_record_done) SessionRecord imported = SESSION_RECORD_INIT;
        int r;

        if (record->logind_session) {
                r = store_find_by_logind_session(manager->store, record->logind_session, manager->boot_id,
                                                 record->uid, &imported);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (r >= 0 && streq_ptr(imported.origin, "logind") && imported.uid == record->uid &&
                    streq_ptr(imported.service, record->service)) {
                        record->id = imported.id;
                        r = store_replace_session(manager->store, record);
                        return r < 0 ? r : 1;
                }
        }
        return store_add_session(manager->store, record);
}

int sessions_open(Sessions *sessions, sd_bus_message *call, SessionRecord *record, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *manager = sessions->manager;
        bool adopted;
        int r;

        sshd_auth_fill(manager->sshd_auth, record);

        r = batch_begin(sessions->batch);
        if (r >= 0)
                r = find_parent(manager, record);
        if (r >= 0)
                r = add_or_adopt(manager, record);
        if (r < 0)
                return write_failed(sessions, r, error);
        adopted = r > 0;

        log_debug("session %" PRIu64 " opened: user %s, service %s, logind session %s",
                  record->id, record->user, record->service ?: "-", record->logind_session ?: "-");
        if (!adopted)           /* the import was logged already */
                batch_event(sessions->batch, event_login(record));

        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "t", record->id);
        if (r < 0)
                return r;
        return batch_reply(sessions->batch, call, reply);
}

int sessions_close(Sessions *sessions, sd_bus_message *call, uint64_t id, const char *reason, sd_bus_error *error) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        Manager *manager = sessions->manager;
        SessionState state;
        int r;

        r = batch_begin(sessions->batch);
        if (r < 0)
                return write_failed(sessions, r, error);
        r = store_get_session(manager->store, id, &record);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, SESSMGR_ERROR_NO_SUCH_SESSION, "No open session %" PRIu64 ".", id);
        if (r < 0)
                return write_failed(sessions, r, error);

        /* Processes that outlive the login keep logind's session "closing": so is ours,
         * until logind drops it. Not su or sudo inside a login (a parent): the logind
         * session is the outer login's, which may live on for hours after this one ended. */
        state = record.parent_id == 0 && streq_ptr(record.boot_id, manager->boot_id) &&
                logind_has_session(manager->logind, record.logind_session)
                ? SESSION_CLOSING : SESSION_CLOSED;
        r = store_end_session(manager->store, id, now_usec(CLOCK_REALTIME), reason, state);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, SESSMGR_ERROR_NO_SUCH_SESSION, "No open session %" PRIu64 ".", id);
        if (r < 0)
                return write_failed(sessions, r, error);

        log_debug("session %" PRIu64 " closed: %s", id, reason);
        queue_end_event(sessions, id);

        /* After the commit, as for a login: an end that was answered is never lost, even
         * where no logind would tell us about it later. */
        return reply_empty(sessions, call);
}

int sessions_revoke(Sessions *sessions, sd_bus_message *call, uint64_t id, const char *reason, sd_bus_error *error) {
        int r;

        r = batch_begin(sessions->batch);
        if (r >= 0)
                r = store_set_revoke_reason(sessions->manager->store, id, reason, now_usec(CLOCK_REALTIME));
        if (r < 0 && r != -ENOENT)
                return write_failed(sessions, r, error);
        if (!call)
                return 0;
        return reply_empty(sessions, call);
}

int sessions_logind_import(Sessions *sessions, SessionRecord *record, bool announce) {
        _cleanup_(session_record_done) SessionRecord existing = SESSION_RECORD_INIT;
        Manager *manager = sessions->manager;
        int r;

        r = store_find_by_logind_session(manager->store, record->logind_session, manager->boot_id,
                                         record->uid, &existing);
        if (r >= 0)
                return record->state == SESSION_CLOSING ?
                       sessions_logind_closing(sessions, record->logind_session) : 0;
        if (r != -ENOENT)
                return r;

        r = record_set_string(&record->boot_id, manager->boot_id);
        if (r < 0)
                return r;
        r = begin(sessions);
        if (r < 0)
                return r;
        r = store_add_session(manager->store, record);
        if (r < 0)
                return write_failed(sessions, r, NULL);
        if (announce)
                batch_event(sessions->batch, event_login(record));
        return 1;
}

int sessions_logind_closing(Sessions *sessions, const char *logind_session) {
        Manager *manager = sessions->manager;
        int r;

        r = begin(sessions);
        if (r < 0)
                return r;
        r = store_logind_session_closing(manager->store, logind_session, manager->boot_id, now_usec(CLOCK_REALTIME));
        if (r < 0)
                return write_failed(sessions, r, NULL);
        return 0;
}

int sessions_logind_removed(Sessions *sessions, const char *logind_session) {
        Manager *manager = sessions->manager;
        SessionRecord *records = NULL;
        size_t count = 0;
        int r;

        r = begin(sessions);
        if (r < 0)
                return r;
        /* Read first: the journal hears of the ends nobody reported yet. */
        r = store_list_open_by_logind(manager->store, logind_session, manager->boot_id, &records, &count);
        if (r >= 0)
                r = store_logind_session_removed(manager->store, logind_session, manager->boot_id,
                                                 now_usec(CLOCK_REALTIME), "terminated");
        if (r < 0) {
                session_record_array_free(records, count);
                return write_failed(sessions, r, NULL);
        }
        if (r > 0)
                log_debug("logind session %s is gone: closed %d record(s)", logind_session, r);

        for (size_t i = 0; i < count; i++)
                /* One whose end PAM reported was logged then. */
                if (!records[i].end_reason)
                        queue_end_event(sessions, records[i].id);
        session_record_array_free(records, count);
        return 0;
}

int sessions_logind_finish(Sessions *sessions, const char *logind_session) {
        Manager *manager = sessions->manager;
        int r;

        r = begin(sessions);
        if (r < 0)
                return r;
        r = store_logind_session_finish(manager->store, logind_session, manager->boot_id);
        if (r < 0)
                return write_failed(sessions, r, NULL);
        return 0;
}

int sessions_close_previous_boots(Sessions *sessions) {
        Manager *manager = sessions->manager;
        SessionRecord *records = NULL;
        size_t count = 0;
        int r;

        r = begin(sessions);
        if (r < 0)
                return r;
        r = store_list_open_other_boots(manager->store, manager->boot_id, &records, &count);
        if (r >= 0)
                r = store_close_previous_boots(manager->store, manager->boot_id);
        if (r < 0) {
                session_record_array_free(records, count);
                return write_failed(sessions, r, NULL);
        }
        for (size_t i = 0; i < count; i++)
                if (!records[i].end_reason)
                        queue_end_event(sessions, records[i].id);
        session_record_array_free(records, count);

        /* Before anyone is served: the events go out with this commit (none if it fails). */
        r = batch_flush(sessions->batch);
        if (r < 0)
                return r;
        if (count > 0)
                log_info("closed %zu session(s) left open by an earlier boot", count);
        return 0;
}

int sessions_set_activity(Sessions *sessions, SessionRecord *record, int64_t last_active_usec, const char *source,
                          char **ttys) {
        int r;

        r = begin(sessions);
        if (r < 0)
                return r;
        r = store_update_activity(sessions->manager->store, record->id, last_active_usec, source, *ttys);
        if (r < 0)
                return write_failed(sessions, r, NULL);
        record->last_active_usec = last_active_usec;
        free(record->ttys);
        record->ttys = TAKE_PTR(*ttys);
        return record_set_string(&record->last_active_source, source);
}

int sessions_end_unreported(Sessions *sessions, const SessionRecord *record) {
        int r;

        r = begin(sessions);
        if (r < 0)
                return r;
        r = store_end_session(sessions->manager->store, record->id, now_usec(CLOCK_REALTIME), "terminated",
                              SESSION_CLOSED);
        if (r < 0 && r != -ENOENT)
                return write_failed(sessions, r, NULL);
        log_debug("session %" PRIu64 " ended without its end reported: its process %u is gone",
                  record->id, (unsigned) record->leader_pid);
        if (r >= 0)
                queue_end_event(sessions, record->id);
        return 0;
}

int sessions_expire(Sessions *sessions, int64_t ended_before_usec, uint32_t limit) {
        int r;

        r = begin(sessions);
        if (r < 0)
                return r;
        r = store_delete_history(sessions->manager->store, ended_before_usec, limit);
        if (r < 0)
                return write_failed(sessions, r, NULL);
        return r;
}

int sessions_set_auth(Sessions *sessions, const SshdLogin *login) {
        Manager *manager = sessions->manager;
        int r;

        r = begin(sessions);
        if (r < 0)
                return r;
        r = store_set_auth(manager->store, manager->boot_id, login->user, login->address, login->port,
                           login->method, login->key);
        if (r < 0)
                return write_failed(sessions, r, NULL);
        return r;
}
