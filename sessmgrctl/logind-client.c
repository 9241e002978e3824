/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "logind-client.h"
#include "macro.h"
#include "time-format.h"

#define LOGIND_SERVICE "org.freedesktop.login1"
#define LOGIND_PATH    "/org/freedesktop/login1"
#define LOGIND_MANAGER "org.freedesktop.login1.Manager"
#define LOGIND_SESSION "org.freedesktop.login1.Session"

#define CALL_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define POLL_INTERVAL_USEC (100 * USEC_PER_MSEC)

static const char *const needs_logind =
        "Logging out needs systemd-logind, which is not available on this system";

int logind_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "%s (no system bus: %m).", needs_logind);
        /* Never wait for a polkit agent: owners need none, and nobody else may anyway. */
        (void) sd_bus_set_allow_interactive_authorization(bus, false);

        /* Also starts logind when it is bus-activated and not running yet. */
        r = sd_bus_call_method(bus, LOGIND_SERVICE, LOGIND_PATH, "org.freedesktop.DBus.Peer", "Ping",
                               &error, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "%s (%s).", needs_logind, error.message ?: strerror(-r));

        *ret = TAKE_PTR(bus);
        return 0;
}

static int session_path(sd_bus *bus, const char *logind_session, sd_bus_error *error, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, LOGIND_SERVICE, LOGIND_PATH, LOGIND_MANAGER, "GetSession",
                               error, &reply, "s", logind_session);
        if (r < 0)
                return sd_bus_error_has_name(error, "org.freedesktop.login1.NoSuchSession") ? -ENOENT : r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}

int logind_terminate(sd_bus *bus, const char *logind_session, sd_bus_error *error) {
        _cleanup_(freep) char *path = NULL;
        int r;

        r = session_path(bus, logind_session, error, &path);
        if (r < 0)
                return r;
        sd_bus_error_free(error);
        r = sd_bus_call_method(bus, LOGIND_SERVICE, path, LOGIND_SESSION, "Terminate", error, NULL, NULL);
        if (r < 0 && sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return -ENOENT;
        return r;
}

int logind_session_state(sd_bus *bus, const char *logind_session, LogindSessionState *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *path = NULL, *state = NULL;
        int r;

        r = session_path(bus, logind_session, &error, &path);
        if (r == -ENOENT) {
                *ret = LOGIND_SESSION_GONE;
                return 0;
        }
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(bus, LOGIND_SERVICE, path, LOGIND_SESSION, "State", &error, &state);
        if (r < 0) {
                /* Vanished between the two calls. */
                *ret = LOGIND_SESSION_GONE;
                return 0;
        }
        *ret = strcmp(state, "closing") == 0 ? LOGIND_SESSION_CLOSING : LOGIND_SESSION_ACTIVE;
        return 0;
}

int logind_wait_for_end(sd_bus *bus, const char *logind_session, int64_t timeout_usec, LogindSessionState *ret) {
        int64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        int r;

        for (;;) {
                r = logind_session_state(bus, logind_session, ret);
                if (r < 0 || *ret != LOGIND_SESSION_ACTIVE)
                        return r;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return 0;
                nanosleep(&(struct timespec) { .tv_nsec = POLL_INTERVAL_USEC * 1000 }, NULL);
        }
}
