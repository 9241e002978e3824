/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-login.h>

#include "dispatch.h"
#include "log.h"
#include "manager.h"
#include "peer.h"
#include "protocol.h"
#include "time-format.h"

/* The methods of org.sessmgr.Manager1 and the table that declares who may call each
 * (dispatch.c enforces it before a handler runs): writes are for root only; a user reads
 * only their own sessions, and a session of someone else gets the very same answer as
 * one that does not exist. A handler checks what the caller sent and reads the store;
 * each write, with its reply, is one call to the sessions layer (sessions.c). */

#define END_REASON_MAX 64
#define HISTORY_LIMIT_MAX 10000
#define REFRESH_ON_LIST_MAX 256
#define NOTICE_PLACES_MAX 3

/* Fields only the daemon may set are overwritten whatever the caller sent. */
static int prepare_new_record(Manager *manager, SessionRecord *record) {
        int64_t now = now_usec(CLOCK_REALTIME);

        record->id = 0;
        record->parent_id = 0;
        record->state = SESSION_ACTIVE;
        record->end_time_usec = 0;
        if (record->login_time_usec <= 0 || record->login_time_usec > now + 60 * USEC_PER_SEC)
                record->login_time_usec = now;
        if (record->last_active_usec < record->login_time_usec || record->last_active_usec > now)
                record->last_active_usec = record->login_time_usec;
        if (record_set_string(&record->end_reason, NULL) < 0 ||
            record_set_string(&record->origin, "pam") < 0 ||
            record_set_string(&record->last_active_source, "login") < 0 ||
            record_set_string(&record->auth_method, NULL) < 0 ||
            record_set_string(&record->auth_key, NULL) < 0 ||
            record_set_string(&record->ttys, NULL) < 0 ||
            record_set_string(&record->boot_id, manager->boot_id) < 0)
                return -ENOMEM;
        return 0;
}

static int method_open_session(Call *call, sd_bus_error *error) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        sd_bus_message *message = call->message;
        Manager *manager = call->manager;
        const char *reason;
        int r;

        r = session_record_read(message, &record);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_set(error, SESSMGR_ERROR_INVALID_RECORD,
                                        "The session record is malformed: a field has the wrong type.");
        r = prepare_new_record(manager, &record);
        if (r >= 0)
                r = session_record_make_safe(&record);    /* recorded always, text escaped */
        if (r < 0)
                return r;
        if (session_record_validate(&record, &reason) < 0)
                return sd_bus_error_setf(error, SESSMGR_ERROR_INVALID_RECORD, "The session record is invalid: %s.", reason);

        return sessions_open(manager->sessions, message, &record, error);
}

static int method_close_session(Call *call, sd_bus_error *error) {
        sd_bus_message *message = call->message;
        const char *reason;
        uint64_t id;
        int r;

        r = sd_bus_message_read(message, "ts", &id, &reason);
        if (r < 0)
                return r;
        if (isempty(reason) || strlen(reason) > END_REASON_MAX || !text_is_printable(reason))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "The end reason must be a short text without control characters.");

        return sessions_close(call->manager->sessions, message, id, reason, error);
}

/* Answers with the records as an array of structs, and frees them. */
static int reply_records(Manager *manager, sd_bus_message *message, SessionRecord *records, size_t count) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', SESSION_RECORD_STRUCT);
        for (size_t i = 0; r >= 0 && i < count; i++)
                r = session_record_append_struct(reply, &records[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        session_record_array_free(records, count);
        if (r < 0)
                return r;
        return sessions_reply(manager->sessions, message, reply);
}

static int method_list_sessions(Call *call, sd_bus_error *error) {
        Manager *manager = call->manager;
        SessionRecord *records = NULL;
        size_t count = 0;
        uint32_t uid = call->uid;
        int r;

        r = store_list_open_sessions(manager->store, uid, &records, &count);
        if (r < 0)
                return reply_store_read_failed(-r, error);
        /* One person's list: fresh terminals and activity. Everyone's: the last poll's. */
        if (uid != SESSMGR_UID_ALL && count <= REFRESH_ON_LIST_MAX)
                poller_refresh(manager->poller, records, count);
        return reply_records(manager, call->message, records, count);
}

static int method_list_history(Call *call, sd_bus_error *error) {
        Manager *manager = call->manager;
        SessionRecord *records = NULL;
        size_t count = 0;
        int64_t since;
        uint32_t uid = call->uid, limit;
        int r;

        r = sd_bus_message_read(call->message, "xu", &since, &limit);
        if (r < 0)
                return r;
        /* One answer stays small whatever the history holds; callers page with since. */
        if (limit == 0 || limit > HISTORY_LIMIT_MAX)
                limit = HISTORY_LIMIT_MAX;

        r = store_list_history(manager->store, uid, since, limit, &records, &count);
        if (r < 0)
                return reply_store_read_failed(-r, error);
        return reply_records(manager, call->message, records, count);
}

static int method_get_session(Call *call, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call->message, &reply);
        if (r >= 0)
                r = session_record_append(reply, &call->session);
        if (r < 0)
                return r;
        return sessions_reply(call->manager->sessions, call->message, reply);
}

/* "revoked by session 12 from 203.0.113.7": the caller's own session as we know it,
 * found from the process that connected (not from whoever has its pid now), never from
 * what the caller says, and only ever a record of the caller's own uid. */
static int describe_revoker(Manager *manager, const Connection *connection, char **ret) {
        _cleanup_(session_record_done) SessionRecord caller = SESSION_RECORD_INIT;
        _cleanup_(freep) char *logind_session = NULL;
        struct passwd *entry;
        int r;

        r = peer_get_logind_session(sd_bus_get_fd(connection->bus), connection->peer_pid, &logind_session);
        if (r >= 0)
                r = store_find_by_logind_session(manager->store, logind_session, manager->boot_id,
                                                 connection->peer_uid, &caller);
        if (r >= 0 && caller.uid != connection->peer_uid)
                r = -ENOENT;
        if (r >= 0)
                r = asprintf(ret, "revoked by session %" PRIu64 " from %s", caller.id,
                             session_record_from(&caller, "this machine"));
        else if (connection->peer_uid == 0)
                r = asprintf(ret, "revoked by root");
        else if ((entry = getpwuid(connection->peer_uid)))
                r = asprintf(ret, "revoked by %s", entry->pw_name);
        else
                r = asprintf(ret, "revoked by uid %u", (unsigned) connection->peer_uid);
        return r < 0 ? -ENOMEM : 0;
}

static int method_announce_logout(Call *call, sd_bus_error *error) {
        _cleanup_(freep) char *reason = NULL;
        Manager *manager = call->manager;
        uint64_t id = call->session.id;
        int r;

        if (call->session.state == SESSION_CLOSED)
                return sd_bus_error_setf(error, SESSMGR_ERROR_NO_SUCH_SESSION, "Session %" PRIu64 " has already ended.", id);

        r = describe_revoker(manager, call->connection, &reason);
        if (r < 0)
                return r;
        r = sessions_revoke(manager->sessions, call->message, id, reason, error);
        if (r >= 0)
                log_info("session %" PRIu64 " of %s: %s", id, call->session.user, reason);
        return r;
}

/* "203.0.113.7 (sshd)", "local (login tty2)": where another session is. */
static int place_of(const SessionRecord *record, char **ret) {
        const char *tty = record->tty && strcmp(record->tty, "ssh") != 0 ? record->tty : NULL;

        if (tty && strncmp(tty, "/dev/", 5) == 0)
                tty += 5;
        return asprintf(ret, "%s (%s%s%s)", session_record_from(record, "local"),
                        record->service ?: "unknown", tty ? " " : "", tty ?: "") < 0 ? -ENOMEM : 0;
}

static int method_get_login_notice(Call *call, sd_bus_error *error) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_message *message = call->message;
        Manager *manager = call->manager;
        char *places[NOTICE_PLACES_MAX] = {};
        SessionRecord *others = NULL;
        size_t count = 0, listed = 0;
        uint32_t other_count = 0;
        int seen = 1, r;

        r = sd_bus_message_read(message, "t", &record.id);
        if (r < 0)
                return r;
        r = store_get_session(manager->store, record.id, &record);
        if (r == -ENOENT)
                return reply_no_such_session(record.id, error);
        if (r >= 0)
                r = store_list_open_sessions(manager->store, record.uid, &others, &count);
        if (r >= 0 && record.remote_address)
                seen = store_address_seen(manager->store, record.uid, record.remote_address, record.id);
        if (r >= 0 && seen < 0)
                r = seen;

        for (size_t i = 0; r >= 0 && i < count; i++) {
                /* Not itself, nor su and the like inside the same login, nor logins that
                 * ended but whose processes linger. */
                if (others[i].id == record.id || others[i].state != SESSION_ACTIVE ||
                    (record.logind_session && streq_ptr(others[i].logind_session, record.logind_session)))
                        continue;
                other_count++;
                if (listed < NOTICE_PLACES_MAX)
                        r = place_of(&others[i], &places[listed++]);
        }
        session_record_array_free(others, count);
        if (r < 0) {
                for (size_t i = 0; i < listed; i++)
                        free(places[i]);
                return r == -ENOMEM ? r : reply_store_read_failed(-r, error);
        }

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "u", other_count);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < listed; i++)
                r = sd_bus_message_append_basic(reply, 's', places[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "b", !seen);
        for (size_t i = 0; i < listed; i++)
                free(places[i]);
        if (r < 0)
                return r;
        return sessions_reply(manager->sessions, message, reply);
}

const Method manager_methods[] = {
        { "OpenSession",    "a{sv}", ACCESS_ROOT,        method_open_session },
        { "CloseSession",   "ts",    ACCESS_ROOT,        method_close_session },
        { "ListSessions",   "u",     ACCESS_OWN_UID,     method_list_sessions },
        { "ListHistory",    "uxu",   ACCESS_OWN_UID,     method_list_history },
        { "GetSession",     "t",     ACCESS_OWN_SESSION, method_get_session },
        { "GetLoginNotice", "t",     ACCESS_ROOT,        method_get_login_notice },
        { "AnnounceLogout", "t",     ACCESS_OWN_SESSION, method_announce_logout },
};

const size_t manager_methods_count = ELEMENTSOF(manager_methods);
