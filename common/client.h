/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

/* The client side of the sessmgrd socket, shared by the PAM module and sessmgrctl.
 * Nothing here blocks past the caller's deadline: the PAM module runs inside sshd and
 * login, and a hung daemon must never hold a login. */

/* Connects without blocking; authentication happens during the first call.
 * -ENOENT: no socket, -ECONNREFUSED: nobody listening, -EAGAIN: backlog full. */
int sessmgr_connect(const char *socket_path, sd_bus **ret);

/* Sends m and waits for its reply until deadline (CLOCK_MONOTONIC, µs).
 * Returns -ETIMEDOUT when the deadline passes, or the error the daemon answered with
 * (copied into *error when error is not NULL). */
int sessmgr_call(sd_bus *bus, sd_bus_message *m, int64_t deadline_usec,
                 sd_bus_error *error, sd_bus_message **ret_reply);

/* Sends m without asking for a reply, and returns once it is written out (or the deadline
 * passed): the daemon acts on it after the caller has gone. */
int sessmgr_send(sd_bus *bus, sd_bus_message *m, int64_t deadline_usec);

int sessmgr_new_method_call(sd_bus *bus, sd_bus_message **ret, const char *member);
