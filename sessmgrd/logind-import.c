/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logind-import.h"
#include "time-format.h"

/* A logind session as a sessmgr record: what "loginctl show-session" says about it. */

typedef struct SessionProperties {
        const char *id, *name, *service, *tty, *remote_host, *class, *state, *display, *desktop;
        const char *seat;
        uint32_t uid, vt, leader;
        uint64_t timestamp;
        int remote;
} SessionProperties;

bool logind_session_id_valid(const char *id) {
        size_t length = id ? strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") : 0;

        return length > 0 && length <= LOGIND_SESSION_ID_MAX && id[length] == '\0';
}

/* A variant holding one basic value; the basic calls, since 10,000 sessions at start
 * made sd_bus_message_read()'s format parsing show. */
static int read_variant(sd_bus_message *m, char type, void *ret) {
        const char signature[2] = { type, 0 };
        int r;

        r = sd_bus_message_enter_container(m, 'v', signature);
        if (r <= 0)
                return r < 0 ? r : -ENXIO;
        r = sd_bus_message_read_basic(m, type, ret);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_string(sd_bus_message *m, const char **ret) {
        return read_variant(m, 's', ret);
}

static int read_property(sd_bus_message *m, const char *name, SessionProperties *p) {
        const char *ignored;

        if (strcmp(name, "Id") == 0)
                return read_string(m, &p->id);
        if (strcmp(name, "Name") == 0)
                return read_string(m, &p->name);
        if (strcmp(name, "Service") == 0)
                return read_string(m, &p->service);
        if (strcmp(name, "TTY") == 0)
                return read_string(m, &p->tty);
        if (strcmp(name, "RemoteHost") == 0)
                return read_string(m, &p->remote_host);
        if (strcmp(name, "Class") == 0)
                return read_string(m, &p->class);
        if (strcmp(name, "Display") == 0)
                return read_string(m, &p->display);
        if (strcmp(name, "Desktop") == 0)
                return read_string(m, &p->desktop);
        if (strcmp(name, "State") == 0)
                return read_string(m, &p->state);
        if (strcmp(name, "Remote") == 0)
                return read_variant(m, 'b', &p->remote);
        if (strcmp(name, "VTNr") == 0)
                return read_variant(m, 'u', &p->vt);
        if (strcmp(name, "Leader") == 0)
                return read_variant(m, 'u', &p->leader);
        if (strcmp(name, "Timestamp") == 0)
                return read_variant(m, 't', &p->timestamp);
        if (strcmp(name, "User") == 0)
                return sd_bus_message_read(m, "v", "(uo)", &p->uid, &ignored);
        if (strcmp(name, "Seat") == 0)
                return sd_bus_message_read(m, "v", "(so)", &p->seat, &ignored);
        return sd_bus_message_skip(m, "v");
}

static int read_properties(sd_bus_message *m, SessionProperties *p) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read_basic(m, 's', &name);
                if (r < 0)
                        return r;
                r = read_property(m, name, p);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int logind_read_state_change(sd_bus_message *message, const char **ret_state) {
        SessionProperties properties = {};
        int r;

        r = read_properties(message, &properties);
        if (r < 0)
                return r;
        *ret_state = properties.state;
        return 0;
}

static bool is_numeric_address(const char *text) {
        unsigned char binary[sizeof(struct in6_addr)];

        return text && (inet_pton(AF_INET, text, binary) == 1 || inet_pton(AF_INET6, text, binary) == 1);
}

static int properties_to_record(const SessionProperties *p, SessionRecord *record) {
        int64_t now = now_usec(CLOCK_REALTIME);
        const char *reason;

        record->uid = p->uid;
        record->vt = p->vt;
        record->leader_pid = p->leader;
        record->login_time_usec = p->timestamp > 0 && p->timestamp < (uint64_t) now ? (int64_t) p->timestamp : now;
        record->last_active_usec = record->login_time_usec;
        record->state = p->state && strcmp(p->state, "closing") == 0 ? SESSION_CLOSING : SESSION_ACTIVE;
        if (record->state == SESSION_CLOSING)
                record->end_time_usec = now;

        if (record_set_string(&record->origin, "logind") < 0 ||
            record_set_string(&record->logind_session, p->id) < 0 ||
            record_set_string(&record->user, p->name) < 0 ||
            record_set_string(&record->service, p->service) < 0 ||
            record_set_string(&record->tty, p->tty) < 0 ||
            record_set_string(&record->seat, p->seat) < 0 ||
            record_set_string(&record->display, p->display) < 0 ||
            record_set_string(&record->desktop, p->desktop) < 0 ||
            record_set_string(&record->last_active_source, "login") < 0 ||
            record_set_string(&record->remote_host, p->remote ? p->remote_host : NULL) < 0 ||
            record_set_string(&record->remote_address,
                              p->remote && is_numeric_address(p->remote_host) ? p->remote_host : NULL) < 0)
                return -ENOMEM;

        /* logind's strings come from other PAM clients: made safe like ours. */
        if (session_record_make_safe(record) < 0)
                return -ENOMEM;
        if (session_record_validate(record, &reason) < 0)
                return log_warning_errno(EINVAL, "not importing logind session %s: %s", p->id ?: "?", reason);
        return 0;
}

static void import_session(Logind *logind, sd_bus_message *reply) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        SessionProperties properties = {};
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                /* Gone before we asked: SessionRemoved takes care of it. Anything else
                 * (a refusal, a lost bus) must not pass for that silently. */
                if (!sd_bus_message_is_method_error(reply, SD_BUS_ERROR_UNKNOWN_OBJECT))
                        log_warning("cannot read the properties of a logind session: %s",
                                    sd_bus_message_get_error(reply)->message ?: sd_bus_message_get_error(reply)->name);
                return;
        }

        r = read_properties(reply, &properties);
        if (r < 0 || !logind_session_id_valid(properties.id) || !properties.name) {
                log_warning("cannot read the properties of a logind session: %s", strerror(r < 0 ? -r : EBADMSG));
                return;
        }
        /* Greeters, lock screens and background sessions are not logins of a person. */
        if (!properties.class || strcmp(properties.class, "user") != 0)
                return;

        if (properties_to_record(&properties, &record) >= 0)
                logind_import(logind, &record);
}

static int on_session_properties(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        import_session(userdata, reply);
        logind_fetch_done(userdata);
        return 0;
}

int logind_fetch_session(Logind *logind, sd_bus *bus, const char *logind_session) {
        _cleanup_(freep) char *path = NULL;
        int r;

        r = sd_bus_path_encode("/org/freedesktop/login1/session", logind_session, &path);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(bus, NULL, "org.freedesktop.login1", path,
                                        "org.freedesktop.DBus.Properties", "GetAll",
                                        on_session_properties, logind, "s", "org.freedesktop.login1.Session");
}
