/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "config.h"
#include "parse-util.h"
#include "time-format.h"

#define DAY_USEC (86400 * USEC_PER_SEC)

typedef struct ParseState {
        Config *config;
        /* Lines are handed to inih by our reader, so we know which one each setting is on. */
        FILE *file;
        const char *text;
        int line;
        bool too_long, read_failed;
        char *error;            /* the first problem... */
        int error_line;         /* ...and its line */
} ParseState;

/* inih's reader: one line per call, counted; a line longer than inih's buffer is an
 * error rather than two lines. */
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

void config_defaults(Config *config) {
        *config = (Config) {
                .poll_interval_usec = 30 * USEC_PER_SEC,
                .retention_usec = 90 * DAY_USEC,
                .idle_timeout_usec = 0,
                .idle_warning_usec = 5 * 60 * USEC_PER_SEC,
                .flush_interval_usec = 1 * USEC_PER_SEC,
        };
}

static void list_free(char **list) {
        for (char **item = list; item && *item; item++)
                free(*item);
        free(list);
}

void config_done(Config *config) {
        list_free(config->exempt_users);
        list_free(config->exempt_services);
        config->exempt_users = config->exempt_services = NULL;
        free(config->fleet_agent_user);
        config->fleet_agent_user = NULL;
}

bool config_list_contains(char *const *list, const char *item) {
        for (char *const *entry = list; item && entry && *entry; entry++)
                if (strcmp(*entry, item) == 0)
                        return true;
        return false;
}

/* "alice, bob  carol" -> { "alice", "bob", "carol", NULL } */
static int parse_list(const char *value, char ***ret) {
        _cleanup_(freep) char *copy = strdup(value);
        char **list = NULL, *state = NULL;
        size_t count = 0, allocated = 0;

        if (!copy)
                return -ENOMEM;
        for (char *word = strtok_r(copy, ", \t", &state); word; word = strtok_r(NULL, ", \t", &state)) {
                /* Room for the word and the NULL that ends the list. */
                if (!GREEDY_REALLOC(list, allocated, count + 2)) {
                        list_free(list);
                        return -ENOMEM;
                }
                list[count] = strdup(word);
                list[++count] = NULL;
                if (!list[count - 1]) {
                        list_free(list);
                        return -ENOMEM;
                }
        }
        *ret = list;
        return 0;
}

/* A whole number from minimum to maximum, times unit. */
static int parse_number(const char *value, unsigned long long minimum, unsigned long long maximum, int64_t unit,
                        int64_t *ret) {
        unsigned long long number;
        int r;

        r = parse_unsigned(value, minimum, maximum, &number);
        if (r < 0)
                return r;
        *ret = (int64_t) number * unit;
        return 0;
}

/* Remembers the first problem; returning 0 makes inih report this line. */
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
        return 0;
}

static int on_entry(void *userdata, const char *section, const char *name, const char *value) {
        ParseState *state = userdata;
        Config *config = state->config;
        int r = 0;

        if (!name)      /* a section header alone */
                return 1;

        if (strcmp(section, "Database") == 0 && strcmp(name, "FlushIntervalSec") == 0)
                r = parse_number(value, 0, 60, USEC_PER_SEC, &config->flush_interval_usec);
        else if (strcmp(section, "Activity") == 0 && strcmp(name, "PollIntervalSec") == 0)
                r = parse_number(value, 1, 86400, USEC_PER_SEC, &config->poll_interval_usec);
        else if (strcmp(section, "History") == 0 && strcmp(name, "RetentionDays") == 0)
                r = parse_number(value, 0, 36500, DAY_USEC, &config->retention_usec);
        else if (strcmp(section, "IdleLogout") == 0 && strcmp(name, "IdleTimeoutSec") == 0)
                r = parse_number(value, 0, 365 * 86400LL, USEC_PER_SEC, &config->idle_timeout_usec);
        else if (strcmp(section, "IdleLogout") == 0 && strcmp(name, "WarnSec") == 0)
                r = parse_number(value, 0, 86400, USEC_PER_SEC, &config->idle_warning_usec);
        else if (strcmp(section, "IdleLogout") == 0 && strcmp(name, "ExemptUsers") == 0) {
                list_free(config->exempt_users);
                config->exempt_users = NULL;
                r = parse_list(value, &config->exempt_users);
        } else if (strcmp(section, "IdleLogout") == 0 && strcmp(name, "ExemptServices") == 0) {
                list_free(config->exempt_services);
                config->exempt_services = NULL;
                r = parse_list(value, &config->exempt_services);
        } else if (strcmp(section, "Fleet") == 0 && strcmp(name, "AgentUser") == 0) {
                free(config->fleet_agent_user);
                config->fleet_agent_user = NULL;
                if (!*value)
                        r = 0;          /* empty: no fleet agent */
                else if (strlen(value) > 32 || strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(value))
                        r = -EINVAL;
                else
                        r = (config->fleet_agent_user = strdup(value)) ? 0 : -ENOMEM;
        } else if (section[0])
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
        const Config *config = state->config;
        int r = 0;

        if (state->read_failed)
                r = asprintf(ret_error, "%s: cannot read it", origin);
        else if (state->too_long && (first_error_line == 0 || state->error_line <= first_error_line))
                r = asprintf(ret_error, "%s:%d: line too long", origin, state->error_line);
        /* inih reports the first bad line of any kind; ours may be a later one. */
        else if (state->error && (first_error_line == 0 || state->error_line <= first_error_line))
                r = asprintf(ret_error, "%s:%d: %s", origin, state->error_line, state->error);
        else if (first_error_line != 0)
                r = asprintf(ret_error, "%s:%d: not a setting (NAME=VALUE), a [section] or a comment",
                             origin, first_error_line);
        else if (config->idle_timeout_usec > 0 && config->idle_warning_usec >= config->idle_timeout_usec)
                r = asprintf(ret_error, "%s: [IdleLogout] WarnSec= must be shorter than IdleTimeoutSec=", origin);
        else {
                free(state->error);
                return 0;
        }
        if (r < 0)
                *ret_error = NULL;
        free(state->error);
        return -EINVAL;
}

int config_parse_string(Config *config, const char *text, char **ret_error) {
        ParseState state = { .config = config, .text = text };

        *ret_error = NULL;
        return finish(&state, ini_parse_stream(read_line, &state, on_entry, &state), "(text)", ret_error);
}

int config_load(Config *config, const char *path, char **ret_error) {
        ParseState state = { .config = config };
        FILE *f;
        int line, error;

        *ret_error = NULL;
        f = fopen(path, "re");
        if (!f) {
                error = errno;
                if (error == ENOENT)
                        return 0;
                if (asprintf(ret_error, "%s: cannot open it: %s", path, strerror(error)) < 0)
                        *ret_error = NULL;
                return -error;
        }
        state.file = f;
        line = ini_parse_stream(read_line, &state, on_entry, &state);
        fclose(f);
        return finish(&state, line, path, ret_error);
}
