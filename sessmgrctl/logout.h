/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "json-writer.h"

typedef enum LogoutMode {
        LOGOUT_NAMED,           /* the sessions given by id, never the current one */
        LOGOUT_OTHERS,          /* every session of the user but the current one */
        LOGOUT_ALL,             /* every session of the user, the current one last */
} LogoutMode;

typedef struct LogoutRequest {
        LogoutMode mode;
        const uint64_t *ids;    /* LOGOUT_NAMED */
        size_t id_count;
        uint32_t uid;           /* whose sessions, for LOGOUT_OTHERS and LOGOUT_ALL */
        bool assume_yes;
        JsonMode json;          /* not JSON_OFF: no questions, a result per session on stdout */
} LogoutRequest;

/* Returns 0 when every chosen session ended, negative (after saying why) otherwise. */
int logout_sessions(sd_bus *daemon, const LogoutRequest *request);

/* Asks "Log out N sessions? [y/N]" on the terminal: 1 yes, 0 no (said so), negative when
 * there is no terminal to ask (said so). Shared with logout --fleet. */
int logout_confirm(size_t count);
