/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "client.h"
#include "gather.h"
#include "macro.h"
#include "notice.h"
#include "options.h"
#include "protocol.h"
#include "record.h"
#include "time-format.h"

/* The module is loaded into sshd, login and display managers. Whatever sessmgrd does,
 * the login goes on: every failure ends in PAM_IGNORE and one line in the log, within
 * the configured timeout. No global state, no threads, no signal handlers. */

#define SESSION_ID_DATA "pam_sessmgr_session_id"

static void warn_option(void *userdata, const char *argument, const char *why) {
        pam_syslog(userdata, LOG_WARNING, "ignoring option \"%s\": %s", argument, why);
}

static void log_failure(pam_handle_t *handle, const PamOptions *options, const char *what,
                        int error, const sd_bus_error *bus_error) {
        if (error == -ENOENT || error == -ECONNREFUSED)
                pam_syslog(handle, LOG_WARNING, "%s: sessmgrd is not running (%s: %s)",
                           what, options->socket_path, strerror(-error));
        else if (error == -ETIMEDOUT)
                pam_syslog(handle, LOG_WARNING, "%s: sessmgrd did not answer within %u ms",
                           what, options->timeout_msec);
        else if (bus_error && sd_bus_error_is_set(bus_error))
                pam_syslog(handle, LOG_WARNING, "%s: sessmgrd refused: %s (%s)",
                           what, bus_error->message ?: "", bus_error->name);
        else
                pam_syslog(handle, LOG_WARNING, "%s: %s", what, strerror(-error));
}

/* One connection to sessmgrd, for all the calls of one PAM step, under one deadline. */
typedef struct DaemonConnection {
        sd_bus *bus;
        int64_t deadline_usec;
} DaemonConnection;

static void daemon_connection_done(DaemonConnection *connection) {
        connection->bus = sd_bus_close_unref(connection->bus);
}

static int daemon_connection_open(const PamOptions *options, DaemonConnection *ret) {
        *ret = (DaemonConnection) {
                .deadline_usec = now_usec(CLOCK_MONOTONIC) + (int64_t) options->timeout_msec * USEC_PER_MSEC,
        };
        return sessmgr_connect(options->socket_path, &ret->bus);
}

typedef int (*FillMessage)(sd_bus_message *m, const void *data);

static int new_call(DaemonConnection *connection, const char *member, FillMessage fill, const void *data,
                    sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sessmgr_new_method_call(connection->bus, &m, member);
        if (r < 0)
                return r;
        r = fill(m, data);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static int daemon_connection_call(DaemonConnection *connection, const char *member, FillMessage fill,
                                  const void *data, sd_bus_error *error, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_call(connection, member, fill, data, &m);
        if (r < 0)
                return r;
        return sessmgr_call(connection->bus, m, connection->deadline_usec, error, ret_reply);
}

/* The same, not waiting for an answer: the module does not wait for the end of a
 * session to be written. */
static int daemon_connection_send(DaemonConnection *connection, const char *member, FillMessage fill,
                                  const void *data) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_call(connection, member, fill, data, &m);
        if (r < 0)
                return r;
        return sessmgr_send(connection->bus, m, connection->deadline_usec);
}

static int fill_open(sd_bus_message *m, const void *data) {
        return session_record_append(m, data);
}

static int fill_close(sd_bus_message *m, const void *data) {
        return sd_bus_message_append(m, "ts", *(const uint64_t *) data, "logout");
}

static int fill_id(sd_bus_message *m, const void *data) {
        return sd_bus_message_append(m, "t", *(const uint64_t *) data);
}

/* The notice of option "notify": other sessions, and a client address never seen before.
 * Anything going wrong here only means no notice. */
static void show_login_notice(pam_handle_t *handle, DaemonConnection *connection, uint64_t id,
                              const SessionRecord *record, bool debug) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) char *text = NULL;
        _cleanup_(strv_freep) char **places = NULL;
        uint32_t others;
        int new_address, r;

        r = daemon_connection_call(connection, "GetLoginNotice", fill_id, &id, NULL, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "u", &others);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &places);
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &new_address);
        if (r >= 0)
                r = format_login_notice(others, places, new_address ? record->remote_address : NULL, &text);
        if (r < 0) {
                if (debug)
                        pam_syslog(handle, LOG_DEBUG, "no login notice: %s", strerror(-r));
                return;
        }
        if (text)
                (void) pam_info(handle, "%s", text);
}

static void free_session_id(pam_handle_t *handle, void *data, int error_status) {
        free(data);
}

_public_ int pam_sm_open_session(pam_handle_t *handle, int flags, int argc, const char **argv) {
        _cleanup_(daemon_connection_done) DaemonConnection connection = {};
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        _cleanup_(freep) uint64_t *stored_id = NULL;
        const void *data = NULL;
        PamOptions options;
        const char *reason;
        uint64_t id;
        int r;

        pam_options_parse(&options, argc, argv, warn_option, handle);

        /* One record per PAM session: the module listed twice in a stack (or an
         * application opening the session twice) must not leave a second record that no
         * close would ever end, since both share this handle's data. */
        if (pam_get_data(handle, SESSION_ID_DATA, &data) == PAM_SUCCESS && data) {
                if (options.debug)
                        pam_syslog(handle, LOG_DEBUG, "session %" PRIu64 " is recorded already for this PAM handle",
                                   *(const uint64_t *) data);
                return PAM_IGNORE;
        }

        r = gather_session_record(handle, &record, &reason);
        if (r < 0) {
                pam_syslog(handle, LOG_WARNING, "not recording session: %s", reason);
                return PAM_IGNORE;
        }

        r = daemon_connection_open(&options, &connection);
        if (r >= 0)
                r = daemon_connection_call(&connection, "OpenSession", fill_open, &record, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "t", &id);
        if (r < 0) {
                log_failure(handle, &options, "cannot record session", r, &error);
                return PAM_IGNORE;
        }

        stored_id = malloc(sizeof(*stored_id));
        if (!stored_id) {
                pam_syslog(handle, LOG_CRIT, "out of memory");
                return PAM_IGNORE;
        }
        *stored_id = id;
        if (pam_set_data(handle, SESSION_ID_DATA, stored_id, free_session_id) != PAM_SUCCESS) {
                pam_syslog(handle, LOG_WARNING, "cannot remember session %" PRIu64 " for its close", id);
                return PAM_IGNORE;
        }
        TAKE_PTR(stored_id);

        if (options.debug)
                pam_syslog(handle, LOG_DEBUG, "recorded session %" PRIu64 " for %s (logind session %s)",
                           id, record.user, record.logind_session ?: "none");
        if (options.notify && !(flags & PAM_SILENT))
                show_login_notice(handle, &connection, id, &record, options.debug);
        return PAM_SUCCESS;
}

_public_ int pam_sm_close_session(pam_handle_t *handle, int flags, int argc, const char **argv) {
        _cleanup_(daemon_connection_done) DaemonConnection connection = {};
        const void *data = NULL;
        PamOptions options;
        uint64_t id;
        int r;

        pam_options_parse(&options, argc, argv, warn_option, handle);

        if (pam_get_data(handle, SESSION_ID_DATA, &data) != PAM_SUCCESS || !data) {
                if (options.debug)
                        pam_syslog(handle, LOG_DEBUG, "no session was recorded, nothing to close");
                return PAM_IGNORE;
        }
        id = *(const uint64_t *) data;

        r = daemon_connection_open(&options, &connection);
        if (r >= 0)
                r = daemon_connection_send(&connection, "CloseSession", fill_close, &id);
        if (r < 0) {
                log_failure(handle, &options, "cannot record end of session", r, NULL);
                return PAM_IGNORE;
        }

        /* Closed once: a second close_session in the same handle must not repeat it. */
        pam_set_data(handle, SESSION_ID_DATA, NULL, NULL);
        if (options.debug)
                pam_syslog(handle, LOG_DEBUG, "sent the end of session %" PRIu64, id);
        return PAM_SUCCESS;
}
