/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "fleet-protocol.h"
#include "fleet.h"
#include "format.h"
#include "log.h"
#include "logout.h"
#include "table.h"
#include "time-format.h"

/* logout --fleet: choose the sessions as the local logout does, show them, ask, then let
 * the agent make the requests and wait (a bounded time) for each machine's answer. The
 * session sessmgrctl runs in, if chosen, is asked for last, after the results are out. */

/* The agent waits at most 30 s ([Revocations] WaitSec=), then reads the outcomes. */
#define LOGOUT_TIMEOUT_USEC (45 * USEC_PER_SEC)

typedef struct Target {
        FleetSession session;
        const char *result;     /* NULL: to be asked for */
        char *message;
} Target;

typedef struct FleetLogout {
        Target *targets;
        size_t count, allocated;
} FleetLogout;

static void fleet_logout_done(FleetLogout *logout) {
        for (size_t i = 0; i < logout->count; i++) {
                free(logout->targets[i].session.host);
                free(logout->targets[i].session.machine_id);
                session_record_done(&logout->targets[i].session.record);
                free(logout->targets[i].message);
        }
        free(logout->targets);
}

static void target_set(Target *target, const char *result, const char *message) {
        target->result = result;
        free(target->message);
        target->message = message ? strdup(message) : NULL;
}

static bool result_is_failure(const char *result) {
        return result && (strcmp(result, FLEET_RESULT_REFUSED) == 0 || strcmp(result, FLEET_RESULT_EXPIRED) == 0 ||
                          strcmp(result, FLEET_RESULT_NOT_FOUND) == 0 || strcmp(result, FLEET_RESULT_FAILED) == 0);
}

/* Moves *session into a new target. */
static Target *logout_add(FleetLogout *logout, FleetSession *session) {
        Target *target;

        if (!GREEDY_REALLOC(logout->targets, logout->allocated, logout->count + 1)) {
                log_error_errno(ENOMEM, "Out of memory.");
                return NULL;
        }
        target = &logout->targets[logout->count++];
        *target = (Target) { .session = *session };
        *session = (FleetSession) { .record = SESSION_RECORD_INIT };
        return target;
}

static int collect_named(sd_bus *bus, FleetLogout *logout, char **ids, size_t count, uint64_t current) {
        bool failed = false;

        /* Every id is checked, and nothing is asked for if one fails: a typo ends nothing. */
        for (size_t i = 0; i < count; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                FleetSession session = { .record = SESSION_RECORD_INIT };
                _cleanup_(freep) char *host = NULL;
                Target *target;
                uint64_t id;
                int r;

                r = fleet_parse_id(ids[i], &host, &id);
                if (r < 0)
                        return log_error_errno(r, "'%s' is not a fleet session id (HOST:ID).", ids[i]);
                session.host = TAKE_PTR(host);
                session.record.id = id;
                r = fleet_call(bus, "GetSession", 15 * USEC_PER_SEC, &reply, "stt", session.host, id, current);
                if (r >= 0) {
                        free(session.host);
                        session = (FleetSession) { .record = SESSION_RECORD_INIT };
                        r = sd_bus_message_enter_container(reply, 'r', "ssxb" SESSION_RECORD_STRUCT "b");
                        if (r > 0) {
                                const char *h, *m;
                                int stale, is_current;

                                r = sd_bus_message_read(reply, "ssxb", &h, &m, &session.last_sync_usec, &stale);
                                if (r >= 0) {
                                        session.host = strdup(h);
                                        session.machine_id = strdup(m);
                                        session.stale = stale;
                                        r = session_record_read_struct(reply, &session.record);
                                }
                                if (r >= 0)
                                        r = sd_bus_message_read(reply, "b", &is_current);
                                session.current = r >= 0 && is_current;
                        }
                        if (r <= 0 || !session.host) {
                                free(session.host);
                                free(session.machine_id);
                                session_record_done(&session.record);
                                return log_error_errno(r < 0 ? r : -EBADMSG, "The fleet agent sent a reply this "
                                                       "sessmgrctl cannot read.");
                        }
                }
                target = logout_add(logout, &session);
                if (!target)
                        return -ENOMEM;
                if (r < 0) {
                        target_set(target, FLEET_RESULT_NOT_FOUND, fleet_last_error());
                        failed = true;
                } else if (target->session.current) {
                        log_error("%s is the session you are using. To end it, type 'exit',\n"
                                  "or use 'sessmgrctl logout --fleet --all' to end all of your sessions, this one last.",
                                  ids[i]);
                        target_set(target, FLEET_RESULT_REFUSED, "it is the session you are using");
                        failed = true;
                } else if (target->session.record.state == SESSION_CLOSED) {
                        log_error("%s cannot be logged out: it has already ended.", ids[i]);
                        target_set(target, FLEET_RESULT_REFUSED, "it has already ended");
                        failed = true;
                }
        }
        if (failed)
                for (size_t i = 0; i < logout->count; i++)
                        if (!logout->targets[i].result)
                                target_set(&logout->targets[i], "skipped",
                                           "Not logged out: another session named cannot be.");
        return 0;
}

static int collect_by_user(sd_bus *bus, const FleetOptions *options, FleetLogout *logout, FleetLogoutMode mode,
                           uint64_t current) {
        FleetSession *sessions = NULL;
        size_t count = 0;
        int r;

        r = fleet_list_sessions(bus, options, current, &sessions, &count);
        if (r < 0)
                return r;
        /* This session last: ending it most likely ends sessmgrctl too. */
        for (int pass = 0; r >= 0 && pass < 2; pass++)
                for (size_t i = 0; r >= 0 && i < count; i++) {
                        Target *target;

                        if (sessions[i].current != (pass == 1))
                                continue;
                        target = logout_add(logout, &sessions[i]);
                        if (!target) {
                                r = -ENOMEM;
                                break;
                        }
                        if (target->session.current && mode == FLEET_LOGOUT_OTHERS)
                                target_set(target, "skipped", "it is the session sessmgrctl runs in");
                        else if (target->session.record.parent_id > 0)
                                target_set(target, "skipped",
                                           "it was started with su or sudo inside another session and ends with that one");
                }
        fleet_session_array_free(sessions, count);
        return r;
}

static size_t count_chosen(const FleetLogout *logout) {
        size_t count = 0;

        for (size_t i = 0; i < logout->count; i++)
                count += !logout->targets[i].result;
        return count;
}

static int print_chosen(const FleetLogout *logout) {
        static const char *const headers[] = { "HOST", "ID", "DEVICE", "FROM", "LAST ACTIVE" };
        _cleanup_(table_freep) Table *table = table_new(5, headers);
        int64_t now = now_usec(CLOCK_REALTIME);
        int r = table ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < logout->count; i++) {
                const FleetSession *session = &logout->targets[i].session;
                _cleanup_(freep) char *device = NULL;
                char id[40], active[LAST_ACTIVE_MAX];

                if (logout->targets[i].result)
                        continue;
                device = session_device_text(&session->record);
                snprintf(id, sizeof(id), "%" PRIu64 "%s", session->record.id, session->current ? " (this one)" : "");
                r = table_add_cell(table, session->host);
                if (r >= 0)
                        r = table_add_cell(table, id);
                if (r >= 0)
                        r = table_add_cell(table, device);
                if (r >= 0)
                        r = table_add_cell(table, session_record_from(&session->record, "local"));
                if (r >= 0)
                        r = table_add_cell(table, session_last_active_text(active, &session->record, now));
        }
        if (r >= 0)
                r = table_print(table, stdout, false);
        return r < 0 ? log_error_errno(r, "Out of memory.") : 0;
}

/* The agent's result as one of ours, which outlive its reply; an unknown one is a failure. */
static const char *known_result(const char *result) {
        static const char *const known[] = {
                FLEET_RESULT_LOGGED_OUT, FLEET_RESULT_PENDING, FLEET_RESULT_REFUSED, FLEET_RESULT_GONE,
                FLEET_RESULT_EXPIRED, FLEET_RESULT_NOT_FOUND, FLEET_RESULT_FAILED,
        };

        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (strcmp(known[i], result) == 0)
                        return known[i];
        return FLEET_RESULT_FAILED;
}

/* Asks the agent for the chosen targets with current == want_current. */
static int request(sd_bus *bus, FleetLogout *logout, bool want_current, uint64_t current) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        size_t asked = 0;
        int r;

        r = fleet_new_call(bus, "RequestLogout", &m);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(st)");
        for (size_t i = 0; r >= 0 && i < logout->count; i++) {
                const Target *target = &logout->targets[i];

                if (target->result || target->session.current != want_current)
                        continue;
                r = sd_bus_message_append(m, "(st)", target->session.host, target->session.record.id);
                asked++;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "t", current);
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        if (asked == 0)
                return 0;

        r = fleet_call_message(bus, m, LOGOUT_TIMEOUT_USEC, &reply);
        if (r < 0) {
                for (size_t i = 0; i < logout->count; i++)
                        if (!logout->targets[i].result && logout->targets[i].session.current == want_current)
                                target_set(&logout->targets[i], FLEET_RESULT_FAILED, fleet_last_error());
                return r;
        }
        r = sd_bus_message_enter_container(reply, 'a', "(stss)");
        while (r > 0) {
                const char *host, *result, *message;
                uint64_t id;

                r = sd_bus_message_read(reply, "(stss)", &host, &id, &result, &message);
                if (r <= 0)
                        break;
                for (size_t i = 0; i < logout->count; i++) {
                        Target *target = &logout->targets[i];

                        if (!target->result && target->session.record.id == id && streq_ptr(target->session.host, host))
                                target_set(target, known_result(result), isempty(message) ? NULL : message);
                }
        }
        if (r < 0)
                return log_error_errno(r, "The fleet agent sent a reply this sessmgrctl cannot read: %m");
        return 0;
}

static void print_results(const FleetLogout *logout, bool of_current) {
        /* The target's message for a logout or an ended session only repeats the result
         * ("logged out: logged out"); the others say why or until when. --json keeps it. */
        static const struct {
                const char *result, *text;
                bool with_message;
        } texts[] = {
                { FLEET_RESULT_LOGGED_OUT, "logged out",        false },
                { FLEET_RESULT_PENDING,    "pending",           true },
                { FLEET_RESULT_REFUSED,    "refused",           true },
                { FLEET_RESULT_GONE,       "had already ended", false },
                { FLEET_RESULT_EXPIRED,    "expired",           true },
                { FLEET_RESULT_NOT_FOUND,  "not found",         true },
                { FLEET_RESULT_FAILED,     "failed",            true },
        };

        for (size_t i = 0; i < logout->count; i++) {
                const Target *target = &logout->targets[i];
                _cleanup_(freep) char *host = text_sanitize(target->session.host), *message = NULL;
                const char *text = NULL;
                bool with_message = true;

                if (!target->result || strcmp(target->result, "skipped") == 0 || target->session.current != of_current)
                        continue;
                for (size_t j = 0; j < ELEMENTSOF(texts); j++)
                        if (strcmp(texts[j].result, target->result) == 0) {
                                text = texts[j].text;
                                with_message = texts[j].with_message;
                        }
                message = target->message && with_message ? text_sanitize(target->message) : NULL;
                printf("%s:%" PRIu64 ": %s%s%s\n", host ?: "?", target->session.record.id, text ?: target->result,
                       message ? ": " : "", message ?: "");
        }
}

/* {"sessions":[{"fleet_id":...,"host":...,"machine_id":...,"id":...,"current":...,"result":...,"message":...}]} */
static int write_json(const FleetLogout *logout, JsonMode mode) {
        JsonWriter writer;

        json_writer_init(&writer, stdout, mode == JSON_PRETTY);
        json_begin_object(&writer);
        json_key(&writer, "sessions");
        json_begin_array(&writer);
        for (size_t i = 0; i < logout->count; i++) {
                const Target *target = &logout->targets[i];
                char id[1100];

                snprintf(id, sizeof(id), "%s:%" PRIu64, target->session.host, target->session.record.id);
                json_begin_object(&writer);
                json_key(&writer, "fleet_id");
                json_string(&writer, id);
                json_key(&writer, "host");
                json_string(&writer, target->session.host);
                json_key(&writer, "machine_id");
                json_string(&writer, target->session.machine_id);
                json_key(&writer, "id");
                json_unsigned(&writer, target->session.record.id);
                json_key(&writer, "current");
                json_boolean(&writer, target->session.current);
                json_key(&writer, "result");
                json_string(&writer, target->result ?: "logging-out");
                json_key(&writer, "message");
                json_string(&writer, target->message);
                json_end_object(&writer);
        }
        json_end_array(&writer);
        json_end_object(&writer);
        return json_writer_finish(&writer);
}

int fleet_logout(const FleetOptions *options, FleetLogoutMode mode, char **ids, size_t id_count, bool assume_yes) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(fleet_logout_done) FleetLogout logout = {};
        bool json = options->json != JSON_OFF, current_chosen = false, failed = false;
        uint64_t current;
        size_t count;
        int r;

        r = fleet_connect(options, &bus);
        if (r < 0)
                return r;
        current = fleet_current_session(options);
        r = mode == FLEET_LOGOUT_NAMED ? collect_named(bus, &logout, ids, id_count, current)
                                       : collect_by_user(bus, options, &logout, mode, current);
        if (r < 0)
                return r;

        count = count_chosen(&logout);
        if (count == 0 && !json && mode != FLEET_LOGOUT_NAMED)
                puts(mode == FLEET_LOGOUT_OTHERS ? "There are no other sessions in the fleet to log out."
                                                 : "There are no sessions in the fleet to log out.");
        if (count > 0 && !json) {
                r = print_chosen(&logout);
                if (r < 0)
                        return r;
                if (!assume_yes) {
                        r = logout_confirm(count);
                        if (r <= 0)
                                return r < 0 ? r : -ECANCELED;
                }
        }

        for (size_t i = 0; i < logout.count; i++)
                current_chosen = current_chosen || (!logout.targets[i].result && logout.targets[i].session.current);
        if (count > 0)
                (void) request(bus, &logout, false, current);

        /* Ending this session most likely ends this program: the results go out first. */
        if (json)
                r = write_json(&logout, options->json);
        else
                print_results(&logout, false);
        if (current_chosen) {
                if (!json)
                        printf("Logging out this session.\n");
                fflush(stdout);
                (void) request(bus, &logout, true, current);
                if (!json)
                        print_results(&logout, true);
        }
        for (size_t i = 0; i < logout.count; i++)
                failed = failed || result_is_failure(logout.targets[i].result);
        return r < 0 ? r : failed ? -EIO : 0;
}
