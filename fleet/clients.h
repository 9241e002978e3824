/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "config.h"
#include "database.h"

/* The agent's own socket, for sessmgrctl --fleet: every user may connect (mode 0666),
 * what each may see and end is decided per call from the peer credentials the kernel gave
 * at accept time (client-methods.c). Served from the agent's poll() loop between its
 * rounds of sync: a connection is given a few messages per turn, a client that does not
 * read its answers is not read from, and the connections one user may hold are capped,
 * so that no user can hold the sync, or another user's calls, back. */

typedef struct Clients Clients;
typedef struct ClientConnection ClientConnection;
typedef struct PendingLogout PendingLogout;

/* What the methods need of the agent; the pointers follow its reconnects. */
typedef struct ClientsContext {
        Database *const *database;      /* NULL while the database is down */
        const FleetConfig *config;
        const char *machine_id;
} ClientsContext;

struct ClientConnection {
        Clients *clients;
        sd_bus *bus;
        uid_t uid;
        uid_t owner_uid;                /* whom it counts against: uid, or the user whose subordinate uid it is */
        pid_t pid;
        int64_t last_message_usec;      /* CLOCK_MONOTONIC: accept, then each whole message */
        int poll_index;                 /* in the last clients_fill_poll(), -1 if not there */
        bool closed;                    /* freed at the end of the turn */
        PendingLogout *pending;         /* a RequestLogout waiting for outcomes, at most one */
        bool turn_spent;                /* a costly call used up this turn (RequestLogout) */
        ClientConnection *next, *previous;
};

struct Clients {
        ClientsContext context;
        int listen_fd;
        char *socket_path;              /* bound by us: unlinked at the end */
        sd_id128_t server_id;
        ClientConnection *connections;
        unsigned count;
        int64_t accept_paused_until;    /* out of descriptors: wait a little */
        int64_t refusal_logged_usec;
};

/* Binds path (replacing a stale socket, never a live one), or takes the socket systemd
 * passed. */
int clients_open(const char *path, const ClientsContext *context, Clients **ret);
Clients *clients_free(Clients *clients);
DEFINE_POINTER_CLEANUP_FUNC(Clients, clients_free);

/* The descriptors to wait on, written to fds (clients_poll_count() of them). */
size_t clients_poll_count(const Clients *clients);
void clients_fill_poll(Clients *clients, struct pollfd *fds);
/* After poll(): accepts, serves the connections that have something, closes idle ones,
 * answers logouts whose wait is over. fds as filled (revents set). */
void clients_dispatch(Clients *clients, const struct pollfd *fds);
/* When something is due (CLOCK_MONOTONIC), INT64_MAX if nothing. */
int64_t clients_next_wakeup(const Clients *clients);

/* The database said request id has finished ("outcome ID" on this machine's channel). */
void clients_request_finished(Clients *clients, uint64_t request_id);

/* Stops serving a connection; freed by clients_dispatch() at the end of its turn. */
void client_connection_close(ClientConnection *connection);

/* client-methods.c */
int client_dispatch(sd_bus_message *message, void *userdata, sd_bus_error *error);
/* Answers a waiting logout now (its wait is over or every outcome is in) and frees it. */
void pending_logout_answer(PendingLogout *pending);
void pending_logout_free(PendingLogout *pending);
int64_t pending_logout_deadline(const PendingLogout *pending);
/* Whether request_id is one of pending's; marks it finished. */
bool pending_logout_request_finished(PendingLogout *pending, uint64_t request_id);
bool pending_logout_complete(const PendingLogout *pending);
