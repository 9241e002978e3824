/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "macro.h"

/* The text pam_sessmgr shows at login with option "notify":
 *   You have 2 other active sessions: 203.0.113.7 (sshd), local (login tty2).
 *   New login from 198.51.100.4 - not you? Run: sessmgrctl logout --others
 * places: up to a few of the other sessions, NULL-terminated; new_address: the client
 * address when it was never seen for this user, else NULL. *ret is NULL when there is
 * nothing to say. */
int format_login_notice(uint32_t others, char *const *places, const char *new_address, char **ret);

static inline void strv_freep(char ***list) {
        for (char **item = *list; item && *item; item++)
                free(*item);
        free(*list);
}
