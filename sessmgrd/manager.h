/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "config.h"
#include "connection.h"
#include "logind.h"
#include "poller.h"
#include "retention.h"
#include "sessions.h"
#include "sshd-auth.h"
#include "store.h"


typedef struct Manager {
        sd_event *event;
        Store *store;
        Sessions *sessions;     /* every write to the store goes through it */
        Logind *logind;
        Poller *poller;
        Retention *retention;
        Config config;
        SshdAuth *sshd_auth;

        int listen_fd;
        bool listen_fd_owned;           /* false when systemd passed it in */
        char *socket_path;              /* set when we bound it ourselves, to unlink at exit */
        sd_event_source *listen_source;
        sd_event_source *accept_resume_source; /* listening again after running out of files */
        unsigned accept_failures;       /* since accept_failure_logged_usec */
        int64_t accept_failure_logged_usec;
        sd_id128_t server_id;

        Connection *connections;
        sd_event_source *reap_source;   /* frees closed connections */
        int64_t refusal_logged_usec;
        unsigned connection_count;
        unsigned root_connection_count;
        unsigned connections_max;       /* for everyone but root, from the limit of open files */
        unsigned connections_root_reserve;      /* root's room beyond connections_max */

        char boot_id[SD_ID128_STRING_MAX];
        uid_t fleet_agent_uid;          /* [Fleet] AgentUser=, or UID_INVALID */
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *manager);
DEFINE_POINTER_CLEANUP_FUNC(Manager, manager_free);

int manager_open_store(Manager *manager, const char *database_path);
int manager_run(Manager *manager);

/* server.c */
int server_listen(Manager *manager, const char *socket_path);
void server_close(Manager *manager);
void manager_schedule_reap(Manager *manager);
/* The connection caps that fit in this many open files. */
void server_connection_limits(uint64_t descriptors, unsigned *ret_max, unsigned *ret_root_reserve);

/* dispatch.c */
int manager_dispatch(sd_bus_message *message, void *userdata, sd_bus_error *error);
