/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "format.h"
#include "log.h"
#include "protocol.h"
#include "show.h"
#include "table.h"
#include "time-format.h"

/* The reading commands: list, show and history, as tables or JSON. */

static int list_as_json(const SessionRecord *records, size_t count, const CurrentSession *current, JsonMode mode) {
        JsonWriter writer;
        int r = 0;

        json_writer_init(&writer, stdout, mode == JSON_PRETTY);
        json_begin_object(&writer);
        json_key(&writer, "sessions");
        json_begin_array(&writer);
        for (size_t i = 0; r >= 0 && i < count; i++)
                r = session_write_json(&writer, &records[i], session_is_current(&records[i], current));
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        json_end_array(&writer);
        json_end_object(&writer);
        return json_writer_finish(&writer);
}

/* A table with these headers; without the USER column when only one user's sessions
 * can appear. */
static Table *table_for(const char *const *headers, size_t count, bool show_user) {
        const char *chosen[16];
        size_t columns = 0;

        for (size_t i = 0; i < count && columns < ELEMENTSOF(chosen); i++)
                if (show_user || strcmp(headers[i], "USER") != 0)
                        chosen[columns++] = headers[i];
        return table_new(columns, chosen);
}

/* The cells both lists start a session's row with: ID, USER (when shown), DEVICE, FROM, LOGIN. */
static int add_session_cells(Table *table, const SessionRecord *record, bool show_user) {
        _cleanup_(freep) char *device = session_device_text(record);
        char id[24], login[TIMESTAMP_MAX];
        int r;

        snprintf(id, sizeof(id), "%" PRIu64, record->id);
        r = table_add_cell(table, id);
        if (r >= 0 && show_user)
                r = table_add_cell(table, record->user);
        if (r >= 0)
                r = table_add_cell(table, device);
        if (r >= 0)
                r = table_add_cell(table, session_record_from(record, "local"));
        if (r >= 0)
                r = table_add_cell(table, format_timestamp_short(login, record->login_time_usec));
        return r;
}

static int list_as_table(const SessionRecord *records, size_t count, const CurrentSession *current, bool show_user) {
        static const char *const headers[] = { "", "ID", "USER", "DEVICE", "FROM", "LOGIN", "LAST ACTIVE" };
        _cleanup_(table_freep) Table *table = NULL;
        int64_t now = now_usec(CLOCK_REALTIME);
        bool any_current = false;
        int r = 0;

        if (count == 0) {
                puts("No active sessions.");
                return 0;
        }

        table = table_for(headers, ELEMENTSOF(headers), show_user);
        if (!table)
                return log_error_errno(ENOMEM, "Out of memory.");

        for (size_t i = 0; r >= 0 && i < count; i++) {
                const SessionRecord *record = &records[i];
                char active[LAST_ACTIVE_MAX];
                bool is_current = session_is_current(record, current);

                any_current = any_current || is_current;
                r = table_add_cell(table, is_current ? "*" : "");
                if (is_current)
                        table_highlight_row(table);
                if (r >= 0)
                        r = add_session_cells(table, record, show_user);
                if (r >= 0)
                        r = table_add_cell(table, session_last_active_text(active, record, now));
        }
        if (r < 0)
                return log_error_errno(r, "Out of memory.");

        r = table_print(table, stdout, isatty(STDOUT_FILENO) && isempty(getenv("NO_COLOR")));
        if (r >= 0 && any_current)
                puts("\n* this session");
        return r;
}

static int compare_last_active(const void *a, const void *b) {
        const SessionRecord *x = a, *y = b;

        if (x->last_active_usec != y->last_active_usec)
                return x->last_active_usec > y->last_active_usec ? -1 : 1;
        return x->id > y->id ? -1 : x->id < y->id;
}

int show_sessions(sd_bus *bus, uint32_t uid, JsonMode json) {
        _cleanup_(current_session_done) CurrentSession current = {};
        SessionRecord *records = NULL;
        size_t count = 0;
        int r;

        r = daemon_list_sessions(bus, uid, &records, &count);
        if (r < 0)
                return r;
        /* The session in use most recently first: the one you are looking for is on top. */
        if (count > 0)
                qsort(records, count, sizeof(*records), compare_last_active);

        current_session_find(&current);
        if (json != JSON_OFF)
                r = list_as_json(records, count, &current, json);
        else
                r = list_as_table(records, count, &current, uid == SESSMGR_UID_ALL);
        session_record_array_free(records, count);
        return r;
}

static int history_as_table(const SessionRecord *records, size_t count, bool show_user) {
        static const char *const headers[] = { "ID", "USER", "DEVICE", "FROM", "LOGIN", "LOGOUT", "DURATION", "REASON" };
        _cleanup_(table_freep) Table *table = NULL;
        int r = 0;

        if (count == 0) {
                puts("No ended sessions.");
                return 0;
        }
        table = table_for(headers, ELEMENTSOF(headers), show_user);
        if (!table)
                return log_error_errno(ENOMEM, "Out of memory.");

        for (size_t i = 0; r >= 0 && i < count; i++) {
                const SessionRecord *record = &records[i];
                char logout[TIMESTAMP_MAX], duration[TIMESTAMP_MAX];

                r = add_session_cells(table, record, show_user);
                if (r >= 0)
                        r = table_add_cell(table, format_timestamp_short(logout, record->end_time_usec));
                if (r >= 0)
                        r = table_add_cell(table, record->end_time_usec >= record->login_time_usec
                                           ? format_duration(duration, record->end_time_usec - record->login_time_usec) : NULL);
                if (r >= 0)
                        r = table_add_cell(table, record->end_reason);
        }
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        return table_print(table, stdout, false);
}

int show_history(sd_bus *bus, uint32_t uid, int64_t since_usec, uint32_t limit, JsonMode json) {
        _cleanup_(current_session_done) CurrentSession current = {};
        SessionRecord *records = NULL;
        size_t count = 0;
        int r;

        r = daemon_list_history(bus, uid, since_usec, limit, &records, &count);
        if (r < 0)
                return r;

        current_session_find(&current);
        if (json != JSON_OFF)
                r = list_as_json(records, count, &current, json);
        else
                r = history_as_table(records, count, uid == SESSMGR_UID_ALL);
        session_record_array_free(records, count);
        return r;
}

int show_session(sd_bus *bus, uint64_t id, JsonMode json) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        _cleanup_(current_session_done) CurrentSession current = {};
        int r;

        r = daemon_get_session(bus, id, &record);
        if (r < 0)
                return r;

        current_session_find(&current);
        if (json != JSON_OFF) {
                JsonWriter writer;

                json_writer_init(&writer, stdout, json == JSON_PRETTY);
                r = session_write_json(&writer, &record, session_is_current(&record, &current));
                if (r < 0)
                        return log_error_errno(r, "Out of memory.");
                return json_writer_finish(&writer);
        }
        return session_print_details(stdout, &record, session_is_current(&record, &current));
}
