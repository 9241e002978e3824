/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modutil.h>
#include <systemd/sd-login.h>

#include "gather.h"
#include "macro.h"
#include "parse-util.h"
#include "time-format.h"

int parse_ssh_connection(const char *value, char **ret_address, uint16_t *ret_port) {
        char address[INET6_ADDRSTRLEN], binary[sizeof(struct in6_addr)];
        const char *space, *end;
        unsigned long long port;
        char *copy;
        size_t length;

        if (!value)
                return -EINVAL;
        space = strchr(value, ' ');
        if (!space)
                return -EINVAL;
        length = (size_t) (space - value);
        if (length == 0 || length >= sizeof(address))
                return -EINVAL;
        memcpy(address, value, length);
        address[length] = '\0';

        /* Only a real address is accepted: this text ends up in the database and terminals. */
        if (inet_pton(AF_INET, address, binary) != 1 && inet_pton(AF_INET6, address, binary) != 1)
                return -EINVAL;

        /* "ADDRESS PORT LOCAL-ADDRESS LOCAL-PORT": the port ends at the next space. */
        if (parse_unsigned_prefix(space + 1, 1, 65535, &port, &end) < 0 || (*end != ' ' && *end != '\0'))
                return -EINVAL;

        copy = strdup(address);
        if (!copy)
                return -ENOMEM;
        *ret_address = copy;
        *ret_port = (uint16_t) port;
        return 0;
}

static int lookup_uid(pam_handle_t *handle, const char *user, uid_t *ret) {
        const struct passwd *entry;

        /* Re-entrant (PAM modules may run in threaded programs), and the entry stays with
         * the PAM handle for the other modules that ask. */
        entry = pam_modutil_getpwnam(handle, user);
        if (!entry)
                return -ESRCH;
        *ret = entry->pw_uid;
        return 0;
}

static const char *get_item_string(pam_handle_t *handle, int item) {
        const void *value = NULL;

        if (pam_get_item(handle, item, &value) != PAM_SUCCESS)
                return NULL;
        return value;
}

static unsigned parse_vt(const char *value) {
        unsigned long long vt;

        if (parse_unsigned(value, 0, 63, &vt) < 0)      /* the kernel has at most 63 VTs */
                return 0;
        return (unsigned) vt;
}

static int gather_logind(pam_handle_t *handle, SessionRecord *record) {
        _cleanup_(freep) char *session = NULL, *seat = NULL;
        const char *value;
        uid_t owner;
        unsigned vt = 0;
        int r;

        /* pam_systemd runs before us, creates the session and moves this process into it.
         * The process's cgroup is the kernel's word; XDG_SESSION_ID in the PAM environment
         * may come from the user's own files (pam_env user_readenv), so it is only
         * believed where it says the same. */
        r = sd_pid_get_session(0, &session);
        value = pam_getenv(handle, "XDG_SESSION_ID");
        /* In no session (pam_systemd could not move us): believed if logind says the
         * session it names is this user's. */
        if (r < 0 && !isempty(value) && sd_session_get_uid(value, &owner) >= 0 && owner == record->uid) {
                session = strdup(value);
                if (!session)
                        return -ENOMEM;
        }
        if (!isempty(value) && !streq_ptr(value, session))
                pam_syslog(handle, LOG_NOTICE, "ignoring XDG_SESSION_ID from the PAM environment: "
                           "this process is in logind session %s", session ?: "none");
        r = record_set_string(&record->logind_session, session);
        if (r < 0)
                return r;

        /* Seat and VT: logind's word for its session; the PAM environment only without one. */
        if (record->logind_session) {
                if (sd_session_get_seat(record->logind_session, &seat) >= 0 &&
                    record_set_string(&record->seat, seat) < 0)
                        return -ENOMEM;
                if (sd_session_get_vt(record->logind_session, &vt) >= 0)
                        record->vt = vt;
        } else {
                if (record_set_string(&record->seat, pam_getenv(handle, "XDG_SEAT")) < 0)
                        return -ENOMEM;
                record->vt = parse_vt(pam_getenv(handle, "XDG_VTNR"));
        }

        /* Graphical sessions: what logind knows of their display and desktop (it reads
         * them from files in /run, no bus round trip). */
        if (record->logind_session) {
                _cleanup_(freep) char *display = NULL, *desktop = NULL;

                if (sd_session_get_display(record->logind_session, &display) >= 0 &&
                    record_set_string(&record->display, display) < 0)
                        return -ENOMEM;
                if (sd_session_get_desktop(record->logind_session, &desktop) >= 0 &&
                    record_set_string(&record->desktop, desktop) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int gather_session_record(pam_handle_t *handle, SessionRecord *record, const char **ret_reason) {
        const char *user, *ssh_connection;
        int r;

        user = get_item_string(handle, PAM_USER);
        if (isempty(user)) {
                *ret_reason = "PAM has no user name";
                return -ENXIO;
        }
        r = lookup_uid(handle, user, &record->uid);
        if (r < 0) {
                *ret_reason = "the user is not in the user database";
                return r;
        }

        *ret_reason = "out of memory";
        if (record_set_string(&record->user, user) < 0 ||
            record_set_string(&record->service, get_item_string(handle, PAM_SERVICE)) < 0 ||
            record_set_string(&record->tty, get_item_string(handle, PAM_TTY)) < 0 ||
            record_set_string(&record->remote_host, get_item_string(handle, PAM_RHOST)) < 0 ||
            gather_logind(handle, record) < 0)
                return -ENOMEM;

        /* sshd exports the numeric client address even when PAM_RHOST is a name (UseDNS). */
        ssh_connection = pam_getenv(handle, "SSH_CONNECTION");
        if (ssh_connection) {
                r = parse_ssh_connection(ssh_connection, &record->remote_address, &record->remote_port);
                if (r == -ENOMEM)
                        return r;
        }

        record->leader_pid = (uint32_t) getpid();
        record->login_time_usec = now_usec(CLOCK_REALTIME);
        record->last_active_usec = record->login_time_usec;
        record->state = SESSION_ACTIVE;
        /* D-Bus carries valid UTF-8 only: a host name that is not must not keep the login
         * out of the records. sessmgrd does the same for every client. */
        if (session_record_make_safe(record) < 0)
                return -ENOMEM;
        *ret_reason = NULL;
        return 0;
}
