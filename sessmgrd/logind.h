/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

typedef struct Manager Manager;
typedef struct Logind Logind;

/* Follows systemd-logind on the system bus: sessions that end without a PAM close are
 * closed, sessions lingering in "closing" are shown so, and at start the store is
 * reconciled with logind's list. Without a system bus or logind, sessmgrd records and
 * lists sessions all the same; this returns 0 and logs why it is not following. */
int logind_start(Manager *manager);
Logind *logind_free(Logind *logind);

/* Asks logind to end a session (the idle logout policy). sessmgrd ends nothing else. */
int logind_terminate_session(Logind *logind, const char *logind_session);

/* Whether logind currently has this session (only once its list has been read). */
bool logind_has_session(Logind *logind, const char *logind_session);
