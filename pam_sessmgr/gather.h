/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <security/pam_modules.h>

#include "record.h"

/* Fills a record with what PAM, its environment and logind know about the session being
 * opened. On failure *ret_reason says what was missing. */
int gather_session_record(pam_handle_t *handle, SessionRecord *record, const char **ret_reason);

/* Parses "CLIENT_ADDRESS CLIENT_PORT SERVER_ADDRESS SERVER_PORT" as sshd exports it. */
int parse_ssh_connection(const char *value, char **ret_address, uint16_t *ret_port);
