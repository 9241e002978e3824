/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "json-writer.h"
#include "record.h"
#include "time-format.h"

/* How sessmgrctl shows a record to people (table, show) and to programs (JSON). */

/* The logind session sessmgrctl runs in, to mark "current" in lists. */
typedef struct CurrentSession {
        char *logind_session;   /* NULL outside any logind session */
} CurrentSession;

void current_session_find(CurrentSession *current);
void current_session_done(CurrentSession *current);
bool session_is_current(const SessionRecord *record, const CurrentSession *current);

/* "sshd pts/3", "login tty2", "gdm seat0 vt1". */
char *session_device_text(const SessionRecord *record);

/* "3 min ago", or "3 min ago, closing" while processes outlive the login. */
#define LAST_ACTIVE_MAX (TIMESTAMP_MAX + 16)
const char *session_last_active_text(char buffer[static LAST_ACTIVE_MAX], const SessionRecord *record, int64_t now);

/* Every field, one per line, for "show". */
int session_print_details(FILE *output, const SessionRecord *record, bool current);

/* The documented JSON object of one record (see sessmgrctl(1)). */
int session_write_json(JsonWriter *writer, const SessionRecord *record, bool current);
/* The same members, inside an object the caller opened (the fleet adds its own). */
int session_write_json_members(JsonWriter *writer, const SessionRecord *record, bool current);
