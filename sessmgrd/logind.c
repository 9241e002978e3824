/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "log.h"
#include "logind-import.h"
#include "logind-internal.h"
#include "manager.h"
#include "string-set.h"
#include "time-format.h"

/* What logind's signals and answers mean for the records: a session is imported once it
 * has been announced for the grace period without a PAM record, and closed once logind
 * itself answers that it is gone. The follower decides when; each change is one call to
 * the sessions layer (sessions.c), which writes it. */

/* Waits for logind's answer to "is this session gone?". */
typedef struct Confirmation {
        Logind *logind;
        char logind_session[];
} Confirmation;

/* Called when one of the bounded sets or queues refused an item. */
static void at_limit(Logind *logind, const char *what, const char *logind_session) {
        logind->relist_wanted = true;
        if (logind_ratelimit_pass(&logind->limit_log))
                log_warning("following systemd-logind: %s is full (%d), logind session %s is looked at "
                            "when logind's list is read again", what, LOGIND_SESSIONS_MAX, logind_session);
}

/* A set of sessions logind announced, or -ENOSPC (said, and to be read again) at its limit. */
static int add_session(Logind *logind, StringSet *set, const char *what, const char *logind_session) {
        int r = string_set_add(set, logind_session);

        if (r == -ENOSPC)
                at_limit(logind, what, logind_session);
        else if (r < 0)
                log_warning("out of memory: logind session %s is not followed", logind_session);
        return r;
}

bool logind_has_session(Logind *logind, const char *logind_session) {
        return logind && logind->listed && logind_session && string_set_contains(&logind->live, logind_session);
}

void logind_import(Logind *logind, SessionRecord *record) {
        /* Recorded through PAM meanwhile, or gone: nothing to import. */
        if (!string_set_contains(&logind->live, record->logind_session))
                return;
        /* One at a time as logins begin; a reconcile importing thousands at start says
         * so in one line ("reconciled ..."), not in thousands of events. */
        if (sessions_logind_import(logind->manager->sessions, record, !logind->reconciling) <= 0)
                return;
        logind->reconcile_imported++;
        log_debug("imported logind session %s of %s (%s) as session %llu: it was not recorded through PAM",
                  record->logind_session, record->user, record->service ?: "unknown service",
                  (unsigned long long) record->id);
}

static int pending_arm(Logind *logind) {
        int64_t earliest = INT64_MAX;

        for (size_t i = 0; i < logind->pending_count; i++)
                if (logind->pending[i].due_usec < earliest)
                        earliest = logind->pending[i].due_usec;
        if (earliest == INT64_MAX)
                return sd_event_source_set_enabled(logind->pending_timer, SD_EVENT_OFF);
        (void) sd_event_source_set_time(logind->pending_timer, (uint64_t) earliest);
        return sd_event_source_set_enabled(logind->pending_timer, SD_EVENT_ONESHOT);
}

static int pending_add(Logind *logind, const char *logind_session, PendingKind kind) {
        PendingEvent *event;

        if (logind->pending_count >= LOGIND_SESSIONS_MAX) {
                at_limit(logind, "the queue of logind's events", logind_session);
                return -ENOSPC;
        }
        if (!GREEDY_REALLOC(logind->pending, logind->pending_allocated, logind->pending_count + 1))
                return log_error_errno(ENOMEM, "out of memory");
        event = &logind->pending[logind->pending_count];
        *event = (PendingEvent) {
                .logind_session = strdup(logind_session),
                .kind = kind,
                .due_usec = now_usec(CLOCK_MONOTONIC) + GRACE_USEC,
        };
        if (!event->logind_session)
                return log_error_errno(ENOMEM, "out of memory");
        logind->pending_count++;
        return pending_arm(logind);
}

/* Reads logind's list again once nothing is waiting, when something was dropped at a limit. */
static void relist_if_wanted(Logind *logind) {
        if (!logind->relist_wanted || !logind->owner || logind->list_call || logind->pending_count > 0 ||
            logind->to_confirm.count > 0 || logind->confirms_in_flight > 0)
                return;
        logind->relist_wanted = false;
        (void) logind_list_sessions(logind);
}

static void reconcile_finish(Logind *logind) {
        logind->reconciling = false;
        log_info("reconciled with systemd-logind: %zu session(s), %u imported, in %.1f ms",
                 logind->live.count, logind->reconcile_imported,
                 (double) (now_usec(CLOCK_MONOTONIC) - logind->reconcile_started) / USEC_PER_MSEC);
}

/* Asks for the properties of queued sessions while the window has room. */
static void fetch_more(Logind *logind) {
        while (logind->fetches_in_flight < FETCHES_IN_FLIGHT_MAX) {
                _cleanup_(freep) char *logind_session = string_set_pop(&logind->to_fetch);

                if (!logind_session)
                        break;
                /* Ended while it waited: SessionRemoved took care of it. */
                if (!string_set_contains(&logind->live, logind_session))
                        continue;
                if (logind_fetch_session(logind, logind->bus, logind_session) >= 0)
                        logind->fetches_in_flight++;
        }
        if (logind->reconciling && logind->fetches_in_flight == 0)
                reconcile_finish(logind);
}

int logind_queue_fetch(Logind *logind, const char *logind_session) {
        if (!string_set_contains(&logind->live, logind_session))
                return 0;
        return add_session(logind, &logind->to_fetch, "the queue of sessions to read", logind_session);
}

void logind_fetch_done(Logind *logind) {
        /* Answers to a bus we have since replaced may still come in. */
        if (logind->fetches_in_flight > 0)
                logind->fetches_in_flight--;
        fetch_more(logind);
}

int logind_on_pending_due(sd_event_source *source, uint64_t usec, void *userdata) {
        Logind *logind = userdata;
        int64_t now = now_usec(CLOCK_MONOTONIC);
        size_t kept = 0;
        int r;

        for (size_t i = 0; i < logind->pending_count; i++) {
                PendingEvent event = logind->pending[i];

                if (event.due_usec > now) {
                        logind->pending[kept++] = event;
                        continue;
                }
                if (event.kind == PENDING_REMOVED)
                        (void) sessions_logind_removed(logind->manager->sessions, event.logind_session);
                else
                        (void) logind_queue_fetch(logind, event.logind_session);
                free(event.logind_session);
        }
        logind->pending_count = kept;
        fetch_more(logind);
        r = pending_arm(logind);
        relist_if_wanted(logind);
        return r;
}

int logind_on_session_new(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Logind *logind = userdata;
        const char *id, *path;

        if (!logind_signal_trusted(logind, message) || sd_bus_message_read(message, "so", &id, &path) < 0 ||
            !logind_signal_id_valid(logind, message, id))
                return 0;
        if (add_session(logind, &logind->live, "the set of logind's sessions", id) < 0)
                return 0;
        (void) pending_add(logind, id, PENDING_IMPORT);
        return 0;
}

/* logind confirmed that a session it announced removed is gone. */
static void session_gone(Logind *logind, const char *logind_session) {
        /* Logged out through PAM already: closed now. Anything else waits for the grace
         * period, in case the PAM stack's word is still on its way. */
        (void) sessions_logind_finish(logind->manager->sessions, logind_session);
        (void) pending_add(logind, logind_session, PENDING_REMOVED);
}

static void confirm_more(Logind *logind);

static int on_confirmed(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Confirmation *confirmation = userdata;
        Logind *logind = confirmation->logind;
        const char *id = confirmation->logind_session;

        /* Answers to a bus we have since replaced may still come in. */
        if (logind->confirms_in_flight > 0)
                logind->confirms_in_flight--;
        if (sd_bus_message_is_method_error(reply, LOGIND_NO_SESSION))
                session_gone(logind, id);
        else if (!sd_bus_message_is_method_error(reply, NULL)) {
                log_debug("systemd-logind still has session %s: it stays open", id);
                (void) add_session(logind, &logind->live, "the set of logind's sessions", id);
        } else {
                logind->relist_wanted = true;
                if (logind_ratelimit_pass(&logind->limit_log))
                        log_warning("cannot ask systemd-logind whether session %s is gone (%s): "
                                    "it is looked at when logind's list is read again",
                                    id, sd_bus_message_get_error(reply)->message ?: sd_bus_message_get_error(reply)->name);
        }
        confirm_more(logind);
        relist_if_wanted(logind);
        return 0;
}

static int confirm_session_gone(Logind *logind, const char *logind_session) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(freep) Confirmation *confirmation = NULL;
        size_t size = strlen(logind_session) + 1;
        int r;

        confirmation = malloc(sizeof(Confirmation) + size);
        if (!confirmation)
                return -ENOMEM;
        confirmation->logind = logind;
        memcpy(confirmation->logind_session, logind_session, size);
        r = sd_bus_call_method_async(logind->bus, &slot, LOGIND_SERVICE, LOGIND_PATH, LOGIND_MANAGER, "GetSession",
                                     on_confirmed, confirmation, "s", logind_session);
        if (r < 0)
                return r;
        /* The bus owns the question from here, and frees it once answered or dropped. */
        r = sd_bus_slot_set_destroy_callback(slot, free);
        if (r < 0)
                return r;
        TAKE_PTR(confirmation);
        return sd_bus_slot_set_floating(slot, 1);
}

static void confirm_more(Logind *logind) {
        while (logind->bus && logind->confirms_in_flight < CONFIRMS_IN_FLIGHT_MAX) {
                _cleanup_(freep) char *logind_session = string_set_pop(&logind->to_confirm);

                if (!logind_session)
                        break;
                if (confirm_session_gone(logind, logind_session) >= 0)
                        logind->confirms_in_flight++;
                else
                        logind->relist_wanted = true;
        }
}

/* A session is closed only once logind itself answers that it no longer has it: the
 * signal alone is not enough for that. */
int logind_on_session_removed(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Logind *logind = userdata;
        const char *id, *path;

        if (!logind_signal_trusted(logind, message) || sd_bus_message_read(message, "so", &id, &path) < 0 ||
            !logind_signal_id_valid(logind, message, id))
                return 0;
        (void) string_set_remove(&logind->live, id);
        (void) string_set_remove(&logind->to_fetch, id);
        if (add_session(logind, &logind->to_confirm, "the queue of removed sessions", id) >= 0)
                confirm_more(logind);
        return 0;
}

/* State is the only session property that matters here, and logind announces its changes. */
int logind_on_properties_changed(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Logind *logind = userdata;
        _cleanup_(freep) char *id = NULL;
        const char *path = sd_bus_message_get_path(message), *interface, *state = NULL;

        if (!logind_signal_trusted(logind, message))
                return 0;
        if (!path || sd_bus_path_decode(path, LOGIND_SESSIONS, &id) <= 0 || !logind_signal_id_valid(logind, message, id))
                return 0;
        if (sd_bus_message_read(message, "s", &interface) < 0)
                return 0;
        if (logind_read_state_change(message, &state) < 0 || !state)
                return 0;
        if (strcmp(state, "closing") == 0)
                (void) sessions_logind_closing(logind->manager->sessions, id);
        return 0;
}

int logind_on_list_sessions(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Logind *logind = userdata;
        Manager *manager = logind->manager;
        StringSet recorded = {};
        const char *id, *user, *seat, *path, *sender;
        bool complete = true;
        uint32_t uid;
        int r;

        logind->list_call = sd_bus_slot_unref(logind->list_call);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                log_warning("systemd-logind did not list its sessions (%s): sessions are recorded but not followed",
                            sd_bus_message_get_error(reply)->message);
                return 0;
        }
        /* The bus names who answered: logind's signals are those this name broadcasts. */
        sender = sd_bus_message_get_sender(reply);
        if (sender && !streq_ptr(logind->owner, sender)) {
                free(logind->owner);
                logind->owner = strdup(sender);
        }
        if (!sender || !logind->owner) {
                log_warning("cannot tell who answered for systemd-logind: sessions are recorded but not followed");
                return 0;
        }

        string_set_clear(&logind->live);
        r = sd_bus_message_enter_container(reply, 'a', "(susso)");
        while (r > 0) {
                r = sd_bus_message_read(reply, "(susso)", &id, &uid, &user, &seat, &path);
                if (r <= 0)
                        break;
                if (!logind_session_id_valid(id))
                        log_warning("systemd-logind lists a session id that is not one: ignored");
                else if (add_session(logind, &logind->live, "the set of logind's sessions", id) < 0)
                        complete = false;
        }
        if (r < 0) {
                log_warning_errno(r, "cannot read logind's list of sessions: %m");
                return 0;
        }
        logind->listed = true;
        /* A session beyond the limit is not followed, but it must not be taken for gone. */
        logind->relist_wanted = false;

        /* Ended while we were not watching: close them now. */
        r = complete ? store_list_open_logind_sessions(manager->store, manager->boot_id, &recorded) : -ENOSPC;
        for (size_t i = 0; r >= 0 && i < recorded.count; i++)
                if (!string_set_contains(&logind->live, recorded.items[i]))
                        (void) sessions_logind_removed(manager->sessions, recorded.items[i]);
        string_set_clear(&recorded);

        /* Began while we were not watching, or went "closing": look at each. */
        logind->reconciling = true;
        logind->reconcile_imported = 0;
        for (size_t i = 0; i < logind->live.count; i++)
                if (logind_queue_fetch(logind, logind->live.items[i]) < 0)
                        log_warning("out of memory: logind session %s is not reconciled", logind->live.items[i]);

        log_info("following systemd-logind: %zu session(s)", logind->live.count);
        fetch_more(logind);
        return 0;
}
