/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <string.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

#include "events.h"

static const char *from_of(const SessionRecord *record) {
        return record->remote_address ?: record->remote_host ?: "local";
}

void event_login(const SessionRecord *record) {
        (void) sd_journal_send("MESSAGE_ID=" EVENT_LOGIN,
                               "PRIORITY=%i", LOG_INFO,
                               "MESSAGE=%s logged in from %s (%s, session %" PRIu64 ")",
                               record->user, from_of(record), record->service ?: "unknown", record->id,
                               "SESSMGR_SESSION=%" PRIu64, record->id,
                               "SESSMGR_USER=%s", record->user,
                               "SESSMGR_UID=%u", (unsigned) record->uid,
                               "SESSMGR_SERVICE=%s", record->service ?: "",
                               "SESSMGR_TTY=%s", record->tty ?: "",
                               "SESSMGR_FROM=%s", from_of(record),
                               "SESSMGR_REMOTE_PORT=%u", (unsigned) record->remote_port,
                               "SESSMGR_LOGIND_SESSION=%s", record->logind_session ?: "",
                               NULL);
}

void event_end(const SessionRecord *record) {
        const char *reason = record->end_reason ?: "logout";
        const char *message_id = strncmp(reason, "revoked", 7) == 0 ? EVENT_REVOKE :
                                 strcmp(reason, "idle") == 0 ? EVENT_IDLE : EVENT_LOGOUT;
        int64_t duration = record->end_time_usec > record->login_time_usec ?
                           record->end_time_usec - record->login_time_usec : 0;

        (void) sd_journal_send("MESSAGE_ID=%s", message_id,
                               "PRIORITY=%i", LOG_INFO,
                               "MESSAGE=session %" PRIu64 " of %s from %s ended: %s",
                               record->id, record->user, from_of(record), reason,
                               "SESSMGR_SESSION=%" PRIu64, record->id,
                               "SESSMGR_USER=%s", record->user,
                               "SESSMGR_UID=%u", (unsigned) record->uid,
                               "SESSMGR_SERVICE=%s", record->service ?: "",
                               "SESSMGR_TTY=%s", record->tty ?: "",
                               "SESSMGR_FROM=%s", from_of(record),
                               "SESSMGR_REMOTE_PORT=%u", (unsigned) record->remote_port,
                               "SESSMGR_LOGIND_SESSION=%s", record->logind_session ?: "",
                               "SESSMGR_END_REASON=%s", reason,
                               "SESSMGR_DURATION_USEC=%" PRIi64, duration,
                               NULL);
}
