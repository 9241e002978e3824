/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "json-writer.h"
#include "record.h"

/* sessmgrctl --fleet: the same commands, for every machine of the fleet, through the
 * fleet agent's socket (sessmgr-fleet(8), INTERFACE). A session of the fleet is named
 * HOST:ID, its machine's host name (as the fleet database has it) and its id there. */

typedef struct FleetSession {
        char *host;
        char *machine_id;
        int64_t last_sync_usec;         /* the machine's last report, 0: never */
        bool stale;                     /* not reported for [Clients] StaleSec= */
        bool current;                   /* the session this sessmgrctl runs in */
        SessionRecord record;
} FleetSession;

typedef struct FleetOptions {
        const char *socket_path;        /* the agent's */
        const char *daemon_socket;      /* sessmgrd's: to find the session we run in */
        const char *user;               /* --user: NULL for the caller */
        bool every_user;                /* list, history --all */
        int64_t since_usec;
        uint32_t limit;
        JsonMode json;
} FleetOptions;

/* "HOST:ID" -> host (allocated) and id: the id is after the last colon. */
int fleet_parse_id(const char *text, char **ret_host, uint64_t *ret_id);

int fleet_connect(const FleetOptions *options, sd_bus **ret);
/* The local id of the session sessmgrctl runs in, from sessmgrd (0 when none or unknown). */
uint64_t fleet_current_session(const FleetOptions *options);
int fleet_list_sessions(sd_bus *bus, const FleetOptions *options, uint64_t current, FleetSession **ret,
                        size_t *ret_count);
void fleet_session_array_free(FleetSession *sessions, size_t count);

/* Each prints why when it fails, and returns a negative errno. */
int fleet_show_sessions(const FleetOptions *options);
int fleet_show_history(const FleetOptions *options);
int fleet_show_session(const FleetOptions *options, const char *id);

typedef enum FleetLogoutMode {
        FLEET_LOGOUT_NAMED,
        FLEET_LOGOUT_OTHERS,
        FLEET_LOGOUT_ALL,
} FleetLogoutMode;

/* fleet-logout.c */
int fleet_logout(const FleetOptions *options, FleetLogoutMode mode, char **ids, size_t id_count, bool assume_yes);

/* The message of the agent's last failure, printed already (for results). */
const char *fleet_last_error(void);
/* Calls member on the agent; prints why it failed. timeout in µs. */
int fleet_call(sd_bus *bus, const char *member, int64_t timeout_usec, sd_bus_message **ret_reply,
               const char *signature, ...);
int fleet_call_message(sd_bus *bus, sd_bus_message *m, int64_t timeout_usec, sd_bus_message **ret_reply);
int fleet_new_call(sd_bus *bus, const char *member, sd_bus_message **ret);
int fleet_write_session_json(JsonWriter *writer, const FleetSession *session);
