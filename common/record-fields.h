/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "record.h"

/* The stable names of a record's fields: the a{sv} keys on the socket and the keys of
 * sessmgrctl --json. One table, so the two can never disagree. */

typedef enum FieldType {
        FIELD_STRING,
        FIELD_STATE,            /* SessionState, sent as its name */
        FIELD_UINT64,
        FIELD_UINT32,
        FIELD_UINT16,
        FIELD_TIME,             /* int64 µs since the epoch */
} FieldType;

typedef struct RecordField {
        const char *key;
        FieldType type;
        size_t offset;
} RecordField;

extern const RecordField record_fields[];
extern const size_t record_fields_count;

const RecordField *record_field_by_key(const char *key);

static inline char **record_field_string(SessionRecord *record, const RecordField *field) {
        return (char **) ((uint8_t *) record + field->offset);
}

static inline void *record_field_pointer(const SessionRecord *record, const RecordField *field) {
        return (uint8_t *) record + field->offset;
}
