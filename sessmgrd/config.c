/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc-util.h"
#include "config.h"
#include "log.h"
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
                .count_process_activity = false,
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

static size_t list_length(char *const *list) {
        size_t count = 0;

        while (list && list[count])
                count++;
        return count;
}

/* Adds the words of "alice, bob  carol" to *list (which may be NULL), as systemd adds
 * to its list settings; an empty value empties the list. */
static int list_extend(char ***list, const char *value) {
        _cleanup_(freep) char *copy = strdup(value);
        size_t count = list_length(*list), allocated = count ? count + 1 : 0;
        char *state = NULL;

        if (!copy)
                return -ENOMEM;
        if (strspn(value, ", \t") == strlen(value)) {
                list_free(*list);
                *list = NULL;
                return 0;
        }
        for (char *word = strtok_r(copy, ", \t", &state); word; word = strtok_r(NULL, ", \t", &state)) {
                char *item = strdup(word);

                /* Room for the word and the NULL that ends the list. */
                if (!item || !GREEDY_REALLOC(*list, allocated, count + 2)) {
                        free(item);
                        return -ENOMEM;
                }
                (*list)[count++] = item;
                (*list)[count] = NULL;
        }
        return 0;
}

static int list_copy(char *const *list, char ***ret) {
        char **copy = NULL;

        for (char *const *item = list; item && *item; item++)
                if (list_extend(&copy, *item) < 0) {
                        list_free(copy);
                        return -ENOMEM;
                }
        *ret = copy;
        return 0;
}

/* "alice bob", or "" for an empty list. */
static char *list_join(char *const *list) {
        size_t length = 1;
        char *text, *end;

        for (char *const *item = list; item && *item; item++)
                length += strlen(*item) + 1;
        text = end = malloc(length);
        if (!text)
                return NULL;
        *text = '\0';
        for (char *const *item = list; item && *item; item++)
                end = stpcpy(stpcpy(end, item == list ? "" : " "), *item);
        return text;
}

/* As systemd's parse_boolean(). */
static int parse_boolean(const char *value, bool *ret) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(value, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(value, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

typedef enum SettingType {
        SETTING_NUMBER,         /* int64_t microseconds, written as whole units */
        SETTING_BOOLEAN,        /* bool */
        SETTING_LIST,           /* char **, NULL-terminated */
        SETTING_USER_NAME,      /* char *, NULL when empty */
} SettingType;

typedef struct Setting {
        const char *section;
        const char *name;
        SettingType type;
        size_t offset;                  /* of the value in Config */
        unsigned long long minimum, maximum;    /* SETTING_NUMBER, in units */
        int64_t unit;                   /* microseconds per unit */
        bool needs_restart;             /* a running sessmgrd cannot change it */
} Setting;

#define NUMBER(section_, name_, field, minimum_, maximum_, unit_)                                          \
        { .section = section_, .name = name_, .type = SETTING_NUMBER, .offset = offsetof(Config, field),       \
          .minimum = minimum_, .maximum = maximum_, .unit = unit_ }
#define BOOLEAN(section_, name_, field)                                                                       \
        { .section = section_, .name = name_, .type = SETTING_BOOLEAN, .offset = offsetof(Config, field) }
#define LIST(section_, name_, field)                                                                          \
        { .section = section_, .name = name_, .type = SETTING_LIST, .offset = offsetof(Config, field) }
#define USER_NAME(section_, name_, field)                                                                     \
        { .section = section_, .name = name_, .type = SETTING_USER_NAME, .offset = offsetof(Config, field) }

/* Every setting, grouped by section in the order --dump-config prints them. A new one is
 * a field in Config, a default in config_defaults() and a line here (with
 * ".needs_restart = true" when a running sessmgrd cannot take a new value). */
static const Setting settings[] = {
        /* The writer and its flusher are set up once, at start. */
        { .section = "Database", .name = "FlushIntervalSec", .type = SETTING_NUMBER,
          .offset = offsetof(Config, flush_interval_usec), .minimum = 0, .maximum = 60, .unit = USEC_PER_SEC,
          .needs_restart = true },
        NUMBER("Activity",    "PollIntervalSec",      poll_interval_usec, 1, 86400, USEC_PER_SEC),
        NUMBER("History",     "RetentionDays",        retention_usec, 0, 36500, DAY_USEC),
        NUMBER("IdleLogout",  "IdleTimeoutSec",       idle_timeout_usec, 0, 365 * 86400ULL, USEC_PER_SEC),
        NUMBER("IdleLogout",  "WarnSec",              idle_warning_usec, 0, 86400, USEC_PER_SEC),
        LIST("IdleLogout",    "ExemptUsers",          exempt_users),
        LIST("IdleLogout",    "ExemptServices",       exempt_services),
        BOOLEAN("IdleLogout", "CountProcessActivity", count_process_activity),
        /* Whose calls reach the fleet methods, and whether changes are numbered: at start. */
        { .section = "Fleet", .name = "AgentUser", .type = SETTING_USER_NAME,
          .offset = offsetof(Config, fleet_agent_user), .needs_restart = true },
};

typedef char **StringList;
typedef char *StringOrNull;

/* A user name as useradd(8) takes it; empty for none. */
static int parse_user_name(const char *value, char **field) {
        char *copy = NULL;

        if (*value) {
                size_t length = strlen(value);

                if (length > 32 || strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_-") != length ||
                    value[0] == '-')
                        return -EINVAL;
                copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
        }
        free(*field);
        *field = copy;
        return 0;
}
#define FIELD(config, setting, type) ((type *) ((char *) (config) + (setting)->offset))
#define CONST_FIELD(config, setting, type) ((const type *) ((const char *) (config) + (setting)->offset))

static const Setting *setting_find(const char *section, const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                if (strcmp(settings[i].section, section) == 0 && strcmp(settings[i].name, name) == 0)
                        return &settings[i];
        return NULL;
}

static int setting_parse(const Setting *setting, Config *config, const char *value) {
        unsigned long long number;
        int r;

        switch (setting->type) {
        case SETTING_NUMBER:
                r = parse_unsigned(value, setting->minimum, setting->maximum, &number);
                if (r < 0)
                        return r;
                *FIELD(config, setting, int64_t) = (int64_t) number * setting->unit;
                return 0;
        case SETTING_BOOLEAN:
                return parse_boolean(value, FIELD(config, setting, bool));
        case SETTING_LIST:
                return list_extend(FIELD(config, setting, char **), value);
        case SETTING_USER_NAME:
                return parse_user_name(value, FIELD(config, setting, char *));
        }
        return -EINVAL;
}

/* The value as the file would say it. */
static char *setting_format(const Setting *setting, const Config *config) {
        char *text = NULL;

        switch (setting->type) {
        case SETTING_NUMBER:
                if (asprintf(&text, "%lld", (long long) (*CONST_FIELD(config, setting, int64_t) / setting->unit)) < 0)
                        return NULL;
                return text;
        case SETTING_BOOLEAN:
                return strdup(*CONST_FIELD(config, setting, bool) ? "yes" : "no");
        case SETTING_LIST:
                return list_join(*CONST_FIELD(config, setting, StringList));
        case SETTING_USER_NAME:
                return strdup(*CONST_FIELD(config, setting, StringOrNull) ?: "");
        }
        return NULL;
}

static int setting_copy(const Setting *setting, const Config *from, Config *to) {
        char **list;

        switch (setting->type) {
        case SETTING_NUMBER:
                *FIELD(to, setting, int64_t) = *CONST_FIELD(from, setting, int64_t);
                return 0;
        case SETTING_BOOLEAN:
                *FIELD(to, setting, bool) = *CONST_FIELD(from, setting, bool);
                return 0;
        case SETTING_LIST:
                if (list_copy(*CONST_FIELD(from, setting, StringList), &list) < 0)
                        return -ENOMEM;
                list_free(*FIELD(to, setting, char **));
                *FIELD(to, setting, char **) = list;
                return 0;
        case SETTING_USER_NAME: {
                const char *name = *CONST_FIELD(from, setting, StringOrNull);
                char *copy = NULL;

                if (name && !(copy = strdup(name)))
                        return -ENOMEM;
                free(*FIELD(to, setting, char *));
                *FIELD(to, setting, char *) = copy;
                return 0;
        }
        }
        return -EINVAL;
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
        const Setting *setting;
        int r;

        if (!name)      /* a section header alone */
                return 1;

        setting = setting_find(section, name);
        if (!setting && section[0])
                return fail(state, "unknown setting %s= in [%s]", name, section);
        if (!setting)
                return fail(state, "setting %s= outside any [section]", name);

        r = setting_parse(setting, state->config, value);
        if (r == -ENOMEM)
                return fail(state, "out of memory");
        if (r < 0)
                return fail(state, "[%s] %s=: invalid value \"%s\"", section, name, value);
        return 1;
}

static int finish(ParseState *state, int first_error_line, const char *origin, char **ret_error) {
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
        else {
                free(state->error);
                return 0;
        }
        if (r < 0)
                *ret_error = NULL;
        free(state->error);
        return -EINVAL;
}

int config_verify(const Config *config, const char *origin, char **ret_error) {
        if (config->idle_timeout_usec > 0 && config->idle_warning_usec >= config->idle_timeout_usec) {
                if (asprintf(ret_error, "%s: [IdleLogout] WarnSec= must be shorter than IdleTimeoutSec=", origin) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        return 0;
}

int config_parse_string(Config *config, const char *text, char **ret_error) {
        ParseState state = { .config = config, .text = text };
        int r;

        *ret_error = NULL;
        r = finish(&state, ini_parse_stream(read_line, &state, on_entry, &state), "(text)", ret_error);
        return r < 0 ? r : config_verify(config, "(text)", ret_error);
}

/* One file over what config holds, without config_verify(). */
static int parse_file(Config *config, const char *path, char **ret_error) {
        ParseState state = { .config = config };
        FILE *f;
        int line, error;

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

int config_load(Config *config, const char *path, char **ret_error) {
        int r;

        *ret_error = NULL;
        r = parse_file(config, path, ret_error);
        return r < 0 ? r : config_verify(config, path, ret_error);
}

int config_load_files(Config *config, char *const *paths, char **ret_error) {
        int r;

        *ret_error = NULL;
        for (char *const *path = paths; path && *path; path++) {
                r = parse_file(config, *path, ret_error);
                if (r < 0)
                        return r;
        }
        /* Then the error is in how the files combine, not in one of them. */
        if (list_length(paths) > 1)
                return config_verify(config, "the files merged (see sessmgrd --cat-config)", ret_error);
        return config_verify(config, paths && paths[0] ? paths[0] : "the defaults", ret_error);
}

int config_dump(const Config *config, FILE *f) {
        const char *section = NULL;

        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                _cleanup_(freep) char *value = setting_format(&settings[i], config);

                if (!value)
                        return -ENOMEM;
                if (!section || strcmp(section, settings[i].section) != 0) {
                        section = settings[i].section;
                        fprintf(f, "%s[%s]\n", i > 0 ? "\n" : "", section);
                }
                fprintf(f, "%s=%s\n", settings[i].name, value);
        }
        return fflush(f) == 0 ? 0 : -errno;
}

int config_compare_for_reload(const Config *running, Config *loaded) {
        int changed = 0;

        for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
                const Setting *setting = &settings[i];
                _cleanup_(freep) char *before = setting_format(setting, running);
                _cleanup_(freep) char *after = setting_format(setting, loaded);

                if (!before || !after)
                        return -ENOMEM;
                if (strcmp(before, after) == 0)
                        continue;
                if (setting->needs_restart) {
                        log_warning("[%s] %s= changed from \"%s\" to \"%s\": it takes effect when sessmgrd "
                                    "restarts, \"%s\" stays until then",
                                    setting->section, setting->name, before, after, before);
                        if (setting_copy(setting, running, loaded) < 0)
                                return -ENOMEM;
                        continue;
                }
                log_info("[%s] %s= changed from \"%s\" to \"%s\"", setting->section, setting->name, before, after);
                changed++;
        }
        return changed;
}
