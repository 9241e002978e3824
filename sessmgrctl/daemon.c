/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "daemon.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"
#include "time-format.h"

/* A person is waiting, but a hung daemon must not hang the terminal either. */
#define CALL_TIMEOUT_USEC (10 * USEC_PER_SEC)

static const char *connected_socket;

/* What the last failure said, for logout's results. */
static char last_error[512];
static bool last_error_no_such_session;

/* Prints the message and keeps it; "%m" says what r is. Returns r. */
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

static int report(int r, const sd_bus_error *error) {
        last_error_no_such_session = sd_bus_error_has_name(error, SESSMGR_ERROR_NO_SUCH_SESSION);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return fail(r, "sessmgrd is not running (cannot connect to %s: %m).", connected_socket);
        if (r == -EACCES || r == -EPERM) {
                if (error && sd_bus_error_is_set(error))
                        return fail(r, "Permission denied: %s", error->message);
                return fail(r, "Permission denied connecting to %s.", connected_socket);
        }
        if (r == -ETIMEDOUT)
                return fail(r, "sessmgrd did not answer within %d s.", (int) (CALL_TIMEOUT_USEC / USEC_PER_SEC));
        if (error && sd_bus_error_is_set(error))
                return fail(r, "%s", error->message ?: error->name);
        return fail(r, "Talking to sessmgrd failed: %m");
}

const char *daemon_last_error(bool *ret_no_such_session) {
        if (ret_no_such_session)
                *ret_no_such_session = last_error_no_such_session;
        return last_error;
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
        last_error_no_such_session = false;
        return fail(r, "sessmgrd sent a reply this sessmgrctl cannot read: %m");
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
