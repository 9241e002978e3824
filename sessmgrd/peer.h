/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

/* The logind session of the process at the other end of a connection: the one that
 * connected, never another process that got its pid since. */
int peer_get_logind_session(int socket_fd, pid_t pid_at_accept, char **ret);

/* Whose connection this is, for the per-user connection cap: the owner of the logind
 * session or user manager the peer runs in; outside of any, the user whose subordinate
 * uid it is; else its uid. -ESRCH and the like when the process is gone. */
int peer_get_owner_uid(const struct ucred *credentials, uid_t *ret);
