/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "methods-fleet.h"
#include "protocol.h"

/* Routes each call of org.sessmgr.Manager1 to its handler, after checking the access the
 * method table declares for it (OpenSSH's monitor dispatch table does the same): a
 * handler never decides who may call it. Dispatched by hand rather than through an sd-bus
 * vtable: registering a vtable costs sd-bus a set of hash table entries on every new
 * connection, a sixth of what a connection costs sessmgrd, and every login brings two. */

static const char *const access_names[_ACCESS_MAX] = {
        [ACCESS_UNDECLARED] = "undeclared",
        [ACCESS_ROOT] = "root",
        [ACCESS_OWN_UID] = "own-uid",
        [ACCESS_OWN_SESSION] = "own-session",
        [ACCESS_FLEET] = "fleet",
};

const char *method_access_to_string(MethodAccess access) {
        return access >= 0 && access < _ACCESS_MAX ? access_names[access] : NULL;
}

int reply_store_read_failed(int error_number, sd_bus_error *error) {
        return sd_bus_error_setf(error, SESSMGR_ERROR_STORE, "The session database could not be read: %s",
                                 strerror(error_number));
}

int reply_no_such_session(uint64_t id, sd_bus_error *error) {
        return sd_bus_error_setf(error, SESSMGR_ERROR_NO_SUCH_SESSION, "No session %" PRIu64 ".", id);
}

static int check_own_uid(Call *call, uid_t peer_uid, sd_bus_error *error) {
        int r;

        r = sd_bus_message_read_basic(call->message, 'u', &call->uid);
        if (r < 0)
                return r;
        if (peer_uid == 0 || call->uid == peer_uid)
                return 0;
        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "You may only list your own sessions.");
}

static int check_own_session(Call *call, uid_t peer_uid, sd_bus_error *error) {
        uint64_t id;
        int r;

        r = sd_bus_message_read_basic(call->message, 't', &id);
        if (r < 0)
                return r;
        r = store_get_session(call->manager->store, id, &call->session);
        if (r == -ENOENT || (r >= 0 && peer_uid != 0 && call->session.uid != peer_uid))
                return reply_no_such_session(id, error);
        if (r < 0)
                return reply_store_read_failed(-r, error);
        return 0;
}

/* The uid AgentUser= had at start is the agent's only while that name still has it: a
 * deleted agent's uid that useradd gives to a new user carries no fleet rights. */
static bool is_fleet_agent(const Manager *manager, uid_t peer_uid) {
        const struct passwd *entry;

        if (peer_uid != manager->fleet_agent_uid || !manager->config.fleet_agent_user)
                return false;
        entry = getpwuid(peer_uid);
        return entry && streq_ptr(entry->pw_name, manager->config.fleet_agent_user);
}

static int check_access(const Method *method, Call *call, sd_bus_error *error) {
        uid_t peer_uid = call->connection->peer_uid;

        switch (method->access) {
        case ACCESS_ROOT:
                if (peer_uid == 0)
                        return 0;
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Only root may call %s.", method->member);
        case ACCESS_FLEET:
                if (peer_uid == 0 || is_fleet_agent(call->manager, peer_uid))
                        return 0;
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Only root and the fleet agent may call %s.", method->member);
        case ACCESS_OWN_UID:
                return check_own_uid(call, peer_uid, error);
        case ACCESS_OWN_SESSION:
                return check_own_session(call, peer_uid, error);
        case ACCESS_UNDECLARED:
        default:
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "%s declares no access: refused.", method->member);
        }
}

static void call_done(Call *call) {
        session_record_done(&call->session);
}

static const Method *find_method(const char *member) {
        for (size_t i = 0; i < manager_methods_count; i++)
                if (strcmp(manager_methods[i].member, member) == 0)
                        return &manager_methods[i];
        for (size_t i = 0; i < fleet_methods_count; i++)
                if (strcmp(fleet_methods[i].member, member) == 0)
                        return &fleet_methods[i];
        return NULL;
}

int manager_dispatch(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *interface = sd_bus_message_get_interface(message), *member = sd_bus_message_get_member(message);
        _cleanup_(call_done) Call call = {
                .message = message,
                .connection = userdata,
                .manager = ((Connection *) userdata)->manager,
                .session = SESSION_RECORD_INIT,
        };
        const Method *method;
        int r;

        /* Anything else sd-bus answers itself (Peer.Ping, or "unknown method"). */
        if (!sd_bus_message_is_method_call(message, NULL, NULL) || !member ||
            (interface && strcmp(interface, SESSMGR_INTERFACE) != 0))
                return 0;
        method = find_method(member);
        if (!method)
                return 0;

        if (!sd_bus_message_has_signature(message, method->signature))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid arguments '%s' to call %s(), expecting '%s'.",
                                         sd_bus_message_get_signature(message, true), member, method->signature);
        r = check_access(method, &call, error);
        if (r >= 0)
                r = method->handler(&call, error);
        /* Root's calls that wait for no answer (the module's end of a session): a refusal
         * would go nowhere, so it goes to the log. Only root's, lest users fill the log. */
        if ((r < 0 || sd_bus_error_is_set(error)) && !sd_bus_message_get_expect_reply(message) &&
            call.connection->peer_uid == 0)
                log_info("%s from process %d refused: %s", member, (int) call.connection->peer_pid,
                         sd_bus_error_is_set(error) ? error->message : strerror(-r));
        /* Answered, or failed: either way not for sd-bus to look further. */
        return r < 0 || sd_bus_error_is_set(error) ? r : 1;
}
