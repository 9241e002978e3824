/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "fleet-protocol.h"
#include "fleet-queries.h"
#include "alloc-util.h"
#include "log.h"
#include "time-format.h"

#define USEC(column) "coalesce((extract(epoch FROM " column ") * 1000000)::bigint, 0)"

/* The methods of the agent's socket (fleet-protocol.h). Who calls is the uid the kernel
 * gave at accept time, and its name in this machine's user directory: the fleet's
 * identity of a user (one directory for the whole fleet). A user sees and ends only
 * sessions under their own name; root may name another user, or every user, only on an
 * admin machine (the database checks a request again). A session the caller may not see
 * is answered as one that does not exist. */

typedef struct Caller {
        uid_t uid;
        char name[256];
        bool administrator;     /* root on an admin machine */
} Caller;

static PGconn *queries_connection(ClientConnection *connection, sd_bus_error *error);
static int query_failed(PGconn *queries, const char *message, sd_bus_error *error);

/* Asked at each of root's calls, not taken from the agent's connect: the DBA sets and takes
 * back machines.admin at any time, and the agent's socket follows at once. */
static int machine_is_admin(ClientConnection *connection, bool *ret, sd_bus_error *error) {
        Database *database = *connection->clients->context.database;
        _cleanup_(PQclearp) PGresult *result = NULL;
        _cleanup_(freep) char *message = NULL;
        PGconn *queries;
        int r;

        queries = queries_connection(connection, error);
        if (!queries)
                return -EIO;
        r = database_exec(queries, "SELECT admin FROM sessmgr.machines WHERE machine_id = $1", 1,
                          (const char *const[]) { database->machine_id }, PGRES_TUPLES_OK, &result, &message);
        if (r < 0)
                return query_failed(queries, message, error);
        *ret = PQntuples(result) == 1 && strcmp(PQgetvalue(result, 0, 0), "t") == 0;
        return 0;
}

static int caller_identify(ClientConnection *connection, Caller *ret, sd_bus_error *error) {
        struct passwd *entry;

        *ret = (Caller) { .uid = connection->uid };
        errno = 0;
        entry = getpwuid(connection->uid);
        if (!entry || strlen(entry->pw_name) >= sizeof(ret->name))
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Your user id %u has no name on this machine: the fleet knows users by name.",
                                         (unsigned) connection->uid);
        strcpy(ret->name, entry->pw_name);
        return connection->uid == 0 ? machine_is_admin(connection, &ret->administrator, error) : 0;
}

/* user "" (the caller) or a name, or every user: whom the caller may ask about. NULL
 * *ret_user: every user. */
static int caller_choose_user(const Caller *caller, const char *user, bool every_user, const char **ret_user,
                              sd_bus_error *error) {
        if (strlen(user) > 255)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "User name too long.");
        if (!every_user && (isempty(user) || strcmp(user, caller->name) == 0)) {
                *ret_user = caller->name;
                return 0;
        }
        if (!caller->administrator)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        caller->uid == 0
                                        ? "Other users' fleet sessions are only for root on an admin machine, "
                                          "and this machine is not one (the DBA sets machines.admin)."
                                        : "You may only see and end your own sessions.");
        *ret_user = every_user ? NULL : user;
        return 0;
}

/* The clients' connection to the database, or an error saying why there is none. */
static PGconn *queries_connection(ClientConnection *connection, sd_bus_error *error) {
        Database *database = *connection->clients->context.database;
        _cleanup_(freep) char *message = NULL;

        if (!database || !database_is_open(database)) {
                sd_bus_error_set(error, FLEET_ERROR_DATABASE,
                                 "The fleet database cannot be reached: the agent is trying to reconnect "
                                 "(see 'systemctl status sessmgr-fleet').");
                return NULL;
        }
        if (database->queries && PQstatus(database->queries) == CONNECTION_OK)
                return database->queries;
        if (database_open_queries(database, connection->clients->context.config->connection, &message) < 0) {
                sd_bus_error_setf(error, FLEET_ERROR_DATABASE, "The fleet database cannot be reached: %s",
                                  message ?: "out of memory");
                return NULL;
        }
        return database->queries;
}

static int query_failed(PGconn *queries, const char *message, sd_bus_error *error) {
        if (PQstatus(queries) != CONNECTION_OK)
                return sd_bus_error_setf(error, FLEET_ERROR_DATABASE, "The fleet database cannot be reached: %s",
                                         message ?: "connection lost");
        return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "The fleet database failed to answer: %s",
                                 message ?: "out of memory");
}

static int append_rows(sd_bus_message *reply, PGresult *result) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', FLEET_SESSION_STRUCT);
        for (int row = 0; r >= 0 && row < PQntuples(result); row++)
                r = fleet_row_append(reply, result, row);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int reply_rows(sd_bus_message *call, PGresult *result) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = append_rows(reply, result);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* ListSessions(s user, b every_user, t current) */
static int method_list_sessions(ClientConnection *connection, sd_bus_message *call, sd_bus_error *error) {
        _cleanup_(PQclearp) PGresult *result = NULL;
        _cleanup_(freep) char *message = NULL;
        const char *user, *whose;
        uint64_t current;
        int every_user;
        Caller caller;
        PGconn *queries;
        int r;

        r = sd_bus_message_read(call, "sbt", &user, &every_user, &current);
        if (r < 0)
                return r;
        r = caller_identify(connection, &caller, error);
        if (r >= 0)
                r = caller_choose_user(&caller, user, every_user, &whose, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        queries = queries_connection(connection, error);
        if (!queries)
                return -EIO;
        r = fleet_query_open(queries, &connection->clients->context, caller.name, current, whose, &result, &message);
        if (r < 0)
                return query_failed(queries, message, error);
        return reply_rows(call, result);
}

/* ListHistory(s user, b every_user, x since_usec, u limit) */
static int method_list_history(ClientConnection *connection, sd_bus_message *call, sd_bus_error *error) {
        _cleanup_(PQclearp) PGresult *result = NULL;
        _cleanup_(freep) char *message = NULL;
        const char *user, *whose;
        int64_t since;
        uint32_t limit;
        int every_user;
        Caller caller;
        PGconn *queries;
        int r;

        r = sd_bus_message_read(call, "sbxu", &user, &every_user, &since, &limit);
        if (r < 0)
                return r;
        r = caller_identify(connection, &caller, error);
        if (r >= 0)
                r = caller_choose_user(&caller, user, every_user, &whose, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        queries = queries_connection(connection, error);
        if (!queries)
                return -EIO;
        if (limit == 0 || limit > FLEET_LIST_MAX)
                limit = FLEET_LIST_MAX;
        r = fleet_query_history(queries, &connection->clients->context, caller.name, whose, since < 0 ? 0 : since,
                                limit, &result, &message);
        if (r < 0)
                return query_failed(queries, message, error);
        return reply_rows(call, result);
}

/* One session by host and id, if the caller may see it; 0 rows otherwise. */
static int find_session(ClientConnection *connection, PGconn *queries, const Caller *caller, const char *host,
                        uint64_t id, uint64_t current, PGresult **ret, sd_bus_error *error) {
        _cleanup_(PQclearp) PGresult *result = NULL;
        _cleanup_(freep) char *message = NULL;
        int r;

        r = fleet_query_one(queries, &connection->clients->context, caller->name, current, host, id, &result,
                            &message);
        if (r < 0)
                return query_failed(queries, message, error);
        if (PQntuples(result) == 1 && !caller->administrator &&
            strcmp(PQgetvalue(result, 0, FLEET_COLUMN_USER), caller->name) != 0) {
                PQclear(result);
                result = NULL;
        }
        *ret = TAKE_PTR(result);
        return 0;
}

/* GetSession(s host, t id, t current) */
static int method_get_session(ClientConnection *connection, sd_bus_message *call, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(PQclearp) PGresult *result = NULL;
        const char *host;
        uint64_t id, current;
        Caller caller;
        PGconn *queries;
        int r;

        r = sd_bus_message_read(call, "stt", &host, &id, &current);
        if (r < 0)
                return r;
        r = caller_identify(connection, &caller, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        queries = queries_connection(connection, error);
        if (!queries)
                return -EIO;
        r = find_session(connection, queries, &caller, host, id, current, &result, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        if (!result || PQntuples(result) != 1)
                return sd_bus_error_setf(error, FLEET_ERROR_NO_SUCH_SESSION, "No session %" PRIu64 " on %s.", id, host);
        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = fleet_row_append(reply, result, 0);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* --- RequestLogout ------------------------------------------------------------------- */

typedef struct LogoutEntry {
        char *host;
        uint64_t id;
        uint64_t request_id;    /* 0: no request was made (result says why) */
        bool finished;          /* the database said so (outcome ID) */
        const char *result;     /* set when no request was made */
        char *message;
} LogoutEntry;

struct PendingLogout {
        ClientConnection *connection;
        sd_bus_message *call;
        LogoutEntry *entries;
        size_t count, allocated;
        int64_t deadline_usec;
};

void pending_logout_free(PendingLogout *pending) {
        if (!pending)
                return;
        for (size_t i = 0; i < pending->count; i++) {
                free(pending->entries[i].host);
                free(pending->entries[i].message);
        }
        free(pending->entries);
        sd_bus_message_unref(pending->call);
        free(pending);
}

static void pending_logout_freep(PendingLogout **pending) {
        pending_logout_free(*pending);
}

int64_t pending_logout_deadline(const PendingLogout *pending) {
        return pending->deadline_usec;
}

bool pending_logout_request_finished(PendingLogout *pending, uint64_t request_id) {
        for (size_t i = 0; i < pending->count; i++)
                if (pending->entries[i].request_id == request_id) {
                        pending->entries[i].finished = true;
                        return true;
                }
        return false;
}

bool pending_logout_complete(const PendingLogout *pending) {
        for (size_t i = 0; i < pending->count; i++)
                if (pending->entries[i].request_id > 0 && !pending->entries[i].finished)
                        return false;
        return true;
}

static void entry_set(LogoutEntry *entry, const char *result, const char *message) {
        entry->result = result;
        free(entry->message);
        entry->message = message ? strdup(message) : NULL;
}

/* The request's state -> the answer: done, refused, gone, expired as the target's agent
 * wrote them; pending with when the machine was last heard of. */
static void entry_from_request(LogoutEntry *entry, PGresult *result, int row) {
        static const struct {
                const char *state, *result;
        } table[] = {
                { "done", FLEET_RESULT_LOGGED_OUT },
                { "refused", FLEET_RESULT_REFUSED },
                { "gone", FLEET_RESULT_GONE },
                { "expired", FLEET_RESULT_EXPIRED },
        };
        const char *state = PQgetvalue(result, row, 1), *outcome = PQgetvalue(result, row, 2);
        char last[TIMESTAMP_MAX], expires[TIMESTAMP_MAX];
        _cleanup_(freep) char *message = NULL;
        int64_t last_sync = 0, expires_usec = 0;

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcmp(state, table[i].state) == 0) {
                        entry_set(entry, table[i].result, outcome);
                        return;
                }
        (void) sscanf(PQgetvalue(result, row, 3), "%" SCNd64, &last_sync);
        (void) sscanf(PQgetvalue(result, row, 5), "%" SCNd64, &expires_usec);
        format_timestamp_short(expires, expires_usec);
        if (strcmp(PQgetvalue(result, row, 4), "t") == 0) {
                if (asprintf(&message, "%s is offline (last heard of %s): the session is logged out when it comes "
                             "back, unless it has ended; the request expires %s", entry->host,
                             last_sync > 0 ? format_timestamp_short(last, last_sync) : "never", expires) < 0)
                        message = NULL;
        } else if (asprintf(&message, "%s has not answered yet: it will take the request when it can, until %s",
                            entry->host, expires) < 0)
                message = NULL;
        entry_set(entry, FLEET_RESULT_PENDING, message);
}

/* Reads the requests' states now (what finished and what did not). */
static void pending_logout_read(PendingLogout *pending) {
        Database *database = *pending->connection->clients->context.database;
        const FleetConfig *config = pending->connection->clients->context.config;
        _cleanup_(PQclearp) PGresult *result = NULL;
        _cleanup_(freep) char *ids = NULL, *message = NULL;
        char stale[24];
        size_t length = 0;
        FILE *stream;
        int r = -ENOMEM;

        stream = open_memstream(&ids, &length);
        if (stream) {
                bool first = true;

                fputc('{', stream);
                for (size_t i = 0; i < pending->count; i++)
                        if (pending->entries[i].request_id > 0) {
                                fprintf(stream, "%s%" PRIu64, first ? "" : ",", pending->entries[i].request_id);
                                first = false;
                        }
                fputc('}', stream);
                r = fclose(stream) == 0 ? 0 : -ENOMEM;
        }
        snprintf(stale, sizeof(stale), "%" PRId64, config->stale_usec / USEC_PER_SEC);
        if (r >= 0 && database && database->queries) {
                const char *params[] = { ids, stale };

                r = database_exec(database->queries,
                                  "SELECT r.id, r.state, coalesce(r.outcome, ''), " USEC("m.last_sync") ", "
                                  "m.last_sync IS NULL OR m.last_sync < now() - $2::bigint * interval '1 second', "
                                  USEC("r.expires_at") " "
                                  "FROM sessmgr.revocations r JOIN sessmgr.machines m "
                                  "ON m.machine_id = r.target_machine_id WHERE r.id = ANY ($1::bigint[])",
                                  2, params, PGRES_TUPLES_OK, &result, &message);
        } else if (r >= 0)
                r = -ENOTCONN;

        for (size_t i = 0; i < pending->count; i++) {
                LogoutEntry *entry = &pending->entries[i];
                bool found = false;

                if (entry->request_id == 0)
                        continue;
                for (int row = 0; r >= 0 && row < PQntuples(result); row++) {
                        uint64_t id = 0;

                        if (sscanf(PQgetvalue(result, row, 0), "%" SCNu64, &id) == 1 && id == entry->request_id) {
                                entry_from_request(entry, result, row);
                                found = true;
                        }
                }
                if (!found)
                        entry_set(entry, FLEET_RESULT_PENDING,
                                  "the request was made, but its outcome could not be read from the fleet database");
        }
}

void pending_logout_answer(PendingLogout *pending) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        pending_logout_read(pending);
        r = sd_bus_message_new_method_return(pending->call, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(stss)");
        for (size_t i = 0; r >= 0 && i < pending->count; i++) {
                const LogoutEntry *entry = &pending->entries[i];

                r = sd_bus_message_append(reply, "(stss)", entry->host, entry->id, entry->result ?: FLEET_RESULT_FAILED,
                                          entry->message ?: "");
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                client_connection_close(pending->connection);
        pending_logout_free(pending);
}

/* The caller's session here, if it is one of the caller's open sessions in the database:
 * the request names it, and where it came from ("revoked by session N on HOST from
 * ADDRESS"). Anything else the caller claims is left out. */
static void requester_session(PGconn *queries, const ClientsContext *context, const Caller *caller,
                              uint64_t current, uint64_t *ret_session, char **ret_address) {
        _cleanup_(PQclearp) PGresult *result = NULL;
        char current_text[24];
        const char *params[] = { context->machine_id, current_text, caller->name };

        *ret_session = 0;
        *ret_address = NULL;
        if (current == 0)
                return;
        snprintf(current_text, sizeof(current_text), "%" PRIu64, current);
        if (database_exec(queries,
                          "SELECT remote_address FROM sessmgr.sessions WHERE machine_id = $1 AND session_id = $2::bigint "
                          "AND user_name = $3 AND state <> 'closed' ORDER BY login_time DESC LIMIT 1",
                          3, params, PGRES_TUPLES_OK, &result, NULL) < 0 || PQntuples(result) != 1)
                return;
        *ret_session = current;
        if (!PQgetisnull(result, 0, 0))
                *ret_address = strdup(PQgetvalue(result, 0, 0));
}

/* Makes the request for one entry; entry->request_id, or its result when none was made. */
static int request_one(ClientConnection *connection, PGconn *queries, const Caller *caller, LogoutEntry *entry,
                       uint64_t session, const char *address, sd_bus_error *error) {
        const ClientsContext *context = &connection->clients->context;
        _cleanup_(PQclearp) PGresult *found = NULL, *inserted = NULL;
        _cleanup_(freep) char *message = NULL;
        char id_text[24], uid_text[16], session_text[24], expire_text[24];
        const char *params[10];
        int r;

        r = find_session(connection, queries, caller, entry->host, entry->id, 0, &found, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        if (!found || PQntuples(found) != 1) {
                entry_set(entry, FLEET_RESULT_NOT_FOUND, "no such session of yours in the fleet");
                return 0;
        }
        if (strcmp(PQgetvalue(found, 0, FLEET_COLUMN_STATE), "closed") == 0) {
                entry_set(entry, FLEET_RESULT_GONE, "the session had already ended");
                return 0;
        }

        snprintf(id_text, sizeof(id_text), "%" PRIu64, entry->id);
        snprintf(uid_text, sizeof(uid_text), "%u", (unsigned) caller->uid);
        snprintf(session_text, sizeof(session_text), "%" PRIu64, session);
        snprintf(expire_text, sizeof(expire_text), "%" PRId64, context->config->revocation_expire_usec / USEC_PER_SEC);
        params[0] = PQgetvalue(found, 0, FLEET_COLUMN_MACHINE);
        params[1] = PQgetvalue(found, 0, FLEET_COLUMN_BOOT);
        params[2] = id_text;
        params[3] = PQgetvalue(found, 0, FLEET_COLUMN_USER);
        params[4] = context->machine_id;
        params[5] = caller->name;
        params[6] = uid_text;
        params[7] = session_text;
        params[8] = address;
        params[9] = expire_text;
        r = database_exec(queries,
                          "INSERT INTO sessmgr.revocations (target_machine_id, target_boot_id, target_session_id, "
                          "target_user_name, requester_machine_id, requester_user_name, requester_uid, "
                          "requester_session_id, requester_address, expires_at) VALUES ($1, $2, $3::bigint, $4, $5, "
                          "$6, $7::bigint, $8::bigint, $9, now() + $10::bigint * interval '1 second') RETURNING id",
                          10, params, PGRES_TUPLES_OK, &inserted, &message);
        if (r < 0 && PQstatus(queries) != CONNECTION_OK)
                return query_failed(queries, message, error);
        if (r < 0) {
                /* The database's own checks (fleet/sql/002-security.sql) said no. */
                entry_set(entry, FLEET_RESULT_REFUSED, message ?: "refused by the fleet database");
                return 0;
        }
        if (sscanf(PQgetvalue(inserted, 0, 0), "%" SCNu64, &entry->request_id) != 1)
                entry_set(entry, FLEET_RESULT_FAILED, "the fleet database gave no request id");
        log_info("fleet revocation request %" PRIu64 ": %s (uid %u) asks to end session %" PRIu64 " on %s",
                 entry->request_id, caller->name, (unsigned) caller->uid, entry->id, entry->host);
        return 0;
}

/* RequestLogout(a(st) sessions, t current) */
static int method_request_logout(ClientConnection *connection, sd_bus_message *call, sd_bus_error *error) {
        const FleetConfig *config = connection->clients->context.config;
        _cleanup_(pending_logout_freep) PendingLogout *pending = NULL;
        _cleanup_(freep) char *address = NULL;
        uint64_t current, session;
        Caller caller;
        PGconn *queries;
        int r;

        connection->turn_spent = true;
        if (connection->pending)
                return sd_bus_error_set(error, FLEET_ERROR_BUSY,
                                        "A logout is already waiting for its outcomes on this connection.");
        r = caller_identify(connection, &caller, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;

        pending = calloc(1, sizeof(*pending));
        if (!pending)
                return -ENOMEM;
        pending->connection = connection;
        pending->call = sd_bus_message_ref(call);
        r = sd_bus_message_enter_container(call, 'a', "(st)");
        while (r >= 0) {
                const char *host;
                uint64_t id;

                r = sd_bus_message_read(call, "(st)", &host, &id);
                if (r <= 0)
                        break;
                if (pending->count >= FLEET_LOGOUT_MAX || strlen(host) > 1024)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "At most %d sessions, each with a host name of at most 1024 bytes.",
                                                 FLEET_LOGOUT_MAX);
                if (!GREEDY_REALLOC(pending->entries, pending->allocated, pending->count + 1))
                        return -ENOMEM;
                pending->entries[pending->count] = (LogoutEntry) { .host = strdup(host), .id = id };
                if (!pending->entries[pending->count++].host)
                        return -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(call);
        if (r >= 0)
                r = sd_bus_message_read(call, "t", &current);
        if (r < 0)
                return r;

        queries = queries_connection(connection, error);
        if (!queries)
                return -EIO;
        requester_session(queries, &connection->clients->context, &caller, current, &session, &address);
        for (size_t i = 0; i < pending->count; i++) {
                r = request_one(connection, queries, &caller, &pending->entries[i], session, address, error);
                if (r < 0 || sd_bus_error_is_set(error))
                        return r;
        }

        /* The outcomes come as NOTIFY on the agent's own connection (clients_request_finished()),
         * or the wait ends: answered from clients_dispatch(). */
        pending->deadline_usec = now_usec(CLOCK_MONOTONIC) + config->logout_wait_usec;
        if (config->logout_wait_usec == 0 || pending_logout_complete(pending)) {
                pending_logout_answer(TAKE_PTR(pending));
                return 1;
        }
        connection->pending = TAKE_PTR(pending);
        return 1;
}

static const struct {
        const char *member, *signature;
        int (*handler)(ClientConnection *connection, sd_bus_message *call, sd_bus_error *error);
} methods[] = {
        { "ListSessions",  "sbt",   method_list_sessions  },
        { "ListHistory",   "sbxu",  method_list_history   },
        { "GetSession",    "stt",   method_get_session    },
        { "RequestLogout", "a(st)t", method_request_logout },
};

int client_dispatch(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *interface = sd_bus_message_get_interface(message), *member = sd_bus_message_get_member(message);
        int r;

        if (!sd_bus_message_is_method_call(message, NULL, NULL) || !member ||
            (interface && strcmp(interface, FLEET_INTERFACE) != 0))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                if (strcmp(methods[i].member, member) != 0)
                        continue;
                if (!sd_bus_message_has_signature(message, methods[i].signature))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid arguments '%s' to call %s(), expecting '%s'.",
                                                 sd_bus_message_get_signature(message, true), member,
                                                 methods[i].signature);
                r = methods[i].handler(userdata, message, error);
                if (r < 0 && !sd_bus_error_is_set(error))
                        sd_bus_error_set_errno(error, r);
                return r < 0 || sd_bus_error_is_set(error) ? r : 1;
        }
        return 0;
}
