/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <inttypes.h>
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

const char *session_from_text(const SessionRecord *record) {
        if (!isempty(record->remote_address))
                return record->remote_address;
        if (!isempty(record->remote_host))
                return record->remote_host;
        return "local";
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
        _cleanup_(freep) char *device = session_device_text(record);
        int64_t now = now_usec(CLOCK_REALTIME);

        if (!device)
                return -ENOMEM;
        fprintf(output, "%16s: %s%s\n", "Device", device, current ? " (current session)" : "");
        fprintf(output, "%16s: %s\n", "From", session_from_text(record));

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
                case FIELD_UINT64: fprintf(output, "%" PRIu64, *(const uint64_t *) p); break;
                case FIELD_UINT32: fprintf(output, "%" PRIu32, *(const uint32_t *) p); break;
                case FIELD_UINT16: fprintf(output, "%u", (unsigned) *(const uint16_t *) p); break;
                case FIELD_TIME:   print_time(output, *(const int64_t *) p, now); break;
                }
                fputc('\n', output);
        }
        return ferror(output) ? -EIO : 0;
}

static json_object *json_time(int64_t usec) {
        char buffer[TIMESTAMP_MAX];

        if (usec <= 0 || !format_timestamp_iso(buffer, usec))
                return NULL;    /* JSON null: not known, or not yet (end of an open session) */
        return json_object_new_string(buffer);
}

static json_object *json_field(const SessionRecord *record, const RecordField *field) {
        const void *p = record_field_pointer(record, field);

        switch (field->type) {
        case FIELD_STRING: {
                const char *s = *(char *const *) p;
                return s ? json_object_new_string(s) : NULL;
        }
        case FIELD_STATE:  return json_object_new_string(session_state_to_string(*(const SessionState *) p));
        case FIELD_UINT64: return json_object_new_uint64(*(const uint64_t *) p);
        case FIELD_UINT32: return json_object_new_int64(*(const uint32_t *) p);
        case FIELD_UINT16: return json_object_new_int64(*(const uint16_t *) p);
        case FIELD_TIME:   return json_object_new_int64(*(const int64_t *) p);
        }
        return NULL;
}

static json_object *terminals_json(const char *ttys) {
        _cleanup_(freep) char *copy = strdup(ttys ?: "");
        json_object *array = json_object_new_array();
        char *state = NULL;

        if (!array || !copy)
                return array;
        for (char *name = strtok_r(copy, " ", &state); name; name = strtok_r(NULL, " ", &state))
                json_object_array_add(array, json_object_new_string(name));
        return array;
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

/* Keys are string constants and each is added once: json-c need neither copy nor look
 * them up (a list of 1,000 sessions spent a third of its time there). */
static void add(json_object *object, const char *key, json_object *value) {
        json_object_object_add_ex(object, key, value, JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
}

json_object *session_to_json(const SessionRecord *record, bool current) {
        _cleanup_(freep) char *device = session_device_text(record);
        json_object *object = json_object_new_object();

        if (!object || !device)
                return json_object_put(object), NULL;

        for (size_t i = 0; i < record_fields_count; i++) {
                const RecordField *field = &record_fields[i];
                const char *iso;

                /* Terminals come as a list in JSON. */
                if (strcmp(field->key, "ttys") == 0) {
                        add(object, field->key, terminals_json(record->ttys));
                        continue;
                }
                add(object, field->key, json_field(record, field));
                if (field->type == FIELD_TIME && (iso = iso_key(field->key)))
                        add(object, iso, json_time(*(const int64_t *) record_field_pointer(record, field)));
        }
        add(object, "device", json_object_new_string(device));
        add(object, "from", json_object_new_string(session_from_text(record)));
        add(object, "current", json_object_new_boolean(current));
        return object;
}

const char *session_last_active_text(char buffer[static LAST_ACTIVE_MAX], const SessionRecord *record, int64_t now) {
        char relative[TIMESTAMP_MAX];

        if (!format_timestamp_relative(relative, record->last_active_usec, now))
                return NULL;
        snprintf(buffer, LAST_ACTIVE_MAX, "%s%s", relative, record->state == SESSION_CLOSING ? ", closing" : "");
        return buffer;
}
