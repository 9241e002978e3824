/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logind-import.h"
#include "logind-internal.h"
#include "manager.h"
#include "time-format.h"

/* The follower's side of the system bus: connecting and reconnecting, subscribing, telling
 * logind's own signals from anyone else's, and following login1's owner. */

bool logind_ratelimit_pass(RateLimit *limit) {
        int64_t now = now_usec(CLOCK_MONOTONIC);

        if (limit->count == 0 || now - limit->window_start >= LOG_INTERVAL_USEC) {
                limit->window_start = now;
                limit->count = 0;
        }
        if (limit->count >= LOG_BURST)
                return false;
        limit->count++;
        return true;
}

static void log_ignored(Logind *logind, sd_bus_message *message, const char *why) {
        if (logind_ratelimit_pass(&logind->ignored_log))
                log_debug("ignored %s.%s from %s: %s", sd_bus_message_get_interface(message) ?: "?",
                          sd_bus_message_get_member(message) ?: "?", sd_bus_message_get_sender(message) ?: "?", why);
}

/* Whether a signal is a broadcast of systemd-logind itself. */
bool logind_signal_trusted(Logind *logind, sd_bus_message *message) {
        if (!logind->owner || !streq_ptr(sd_bus_message_get_sender(message), logind->owner)) {
                log_ignored(logind, message, "not from systemd-logind");
                return false;
        }
        if (sd_bus_message_get_destination(message)) {
                log_ignored(logind, message, "not a broadcast");
                return false;
        }
        return true;
}

/* Whether a signal is a broadcast of the bus itself, which alone may use its name. */
static bool from_bus(Logind *logind, sd_bus_message *message) {
        if (!streq_ptr(sd_bus_message_get_sender(message), BUS_SERVICE) || sd_bus_message_get_destination(message)) {
                log_ignored(logind, message, "not a broadcast of the bus");
                return false;
        }
        return true;
}

/* A session id from a signal: logind's are short, so anything else is not logind's. */
bool logind_signal_id_valid(Logind *logind, sd_bus_message *message, const char *logind_session) {
        if (logind_session_id_valid(logind_session))
                return true;
        log_ignored(logind, message, "not a logind session id");
        return false;
}
static int on_terminated(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const sd_bus_error *failure = sd_bus_message_get_error(reply);

        if (failure)
                log_warning("systemd-logind did not end an idle session: %s", failure->message ?: failure->name);
        return 0;
}

int logind_terminate_session(Logind *logind, const char *logind_session) {
        if (!logind || !logind->bus)
                return -ENOTCONN;
        return sd_bus_call_method_async(logind->bus, NULL, LOGIND_SERVICE, LOGIND_PATH, LOGIND_MANAGER,
                                        "TerminateSession", on_terminated, logind, "s", logind_session);
}

int logind_list_sessions(Logind *logind) {
        /* A list asked for earlier may describe a logind that has since gone. */
        logind->list_call = sd_bus_slot_unref(logind->list_call);
        logind->reconcile_started = now_usec(CLOCK_MONOTONIC);
        return sd_bus_call_method_async(logind->bus, &logind->list_call, LOGIND_SERVICE, LOGIND_PATH, LOGIND_MANAGER,
                                        "ListSessions", logind_on_list_sessions, logind, NULL);
}

/* logind restarted (or started after us): read its list again. */
static int on_name_owner_changed(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Logind *logind = userdata;
        const char *name, *old_owner, *new_owner;

        if (!from_bus(logind, message) || sd_bus_message_read(message, "sss", &name, &old_owner, &new_owner) < 0 ||
            strcmp(name, LOGIND_SERVICE) != 0)
                return 0;
        free(logind->owner);
        logind->owner = NULL;
        if (isempty(new_owner)) {
                log_info("systemd-logind went away: sessions are recorded but not followed until it is back");
                logind->listed = false;
                logind->list_call = sd_bus_slot_unref(logind->list_call);
                return 0;
        }
        logind->owner = strdup(new_owner);
        if (!logind->owner) {
                log_warning("out of memory: systemd-logind is not followed");
                logind->listed = false;
                return 0;
        }
        (void) logind_list_sessions(logind);
        return 0;
}

static int on_bus_disconnected(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Logind *logind = userdata;

        log_warning("lost the system bus: sessions are recorded but not followed until it is back");
        logind->listed = false;
        /* Not freed here: we are inside its dispatch. The reconnect replaces it. */
        (void) sd_event_source_set_time_relative(logind->reconnect_timer, RECONNECT_USEC);
        (void) sd_event_source_set_enabled(logind->reconnect_timer, SD_EVENT_ONESHOT);
        return 0;
}

static int subscribe(Logind *logind) {
        sd_bus *bus = logind->bus;
        int r;

        r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                "Disconnected", on_bus_disconnected, logind);
        if (r < 0)
                return r;
        r = sd_bus_add_match_async(bus, NULL,
                                   "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                   "member='NameOwnerChanged',arg0='" LOGIND_SERVICE "'",
                                   on_name_owner_changed, NULL, logind);
        if (r < 0)
                return r;

        r = sd_bus_match_signal_async(bus, NULL, LOGIND_SERVICE, LOGIND_PATH, LOGIND_MANAGER, "SessionNew",
                                      logind_on_session_new, NULL, logind);
        if (r < 0)
                return r;
        r = sd_bus_match_signal_async(bus, NULL, LOGIND_SERVICE, LOGIND_PATH, LOGIND_MANAGER, "SessionRemoved",
                                      logind_on_session_removed, NULL, logind);
        if (r < 0)
                return r;
        r = sd_bus_add_match_async(bus, NULL,
                                   "type='signal',sender='" LOGIND_SERVICE "',"
                                   "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                                   "arg0='org.freedesktop.login1.Session'",
                                   logind_on_properties_changed, NULL, logind);
        if (r < 0)
                return r;
        /* Asked after subscribing, so that nothing between list and signals is missed. */
        return logind_list_sessions(logind);
}

static int connect_bus(Logind *logind) {
        int r;

        logind->list_call = sd_bus_slot_unref(logind->list_call);
        logind->bus = sd_bus_flush_close_unref(logind->bus);
        /* Whatever was asked of the old bus is asked again after the new list, and only
         * its answer names logind's owner on the new one. */
        free(logind->owner);
        logind->owner = NULL;
        logind->fetches_in_flight = 0;
        string_set_clear(&logind->to_fetch);
        logind->confirms_in_flight = 0;
        string_set_clear(&logind->to_confirm);
        logind->relist_wanted = false;
        r = sd_bus_open_system(&logind->bus);
        if (r >= 0)
                r = sd_bus_attach_event(logind->bus, logind->manager->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = subscribe(logind);
        if (r < 0)
                logind->bus = sd_bus_flush_close_unref(logind->bus);
        return r;
}

static int on_reconnect_time(sd_event_source *source, uint64_t usec, void *userdata) {
        Logind *logind = userdata;
        int r;

        r = connect_bus(logind);
        if (r < 0) {
                log_debug_errno(r, "system bus still unavailable: %m");
                (void) sd_event_source_set_time_relative(source, RECONNECT_USEC);
                return sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        }
        log_info("back on the system bus");
        return 0;
}

int logind_start(Manager *manager) {
        Logind *logind;
        int r;

        logind = calloc(1, sizeof(*logind));
        if (!logind)
                return -ENOMEM;
        logind->manager = manager;
        logind->live.limit = logind->to_fetch.limit = logind->to_confirm.limit = LOGIND_SESSIONS_MAX;
        manager->logind = logind;

        r = sd_event_add_time(manager->event, &logind->pending_timer, CLOCK_MONOTONIC, 0, 0, logind_on_pending_due, logind);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(logind->pending_timer, SD_EVENT_OFF);

        r = sd_event_add_time(manager->event, &logind->reconnect_timer, CLOCK_MONOTONIC, 0, 0, on_reconnect_time, logind);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(logind->reconnect_timer, SD_EVENT_OFF);

        r = connect_bus(logind);
        if (r < 0) {
                log_info_errno(r, "no system bus (%m): sessions are recorded but not followed through systemd-logind "
                               "until it appears");
                (void) sd_event_source_set_time_relative(logind->reconnect_timer, RECONNECT_USEC);
                (void) sd_event_source_set_enabled(logind->reconnect_timer, SD_EVENT_ONESHOT);
        }
        return 0;
}

Logind *logind_free(Logind *logind) {
        if (!logind)
                return NULL;
        for (size_t i = 0; i < logind->pending_count; i++)
                free(logind->pending[i].logind_session);
        free(logind->pending);
        string_set_clear(&logind->live);
        string_set_clear(&logind->to_fetch);
        string_set_clear(&logind->to_confirm);
        sd_event_source_disable_unref(logind->pending_timer);
        sd_event_source_disable_unref(logind->reconnect_timer);
        sd_bus_slot_unref(logind->list_call);
        sd_bus_flush_close_unref(logind->bus);
        free(logind->owner);
        free(logind);
        return NULL;
}
