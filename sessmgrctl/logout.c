/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
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
 * ask, tell sessmgrd who ends what, then end each through logind as the caller. */

#define WAIT_FOR_END_USEC (5 * USEC_PER_SEC)

typedef struct Targets {
        SessionRecord *records;
        size_t count, allocated;
} Targets;

static void targets_done(Targets *targets) {
        session_record_array_free(targets->records, targets->count);
        *targets = (Targets) {};
}

/* Moves *record into the list, unless a session of the same logind session is in it
 * already: logind ends them together. */
static int targets_add(Targets *targets, SessionRecord *record) {
        for (size_t i = 0; i < targets->count; i++)
                if (streq_ptr(targets->records[i].logind_session, record->logind_session))
                        return 0;
        if (!GREEDY_REALLOC(targets->records, targets->allocated, targets->count + 1))
                return log_error_errno(ENOMEM, "Out of memory.");
        targets->records[targets->count++] = *record;
        *record = (SessionRecord) SESSION_RECORD_INIT;
        return 0;
}

/* NULL when the session can be logged out through logind, else why not. */
static const char *why_not_ended(const SessionRecord *record, const CurrentSession *current) {
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

static int collect_named(sd_bus *daemon, const LogoutRequest *request, const CurrentSession *current,
                         Targets *targets) {
        int r;

        /* Every id is checked before anything is ended: a typo ends nothing. */
        for (size_t i = 0; i < request->id_count; i++) {
                _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
                uint64_t id = request->ids[i];
                const char *why;

                r = daemon_get_session(daemon, id, &record);
                if (r < 0)
                        return r;
                if (record.state != SESSION_CLOSED && session_is_current(&record, current))
                        return log_error_errno(EPERM,
                                               "Session %" PRIu64 " is the session you are using. To end it, type 'exit',\n"
                                               "or use 'sessmgrctl logout --all' to end all of your sessions, this one last.", id);
                why = why_not_ended(&record, current);
                if (why)
                        return log_error_errno(EOPNOTSUPP, "Session %" PRIu64 " cannot be logged out: %s.", id, why);
                r = targets_add(targets, &record);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int collect_by_user(sd_bus *daemon, const LogoutRequest *request, const CurrentSession *current,
                           Targets *targets) {
        SessionRecord *records = NULL, *current_record = NULL;
        size_t count = 0;
        int r;

        r = daemon_list_sessions(daemon, request->uid, &records, &count);
        if (r < 0)
                return r;

        for (size_t i = 0; r >= 0 && i < count; i++) {
                const char *why;

                /* Records of this session (su inside it included) end with it, last. */
                if (!session_is_current(&records[i], current) && (why = why_not_ended(&records[i], current))) {
                        printf("Leaving session %" PRIu64 ": %s.\n", records[i].id, why);
                        continue;
                }
                if (session_is_current(&records[i], current)) {
                        if (request->mode == LOGOUT_ALL && !current_record)
                                current_record = &records[i];
                        continue;       /* several records of one logind session end as one */
                }
                r = targets_add(targets, &records[i]);
        }
        /* The current session last: ending it ends this program too. */
        if (r >= 0 && current_record)
                r = targets_add(targets, current_record);
        session_record_array_free(records, count);
        return r;
}

/* Drops the sessions logind no longer has: sessmgrd may not have closed them yet. */
static int drop_ended(sd_bus *logind, const LogoutRequest *request, Targets *targets) {
        size_t kept = 0;

        for (size_t i = 0; i < targets->count; i++) {
                SessionRecord *record = &targets->records[i];
                LogindSessionState state;
                int r;

                r = logind_session_state(logind, record->logind_session, &state);
                if (r < 0)
                        return log_error_errno(r, "Cannot ask systemd-logind about session %" PRIu64 ": %m",
                                               record->id);
                if (state == LOGIND_SESSION_GONE) {
                        if (request->mode == LOGOUT_NAMED)
                                printf("Session %" PRIu64 " has already ended.\n", record->id);
                        session_record_done(record);
                        continue;
                }
                targets->records[kept++] = *record;
        }
        targets->count = kept;
        return 0;
}

static int print_targets(const Targets *targets, const CurrentSession *current) {
        static const char *const headers[] = { "ID", "DEVICE", "FROM", "LAST ACTIVE" };
        _cleanup_(table_freep) Table *table = table_new(4, headers);
        int64_t now = now_usec(CLOCK_REALTIME);
        int r = table ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < targets->count; i++) {
                const SessionRecord *record = &targets->records[i];
                _cleanup_(freep) char *device = session_device_text(record);
                char id[32], active[LAST_ACTIVE_MAX];

                snprintf(id, sizeof(id), "%" PRIu64 "%s", record->id, session_is_current(record, current) ? " (this one)" : "");
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

static int confirm(size_t count) {
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

static int end_one(sd_bus *daemon, sd_bus *logind, const SessionRecord *record, bool is_current) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *raw_device = session_device_text(record);
        /* Both from the record, printed to a terminal: sanitised like every table cell. */
        _cleanup_(freep) char *device = raw_device ? text_sanitize(raw_device) : NULL;
        _cleanup_(freep) char *from = text_sanitize(session_record_from(record, "local"));
        _cleanup_(freep) char *message = NULL;
        LogindSessionState state = LOGIND_SESSION_ACTIVE;
        int r;

        if (!from)
                return log_error_errno(ENOMEM, "Out of memory.");

        /* For the history; the daemon refuses a session that is not ours. */
        r = daemon_announce_logout(daemon, record->id);
        if (r < 0)
                return r;

        if (is_current) {
                printf("Logging out this session (%" PRIu64 ", %s from %s).\n", record->id, device ?: "?", from);
                fflush(stdout);
        }
        r = logind_terminate(logind, record->logind_session, &error);
        if (r == -ENOENT) {
                printf("Session %" PRIu64 " had already ended.\n", record->id);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "systemd-logind refused to end session %" PRIu64 ": %s", record->id,
                                       (message = text_sanitize(error.message ?: strerror(-r))) ?: "?");

        r = logind_wait_for_end(logind, record->logind_session, WAIT_FOR_END_USEC, &state);
        if (r < 0)
                return log_error_errno(r, "Cannot tell whether session %" PRIu64 " ended: %m", record->id);
        switch (state) {
        case LOGIND_SESSION_GONE:
                printf("Logged out session %" PRIu64 " (%s from %s).\n", record->id, device ?: "?", from);
                return 0;
        case LOGIND_SESSION_CLOSING:
                printf("Logged out session %" PRIu64 " (%s from %s); its processes are still exiting.\n",
                       record->id, device ?: "?", from);
                return 0;
        case LOGIND_SESSION_ACTIVE:
                break;
        }
        return log_error_errno(ETIMEDOUT, "Session %" PRIu64 " is still active %d s after logind was asked to end it.",
                               record->id, (int) (WAIT_FOR_END_USEC / USEC_PER_SEC));
}

int logout_sessions(sd_bus *daemon, const LogoutRequest *request) {
        _cleanup_(current_session_done) CurrentSession current = {};
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *logind = NULL;
        _cleanup_(targets_done) Targets targets = {};
        int failed = 0, r;

        current_session_find(&current);
        r = request->mode == LOGOUT_NAMED ? collect_named(daemon, request, &current, &targets)
                                          : collect_by_user(daemon, request, &current, &targets);
        if (r < 0)
                return r;
        if (targets.count > 0) {
                r = logind_connect(&logind);
                if (r < 0)
                        return r;
                r = drop_ended(logind, request, &targets);
                if (r < 0)
                        return r;
        }
        if (targets.count == 0) {
                if (request->mode != LOGOUT_NAMED)
                        puts(request->mode == LOGOUT_OTHERS ? "There are no other sessions to log out."
                                                            : "There are no sessions to log out.");
                return 0;
        }

        r = print_targets(&targets, &current);
        if (r < 0)
                return r;
        if (!request->assume_yes) {
                r = confirm(targets.count);
                if (r <= 0)
                        return r < 0 ? r : -ECANCELED;
        }

        for (size_t i = 0; i < targets.count; i++) {
                const SessionRecord *record = &targets.records[i];

                r = end_one(daemon, logind, record, session_is_current(record, &current));
                if (r < 0)
                        failed = r;
        }
        return failed;
}
