/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* The logind session of the process at the other end of a connection: the one that
 * connected, never another process that got its pid since. */
int peer_get_logind_session(int socket_fd, pid_t pid_at_accept, char **ret);
