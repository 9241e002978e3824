/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "logind.h"
#include "string-set.h"

/* Between logind.c (which of logind's events to believe, and when: what they change is
 * the sessions layer's, sessions.c) and logind-bus.c (the bus). */

#define LOGIND_SERVICE    "org.freedesktop.login1"
#define LOGIND_PATH       "/org/freedesktop/login1"
#define LOGIND_MANAGER    "org.freedesktop.login1.Manager"
#define LOGIND_SESSIONS   "/org/freedesktop/login1/session"
#define LOGIND_NO_SESSION "org.freedesktop.login1.NoSuchSession"
#define BUS_SERVICE       "org.freedesktop.DBus"

/* How long logind's word waits for the PAM stack's: at logout pam_systemd releases the
 * session before pam_sessmgr reports it, so "removed" may overtake "logout", and a new
 * session is announced before pam_sessmgr records it. */
#define GRACE_USEC (2 * USEC_PER_SEC)

/* How often to try the system bus again after losing it. */
#define RECONNECT_USEC (5 * USEC_PER_SEC)

/* Property reads in flight at once. dbus-daemon refuses a connection's calls beyond
 * max_replies_per_connection (128 on the system bus) with LimitsExceeded, so a reconcile
 * of thousands of sessions asks for them a window at a time. */
#define FETCHES_IN_FLIGHT_MAX 64
/* Questions "is this session gone?" in flight at once, within the same limit. */
#define CONFIRMS_IN_FLIGHT_MAX 32

/* How many sessions are followed, and how many of logind's events may wait at once: twice
 * logind's own default SessionsMax= (8192). What comes beyond is not kept (and said so);
 * sessions are recorded through PAM all the same, and logind's list is read again once
 * the queues are empty. */
#define LOGIND_SESSIONS_MAX 16384

/* What anyone on the bus can provoke is logged this often at most. */
#define LOG_INTERVAL_USEC (10 * USEC_PER_SEC)
#define LOG_BURST 5

typedef enum PendingKind {
        PENDING_IMPORT,         /* a new logind session: import it unless PAM recorded it */
        PENDING_REMOVED,        /* a session logind dropped: close what is still open */
} PendingKind;

typedef struct PendingEvent {
        char *logind_session;
        PendingKind kind;
        int64_t due_usec;       /* CLOCK_MONOTONIC */
} PendingEvent;

typedef struct RateLimit {
        int64_t window_start;   /* CLOCK_MONOTONIC */
        unsigned count;
} RateLimit;


struct Logind {
        Manager *manager;
        sd_bus *bus;
        sd_event_source *reconnect_timer;
        /* The unique name that owns login1: only its broadcasts are logind's word, since
         * anyone may send a signal claiming to be from logind, or address one to us. */
        char *owner;
        sd_bus_slot *list_call;
        bool listed;            /* logind's list has been read: `live` can be trusted */
        bool relist_wanted;     /* something was dropped at a limit: read the list again */
        bool reconciling;       /* the sessions of a list are still being read */
        unsigned reconcile_imported;
        int64_t reconcile_started;      /* CLOCK_MONOTONIC */
        StringSet live;
        StringSet to_fetch;     /* sessions whose properties are still to be asked for */
        unsigned fetches_in_flight;
        StringSet to_confirm;   /* sessions logind said were removed, to ask it about */
        unsigned confirms_in_flight;
        PendingEvent *pending;
        size_t pending_count, pending_allocated;
        sd_event_source *pending_timer;
        RateLimit ignored_log, limit_log;
};

bool logind_ratelimit_pass(RateLimit *limit);

/* Whether a signal is a broadcast of login1's current owner; logs (rate-limited) if not. */
bool logind_signal_trusted(Logind *logind, sd_bus_message *message);
/* Whether a signal's session id is one logind could have made; logs (rate-limited) if not. */
bool logind_signal_id_valid(Logind *logind, sd_bus_message *message, const char *logind_session);

int logind_list_sessions(Logind *logind);

int logind_on_session_new(sd_bus_message *message, void *userdata, sd_bus_error *error);
int logind_on_session_removed(sd_bus_message *message, void *userdata, sd_bus_error *error);
int logind_on_properties_changed(sd_bus_message *message, void *userdata, sd_bus_error *error);
int logind_on_list_sessions(sd_bus_message *reply, void *userdata, sd_bus_error *error);
int logind_on_pending_due(sd_event_source *source, uint64_t usec, void *userdata);
