/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "record.h"

/* sessmgrctl's calls to sessmgrd. Each prints a message a person can act on when it
 * fails and returns a negative errno. */

int daemon_connect(const char *socket_path, sd_bus **ret);
int daemon_list_sessions(sd_bus *bus, uint32_t uid, SessionRecord **ret, size_t *ret_count);
/* Ended sessions, newest end first (limit 0: as many as sessmgrd gives, 10000). */
int daemon_list_history(sd_bus *bus, uint32_t uid, int64_t since_usec, uint32_t limit,
                        SessionRecord **ret, size_t *ret_count);
int daemon_get_session(sd_bus *bus, uint64_t id, SessionRecord *ret);
/* Tells sessmgrd the caller is about to end session id, for its history. */
int daemon_announce_logout(sd_bus *bus, uint64_t id);
/* The message of the last failure printed (empty before any), and whether sessmgrd
 * answered that there is no such session of the caller's. */
const char *daemon_last_error(bool *ret_no_such_session);
