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
/* An entry quotes a record's strings (each at most RECORD_STRING_MAX bytes) nine times at
 * most, an end reason twice: a valid record always fits. */
#define TEXT_MAX (16 * RECORD_STRING_MAX)

/* One journal entry, its fields formatted into one block: an event costs one allocation,
 * not one per field. */
struct JournalEntry {
        struct iovec fields[FIELDS_MAX];
        size_t count;
        size_t used;
        char text[TEXT_MAX];
};

_printf_(2, 3)
static void add(JournalEntry *entry, const char *format, ...) {
        size_t room = sizeof(entry->text) - entry->used;
        va_list ap;
        int n;

        if (entry->count == FIELDS_MAX)
                return;
        va_start(ap, format);
        n = vsnprintf(entry->text + entry->used, room, format, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= room)
                return;         /* a field cut short would say something else: leave it out */
        entry->fields[entry->count++] = (struct iovec) { .iov_base = entry->text + entry->used, .iov_len = (size_t) n };
        entry->used += (size_t) n + 1;
}

/* The fields every event of a session has. */
static void add_session(JournalEntry *entry, const SessionRecord *record) {
        add(entry, "PRIORITY=%i", LOG_INFO);
        add(entry, "SESSMGR_SESSION=%" PRIu64, record->id);
        add(entry, "SESSMGR_USER=%s", record->user);
        add(entry, "SESSMGR_UID=%u", (unsigned) record->uid);
        add(entry, "SESSMGR_SERVICE=%s", record->service ?: "");
        add(entry, "SESSMGR_TTY=%s", record->tty ?: "");
        add(entry, "SESSMGR_FROM=%s", session_record_from(record, "local"));
        add(entry, "SESSMGR_REMOTE_PORT=%u", (unsigned) record->remote_port);
        add(entry, "SESSMGR_LOGIND_SESSION=%s", record->logind_session ?: "");
}

void journal_entry_send(JournalEntry *entry) {
        (void) sd_journal_sendv(entry->fields, (int) entry->count);
}

JournalEntry *journal_entry_free(JournalEntry *entry) {
        free(entry);
        return NULL;
}

static JournalEntry *entry_new(void) {
        JournalEntry *entry = malloc(sizeof(*entry));      /* no calloc: the text is written as it goes */

        if (entry)
                entry->count = entry->used = 0;
        return entry;
}

JournalEntry *event_login(const SessionRecord *record) {
        JournalEntry *entry = entry_new();

        if (!entry)
                return NULL;
        add(entry, "MESSAGE_ID=" EVENT_LOGIN);
        add(entry, "MESSAGE=%s logged in from %s (%s, session %" PRIu64 ")",
            record->user, session_record_from(record, "local"), record->service ?: "unknown", record->id);
        add_session(entry, record);
        return entry;
}

JournalEntry *event_end(const SessionRecord *record) {
        const char *reason = record->end_reason ?: "logout";
        int64_t duration = record->end_time_usec > record->login_time_usec ?
                           record->end_time_usec - record->login_time_usec : 0;
        JournalEntry *entry = entry_new();

        if (!entry)
                return NULL;
        add(entry, "MESSAGE_ID=%s", strncmp(reason, "revoked", 7) == 0 ? EVENT_REVOKE :
                                    strcmp(reason, "idle") == 0 ? EVENT_IDLE : EVENT_LOGOUT);
        add(entry, "MESSAGE=session %" PRIu64 " of %s from %s ended: %s",
            record->id, record->user, session_record_from(record, "local"), reason);
        add_session(entry, record);
        add(entry, "SESSMGR_END_REASON=%s", reason);
        add(entry, "SESSMGR_DURATION_USEC=%" PRIi64, duration);
        return entry;
}
