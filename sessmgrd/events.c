/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

#include "events.h"
#include "macro.h"

#define FIELDS_MAX 16

/* A journal entry being put together, field by field. */
typedef struct Entry {
        struct iovec fields[FIELDS_MAX];
        size_t count;
} Entry;

_printf_(2, 3)
static void add(Entry *entry, const char *format, ...) {
        char *text = NULL;
        va_list ap;
        int n;

        if (entry->count == FIELDS_MAX)
                return;
        va_start(ap, format);
        n = vasprintf(&text, format, ap);
        va_end(ap);
        if (n < 0)
                return;
        entry->fields[entry->count++] = (struct iovec) { .iov_base = text, .iov_len = (size_t) n };
}

static const char *from_of(const SessionRecord *record) {
        return record->remote_address ?: record->remote_host ?: "local";
}

/* The fields every event of a session has. */
static void add_session(Entry *entry, const SessionRecord *record) {
        add(entry, "PRIORITY=%i", LOG_INFO);
        add(entry, "SESSMGR_SESSION=%" PRIu64, record->id);
        add(entry, "SESSMGR_USER=%s", record->user);
        add(entry, "SESSMGR_UID=%u", (unsigned) record->uid);
        add(entry, "SESSMGR_SERVICE=%s", record->service ?: "");
        add(entry, "SESSMGR_TTY=%s", record->tty ?: "");
        add(entry, "SESSMGR_FROM=%s", from_of(record));
        add(entry, "SESSMGR_REMOTE_PORT=%u", (unsigned) record->remote_port);
        add(entry, "SESSMGR_LOGIND_SESSION=%s", record->logind_session ?: "");
}

static void send_entry(Entry *entry) {
        (void) sd_journal_sendv(entry->fields, (int) entry->count);
        for (size_t i = 0; i < entry->count; i++)
                free(entry->fields[i].iov_base);
}

void event_login(const SessionRecord *record) {
        Entry entry = {};

        add(&entry, "MESSAGE_ID=" EVENT_LOGIN);
        add(&entry, "MESSAGE=%s logged in from %s (%s, session %" PRIu64 ")",
            record->user, from_of(record), record->service ?: "unknown", record->id);
        add_session(&entry, record);
        send_entry(&entry);
}

void event_end(const SessionRecord *record) {
        const char *reason = record->end_reason ?: "logout";
        int64_t duration = record->end_time_usec > record->login_time_usec ?
                           record->end_time_usec - record->login_time_usec : 0;
        Entry entry = {};

        add(&entry, "MESSAGE_ID=%s", strncmp(reason, "revoked", 7) == 0 ? EVENT_REVOKE :
                                     strcmp(reason, "idle") == 0 ? EVENT_IDLE : EVENT_LOGOUT);
        add(&entry, "MESSAGE=session %" PRIu64 " of %s from %s ended: %s",
            record->id, record->user, from_of(record), reason);
        add_session(&entry, record);
        add(&entry, "SESSMGR_END_REASON=%s", reason);
        add(&entry, "SESSMGR_DURATION_USEC=%" PRIi64, duration);
        send_entry(&entry);
}
