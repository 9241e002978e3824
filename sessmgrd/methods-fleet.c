/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "manager.h"
#include "methods-fleet.h"
#include "text.h"

/* The two methods of the fleet agent (sessmgr-fleet, its own user, no privilege): read
 * what changed, and ask for a revocation that came from another machine. The agent is
 * trusted with no more: it cannot write a record, and a revocation it forwards ends a
 * session only through logind, only of the user the request names, and says who asked. */

#define CHANGES_LIMIT_MAX 1000
#define REVOKE_REASON_MAX 200

static int method_get_changes(Call *call, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *feed = NULL;
        Manager *manager = call->manager;
        SessionRecord *records = NULL;
        uint64_t after, cursor = 0;
        uint32_t limit;
        size_t count = 0;
        int r;

        r = sd_bus_message_read(call->message, "tu", &after, &limit);
        if (r < 0)
                return r;
        if (limit == 0 || limit > CHANGES_LIMIT_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "The limit must be from 1 to %d.",
                                         CHANGES_LIMIT_MAX);
        r = store_get_feed_identity(manager->store, &feed);
        if (r >= 0)
                r = store_list_changes(manager->store, after, limit, &records, &count, &cursor);
        if (r < 0)
                return r == -ENOMEM ? r : reply_store_read_failed(-r, error);

        r = sd_bus_message_new_method_return(call->message, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "st", feed, cursor);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < count; i++)
                r = session_record_append(reply, &records[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        session_record_array_free(records, count);
        if (r < 0)
                return r;
        /* After any commit still open, as every reply (the store leaves out what is not on
         * disk yet, which that commit is not either). */
        return sessions_reply(manager->sessions, call->message, reply);
}

static int reply_outcome(Call *call, const char *outcome) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call->message, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", outcome);
        if (r < 0)
                return r;
        return sessions_reply(call->manager->sessions, call->message, reply);
}

/* ApplyRevocation(id, user, reason): user is the name the request was made for, always
 * (an administrator's offboarding names the user too); reason says who asked, from
 * where. A request must name the session's own user: a compromised agent can then end
 * only sessions it names correctly, one at a time, each one logged. */
static int method_apply_revocation(Call *call, sd_bus_error *error) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        _cleanup_(freep) char *reason = NULL;
        Manager *manager = call->manager;
        const char *user, *asked;
        uint64_t id;
        int r;

        r = sd_bus_message_read(call->message, "tss", &id, &user, &asked);
        if (r < 0)
                return r;
        reason = text_escape(asked, REVOKE_REASON_MAX, 0);
        if (!reason)
                return -ENOMEM;

        r = store_get_session(manager->store, id, &record);
        if (r == -ENOENT || (r >= 0 && record.state == SESSION_CLOSED))
                return reply_outcome(call, "gone");
        if (r < 0)
                return reply_store_read_failed(-r, error);
        if (strcmp(user, record.user) != 0) {
                /* The name is the agent's word: escaped like the reason before it is logged. */
                _cleanup_(freep) char *named = text_escape(user, REVOKE_REASON_MAX, 0);

                log_warning("fleet revocation of session %" PRIu64 " refused: it belongs to %s, not to %s (%s)",
                            id, record.user, named ?: "?", reason);
                return reply_outcome(call, "refused");
        }
        /* su and sudo -i share the logind session of the login they ran in, which may be
         * another user's: ending it would end that login (sessmgrctl logout refuses too). */
        if (record.parent_id > 0) {
                log_warning("fleet revocation of session %" PRIu64 " refused: it runs inside session %" PRIu64
                            " and ends with it (%s)", id, record.parent_id, reason);
                return reply_outcome(call, "unsupported");
        }
        if (!record.logind_session || !manager->logind) {
                log_warning("fleet revocation of session %" PRIu64 " refused: systemd-logind does not know it (%s)",
                            id, reason);
                return reply_outcome(call, "unsupported");
        }

        log_info("revoking session %" PRIu64 " of %s for the fleet: %s", id, record.user, reason);
        /* The reason first, so the end logind reports is recorded with it. */
        r = sessions_revoke(manager->sessions, NULL, id, reason, error);
        if (r < 0)
                return r;
        r = logind_terminate_session(manager->logind, record.logind_session);
        if (r < 0) {
                log_warning_errno(r, "cannot ask systemd-logind to end session %" PRIu64 ": %m", id);
                return reply_outcome(call, "failed");
        }
        return reply_outcome(call, "logged-out");
}

const Method fleet_methods[] = {
        { "GetChanges",      "tu",  ACCESS_FLEET, method_get_changes },
        { "ApplyRevocation", "tss", ACCESS_FLEET, method_apply_revocation },
};
const size_t fleet_methods_count = ELEMENTSOF(fleet_methods);
