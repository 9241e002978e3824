/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "client.h"
#include "daemon.h"
#include "log.h"
#include "macro.h"
#include "time-format.h"

/* A person is waiting, but a hung daemon must not hang the terminal either. */
#define CALL_TIMEOUT_USEC (10 * USEC_PER_SEC)

static const char *connected_socket;

static int report(int r, const sd_bus_error *error) {
        if (r == -ENOENT || r == -ECONNREFUSED)
                return log_error_errno(r, "sessmgrd is not running (cannot connect to %s: %m).", connected_socket);
        if (r == -EACCES || r == -EPERM) {
                if (error && sd_bus_error_is_set(error))
                        return log_error_errno(r, "Permission denied: %s", error->message);
                return log_error_errno(r, "Permission denied connecting to %s.", connected_socket);
        }
        if (r == -ETIMEDOUT)
                return log_error_errno(r, "sessmgrd did not answer within %d s.", (int) (CALL_TIMEOUT_USEC / USEC_PER_SEC));
        if (error && sd_bus_error_is_set(error))
                return log_error_errno(r, "%s", error->message ?: error->name);
        return log_error_errno(r, "Talking to sessmgrd failed: %m");
}

int daemon_connect(const char *socket_path, sd_bus **ret) {
        int r;

        connected_socket = socket_path;
        r = sessmgr_connect(socket_path, ret);
        return r < 0 ? report(r, NULL) : 0;
}

static int call(sd_bus *bus, sd_bus_message *m, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sessmgr_call(bus, m, now_usec(CLOCK_MONOTONIC) + CALL_TIMEOUT_USEC, &error, ret_reply);
        /* A connection the daemon dropped during authentication looks like a reset. */
        if (r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN)
                r = -ECONNREFUSED;
        return r < 0 ? report(r, &error) : 0;
}

static int malformed_reply(int r) {
        return log_error_errno(r, "sessmgrd sent a reply this sessmgrctl cannot read: %m");
}

/* Reads a list reply (an array of record structs) into an array of records. */
static int read_records(sd_bus_message *reply, SessionRecord **ret, size_t *ret_count) {
        SessionRecord *records = NULL;
        size_t count = 0, allocated = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', SESSION_RECORD_STRUCT);
        while (r >= 0) {
                SessionRecord *record = session_record_array_add(&records, &count, &allocated);

                r = record ? session_record_read_struct(reply, record) : -ENOMEM;
                if (r <= 0)
                        break;
        }
        /* The last slot holds no record: the end of the list, or one read halfway. */
        if (count > 0 && r <= 0)
                session_record_done(&records[--count]);
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                session_record_array_free(records, count);
                return malformed_reply(r);
        }

        *ret = records;
        *ret_count = count;
        return 0;
}

/* Calls member with arguments of the given signature; prints why when it fails. */
static int call_method(sd_bus *bus, const char *member, sd_bus_message **ret_reply, const char *signature, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sessmgr_new_method_call(bus, &m, member);
        if (r >= 0) {
                va_start(ap, signature);
                r = sd_bus_message_appendv(m, signature, ap);
                va_end(ap);
        }
        if (r < 0)
                return report(r, NULL);
        return call(bus, m, ret_reply);
}

int daemon_list_sessions(sd_bus *bus, uint32_t uid, SessionRecord **ret, size_t *ret_count) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = call_method(bus, "ListSessions", &reply, "u", uid);
        return r < 0 ? r : read_records(reply, ret, ret_count);
}

int daemon_list_history(sd_bus *bus, uint32_t uid, int64_t since_usec, uint32_t limit,
                        SessionRecord **ret, size_t *ret_count) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = call_method(bus, "ListHistory", &reply, "uxu", uid, since_usec, limit);
        return r < 0 ? r : read_records(reply, ret, ret_count);
}

int daemon_get_session(sd_bus *bus, uint64_t id, SessionRecord *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = call_method(bus, "GetSession", &reply, "t", id);
        if (r < 0)
                return r;
        r = session_record_read(reply, ret);
        return r < 0 ? malformed_reply(r) : 0;
}

int daemon_announce_logout(sd_bus *bus, uint64_t id) {
        return call_method(bus, "AnnounceLogout", NULL, "t", id);
}
