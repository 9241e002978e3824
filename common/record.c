/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "record.h"
#include "record-fields.h"
#include "text.h"

static const char *const session_state_names[_SESSION_STATE_MAX] = {
        [SESSION_ACTIVE]  = "active",
        [SESSION_CLOSING] = "closing",
        [SESSION_CLOSED]  = "closed",
};

const char *session_state_to_string(SessionState state) {
        if (state < 0 || state >= _SESSION_STATE_MAX)
                return NULL;
        return session_state_names[state];
}

SessionState session_state_from_string(const char *s) {
        if (!s)
                return _SESSION_STATE_INVALID;
        for (SessionState state = 0; state < _SESSION_STATE_MAX; state++)
                if (strcmp(session_state_names[state], s) == 0)
                        return state;
        return _SESSION_STATE_INVALID;
}

#define FIELD(name, kind) { #name, kind, offsetof(SessionRecord, name) }

const RecordField record_fields[] = {
        FIELD(id,               FIELD_UINT64),
        FIELD(logind_session,   FIELD_STRING),
        FIELD(boot_id,          FIELD_STRING),
        FIELD(uid,              FIELD_UINT32),
        FIELD(user,             FIELD_STRING),
        FIELD(service,          FIELD_STRING),
        FIELD(tty,              FIELD_STRING),
        FIELD(seat,             FIELD_STRING),
        FIELD(vt,               FIELD_UINT32),
        FIELD(remote_host,      FIELD_STRING),
        FIELD(remote_address,   FIELD_STRING),
        FIELD(remote_port,      FIELD_UINT16),
        FIELD(leader_pid,       FIELD_UINT32),
        FIELD(login_time_usec,  FIELD_TIME),
        FIELD(last_active_usec, FIELD_TIME),
        FIELD(state,            FIELD_STATE),
        FIELD(end_time_usec,    FIELD_TIME),
        FIELD(end_reason,       FIELD_STRING),
        FIELD(origin,           FIELD_STRING),
        FIELD(ttys,             FIELD_STRING),
        FIELD(last_active_source, FIELD_STRING),
        FIELD(auth_method,      FIELD_STRING),
        FIELD(auth_key,         FIELD_STRING),
        FIELD(display,          FIELD_STRING),
        FIELD(desktop,          FIELD_STRING),
        FIELD(parent_id,        FIELD_UINT64),
};
const size_t record_fields_count = ELEMENTSOF(record_fields);

void session_record_done(SessionRecord *record) {
        if (!record)
                return;
        for (size_t i = 0; i < record_fields_count; i++)
                if (record_fields[i].type == FIELD_STRING) {
                        char **s = record_field_string(record, &record_fields[i]);
                        free(*s);
                        *s = NULL;
                }
}

void session_record_array_free(SessionRecord *records, size_t n) {
        for (size_t i = 0; i < n; i++)
                session_record_done(records + i);
        free(records);
}

SessionRecord *session_record_array_add(SessionRecord **records, size_t *count, size_t *allocated) {
        if (!GREEDY_REALLOC(*records, *allocated, *count + 1))
                return NULL;
        (*records)[*count] = (SessionRecord) SESSION_RECORD_INIT;
        return &(*records)[(*count)++];
}

const char *session_record_from(const SessionRecord *record, const char *fallback) {
        /* The numeric address wins over a name that DNS may have supplied. */
        if (!isempty(record->remote_address))
                return record->remote_address;
        if (!isempty(record->remote_host))
                return record->remote_host;
        return fallback;
}

int record_set_string(char **field, const char *value) {
        char *copy = NULL;

        if (!isempty(value)) {
                copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
        }
        free(*field);
        *field = copy;
        return 0;
}

bool text_is_printable(const char *s) {
        return text_is_safe(s);
}

int session_record_make_safe(SessionRecord *record) {
        for (size_t i = 0; i < record_fields_count; i++) {
                const RecordField *field = &record_fields[i];
                char **s, *safe;

                if (field->type != FIELD_STRING)
                        continue;
                s = record_field_string(record, field);
                if (!*s || (strlen(*s) <= RECORD_STRING_MAX && text_is_safe(*s)))
                        continue;
                safe = text_escape(*s, RECORD_STRING_MAX, 0);
                if (!safe)
                        return -ENOMEM;
                free(*s);
                *s = safe;
        }
        return 0;
}

int session_record_validate(const SessionRecord *record, const char **ret_reason) {
        const char *reason = NULL;

        /* Only what makes a record meaningless; text is made safe, never refused
         * (session_record_make_safe()): a client that names itself must not be able to
         * keep its login out of the records. */
        if (record->uid == (uid_t) -1)
                reason = "the record has no uid";
        else if (isempty(record->user))
                reason = "the record has no user name";
        else if (record->state < 0 || record->state >= _SESSION_STATE_MAX)
                reason = "the record has an invalid state";
        else if (record->login_time_usec < 0 || record->last_active_usec < 0 || record->end_time_usec < 0)
                reason = "the record has a negative time";
        else
                for (size_t i = 0; i < record_fields_count; i++) {
                        const RecordField *field = &record_fields[i];
                        const char *s;

                        if (field->type != FIELD_STRING)
                                continue;
                        s = *record_field_string((SessionRecord *) record, field);
                        if (s && (strlen(s) > RECORD_STRING_MAX || !text_is_safe(s))) {
                                reason = "a text field was not made safe";
                                break;
                        }
                }

        if (ret_reason)
                *ret_reason = reason;
        return reason ? -EINVAL : 0;
}

static char field_signature(FieldType type) {
        switch (type) {
        case FIELD_STRING:
        case FIELD_STATE:  return 's';
        case FIELD_UINT64: return 't';
        case FIELD_UINT32: return 'u';
        case FIELD_UINT16: return 'q';
        case FIELD_TIME:   return 'x';
        }
        return 0;
}

static int append_field(sd_bus_message *m, const SessionRecord *record, const RecordField *field) {
        const void *p = record_field_pointer(record, field);
        const char signature[2] = { field_signature(field->type), 0 };
        const void *value = p;
        const char *text;
        uint64_t number = 0;
        int r;

        switch (field->type) {
        case FIELD_STRING:
                text = *(char *const *) p;
                if (!text)
                        return 0;       /* absent means unknown */
                value = text;
                break;
        case FIELD_STATE:
                value = session_state_to_string(*(const SessionState *) p);
                break;
        case FIELD_UINT64:
        case FIELD_TIME:
        case FIELD_UINT16:
                /* Zero means unknown or not yet for these: the reader's default. */
                memcpy(&number, p, field->type == FIELD_UINT16 ? sizeof(uint16_t) : sizeof(uint64_t));
                if (number == 0)
                        return 0;
                break;
        case FIELD_UINT32:
                break;          /* uid 0 is root: always sent */
        }

        /* The basic calls, not sd_bus_message_append(): listing 1,000 sessions spent most
         * of its time parsing format strings. */
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', field->key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', signature);
        if (r >= 0)
                r = sd_bus_message_append_basic(m, signature[0], value);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int session_record_append(sd_bus_message *m, const SessionRecord *record) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < record_fields_count; i++) {
                r = append_field(m, record, &record_fields[i]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

static int read_field(sd_bus_message *m, SessionRecord *record, const RecordField *field) {
        void *p = (uint8_t *) record + field->offset;
        const char signature[2] = { field_signature(field->type), 0 };
        const char *s = NULL;
        int r;

        r = sd_bus_message_enter_container(m, 'v', signature);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENXIO;

        if (field->type == FIELD_STRING || field->type == FIELD_STATE)
                r = sd_bus_message_read_basic(m, 's', &s);
        else
                r = sd_bus_message_read_basic(m, signature[0], p);
        if (r >= 0 && field->type == FIELD_STRING)
                r = record_set_string((char **) p, s);
        if (r >= 0 && field->type == FIELD_STATE) {
                *(SessionState *) p = session_state_from_string(s);
                if (*(SessionState *) p < 0)
                        r = -EBADMSG;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int session_record_read(sd_bus_message *m, SessionRecord *record) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;

        for (;;) {
                const RecordField *field;
                const char *key;

                r = sd_bus_message_enter_container(m, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;

                r = sd_bus_message_read_basic(m, 's', &key);
                if (r < 0)
                        return r;

                field = record_field_by_key(key);
                r = field ? read_field(m, record, field) : sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r == -ENXIO ? -EBADMSG : r;  /* a known key with the wrong type */

                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 0;
}

int session_record_append_struct(sd_bus_message *m, const SessionRecord *record) {
        int r;

        r = sd_bus_message_open_container(m, 'r', SESSION_RECORD_STRUCT_FIELDS);
        for (size_t i = 0; r >= 0 && i < record_fields_count; i++) {
                const RecordField *field = &record_fields[i];
                const void *value = record_field_pointer(record, field);

                if (field->type == FIELD_STRING)
                        value = *(char *const *) value ?: "";
                else if (field->type == FIELD_STATE)
                        value = session_state_to_string(*(const SessionState *) value);
                r = sd_bus_message_append_basic(m, field_signature(field->type), value);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* 1 when a record was read, 0 at the end of the enclosing array, negative errno otherwise. */
int session_record_read_struct(sd_bus_message *m, SessionRecord *record) {
        int r;

        r = sd_bus_message_enter_container(m, 'r', SESSION_RECORD_STRUCT_FIELDS);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < record_fields_count; i++) {
                const RecordField *field = &record_fields[i];
                void *p = record_field_pointer(record, field);
                const char *s;

                if (field->type != FIELD_STRING && field->type != FIELD_STATE) {
                        r = sd_bus_message_read_basic(m, field_signature(field->type), p);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = sd_bus_message_read_basic(m, 's', &s);
                if (r < 0)
                        return r;
                if (field->type == FIELD_STRING) {
                        r = record_set_string((char **) p, s);
                        if (r < 0)
                                return r;
                } else {
                        *(SessionState *) p = session_state_from_string(s);
                        if (*(SessionState *) p < 0)
                                return -EBADMSG;
                }
        }
        r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 1;
}

const RecordField *record_field_by_key(const char *key) {
        for (size_t i = 0; i < record_fields_count; i++)
                if (strcmp(record_fields[i].key, key) == 0)
                        return &record_fields[i];
        return NULL;
}
