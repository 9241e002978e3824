/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct Manager Manager;
typedef struct Connection Connection;

#define OWNER_UNKNOWN ((uid_t) -1)

/* One accepted client: a peer-to-peer sd-bus server connection, with the credentials
 * the kernel gave at accept time. */
struct Connection {
        Manager *manager;
        sd_bus *bus;
        uid_t peer_uid;
        pid_t peer_pid;
        uid_t owner_uid;                /* whose login the peer runs in: what the caps count;
                                         * OWNER_UNKNOWN for root's until asked (server.c) */

        sd_event_source *io_source;
        sd_event_source *time_source;
        uint32_t io_events;             /* as last given to io_source */
        uint64_t timer_usec;            /* when time_source fires, UINT64_MAX while it is off */
        int64_t last_message_usec;      /* CLOCK_MONOTONIC: accept, then each whole message */
        bool more_work;         /* processing was cut short to let others run */
        bool backlogged;        /* too many replies unwritten: not reading new calls */
        bool closed;            /* waiting to be freed by the manager */

        Connection *next, *previous;
};

/* Takes over *fd once the connection owns it. owner_uid: see server.c. */
int connection_new(Manager *manager, int *fd, const struct ucred *credentials, uid_t owner_uid, Connection **ret);
Connection *connection_free(Connection *connection);

/* Tells the event loop what the connection waits for now; needed after sending on it
 * from outside its own processing (batch.c). */
void connection_update_events(Connection *connection);

/* Stops serving the connection; it is freed at the next loop turn, outside of any
 * callback that may still be using it. */
void connection_close(Connection *connection);
