/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>

#include "connection.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "protocol.h"
#include "time-format.h"

/* Messages handled per connection before others get their turn. */
#define MESSAGES_PER_TURN 32

/* Replies a connection may have waiting to be written before we stop reading its calls:
 * a client that sends without reading the answers must not make us hold them all. A
 * few, not one: a client may pipeline a handful of calls and read them all after. */
#define QUEUED_REPLIES_MAX 8

/* Root (the PAM module of every login) first; everyone else after the commit of
 * logins and the periodic poll (SD_EVENT_PRIORITY_IDLE): no user's calls can keep a
 * login from being recorded and answered. */
#define PRIORITY_ROOT SD_EVENT_PRIORITY_IMPORTANT
#define PRIORITY_USER (SD_EVENT_PRIORITY_IDLE + 1)

/* A connection that completes no message for this long is closed: a login's call takes
 * milliseconds, and idle or slow-dripping clients must not hold resources. */
#define IDLE_USEC (30 * USEC_PER_SEC)

/* Drives sd-bus from our event loop instead of sd_bus_attach_event(): after the
 * authentication handshake, libsystemd 252 leaves a message that arrived in the same
 * read as "BEGIN" in its buffer and waits for more input that may never come (a client
 * that pipelines BEGIN with its first call then hangs). Processing until sd-bus says
 * there is nothing left fixes that, and lets us bound each connection's turn. */

static bool replies_backlogged(Connection *connection) {
        uint64_t queued = 0;

        return sd_bus_get_n_queued_write(connection->bus, &queued) >= 0 && queued > QUEUED_REPLIES_MAX;
}

/* writable: the socket just reported room. sd_bus_process() writes what is queued first
 * and reads a new call only when it could not finish writing a whole message; so while
 * replies are backlogged it is called once per report of room, never to read. */
static void connection_process(Connection *connection, bool writable) {
        connection->more_work = false;

        for (unsigned i = 0; i < MESSAGES_PER_TURN; i++) {
                int r;

                if (connection->closed)
                        return;
                connection->backlogged = replies_backlogged(connection);
                if (connection->backlogged) {
                        if (!writable)
                                return;         /* update_events() waits for room only */
                        writable = false;
                }
                r = sd_bus_process(connection->bus, NULL);
                if (r < 0) {
                        if (r != -ENOTCONN && r != -ECONNRESET)
                                log_debug_errno(r, "closing connection of uid %u: %m", (unsigned) connection->peer_uid);
                        connection_close(connection);
                        return;
                }
                if (r == 0)
                        return;
        }
        connection->more_work = true;
}

static int on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        connection_process(userdata, revents & EPOLLOUT);
        connection_update_events(userdata);
        return 0;
}

static int on_time(sd_event_source *source, uint64_t usec, void *userdata) {
        Connection *connection = userdata;

        connection->timer_usec = UINT64_MAX;    /* a oneshot source is off once it fired */

        /* Only here, not when data arrives: a message just in time is still served. */
        if (now_usec(CLOCK_MONOTONIC) >= connection->last_message_usec + IDLE_USEC) {
                log_debug("closing connection of uid %u: no message for %d s",
                          (unsigned) connection->peer_uid, (int) (IDLE_USEC / USEC_PER_SEC));
                connection_close(connection);
                return 0;
        }
        connection_process(connection, false);
        connection_update_events(connection);
        return 0;
}

/* What sd-bus wants to hear about next, and by when. Called after every turn of the
 * connection and after replies were sent from elsewhere, never for all connections on
 * every loop iteration (a prepare callback would be, and costs O(connections) per message). */
void connection_update_events(Connection *connection) {
        uint64_t until = 0;
        int events, r;

        if (connection->closed)
                return;

        /* Edge-triggered: we read until sd-bus finds nothing more, so a connection is not
         * reported again on every loop iteration while others are being served. Nor is it
         * re-registered unless what it waits for changed: sd-event would make an epoll_ctl()
         * of every such call, two per message. */
        events = sd_bus_get_events(connection->bus);
        if (events < 0) {
                connection_close(connection);
                return;
        }
        /* Backlogged: new calls wait in the kernel's buffer (and the client blocks) until
         * the replies drained. Asking for input again re-arms the edge: calls that came
         * meanwhile are reported at once. */
        if (connection->backlogged)
                events = EPOLLOUT;
        if ((uint32_t) events != connection->io_events) {
                if (sd_event_source_set_io_events(connection->io_source, (uint32_t) events | EPOLLET) < 0) {
                        connection_close(connection);
                        return;
                }
                connection->io_events = (uint32_t) events;
        }

        if (!connection->more_work) {
                uint64_t idle_deadline = (uint64_t) (connection->last_message_usec + IDLE_USEC);

                r = sd_bus_get_timeout(connection->bus, &until);
                if (r <= 0 || until > idle_deadline)
                        until = idle_deadline;
        }
        /* A timer already due earlier stays: on_time() finds the connection busy and sets
         * it again. Moving it on every message would cost more than that. */
        if (until >= connection->timer_usec)
                return;
        if (sd_event_source_set_time(connection->time_source, until) < 0 ||
            sd_event_source_set_enabled(connection->time_source, SD_EVENT_ONESHOT) < 0) {
                connection_close(connection);
                return;
        }
        connection->timer_usec = until;
}

/* Sees every message that arrived whole: the connection is in use. And the one sd-bus
 * makes up when the peer hung up (cheaper here than a match rule per connection). */
static int on_message(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Connection *connection = userdata;

        if (sd_bus_message_is_signal(message, "org.freedesktop.DBus.Local", "Disconnected") > 0) {
                connection_close(connection);
                return 1;
        }
        connection->last_message_usec = now_usec(CLOCK_MONOTONIC);
        return 0;
}

static int connection_start_bus(Connection *connection, int *fd) {
        Manager *manager = connection->manager;
        int r;

        r = sd_bus_new(&connection->bus);
        if (r < 0)
                return r;
        r = sd_bus_set_fd(connection->bus, *fd, *fd);
        if (r < 0)
                return r;
        TAKE_FD(*fd);
        r = sd_bus_set_server(connection->bus, true, manager->server_id);
        if (r < 0)
                return r;
        r = sd_bus_negotiate_fds(connection->bus, false);
        if (r < 0)
                return r;
        r = sd_bus_add_object(connection->bus, NULL, SESSMGR_OBJECT_PATH, manager_dispatch, connection);
        if (r < 0)
                return r;
        r = sd_bus_add_filter(connection->bus, NULL, on_message, connection);
        if (r < 0)
                return r;
        return sd_bus_start(connection->bus);
}

static int connection_attach(Connection *connection) {
        sd_event *event = connection->manager->event;

        int64_t priority = connection->peer_uid == 0 ? PRIORITY_ROOT : PRIORITY_USER;
        int r;

        r = sd_event_add_io(event, &connection->io_source, sd_bus_get_fd(connection->bus), 0, on_io, connection);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(connection->io_source, priority);
        if (r < 0)
                return r;
        r = sd_event_add_time(event, &connection->time_source, CLOCK_MONOTONIC, 0, 0, on_time, connection);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(connection->time_source, priority);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(connection->time_source, SD_EVENT_OFF);
}

int connection_new(Manager *manager, int *fd, const struct ucred *credentials, uid_t owner_uid, Connection **ret) {
        Connection *connection;
        int r;

        connection = calloc(1, sizeof(*connection));
        if (!connection)
                return -ENOMEM;
        *connection = (Connection) {
                .manager = manager,
                .peer_uid = credentials->uid,
                .peer_pid = credentials->pid,
                .owner_uid = owner_uid,
                .last_message_usec = now_usec(CLOCK_MONOTONIC),
                .timer_usec = UINT64_MAX,
                .next = manager->connections,
        };
        if (manager->connections)
                manager->connections->previous = connection;
        manager->connections = connection;
        manager->connection_count++;
        if (credentials->uid == 0)
                manager->root_connection_count++;

        r = connection_start_bus(connection, fd);
        if (r >= 0)
                r = connection_attach(connection);
        if (r < 0) {
                connection_free(connection);
                return r;
        }
        /* Root's connections are the module's logins: answer the authentication, and the
         * call that usually came with it, now rather than after a turn of the event loop
         * that would only report the socket writable. Users wait for their turn. */
        if (connection->peer_uid == 0)
                connection_process(connection, true);
        connection_update_events(connection);

        *ret = connection;
        return 0;
}

void connection_close(Connection *connection) {
        if (connection->closed)
                return;
        connection->closed = true;
        (void) sd_event_source_set_enabled(connection->io_source, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(connection->time_source, SD_EVENT_OFF);
        manager_schedule_reap(connection->manager);
}

Connection *connection_free(Connection *connection) {
        Manager *manager;

        if (!connection)
                return NULL;
        manager = connection->manager;

        if (connection->previous)
                connection->previous->next = connection->next;
        else
                manager->connections = connection->next;
        if (connection->next)
                connection->next->previous = connection->previous;
        manager->connection_count--;
        if (connection->peer_uid == 0)
                manager->root_connection_count--;

        sd_event_source_disable_unref(connection->io_source);
        sd_event_source_disable_unref(connection->time_source);
        sd_bus_close_unref(connection->bus);
        free(connection);
        return NULL;
}
