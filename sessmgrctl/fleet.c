/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc-util.h"
#include "client.h"
#include "fleet-protocol.h"
#include "fleet.h"
#include "format.h"
#include "log.h"
#include "parse-util.h"
#include "protocol.h"
#include "table.h"
#include "time-format.h"

/* list, show and history --fleet: the agent answers from the fleet database. */

/* Longer than sessmgrd's: the agent asks a database over the network, and a logout
 * waits up to [Revocations] WaitSec= (at most 30 s) for the machines' answers. */
#define CALL_TIMEOUT_USEC (15 * USEC_PER_SEC)

static const char *agent_socket;
static char last_error[512];

_printf_(2, 3)
static int fail(int r, const char *format, ...) {
        int saved_errno = errno;
        va_list ap;

        errno = -r;
        va_start(ap, format);
        vsnprintf(last_error, sizeof(last_error), format, ap);
        va_end(ap);
        errno = saved_errno;
        return log_error_errno(r, "%s", last_error);
}

const char *fleet_last_error(void) {
        return last_error;
}

static int report(int r, const sd_bus_error *error) {
        if (r == -ENOENT || r == -ECONNREFUSED)
                return fail(r, "The fleet agent is not running on this machine (cannot connect to %s: %m).\n"
                            "Is sessmgr-fleet.service set up? See sessmgr-fleet(8).", agent_socket);
        if (r == -ETIMEDOUT)
                return fail(r, "The fleet agent did not answer in time.");
        if (sd_bus_error_has_name(error, FLEET_ERROR_DATABASE))
                return fail(r, "%s", error->message);
        if (error && sd_bus_error_is_set(error))
                return fail(r, "%s", error->message ?: error->name);
        return fail(r, "Talking to the fleet agent failed: %m");
}

int fleet_parse_id(const char *text, char **ret_host, uint64_t *ret_id) {
        const char *colon = strrchr(text, ':');
        unsigned long long id;

        if (!colon || colon == text || parse_unsigned(colon + 1, 1, INT64_MAX, &id) < 0)
                return -EINVAL;
        *ret_host = strndup(text, (size_t) (colon - text));
        if (!*ret_host)
                return -ENOMEM;
        *ret_id = id;
        return 0;
}

int fleet_connect(const FleetOptions *options, sd_bus **ret) {
        int r;

        agent_socket = options->socket_path;
        r = sessmgr_connect(options->socket_path, ret);
        return r < 0 ? report(r, NULL) : 0;
}

int fleet_new_call(sd_bus *bus, const char *member, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, NULL, FLEET_OBJECT_PATH, FLEET_INTERFACE, member);
}

int fleet_call_message(sd_bus *bus, sd_bus_message *m, int64_t timeout_usec, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sessmgr_call(bus, m, now_usec(CLOCK_MONOTONIC) + timeout_usec, &error, ret_reply);
        /* Dropped during authentication (too many connections of ours): say so plainly. */
        if (r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN)
                return fail(r, "The fleet agent closed the connection (too many connections of yours?).");
        return r < 0 ? report(r, &error) : 0;
}

int fleet_call(sd_bus *bus, const char *member, int64_t timeout_usec, sd_bus_message **ret_reply,
               const char *signature, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = fleet_new_call(bus, member, &m);
        if (r >= 0) {
                va_start(ap, signature);
                r = sd_bus_message_appendv(m, signature, ap);
                va_end(ap);
        }
        if (r < 0)
                return report(r, NULL);
        return fleet_call_message(bus, m, timeout_usec, ret_reply);
}

/* Best effort: outside logind, or without sessmgrd, no session is current. */
uint64_t fleet_current_session(const FleetOptions *options) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(current_session_done) CurrentSession current = {};
        uint64_t id = 0;
        int r;

        current_session_find(&current);
        if (!current.logind_session || sessmgr_connect(options->daemon_socket, &bus) < 0)
                return 0;
        r = sessmgr_new_method_call(bus, &m, "ListSessions");
        if (r >= 0)
                r = sd_bus_message_append(m, "u", (uint32_t) getuid());
        if (r >= 0)
                r = sessmgr_call(bus, m, now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC, NULL, &reply);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', SESSION_RECORD_STRUCT);
        while (r >= 0 && id == 0) {
                _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;

                r = session_record_read_struct(reply, &record);
                if (r <= 0)
                        break;
                /* su inside a login has the login's logind session: the login is the one. */
                if (session_is_current(&record, &current) && record.parent_id == 0)
                        id = record.id;
        }
        return id;
}

void fleet_session_array_free(FleetSession *sessions, size_t count) {
        for (size_t i = 0; i < count; i++) {
                free(sessions[i].host);
                free(sessions[i].machine_id);
                session_record_done(&sessions[i].record);
        }
        free(sessions);
}

static int read_session(sd_bus_message *reply, FleetSession *session) {
        const char *host, *machine_id;
        int stale, current, r;

        r = sd_bus_message_enter_container(reply, 'r', "ssxb" SESSION_RECORD_STRUCT "b");
        if (r <= 0)
                return r;
        r = sd_bus_message_read(reply, "ssxb", &host, &machine_id, &session->last_sync_usec, &stale);
        if (r < 0)
                return r;
        session->host = strdup(host);
        session->machine_id = strdup(machine_id);
        if (!session->host || !session->machine_id)
                return -ENOMEM;
        r = session_record_read_struct(reply, &session->record);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "b", &current);
        if (r < 0)
                return r;
        session->stale = stale;
        session->current = current;
        r = sd_bus_message_exit_container(reply);
        return r < 0 ? r : 1;
}

static int read_sessions(sd_bus_message *reply, FleetSession **ret, size_t *ret_count) {
        FleetSession *sessions = NULL;
        size_t count = 0, allocated = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', FLEET_SESSION_STRUCT);
        while (r >= 0) {
                if (!GREEDY_REALLOC(sessions, allocated, count + 1)) {
                        r = -ENOMEM;
                        break;
                }
                sessions[count] = (FleetSession) { .record = SESSION_RECORD_INIT };
                r = read_session(reply, &sessions[count]);
                count++;
                if (r <= 0)
                        break;
        }
        /* The last slot holds no session: the end of the list, or one read halfway. */
        if (count > 0 && r <= 0) {
                count--;
                free(sessions[count].host);
                free(sessions[count].machine_id);
                session_record_done(&sessions[count].record);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                fleet_session_array_free(sessions, count);
                return fail(r, "The fleet agent sent a reply this sessmgrctl cannot read: %m");
        }
        *ret = sessions;
        *ret_count = count;
        return 0;
}

int fleet_list_sessions(sd_bus *bus, const FleetOptions *options, uint64_t current, FleetSession **ret,
                        size_t *ret_count) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = fleet_call(bus, "ListSessions", CALL_TIMEOUT_USEC, &reply, "sbt", options->user ?: "",
                       (int) options->every_user, current);
        return r < 0 ? r : read_sessions(reply, ret, ret_count);
}

int fleet_write_session_json(JsonWriter *writer, const FleetSession *session) {
        char id[1100], iso[TIMESTAMP_MAX];
        int r;

        snprintf(id, sizeof(id), "%s:%" PRIu64, session->host, session->record.id);
        json_begin_object(writer);
        r = session_write_json_members(writer, &session->record, session->current);
        json_key(writer, "fleet_id");
        json_string(writer, id);
        json_key(writer, "host");
        json_string(writer, session->host);
        json_key(writer, "machine_id");
        json_string(writer, session->machine_id);
        json_key(writer, "stale");
        json_boolean(writer, session->stale);
        json_key(writer, "machine_last_sync_usec");
        json_integer(writer, session->last_sync_usec);
        json_key(writer, "machine_last_sync");
        json_string(writer, session->last_sync_usec > 0 ? format_timestamp_iso(iso, session->last_sync_usec) : NULL);
        json_end_object(writer);
        return r;
}

static int write_json(const FleetSession *sessions, size_t count, JsonMode mode) {
        JsonWriter writer;
        int r = 0;

        json_writer_init(&writer, stdout, mode == JSON_PRETTY);
        json_begin_object(&writer);
        json_key(&writer, "sessions");
        json_begin_array(&writer);
        for (size_t i = 0; r >= 0 && i < count; i++)
                r = fleet_write_session_json(&writer, &sessions[i]);
        json_end_array(&writer);
        json_end_object(&writer);
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        return json_writer_finish(&writer);
}

/* "web-1 has not reported since ...": once per stale machine, under the table. */
static void print_stale_machines(const FleetSession *sessions, size_t count) {
        int64_t now = now_usec(CLOCK_REALTIME);

        for (size_t i = 0; i < count; i++) {
                _cleanup_(freep) char *host = NULL;
                char when[TIMESTAMP_MAX], ago[TIMESTAMP_MAX];
                bool seen = false;

                if (!sessions[i].stale)
                        continue;
                for (size_t j = 0; j < i; j++)
                        seen = seen || streq_ptr(sessions[j].host, sessions[i].host);
                if (seen)
                        continue;
                host = text_sanitize(sessions[i].host);
                if (sessions[i].last_sync_usec > 0)
                        printf("%s is stale: no report since %s (%s); its sessions may have changed.\n", host ?: "?",
                               format_timestamp_short(when, sessions[i].last_sync_usec),
                               format_timestamp_relative(ago, sessions[i].last_sync_usec, now));
                else
                        printf("%s is stale: it has never reported.\n", host ?: "?");
        }
}

static int print_table(const FleetSession *sessions, size_t count, bool history, bool show_user) {
        static const char *const list_headers[] = { "", "HOST", "ID", "USER", "DEVICE", "FROM", "LOGIN", "LAST ACTIVE" };
        static const char *const history_headers[] = { "HOST", "ID", "USER", "DEVICE", "FROM", "LOGIN", "LOGOUT",
                                                       "REASON" };
        const char *const *headers = history ? history_headers : list_headers;
        const char *chosen[8];
        size_t columns = 0;
        _cleanup_(table_freep) Table *table = NULL;
        int64_t now = now_usec(CLOCK_REALTIME);
        bool any_current = false;
        int r = 0;

        for (size_t i = 0; i < 8; i++)
                if (show_user || strcmp(headers[i], "USER") != 0)
                        chosen[columns++] = headers[i];
        table = table_new(columns, chosen);
        if (!table)
                return log_error_errno(ENOMEM, "Out of memory.");

        for (size_t i = 0; r >= 0 && i < count; i++) {
                const FleetSession *session = &sessions[i];
                const SessionRecord *record = &session->record;
                _cleanup_(freep) char *device = session_device_text(record), *host = NULL;
                char id[24], login[TIMESTAMP_MAX], last[LAST_ACTIVE_MAX], logout[TIMESTAMP_MAX];

                if (asprintf(&host, "%s%s", session->host, session->stale ? " (stale)" : "") < 0)
                        host = NULL;
                snprintf(id, sizeof(id), "%" PRIu64, record->id);
                any_current = any_current || session->current;
                if (!history) {
                        r = table_add_cell(table, session->current ? "*" : "");
                        if (session->current)
                                table_highlight_row(table);
                }
                if (r >= 0)
                        r = table_add_cell(table, host ?: session->host);
                if (r >= 0)
                        r = table_add_cell(table, id);
                if (r >= 0 && show_user)
                        r = table_add_cell(table, record->user);
                if (r >= 0)
                        r = table_add_cell(table, device);
                if (r >= 0)
                        r = table_add_cell(table, session_record_from(record, "local"));
                if (r >= 0)
                        r = table_add_cell(table, format_timestamp_short(login, record->login_time_usec));
                if (r >= 0 && !history)
                        r = table_add_cell(table, session_last_active_text(last, record, now));
                if (r >= 0 && history)
                        r = table_add_cell(table, format_timestamp_short(logout, record->end_time_usec));
                if (r >= 0 && history)
                        r = table_add_cell(table, record->end_reason);
        }
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        r = table_print(table, stdout, !history && isatty(STDOUT_FILENO) && isempty(getenv("NO_COLOR")));
        if (r < 0)
                return r;
        if (any_current)
                puts("\n* this session");
        print_stale_machines(sessions, count);
        return 0;
}

int fleet_show_sessions(const FleetOptions *options) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        FleetSession *sessions = NULL;
        size_t count = 0;
        int r;

        r = fleet_connect(options, &bus);
        if (r >= 0)
                r = fleet_list_sessions(bus, options, fleet_current_session(options), &sessions, &count);
        if (r < 0)
                return r;
        if (options->json != JSON_OFF)
                r = write_json(sessions, count, options->json);
        else if (count == 0)
                puts("No active sessions in the fleet.");
        else
                r = print_table(sessions, count, false, options->every_user || options->user);
        fleet_session_array_free(sessions, count);
        return r;
}

int fleet_show_history(const FleetOptions *options) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        FleetSession *sessions = NULL;
        size_t count = 0;
        int r;

        r = fleet_connect(options, &bus);
        if (r >= 0)
                r = fleet_call(bus, "ListHistory", CALL_TIMEOUT_USEC, &reply, "sbxu", options->user ?: "",
                               (int) options->every_user, options->since_usec, options->limit);
        if (r >= 0)
                r = read_sessions(reply, &sessions, &count);
        if (r < 0)
                return r;
        if (options->json != JSON_OFF)
                r = write_json(sessions, count, options->json);
        else if (count == 0)
                puts("No ended sessions in the fleet.");
        else
                r = print_table(sessions, count, true, options->every_user || options->user);
        fleet_session_array_free(sessions, count);
        return r;
}

int fleet_show_session(const FleetOptions *options, const char *text) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        FleetSession session = { .record = SESSION_RECORD_INIT };
        _cleanup_(freep) char *host = NULL, *shown_host = NULL;
        char when[TIMESTAMP_MAX];
        uint64_t id;
        int r;

        if (fleet_parse_id(text, &host, &id) < 0)
                return log_error_errno(EINVAL, "'%s' is not a fleet session id (HOST:ID).", text);
        r = fleet_connect(options, &bus);
        if (r >= 0)
                r = fleet_call(bus, "GetSession", CALL_TIMEOUT_USEC, &reply, "stt", host, id,
                               fleet_current_session(options));
        if (r >= 0) {
                r = read_session(reply, &session);
                if (r <= 0)
                        r = fail(r < 0 ? r : -EBADMSG, "The fleet agent sent a reply this sessmgrctl cannot read.");
        }
        if (r >= 0 && options->json != JSON_OFF) {
                JsonWriter writer;

                json_writer_init(&writer, stdout, options->json == JSON_PRETTY);
                r = fleet_write_session_json(&writer, &session);
                r = r < 0 ? log_error_errno(r, "Out of memory.") : json_writer_finish(&writer);
        } else if (r >= 0) {
                shown_host = text_sanitize(session.host);
                printf("%16s: %s%s%s\n", "Host", shown_host ?: "?", session.stale ? ", stale since " : "",
                       session.stale ? (session.last_sync_usec > 0 ? format_timestamp_short(when, session.last_sync_usec)
                                                                   : "never reported") : "");
                printf("%16s: %s\n", "Machine", session.machine_id);
                r = session_print_details(stdout, &session.record, session.current);
        }
        free(session.host);
        free(session.machine_id);
        session_record_done(&session.record);
        return r;
}
