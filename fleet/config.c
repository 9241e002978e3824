/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "parse-util.h"

typedef struct ParseState {
        FleetConfig *config;
        FILE *file;
        const char *text;
        int line;
        bool too_long, read_failed;
        char *error;            /* the first problem... */
        int error_line;         /* ...and its line */
} ParseState;

/* inih's reader: one line per call, counted, so each error names its line; a line longer
 * than inih's buffer is an error rather than two lines (as in sessmgrd/config.c). */
static char *read_line(char *buffer, int size, void *userdata) {
        ParseState *state = userdata;
        size_t length;

        if (state->file) {
                if (!fgets(buffer, size, state->file)) {
                        state->read_failed = ferror(state->file);
                        return NULL;
                }
        } else {
                const char *end;

                if (!*state->text)
                        return NULL;
                end = strchrnul(state->text, '\n');
                length = (size_t) (end - state->text) + (*end == '\n');
                if (length >= (size_t) size)
                        length = (size_t) size - 1;
                memcpy(buffer, state->text, length);
                buffer[length] = '\0';
                state->text += length;
        }
        state->line++;
        length = strlen(buffer);
        if (length == (size_t) size - 1 && buffer[length - 1] != '\n' && !state->too_long) {
                state->too_long = true;
                state->error_line = state->line;
        }
        return buffer;
}

void fleet_config_defaults(FleetConfig *config) {
        *config = (FleetConfig) {
                .retry_max_usec = 30 * USEC_PER_SEC,
                .sync_interval_usec = 2 * USEC_PER_SEC,
                .heartbeat_usec = 60 * USEC_PER_SEC,
                .batch_size = 1000,
                .revocation_poll_usec = 30 * USEC_PER_SEC,
                .revocation_expire_usec = 86400 * USEC_PER_SEC,
                .logout_wait_usec = 5 * USEC_PER_SEC,
                .stale_usec = 300 * USEC_PER_SEC,
        };
}

void fleet_config_done(FleetConfig *config) {
        free(config->connection);
        config->connection = NULL;
}

static int parse_seconds(const char *value, unsigned long long minimum, unsigned long long maximum, int64_t *ret) {
        unsigned long long number;
        int r;

        r = parse_unsigned(value, minimum, maximum, &number);
        if (r < 0)
                return r;
        *ret = (int64_t) number * USEC_PER_SEC;
        return 0;
}

_printf_(2, 3)
static int fail(ParseState *state, const char *format, ...) {
        va_list ap;

        if (!state->error) {
                va_start(ap, format);
                if (vasprintf(&state->error, format, ap) < 0)
                        state->error = NULL;
                va_end(ap);
                state->error_line = state->line;
        }
        return 0;       /* makes inih report this line */
}

static bool setting_is(const char *section, const char *name, const char *want_section, const char *want_name) {
        return strcmp(section, want_section) == 0 && strcmp(name, want_name) == 0;
}

static int on_entry(void *userdata, const char *section, const char *name, const char *value) {
        ParseState *state = userdata;
        FleetConfig *config = state->config;
        unsigned long long number;
        int r = 0;

        if (!name)      /* a section header alone */
                return 1;

        if (setting_is(section, name, "Database", "Connection")) {
                /* Lines are joined: a connection string outgrows inih's 200 bytes a line.
                 * libpq takes the last of a keyword given twice; an empty value clears. */
                char *joined = NULL;

                if (!*value) {
                        free(config->connection);
                        config->connection = NULL;
                } else if (config->connection) {
                        r = asprintf(&joined, "%s %s", config->connection, value) < 0 ? -ENOMEM : 0;
                        if (r >= 0) {
                                free(config->connection);
                                config->connection = joined;
                        }
                } else
                        r = (config->connection = strdup(value)) ? 0 : -ENOMEM;
        } else if (setting_is(section, name, "Database", "RetryMaxSec"))
                r = parse_seconds(value, 1, 3600, &config->retry_max_usec);
        else if (setting_is(section, name, "Sync", "IntervalSec"))
                r = parse_seconds(value, 1, 3600, &config->sync_interval_usec);
        else if (setting_is(section, name, "Sync", "HeartbeatSec"))
                r = parse_seconds(value, 1, 86400, &config->heartbeat_usec);
        else if (setting_is(section, name, "Sync", "BatchSize")) {
                /* GetChanges gives at most 1000 records a call. */
                r = parse_unsigned(value, 1, 1000, &number);
                if (r >= 0)
                        config->batch_size = (uint32_t) number;
        } else if (setting_is(section, name, "Revocations", "PollIntervalSec"))
                r = parse_seconds(value, 1, 86400, &config->revocation_poll_usec);
        else if (setting_is(section, name, "Revocations", "ExpireSec"))
                /* The database takes requests that expire within 7 days. */
                r = parse_seconds(value, 60, 7 * 86400, &config->revocation_expire_usec);
        else if (setting_is(section, name, "Revocations", "WaitSec"))
                /* sessmgrctl waits for the answer, and a person for sessmgrctl. */
                r = parse_seconds(value, 0, 30, &config->logout_wait_usec);
        else if (setting_is(section, name, "Clients", "StaleSec"))
                r = parse_seconds(value, 1, 7 * 86400, &config->stale_usec);
        else if (section[0])
                return fail(state, "unknown setting %s= in [%s]", name, section);
        else
                return fail(state, "setting %s= outside any [section]", name);

        if (r == -ENOMEM)
                return fail(state, "out of memory");
        if (r < 0)
                return fail(state, "[%s] %s=: invalid value \"%s\"", section, name, value);
        return 1;
}

static int finish(ParseState *state, int first_error_line, const char *origin, char **ret_error) {
        int r;

        if (state->read_failed)
                r = asprintf(ret_error, "%s: cannot read it", origin);
        else if (state->too_long && (first_error_line == 0 || state->error_line <= first_error_line))
                r = asprintf(ret_error, "%s:%d: line too long", origin, state->error_line);
        else if (state->error && (first_error_line == 0 || state->error_line <= first_error_line))
                r = asprintf(ret_error, "%s:%d: %s", origin, state->error_line, state->error);
        else if (first_error_line != 0)
                r = asprintf(ret_error, "%s:%d: not a setting (NAME=VALUE), a [section] or a comment",
                             origin, first_error_line);
        else {
                free(state->error);
                return 0;
        }
        if (r < 0)
                *ret_error = NULL;
        free(state->error);
        return -EINVAL;
}

int fleet_config_parse_string(FleetConfig *config, const char *text, char **ret_error) {
        ParseState state = { .config = config, .text = text };

        *ret_error = NULL;
        return finish(&state, ini_parse_stream(read_line, &state, on_entry, &state), "(text)", ret_error);
}

int fleet_config_load(FleetConfig *config, const char *path, char **ret_error) {
        ParseState state = { .config = config };
        int line, error;

        *ret_error = NULL;
        state.file = fopen(path, "re");
        if (!state.file) {
                error = errno;
                if (asprintf(ret_error, "%s: cannot open it: %s", path, strerror(error)) < 0)
                        *ret_error = NULL;
                return -error;
        }
        line = ini_parse_stream(read_line, &state, on_entry, &state);
        fclose(state.file);
        return finish(&state, line, path, ret_error);
}
