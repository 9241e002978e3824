/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "log.h"
#include "revocations.h"

/* A few at a time: each is a call to sessmgrd and an update; more wait for the next round,
 * which comes at once (the agent asks again while it answered a full page). */
#define REVOCATIONS_PAGE 100
#define STRINGIFY_VALUE(x) #x
#define STRINGIFY(x) STRINGIFY_VALUE(x)

enum {
        COLUMN_ID,
        COLUMN_SESSION,
        COLUMN_USER,
        COLUMN_REQUESTER_USER,
        COLUMN_REQUESTER_SESSION,
        COLUMN_REQUESTER_ADDRESS,
        COLUMN_REQUESTER_HOST,
        COLUMN_EXPIRED,
};

static const char pending_sql[] =
        "SELECT id, target_session_id, target_user_name, requester_user_name, requester_session_id, "
        "requester_address, requester_host_name, expires_at <= now() "
        "FROM sessmgr.revocations WHERE target_machine_id = $1 AND state = 'pending' ORDER BY id LIMIT " STRINGIFY(REVOCATIONS_PAGE);

/* Once: a request answered meanwhile (by sessmgr.expire_revocations()) is left as it is. */
static const char answer_sql[] =
        "UPDATE sessmgr.revocations SET state = $2, outcome = $3 WHERE id = $1 AND state = 'pending'";

char *revocation_reason(uint64_t requester_session, const char *requester_user, const char *host,
                        const char *address) {
        char *reason;
        int r;

        if (requester_session > 0)
                r = asprintf(&reason, "revoked by session %" PRIu64 " on %s%s%s", requester_session, host,
                             isempty(address) ? "" : " from ", isempty(address) ? "" : address);
        else
                r = asprintf(&reason, "revoked by %s on %s", requester_user, host);
        return r < 0 ? NULL : reason;
}

/* sessmgrd's outcome -> the request's state and outcome; NULL state: leave it pending
 * (logind could not be asked: try again at the next round, until it expires). */
static void map_outcome(const char *outcome, const char **ret_state, const char **ret_text) {
        static const struct {
                const char *outcome, *state, *text;
        } table[] = {
                { "logged-out",  "done",    "logged out" },
                { "gone",        "gone",    "the session had already ended" },
                { "refused",     "refused", "refused: the session belongs to another user" },
                { "unsupported", "refused", "unsupported: not a session systemd-logind knows" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcmp(outcome, table[i].outcome) == 0) {
                        *ret_state = table[i].state;
                        *ret_text = table[i].text;
                        return;
                }
        *ret_state = *ret_text = NULL;
}

static int answer(Database *database, const char *id, const char *state, const char *text, RoundError *error) {
        const char *params[] = { id, state, text };
        char *message = NULL;
        int r;

        r = database_exec(database->connection, answer_sql, 3, params, PGRES_COMMAND_OK, NULL, &message);
        if (r < 0)
                return round_fail(error, ROUND_DATABASE, r, message);
        log_info("fleet revocation request %s: %s (%s)", id, state, text);
        return 1;
}

/* 1: answered, 0: left pending for a later round. */
static int apply_one(Database *database, sd_bus *bus, PGresult *result, int row, RoundError *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error bus_error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *reason = NULL, *outcome = NULL;
        const char *id = PQgetvalue(result, row, COLUMN_ID), *state, *text;
        uint64_t session, requester_session;
        int r;

        if (strcmp(PQgetvalue(result, row, COLUMN_EXPIRED), "t") == 0)
                return answer(database, id, "expired", "expired before its machine took it", error);

        if (sscanf(PQgetvalue(result, row, COLUMN_SESSION), "%" SCNu64, &session) != 1 ||
            sscanf(PQgetvalue(result, row, COLUMN_REQUESTER_SESSION), "%" SCNu64, &requester_session) != 1)
                return round_fail(error, ROUND_DATABASE, -EBADMSG, strdup("a revocation request without numbers"));
        reason = revocation_reason(requester_session, PQgetvalue(result, row, COLUMN_REQUESTER_USER),
                                   PQgetvalue(result, row, COLUMN_REQUESTER_HOST),
                                   PQgetisnull(result, row, COLUMN_REQUESTER_ADDRESS) ? NULL :
                                   PQgetvalue(result, row, COLUMN_REQUESTER_ADDRESS));
        if (!reason)
                return round_fail(error, ROUND_FEED, -ENOMEM, NULL);

        /* Always the user the request names, an administrator's too: the database checked
         * it against the session's row, and sessmgrd refuses a session of anyone else, so a
         * row that lies about its user cannot turn into ending another user's session. */
        r = feed_apply_revocation(bus, session, PQgetvalue(result, row, COLUMN_USER), reason, &outcome, &bus_error);
        if (r < 0)
                return round_fail(error, ROUND_FEED, r,
                                  sd_bus_error_is_set(&bus_error) ? strdup(bus_error.message) : NULL);

        map_outcome(outcome, &state, &text);
        if (!state) {
                log_warning("fleet revocation request %s: sessmgrd answered \"%s\"; trying again later", id,
                            outcome);
                return 0;
        }
        return answer(database, id, state, text, error);
}

int revocations_round(Database *database, sd_bus *bus, unsigned *ret_answered, bool *ret_more, RoundError *error) {
        _cleanup_(PQclearp) PGresult *result = NULL;
        const char *params[] = { database->machine_id };
        char *message = NULL;
        unsigned answered = 0;
        int r;

        *ret_answered = 0;
        *ret_more = false;
        r = database_exec(database->connection, pending_sql, 1, params, PGRES_TUPLES_OK, &result, &message);
        if (r < 0)
                return round_fail(error, ROUND_DATABASE, r, message);

        for (int row = 0; row < PQntuples(result); row++) {
                r = apply_one(database, bus, result, row, error);
                if (r < 0)
                        return r;
                answered += r;
        }
        *ret_answered = answered;
        /* A full page of which some were answered: the next page at once. */
        *ret_more = PQntuples(result) >= REVOCATIONS_PAGE && answered > 0;
        return 0;
}
