/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

/* Ending sessions through systemd-logind, as the calling user: logind lets owners end
 * their own sessions and refuses everybody else's (root may end any). sessmgrd never
 * ends a session on anyone's behalf. */

typedef enum LogindSessionState {
        LOGIND_SESSION_GONE,
        LOGIND_SESSION_CLOSING,
        LOGIND_SESSION_ACTIVE,
} LogindSessionState;

/* Connects to the system bus; says plainly that logout needs logind when it is absent. */
int logind_connect(sd_bus **ret);

/* Session.Terminate. -ENOENT: logind does not know the session (ended already);
 * -EACCES: logind refused. Prints nothing. */
int logind_terminate(sd_bus *bus, const char *logind_session, sd_bus_error *error);

int logind_session_state(sd_bus *bus, const char *logind_session, LogindSessionState *ret);

/* Waits up to timeout_usec until logind reports the session gone or closing. */
int logind_wait_for_end(sd_bus *bus, const char *logind_session, int64_t timeout_usec, LogindSessionState *ret);
