/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "record.h"

typedef struct Manager Manager;
typedef struct SshdAuth SshdAuth;

/* How sshd authenticated each connection, read from what it logs to the journal
 * ("Accepted publickey for alice from 203.0.113.7 port 50022 ssh2: ED25519 SHA256:...")
 * and matched to the session by user, client address and port. sshd logs it before the
 * PAM session opens, so a line waits here until its session is recorded. */

typedef struct SshdLogin {
        char method[64];        /* "publickey", "password", "keyboard-interactive/pam", ... */
        char user[256];
        char address[64];
        uint16_t port;
        char key[160];          /* "ED25519 SHA256:...", empty without a key */
} SshdLogin;

/* Parses one sshd log message; -EINVAL when it is not an "Accepted" line. */
int sshd_parse_accepted(const char *message, SshdLogin *ret);

/* Follows the journal; without one, returns 0 and sessions simply lack the method. */
int sshd_auth_start(Manager *manager);
SshdAuth *sshd_auth_free(SshdAuth *auth);

/* Fills the record's auth fields from a line seen before the session was recorded. */
void sshd_auth_fill(SshdAuth *auth, SessionRecord *record);
