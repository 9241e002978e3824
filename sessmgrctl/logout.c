/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc-util.h"
#include "daemon.h"
#include "format.h"
#include "log.h"
#include "logind-client.h"
#include "logout.h"
#include "table.h"
#include "time-format.h"

/* "I lost my laptop, log that session out from here": choose the sessions, show them,
 * ask, tell sessmgrd who ends what, then end each through logind as the caller. Every
 * session considered gets a result, which --json prints for scripts. */

#define WAIT_FOR_END_USEC (5 * USEC_PER_SEC)

typedef enum LogoutResult {
        RESULT_CHOSEN,          /* to be logged out: no result yet */
        RESULT_LOGGED_OUT,
        RESULT_LOGGING_OUT,     /* this session, ended after the JSON is written */
        RESULT_ALREADY_ENDED,
        RESULT_SKIPPED,
        /* The failures, from here on. */
        RESULT_NOT_FOUND,
        RESULT_REFUSED,
        RESULT_FAILED,
} LogoutResult;

static const char *const result_names[] = {
        [RESULT_CHOSEN]        = "chosen",
        [RESULT_LOGGED_OUT]    = "logged-out",
        [RESULT_LOGGING_OUT]   = "logging-out",
        [RESULT_ALREADY_ENDED] = "already-ended",
        [RESULT_SKIPPED]       = "skipped",
        [RESULT_NOT_FOUND]     = "not-found",
        [RESULT_REFUSED]       = "refused",
        [RESULT_FAILED]        = "failed",
};

typedef struct Outcome {
        SessionRecord record;   /* only its id when sessmgrd has none */
        bool current;
        LogoutResult result;
        char *message;          /* why, or NULL when there is nothing to add */
        size_t ends_with;       /* the chosen outcome whose logind session it shares; itself if none */
} Outcome;

typedef struct Logout {
        const LogoutRequest *request;
        CurrentSession current;
        Outcome *outcomes;
        size_t count, allocated;
} Logout;

static void logout_done(Logout *logout) {
        for (size_t i = 0; i < logout->count; i++) {
                session_record_done(&logout->outcomes[i].record);
                free(logout->outcomes[i].message);
        }
        free(logout->outcomes);
        current_session_done(&logout->current);
}

static bool outcome_is_target(const Logout *logout, size_t i) {
        return logout->outcomes[i].result == RESULT_CHOSEN && logout->outcomes[i].ends_with == i;
}

/* Moves *record into a new outcome, chosen until said otherwise. */
static Outcome *logout_add(Logout *logout, SessionRecord *record) {
        Outcome *outcome;

        if (!GREEDY_REALLOC(logout->outcomes, logout->allocated, logout->count + 1)) {
                log_error_errno(ENOMEM, "Out of memory.");
                return NULL;
        }
        outcome = &logout->outcomes[logout->count];
        *outcome = (Outcome) {
                .record = *record,
                .current = session_is_current(record, &logout->current),
                .ends_with = logout->count,
        };
        *record = (SessionRecord) SESSION_RECORD_INIT;
        logout->count++;
        return outcome;
}

/* A chosen session whose logind session an earlier chosen one has ends with that one:
 * logind ends them together, once. */
static void link_shared(Logout *logout) {
        for (size_t i = 0; i < logout->count; i++) {
                Outcome *outcome = &logout->outcomes[i];

                if (outcome->result != RESULT_CHOSEN || !outcome->record.logind_session)
                        continue;
                for (size_t j = 0; j < i; j++)
                        if (outcome_is_target(logout, j) &&
                            streq_ptr(logout->outcomes[j].record.logind_session, outcome->record.logind_session)) {
                                outcome->ends_with = j;
                                break;
                        }
        }
}

/* A result with nothing to add. */
static int outcome_plain(Outcome *outcome, LogoutResult result) {
        outcome->result = result;
        free(outcome->message);
        outcome->message = NULL;
        return 0;
}

/* Gives the outcome its result; a failure's message is printed on stderr as well. While
 * formatting, "%m" says what error is. Returns -EIO for a failure, else 0. */
_printf_(4, 5)
static int outcome_set(Outcome *outcome, LogoutResult result, int error, const char *format, ...) {
        int saved_errno = errno;
        va_list ap;

        outcome_plain(outcome, result);
        errno = error < 0 ? -error : error;
        va_start(ap, format);
        if (vasprintf(&outcome->message, format, ap) < 0)
                outcome->message = NULL;
        va_end(ap);
        errno = saved_errno;
        if (result < RESULT_NOT_FOUND)
                return 0;
        log_error("%s", outcome->message ?: "Out of memory.");
        return -EIO;
}

/* The result of a failed call to sessmgrd, which has printed why. */
static int outcome_daemon_failed(Outcome *outcome) {
        bool no_such_session;
        const char *said = daemon_last_error(&no_such_session);

        outcome_plain(outcome, no_such_session ? RESULT_NOT_FOUND : RESULT_FAILED);
        outcome->message = strdup(said);
        return -EIO;
}

/* NULL when the session can be logged out through logind, else why not. */
static const char *why_not_ended(const SessionRecord *record) {
        if (record->state == SESSION_CLOSED)
                return "it has already ended";
        if (!record->logind_session)
                return "it is not known to systemd-logind (it was recorded without pam_systemd)";
        /* su and sudo share the logind session of the login they ran in, which may be
         * somebody else's: they end with it. */
        if (record->parent_id > 0)
                return "it was started with su or sudo inside another session and ends with that one";
        return NULL;
}

static bool logout_failed(const Logout *logout) {
        for (size_t i = 0; i < logout->count; i++)
                if (logout->outcomes[i].result >= RESULT_NOT_FOUND)
                        return true;
        return false;
}

static int collect_named(sd_bus *daemon, Logout *logout) {
        const LogoutRequest *request = logout->request;

        /* Every id is checked, and nothing is ended if one fails: a typo ends nothing. */
        for (size_t i = 0; i < request->id_count; i++) {
                _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
                uint64_t id = request->ids[i];
                const char *why;
                Outcome *outcome;
                int r;

                r = daemon_get_session(daemon, id, &record);
                record.id = id;
                outcome = logout_add(logout, &record);
                if (!outcome)
                        return -ENOMEM;
                if (r < 0)
                        (void) outcome_daemon_failed(outcome);
                else if (outcome->current)
                        outcome_set(outcome, RESULT_REFUSED, 0,
                                    "Session %" PRIu64 " is the session you are using. To end it, type 'exit',\n"
                                    "or use 'sessmgrctl logout --all' to end all of your sessions, this one last.", id);
                else if ((why = why_not_ended(&outcome->record)))
                        outcome_set(outcome, RESULT_REFUSED, 0, "Session %" PRIu64 " cannot be logged out: %s.", id, why);
        }

        if (logout_failed(logout))
                for (size_t i = 0; i < logout->count; i++)
                        if (logout->outcomes[i].result == RESULT_CHOSEN)
                                outcome_set(&logout->outcomes[i], RESULT_SKIPPED, 0,
                                            "Not logged out: another session named cannot be.");
        return 0;
}

static int collect_by_user(sd_bus *daemon, Logout *logout) {
        const LogoutRequest *request = logout->request;
        SessionRecord *records = NULL;
        size_t count = 0;
        int r;

        r = daemon_list_sessions(daemon, request->uid, &records, &count);
        if (r < 0)
                return r;

        /* The records of this session (su inside it included) end with it, last: ending
         * it ends this program too. */
        for (int pass = 0; r >= 0 && pass < 2; pass++)
                for (size_t i = 0; r >= 0 && i < count; i++) {
                        bool current = session_is_current(&records[i], &logout->current);
                        const char *why = current ? NULL : why_not_ended(&records[i]);
                        Outcome *outcome;

                        if (current != (pass == 1))
                                continue;
                        outcome = logout_add(logout, &records[i]);
                        if (!outcome) {
                                r = -ENOMEM;
                                break;
                        }
                        if (why) {
                                if (request->json == JSON_OFF)
                                        printf("Leaving session %" PRIu64 ": %s.\n", outcome->record.id, why);
                                outcome_set(outcome, RESULT_SKIPPED, 0, "%s", why);
                        } else if (current && request->mode == LOGOUT_OTHERS)
                                outcome_set(outcome, RESULT_SKIPPED, 0, "it is the session sessmgrctl runs in");
                }
        session_record_array_free(records, count);
        return r;
}

/* Marks the sessions logind no longer has: sessmgrd may not have closed them yet. */
static int drop_ended(sd_bus *logind, Logout *logout) {
        for (size_t i = 0; i < logout->count; i++) {
                Outcome *outcome = &logout->outcomes[i];
                LogindSessionState state;
                int r;

                if (!outcome_is_target(logout, i))
                        continue;
                r = logind_session_state(logind, outcome->record.logind_session, &state);
                if (r < 0)
                        return log_error_errno(r, "Cannot ask systemd-logind about session %" PRIu64 ": %m",
                                               outcome->record.id);
                if (state == LOGIND_SESSION_GONE) {
                        if (logout->request->mode == LOGOUT_NAMED && logout->request->json == JSON_OFF)
                                printf("Session %" PRIu64 " has already ended.\n", outcome->record.id);
                        outcome_set(outcome, RESULT_ALREADY_ENDED, 0, "it has already ended");
                }
        }
        return 0;
}

static size_t count_targets(const Logout *logout) {
        size_t count = 0;

        for (size_t i = 0; i < logout->count; i++)
                count += outcome_is_target(logout, i);
        return count;
}

static int print_targets(const Logout *logout) {
        static const char *const headers[] = { "ID", "DEVICE", "FROM", "LAST ACTIVE" };
        _cleanup_(table_freep) Table *table = table_new(4, headers);
        int64_t now = now_usec(CLOCK_REALTIME);
        int r = table ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < logout->count; i++) {
                const Outcome *outcome = &logout->outcomes[i];
                const SessionRecord *record = &outcome->record;
                _cleanup_(freep) char *device = NULL;
                char id[32], active[LAST_ACTIVE_MAX];

                if (!outcome_is_target(logout, i))
                        continue;
                device = session_device_text(record);
                snprintf(id, sizeof(id), "%" PRIu64 "%s", record->id, outcome->current ? " (this one)" : "");
                r = table_add_cell(table, id);
                if (r >= 0)
                        r = table_add_cell(table, device);
                if (r >= 0)
                        r = table_add_cell(table, session_record_from(record, "local"));
                if (r >= 0)
                        r = table_add_cell(table, session_last_active_text(active, record, now));
        }
        if (r >= 0)
                r = table_print(table, stdout, false);
        return r < 0 ? log_error_errno(r, "Out of memory.") : 0;
}

int logout_confirm(size_t count) {
        char answer[16] = "";

        if (!isatty(STDIN_FILENO))
                return log_error_errno(EPERM, "Not logging out without confirmation: standard input is not a terminal.\n"
                                       "Run it from a terminal, or add --yes.");
        printf("Log out %zu session%s? [y/N] ", count, count == 1 ? "" : "s");
        fflush(stdout);
        if (!fgets(answer, sizeof(answer), stdin))
                answer[0] = '\0';
        answer[strcspn(answer, "\r\n")] = '\0';
        if (strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0)
                return 1;
        puts("Nothing was logged out.");
        return 0;
}

/* logind refused, as opposed to could not be asked. */
static bool is_refusal(int r, const sd_bus_error *error) {
        return r == -EACCES || r == -EPERM ||
               sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED) ||
               sd_bus_error_has_name(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED);
}

static int end_one(sd_bus *daemon, sd_bus *logind, const Logout *logout, Outcome *outcome) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const SessionRecord *record = &outcome->record;
        _cleanup_(freep) char *raw_device = session_device_text(record);
        /* Both from the record, printed to a terminal: sanitised like every table cell. */
        _cleanup_(freep) char *device = raw_device ? text_sanitize(raw_device) : NULL;
        _cleanup_(freep) char *from = text_sanitize(session_record_from(record, "local"));
        _cleanup_(freep) char *message = NULL;
        bool text = logout->request->json == JSON_OFF;
        LogindSessionState state = LOGIND_SESSION_ACTIVE;
        int r;

        if (!from)
                return outcome_set(outcome, RESULT_FAILED, ENOMEM, "Out of memory.");

        /* For the history; the daemon refuses a session that is not ours. */
        r = daemon_announce_logout(daemon, record->id);
        if (r < 0)
                return outcome_daemon_failed(outcome);

        if (outcome->current && text) {
                printf("Logging out this session (%" PRIu64 ", %s from %s).\n", record->id, device ?: "?", from);
                fflush(stdout);
        }
        r = logind_terminate(logind, record->logind_session, &error);
        if (r == -ENOENT) {
                if (text)
                        printf("Session %" PRIu64 " had already ended.\n", record->id);
                return outcome_set(outcome, RESULT_ALREADY_ENDED, 0, "it had already ended");
        }
        if (r < 0)
                return outcome_set(outcome, is_refusal(r, &error) ? RESULT_REFUSED : RESULT_FAILED, r,
                                   "systemd-logind refused to end session %" PRIu64 ": %s", record->id,
                                   (message = text_sanitize(error.message ?: strerror(-r))) ?: "?");

        r = logind_wait_for_end(logind, record->logind_session, WAIT_FOR_END_USEC, &state);
        if (r < 0)
                return outcome_set(outcome, RESULT_FAILED, r, "Cannot tell whether session %" PRIu64 " ended: %m",
                                   record->id);
        switch (state) {
        case LOGIND_SESSION_GONE:
                if (text)
                        printf("Logged out session %" PRIu64 " (%s from %s).\n", record->id, device ?: "?", from);
                return outcome_plain(outcome, RESULT_LOGGED_OUT);
        case LOGIND_SESSION_CLOSING:
                if (text)
                        printf("Logged out session %" PRIu64 " (%s from %s); its processes are still exiting.\n",
                               record->id, device ?: "?", from);
                return outcome_set(outcome, RESULT_LOGGED_OUT, 0, "its processes are still exiting");
        case LOGIND_SESSION_ACTIVE:
                break;
        }
        return outcome_set(outcome, RESULT_FAILED, 0, "Session %" PRIu64 " is still active %d s after logind was asked to end it.",
                    record->id, (int) (WAIT_FOR_END_USEC / USEC_PER_SEC));
}

/* {"sessions":[{"id":...,"logind_session":...,"current":...,"result":...,"message":...}]};
 * a session that ends with another has that one's result. */
static int write_json(const Logout *logout) {
        JsonWriter writer;

        json_writer_init(&writer, stdout, logout->request->json == JSON_PRETTY);
        json_begin_object(&writer);
        json_key(&writer, "sessions");
        json_begin_array(&writer);
        for (size_t i = 0; i < logout->count; i++) {
                const Outcome *outcome = &logout->outcomes[i];
                const Outcome *decided = &logout->outcomes[outcome->ends_with];

                json_begin_object(&writer);
                json_key(&writer, "id");
                json_unsigned(&writer, outcome->record.id);
                json_key(&writer, "logind_session");
                json_string(&writer, outcome->record.logind_session);
                json_key(&writer, "current");
                json_boolean(&writer, outcome->current);
                json_key(&writer, "result");
                json_string(&writer, result_names[decided->result]);
                json_key(&writer, "message");
                json_string(&writer, decided->message);
                json_end_object(&writer);
        }
        json_end_array(&writer);
        json_end_object(&writer);
        return json_writer_finish(&writer);
}

static int choose(sd_bus *daemon, Logout *logout, sd_bus **ret_logind) {
        int r;

        r = logout->request->mode == LOGOUT_NAMED ? collect_named(daemon, logout) : collect_by_user(daemon, logout);
        if (r < 0)
                return r;
        link_shared(logout);
        if (count_targets(logout) == 0)
                return 0;
        r = logind_connect(ret_logind);
        if (r < 0)
                return r;
        return drop_ended(*ret_logind, logout);
}

int logout_sessions(sd_bus *daemon, const LogoutRequest *request) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *logind = NULL;
        _cleanup_(logout_done) Logout logout = { .request = request };
        bool json = request->json != JSON_OFF, written = false;
        size_t count;
        int r;

        current_session_find(&logout.current);
        r = choose(daemon, &logout, &logind);
        if (r < 0)
                return r;

        count = count_targets(&logout);
        if (count == 0 && !json && request->mode != LOGOUT_NAMED)
                puts(request->mode == LOGOUT_OTHERS ? "There are no other sessions to log out."
                                                    : "There are no sessions to log out.");
        if (count > 0 && !json) {
                r = print_targets(&logout);
                if (r < 0)
                        return r;
                if (!request->assume_yes) {
                        r = logout_confirm(count);
                        if (r <= 0)
                                return r < 0 ? r : -ECANCELED;
                }
        }

        for (size_t i = 0; i < logout.count; i++) {
                Outcome *outcome = &logout.outcomes[i];

                if (!outcome_is_target(&logout, i))
                        continue;
                /* Ending this session most likely ends this program: the JSON goes first. */
                if (json && outcome->current) {
                        outcome_plain(outcome, RESULT_LOGGING_OUT);
                        r = write_json(&logout);
                        if (r < 0)
                                return r;
                        written = true;
                }
                (void) end_one(daemon, logind, &logout, outcome);
        }
        if (json && !written) {
                r = write_json(&logout);
                if (r < 0)
                        return r;
        }
        return logout_failed(&logout) ? -EIO : 0;
}
