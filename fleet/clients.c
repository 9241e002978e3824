/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "clients.h"
#include "fleet-protocol.h"
#include "log.h"
#include "subordinate-uid.h"
#include "time-format.h"

/* Far above what sessmgrctl needs (one connection per command), far below the agent's
 * descriptors (its unit's default of 1024). Root keeps room of its own beyond what
 * users may fill. */
#define CONNECTIONS_MAX 256
#define CONNECTIONS_ROOT_RESERVE 16
#define CONNECTIONS_PER_USER_MAX 8     /* a user's subordinate uids counted as the user */
/* Connections taken from the backlog per turn of the loop. */
#define ACCEPTS_PER_TURN 16
/* Messages handled per connection per turn, before the sync and the others. */
#define MESSAGES_PER_TURN 8
/* Replies waiting to be written before a connection's calls are no longer read. */
#define QUEUED_REPLIES_MAX 8
/* A connection that completes no message for this long is closed. */
#define IDLE_USEC (30 * USEC_PER_SEC)
#define ACCEPT_PAUSE_USEC (100 * USEC_PER_MSEC)

static bool someone_listens(const struct sockaddr_un *address, socklen_t length) {
        _cleanup_(closep) int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        if (probe < 0)
                return false;
        return connect(probe, (const struct sockaddr *) address, length) == 0 || errno == EAGAIN;
}

static int bind_socket(Clients *clients, const char *path) {
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        size_t length = strlen(path);
        _cleanup_(closep) int fd = -1;
        socklen_t address_length;
        struct stat st;

        if (length == 0 || length >= sizeof(address.sun_path))
                return log_error_errno(ENAMETOOLONG, "socket path too long: %s", path);
        memcpy(address.sun_path, path, length);
        address_length = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + length + 1);

        /* A socket left by an earlier run is replaced; a live one, or what is not a
         * socket, is not ours to take. (The directory is the unit's RuntimeDirectory=.) */
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return log_error_errno(EEXIST, "%s exists and is not a socket", path);
                if (someone_listens(&address, address_length))
                        return log_error_errno(EADDRINUSE, "another agent is already listening on %s", path);
                (void) unlink(path);
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "cannot create socket: %m");
        if (bind(fd, (struct sockaddr *) &address, address_length) < 0)
                return log_error_errno(errno, "cannot bind %s: %m", path);
        /* Every user may connect: what each may do is decided per call. */
        if (chmod(path, 0666) < 0)
                return log_error_errno(errno, "cannot set permissions of %s: %m", path);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "cannot listen on %s: %m", path);
        clients->socket_path = strdup(path);
        if (!clients->socket_path)
                return -ENOMEM;
        clients->listen_fd = TAKE_FD(fd);
        return 0;
}

int clients_open(const char *path, const ClientsContext *context, Clients **ret) {
        _cleanup_(clients_freep) Clients *clients = NULL;
        int n, r;

        clients = calloc(1, sizeof(*clients));
        if (!clients)
                return -ENOMEM;
        clients->context = *context;
        clients->listen_fd = -1;
        r = sd_id128_randomize(&clients->server_id);
        if (r < 0)
                return r;

        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "cannot read the sockets passed by systemd: %m");
        if (n > 1)
                return log_error_errno(EINVAL, "systemd passed %d sockets, expected one", n);
        if (n == 1) {
                if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0)
                        return log_error_errno(EINVAL, "the socket passed by systemd is not a listening Unix stream socket");
                r = fcntl(SD_LISTEN_FDS_START, F_GETFL);
                if (r < 0 || fcntl(SD_LISTEN_FDS_START, F_SETFL, r | O_NONBLOCK) < 0)
                        return log_error_errno(errno, "cannot make the socket passed by systemd non-blocking: %m");
                clients->listen_fd = SD_LISTEN_FDS_START;
        } else {
                r = bind_socket(clients, path);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(clients);
        return 0;
}

static void connection_free(ClientConnection *connection) {
        Clients *clients = connection->clients;

        if (connection->previous)
                connection->previous->next = connection->next;
        else
                clients->connections = connection->next;
        if (connection->next)
                connection->next->previous = connection->previous;
        clients->count--;
        if (connection->pending)
                pending_logout_free(connection->pending);
        sd_bus_close_unref(connection->bus);
        free(connection);
}

Clients *clients_free(Clients *clients) {
        if (!clients)
                return NULL;
        while (clients->connections)
                connection_free(clients->connections);
        if (clients->socket_path) {
                closep(&clients->listen_fd);
                (void) unlink(clients->socket_path);
                free(clients->socket_path);
        }
        free(clients);
        return NULL;
}

void client_connection_close(ClientConnection *connection) {
        connection->closed = true;
}

static unsigned connections_of(const Clients *clients, uid_t owner) {
        unsigned count = 0;

        for (const ClientConnection *c = clients->connections; c; c = c->next)
                count += c->owner_uid == owner && !c->closed;
        return count;
}

/* Whom a connection counts against: a user's subordinate uids (65,536 of them, hers to
 * use through newuidmap) are that user, as in sessmgrd; else the uid itself. */
static uid_t owner_of(uid_t uid) {
        uid_t owner;

        if (uid != 0 && subordinate_uid_owner(uid, &owner) > 0)
                return owner;
        return uid;
}

/* Sees every message that arrived whole, and the one sd-bus makes when the peer hung up. */
static int on_message(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        ClientConnection *connection = userdata;

        if (sd_bus_message_is_signal(message, "org.freedesktop.DBus.Local", "Disconnected") > 0) {
                client_connection_close(connection);
                return 1;
        }
        connection->last_message_usec = now_usec(CLOCK_MONOTONIC);
        return 0;
}

static int connection_start(ClientConnection *connection, int *fd) {
        int r;

        r = sd_bus_new(&connection->bus);
        if (r < 0)
                return r;
        r = sd_bus_set_fd(connection->bus, *fd, *fd);
        if (r < 0)
                return r;
        TAKE_FD(*fd);
        r = sd_bus_set_server(connection->bus, true, connection->clients->server_id);
        if (r < 0)
                return r;
        r = sd_bus_negotiate_fds(connection->bus, false);
        if (r < 0)
                return r;
        r = sd_bus_add_object(connection->bus, NULL, FLEET_OBJECT_PATH, client_dispatch, connection);
        if (r < 0)
                return r;
        r = sd_bus_add_filter(connection->bus, NULL, on_message, connection);
        if (r < 0)
                return r;
        return sd_bus_start(connection->bus);
}

static void log_refusal(Clients *clients, const struct ucred *credentials, const char *why) {
        int64_t now = now_usec(CLOCK_MONOTONIC);

        /* At most one line a second: refusals are what a flood is made of. */
        if (now < clients->refusal_logged_usec + USEC_PER_SEC)
                return;
        log_warning("refusing a connection to the fleet socket from uid %u (pid %d): %s",
                    (unsigned) credentials->uid, (int) credentials->pid, why);
        clients->refusal_logged_usec = now;
}

/* 1: took one from the backlog (served or refused), 0: none there. */
static int accept_one(Clients *clients) {
        _cleanup_(closep) int fd = -1;
        ClientConnection *connection;
        struct ucred credentials;
        socklen_t length = sizeof(credentials);
        uid_t owner;
        int r;

        fd = accept4(clients->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                        log_warning_errno(errno, "cannot accept a connection to the fleet socket: %m");
                        clients->accept_paused_until = now_usec(CLOCK_MONOTONIC) + ACCEPT_PAUSE_USEC;
                }
                return errno == ECONNABORTED || errno == EINTR;
        }
        /* Who calls is the kernel's answer, taken once here. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0)
                return 1;
        if (clients->count >= CONNECTIONS_MAX + (credentials.uid == 0 ? CONNECTIONS_ROOT_RESERVE : 0)) {
                log_refusal(clients, &credentials, "too many connections");
                return 1;
        }
        owner = owner_of(credentials.uid);
        if (connections_of(clients, owner) >= CONNECTIONS_PER_USER_MAX) {
                log_refusal(clients, &credentials, "too many connections of this user");
                return 1;
        }

        connection = calloc(1, sizeof(*connection));
        if (!connection)
                return 1;
        *connection = (ClientConnection) {
                .clients = clients,
                .uid = credentials.uid,
                .owner_uid = owner,
                .pid = credentials.pid,
                .last_message_usec = now_usec(CLOCK_MONOTONIC),
                .poll_index = -1,
                .next = clients->connections,
        };
        if (clients->connections)
                clients->connections->previous = connection;
        clients->connections = connection;
        clients->count++;
        r = connection_start(connection, &fd);
        if (r < 0) {
                log_debug_errno(r, "cannot set up a connection from uid %u: %m", (unsigned) credentials.uid);
                client_connection_close(connection);
        }
        return 1;
}

static bool replies_backlogged(ClientConnection *connection) {
        uint64_t queued = 0;

        return sd_bus_get_n_queued_write(connection->bus, &queued) >= 0 && queued > QUEUED_REPLIES_MAX;
}

/* A few messages, then the others' turn; a RequestLogout, which looks up each session it
 * names (up to FLEET_LOGOUT_MAX), is a turn by itself, so that a user pipelining them
 * on all of their connections holds the loop for one call per connection, not eight.
 * A client that does not read its replies is not read from either: sd_bus_process()
 * then only writes. */
static void connection_process(ClientConnection *connection) {
        connection->turn_spent = false;
        for (unsigned i = 0; i < MESSAGES_PER_TURN && !connection->closed && !connection->turn_spent; i++) {
                int r;

                if (replies_backlogged(connection)) {
                        r = sd_bus_process(connection->bus, NULL);
                        if (r < 0)
                                client_connection_close(connection);
                        return;
                }
                r = sd_bus_process(connection->bus, NULL);
                if (r < 0) {
                        client_connection_close(connection);
                        return;
                }
                if (r == 0)
                        return;
        }
}

size_t clients_poll_count(const Clients *clients) {
        return 1 + clients->count;
}

void clients_fill_poll(Clients *clients, struct pollfd *fds) {
        int index = 1;

        fds[0] = (struct pollfd) {
                .fd = now_usec(CLOCK_MONOTONIC) < clients->accept_paused_until ? -1 : clients->listen_fd,
                .events = POLLIN,
        };
        for (ClientConnection *c = clients->connections; c; c = c->next) {
                int events = c->closed ? 0 : sd_bus_get_events(c->bus);

                if (events < 0)
                        events = 0;
                /* Backlogged: wait for room only; new calls wait in the kernel's buffer. */
                if (!c->closed && replies_backlogged(c))
                        events = POLLOUT;
                fds[index] = (struct pollfd) { .fd = c->closed ? -1 : sd_bus_get_fd(c->bus), .events = (short) events };
                c->poll_index = index++;
        }
}

static int64_t connection_deadline(ClientConnection *connection) {
        int64_t deadline = connection->last_message_usec + IDLE_USEC;
        uint64_t until = 0;

        /* Waiting for a logout's outcomes is not idleness: the pending answer keeps it. */
        if (connection->pending)
                deadline = pending_logout_deadline(connection->pending);
        if (sd_bus_get_timeout(connection->bus, &until) > 0 && until != UINT64_MAX && (int64_t) until < deadline)
                deadline = (int64_t) until;
        return deadline;
}

int64_t clients_next_wakeup(const Clients *clients) {
        int64_t next = INT64_MAX;

        if (clients->accept_paused_until > 0)
                next = clients->accept_paused_until;
        for (ClientConnection *c = clients->connections; c; c = c->next) {
                int64_t deadline = c->closed ? 0 : connection_deadline(c);

                if (deadline < next)
                        next = deadline;
        }
        return next;
}

void clients_request_finished(Clients *clients, uint64_t request_id) {
        for (ClientConnection *c = clients->connections; c; c = c->next)
                if (c->pending && pending_logout_request_finished(c->pending, request_id) &&
                    pending_logout_complete(c->pending)) {
                        pending_logout_answer(c->pending);
                        c->pending = NULL;
                        c->last_message_usec = now_usec(CLOCK_MONOTONIC);
                }
}

void clients_dispatch(Clients *clients, const struct pollfd *fds) {
        int64_t now = now_usec(CLOCK_MONOTONIC);

        if (fds[0].fd >= 0 && (fds[0].revents & POLLIN))
                for (unsigned i = 0; i < ACCEPTS_PER_TURN; i++)
                        if (accept_one(clients) <= 0)
                                break;
        if (clients->accept_paused_until > 0 && now >= clients->accept_paused_until)
                clients->accept_paused_until = 0;

        for (ClientConnection *c = clients->connections; c; c = c->next) {
                if (c->closed)
                        continue;
                if (c->pending && now >= pending_logout_deadline(c->pending)) {
                        pending_logout_answer(c->pending);
                        c->pending = NULL;
                        c->last_message_usec = now;
                }
                if (!c->pending && now >= c->last_message_usec + IDLE_USEC) {
                        log_debug("closing fleet connection of uid %u: no message for %d s", (unsigned) c->uid,
                                  (int) (IDLE_USEC / USEC_PER_SEC));
                        client_connection_close(c);
                        continue;
                }
                /* New ones (not polled yet: their handshake may be waiting), those with
                 * something to do, and those whose sd-bus timeout came. */
                if (c->poll_index < 0 || fds[c->poll_index].revents != 0 || connection_deadline(c) <= now)
                        connection_process(c);
        }

        for (ClientConnection *c = clients->connections, *next; c; c = next) {
                next = c->next;
                if (c->closed)
                        connection_free(c);
        }
}
