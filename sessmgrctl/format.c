/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-login.h>

#include "format.h"
#include "record-fields.h"
#include "table.h"
#include "time-format.h"

void current_session_find(CurrentSession *current) {
        *current = (CurrentSession) {};
        /* Outside logind (a cron job, a container without it) nothing is current. */
        if (sd_pid_get_session(0, &current->logind_session) < 0)
                current->logind_session = NULL;
}

void current_session_done(CurrentSession *current) {
        free(current->logind_session);
        current->logind_session = NULL;
}

bool session_is_current(const SessionRecord *record, const CurrentSession *current) {
        /* logind ids restart at every boot, but sessmgrd closes every session of an
         * earlier boot when it starts: an open record is of this boot. (Comparing boot ids
         * here would not do: a sandboxed sessmgrd may see another one in a container.) */
        return current->logind_session &&
               streq_ptr(record->logind_session, current->logind_session) &&
               record->state != SESSION_CLOSED;
}

static const char *strip_dev(const char *tty) {
        return strncmp(tty, "/dev/", 5) == 0 ? tty + 5 : tty;
}

/* Appends " text" (printf-style) to *buffer. */
_printf_(2, 3)
static int append(char **buffer, const char *format, ...) {
        _cleanup_(freep) char *part = NULL;
        char *joined = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&part, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (asprintf(&joined, "%s%s%s", *buffer ?: "", *buffer ? " " : "", part) < 0)
                return -ENOMEM;
        free(*buffer);
        *buffer = joined;
        return 0;
}

/* "pts/3 pts/5" as the daemon stores it, shown "pts/3,pts/5". */
static char *terminals_text(const SessionRecord *record) {
        char *text;

        if (!isempty(record->ttys)) {
                text = strdup(record->ttys);
                for (char *p = text; p && *p; p++)
                        if (*p == ' ')
                                *p = ',';
                return text;
        }
        /* sshd sets PAM_TTY to "ssh" before any pty exists: that is not a terminal name. */
        if (!isempty(record->tty) && strcmp(record->tty, "ssh") != 0)
                return strdup(strip_dev(record->tty));
        return NULL;
}

char *session_device_text(const SessionRecord *record) {
        _cleanup_(freep) char *terminals = terminals_text(record);
        char *text = NULL;
        int r;

        r = append(&text, "%s", record->service ?: "unknown");
        if (r >= 0 && terminals)
                r = append(&text, "%s", terminals);
        if (r >= 0 && !isempty(record->display))
                r = append(&text, "%s", record->display);
        else if (r >= 0 && !terminals && !isempty(record->seat))
                r = record->vt > 0 ? append(&text, "%s vt%" PRIu32, record->seat, record->vt)
                                   : append(&text, "%s", record->seat);
        if (r >= 0 && !isempty(record->desktop))
                r = append(&text, "(%s)", record->desktop);
        if (r >= 0 && record->parent_id > 0)
                r = append(&text, "(from session %" PRIu64 ")", record->parent_id);
        if (r < 0) {
                free(text);
                return NULL;
        }
        return text;
}

/* Labels for "show", in the order of record-fields.h. */
static const char *const labels[][2] = {
        { "id",               "ID" },
        { "logind_session",   "Logind session" },
        { "boot_id",          "Boot" },
        { "uid",              "UID" },
        { "user",             "User" },
        { "service",          "Service" },
        { "tty",              "TTY" },
        { "seat",             "Seat" },
        { "vt",               "VT" },
        { "remote_host",      "Remote host" },
        { "remote_address",   "Remote address" },
        { "remote_port",      "Remote port" },
        { "leader_pid",       "Leader PID" },
        { "login_time_usec",  "Login" },
        { "last_active_usec", "Last active" },
        { "state",            "State" },
        { "end_time_usec",    "End" },
        { "end_reason",       "End reason" },
        { "origin",           "Recorded by" },
        { "ttys",             "Terminals" },
        { "last_active_source", "Activity seen in" },
        { "auth_method",      "Authenticated by" },
        { "auth_key",         "Key" },
        { "display",          "Display" },
        { "desktop",          "Desktop" },
        { "parent_id",        "Started from" },
};

static const char *label_of(const RecordField *field) {
        for (size_t i = 0; i < ELEMENTSOF(labels); i++)
                if (strcmp(labels[i][0], field->key) == 0)
                        return labels[i][1];
        return field->key;
}

static void print_time(FILE *output, int64_t usec, int64_t now) {
        char absolute[TIMESTAMP_MAX], relative[TIMESTAMP_MAX];

        if (usec <= 0 || !format_timestamp_short(absolute, usec)) {
                fputs("-", output);
                return;
        }
        fprintf(output, "%s (%s)", absolute, format_timestamp_relative(relative, usec, now) ?: "?");
}

int session_print_details(FILE *output, const SessionRecord *record, bool current) {
        _cleanup_(freep) char *raw_device = session_device_text(record);
        _cleanup_(freep) char *device = text_sanitize(raw_device);
        _cleanup_(freep) char *from = text_sanitize(session_record_from(record, "local"));
        int64_t now = now_usec(CLOCK_REALTIME);

        if (!raw_device || !device || !from)
                return -ENOMEM;
        fprintf(output, "%16s: %s%s\n", "Device", device, current ? " (current session)" : "");
        fprintf(output, "%16s: %s\n", "From", from);

        for (size_t i = 0; i < record_fields_count; i++) {
                const RecordField *field = &record_fields[i];
                const void *p = record_field_pointer(record, field);

                fprintf(output, "%16s: ", label_of(field));
                switch (field->type) {
                case FIELD_STRING: {
                        _cleanup_(freep) char *text = text_sanitize(*(char *const *) p);
                        fputs(text ?: "?", output);
                        break;
                }
                case FIELD_STATE:  fputs(session_state_to_string(*(const SessionState *) p), output); break;
                case FIELD_UINT64:
                        /* No session it was started from: "-", as for any field not known. */
                        if (field->offset == offsetof(SessionRecord, parent_id) && *(const uint64_t *) p == 0)
                                fputs("-", output);
                        else
                                fprintf(output, "%" PRIu64, *(const uint64_t *) p);
                        break;
                case FIELD_UINT32: fprintf(output, "%" PRIu32, *(const uint32_t *) p); break;
                case FIELD_UINT16: fprintf(output, "%u", (unsigned) *(const uint16_t *) p); break;
                case FIELD_TIME:   print_time(output, *(const int64_t *) p, now); break;
                }
                fputc('\n', output);
        }
        return ferror(output) ? -EIO : 0;
}

static void write_time(JsonWriter *writer, int64_t usec) {
        char buffer[TIMESTAMP_MAX];

        /* null: not known, or not yet (the end of an open session) */
        json_string(writer, usec > 0 ? format_timestamp_iso(buffer, usec) : NULL);
}

static void write_field(JsonWriter *writer, const SessionRecord *record, const RecordField *field) {
        const void *p = record_field_pointer(record, field);

        switch (field->type) {
        case FIELD_STRING: json_string(writer, *(char *const *) p); break;
        case FIELD_STATE:  json_string(writer, session_state_to_string(*(const SessionState *) p)); break;
        case FIELD_UINT64: json_unsigned(writer, *(const uint64_t *) p); break;
        case FIELD_UINT32: json_unsigned(writer, *(const uint32_t *) p); break;
        case FIELD_UINT16: json_unsigned(writer, *(const uint16_t *) p); break;
        case FIELD_TIME:   json_integer(writer, *(const int64_t *) p); break;
        }
}

/* Terminals come as a list in JSON: "pts/3 pts/5" is ["pts/3","pts/5"]. */
static void write_terminals(JsonWriter *writer, const char *ttys) {
        json_begin_array(writer);
        for (const char *p = ttys ?: ""; *p; ) {
                size_t length = strcspn(p, " ");

                if (length > 0)
                        json_string_length(writer, p, length);
                p += length + strspn(p + length, " ");
        }
        json_end_array(writer);
}

/* Each "x_usec" time also comes as ISO 8601 under "x". */
static const char *iso_key(const char *usec_key) {
        static const char *const keys[][2] = {
                { "login_time_usec",  "login_time" },
                { "last_active_usec", "last_active" },
                { "end_time_usec",    "end_time" },
        };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strcmp(keys[i][0], usec_key) == 0)
                        return keys[i][1];
        return NULL;
}

int session_write_json(JsonWriter *writer, const SessionRecord *record, bool current) {
        int r;

        json_begin_object(writer);
        r = session_write_json_members(writer, record, current);
        json_end_object(writer);
        return r;
}

int session_write_json_members(JsonWriter *writer, const SessionRecord *record, bool current) {
        _cleanup_(freep) char *device = session_device_text(record);

        if (!device)
                return -ENOMEM;

        for (size_t i = 0; i < record_fields_count; i++) {
                const RecordField *field = &record_fields[i];
                const char *iso;

                json_key(writer, field->key);
                if (strcmp(field->key, "ttys") == 0) {
                        write_terminals(writer, record->ttys);
                        continue;
                }
                write_field(writer, record, field);
                if (field->type == FIELD_TIME && (iso = iso_key(field->key))) {
                        json_key(writer, iso);
                        write_time(writer, *(const int64_t *) record_field_pointer(record, field));
                }
        }
        json_key(writer, "device");
        json_string(writer, device);
        json_key(writer, "from");
        json_string(writer, session_record_from(record, "local"));
        json_key(writer, "current");
        json_boolean(writer, current);
        return 0;
}

const char *session_last_active_text(char buffer[static LAST_ACTIVE_MAX], const SessionRecord *record, int64_t now) {
        char relative[TIMESTAMP_MAX];

        if (!format_timestamp_relative(relative, record->last_active_usec, now))
                return NULL;
        snprintf(buffer, LAST_ACTIVE_MAX, "%s%s", relative, record->state == SESSION_CLOSING ? ", closing" : "");
        return buffer;
}
