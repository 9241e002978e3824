/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "alloc-util.h"
#include "config-files.h"

const char *const config_directories[3] = {
        SESSMGR_CONFIG_DIRECTORY,               /* the administrator's, /etc/sessmgr */
        SESSMGR_RUNTIME_CONFIG_DIRECTORY,       /* made at run time, /run/sessmgr */
        SESSMGR_VENDOR_CONFIG_DIRECTORY,        /* the package's, /usr/lib/sessmgr */
};

typedef struct DropIn {
        char *name;             /* "50-idle.conf", what the order and the masking go by */
        char *path;
        bool masked;
} DropIn;

typedef struct DropIns {
        DropIn *items;
        size_t count, allocated;
} DropIns;

void config_files_free(char **paths) {
        for (char **path = paths; path && *path; path++)
                free(*path);
        free(paths);
}

static void drop_ins_done(DropIns *drop_ins) {
        for (size_t i = 0; i < drop_ins->count; i++) {
                free(drop_ins->items[i].name);
                free(drop_ins->items[i].path);
        }
        free(drop_ins->items);
}

/* What systemd calls "null or empty": a symbolic link to /dev/null, or an empty file. */
static bool masks(const struct stat *st) {
        if (S_ISCHR(st->st_mode))
                return st->st_rdev == makedev(1, 3);
        return S_ISREG(st->st_mode) && st->st_size == 0;
}

/* 1 with *st filled when path is a file to read or a mask, 0 when there is nothing there
 * (a dangling link, a directory, a socket...). */
static int stat_candidate(const char *path, struct stat *st) {
        if (stat(path, st) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        return S_ISREG(st->st_mode) || masks(st);
}

static bool is_drop_in_name(const char *name) {
        size_t length = strlen(name);

        /* Hidden files are editors' and package managers' leftovers, as for systemd. */
        return name[0] != '.' && length > 5 && strcmp(name + length - 5, ".conf") == 0;
}

/* Adds the drop-ins of directory whose names no earlier directory had. */
static int add_drop_ins(DropIns *drop_ins, const char *directory, char **ret_error) {
        DIR *dir;
        struct dirent *entry;
        int r = 0;

        dir = opendir(directory);
        if (!dir) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                r = -errno;
                if (asprintf(ret_error, "%s: cannot list it: %s", directory, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        /* Only the names of the directories before this one mask: within one directory
         * every name is there once. */
        size_t before = drop_ins->count;
        while ((errno = 0, entry = readdir(dir))) {
                _cleanup_(freep) char *path = NULL;
                struct stat st;
                bool seen = false;

                if (!is_drop_in_name(entry->d_name))
                        continue;
                for (size_t i = 0; i < before && !seen; i++)
                        seen = strcmp(drop_ins->items[i].name, entry->d_name) == 0;
                if (seen)
                        continue;
                if (asprintf(&path, "%s/%s", directory, entry->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = stat_candidate(path, &st);
                if (r < 0) {
                        if (asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
                                *ret_error = NULL;
                        break;
                }
                if (r == 0)
                        continue;
                if (!GREEDY_REALLOC(drop_ins->items, drop_ins->allocated, drop_ins->count + 1)) {
                        r = -ENOMEM;
                        break;
                }
                drop_ins->items[drop_ins->count] = (DropIn) {
                        .name = strdup(entry->d_name),
                        .path = TAKE_PTR(path),
                        .masked = masks(&st),
                };
                if (!drop_ins->items[drop_ins->count++].name) {
                        r = -ENOMEM;
                        break;
                }
                r = 0;
        }
        if (r == 0 && errno != 0) {
                r = -errno;
                if (asprintf(ret_error, "%s: cannot list it: %s", directory, strerror(-r)) < 0)
                        *ret_error = NULL;
        }
        closedir(dir);
        return r;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(((const DropIn *) a)->name, ((const DropIn *) b)->name);
}

static int append(char ***paths, size_t *count, size_t *allocated, const char *path) {
        char *copy = strdup(path);

        if (!copy || !GREEDY_REALLOC(*paths, *allocated, *count + 2)) {
                free(copy);
                return -ENOMEM;
        }
        (*paths)[(*count)++] = copy;
        (*paths)[*count] = NULL;
        return 0;
}

int config_files_find(const char *root, char ***ret_paths, char **ret_error) {
        _cleanup_(config_files_freep) char **paths = NULL;
        _cleanup_(drop_ins_done) DropIns drop_ins = {};
        size_t count = 0, allocated = 0;
        const char *prefix = root && strcmp(root, "/") != 0 ? root : "";
        int r;

        *ret_error = NULL;
        /* An empty list, not NULL, when there is nothing to read. */
        if (!GREEDY_REALLOC(paths, allocated, 1))
                return -ENOMEM;
        paths[0] = NULL;

        for (size_t i = 0; i < ELEMENTSOF(config_directories); i++) {
                _cleanup_(freep) char *path = NULL;
                struct stat st;

                if (asprintf(&path, "%s%s/" CONFIG_FILE_NAME, prefix, config_directories[i]) < 0)
                        return -ENOMEM;
                r = stat_candidate(path, &st);
                if (r < 0) {
                        if (asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
                                *ret_error = NULL;
                        return r;
                }
                if (r == 0)
                        continue;
                if (!masks(&st) && append(&paths, &count, &allocated, path) < 0)
                        return -ENOMEM;
                break;          /* the first one found is the main file, masked or not */
        }

        for (size_t i = 0; i < ELEMENTSOF(config_directories); i++) {
                _cleanup_(freep) char *directory = NULL;

                if (asprintf(&directory, "%s%s/" CONFIG_DROP_IN_DIRECTORY, prefix, config_directories[i]) < 0)
                        return -ENOMEM;
                r = add_drop_ins(&drop_ins, directory, ret_error);
                if (r < 0)
                        return r;
        }
        if (drop_ins.count > 1)         /* qsort() may not be given NULL, even for none */
                qsort(drop_ins.items, drop_ins.count, sizeof(DropIn), compare_names);
        for (size_t i = 0; i < drop_ins.count; i++)
                if (!drop_ins.items[i].masked && append(&paths, &count, &allocated, drop_ins.items[i].path) < 0)
                        return -ENOMEM;

        *ret_paths = TAKE_PTR(paths);
        return 0;
}

int config_source_files(const ConfigSource *source, char ***ret_paths, char **ret_error) {
        char **paths;

        *ret_error = NULL;
        if (!source->path)
                return config_files_find(source->root, ret_paths, ret_error);

        paths = calloc(2, sizeof(char *));
        if (!paths || !(paths[0] = strdup(source->path))) {
                free(paths);
                return -ENOMEM;
        }
        *ret_paths = paths;
        return 0;
}

int config_source_load(const ConfigSource *source, Config *ret, char **ret_error) {
        _cleanup_(config_files_freep) char **paths = NULL;
        Config config;
        int r;

        r = config_source_files(source, &paths, ret_error);
        if (r < 0)
                return r;
        config_defaults(&config);
        r = config_load_files(&config, paths, ret_error);
        if (r < 0) {
                config_done(&config);
                return r;
        }
        *ret = config;
        return 0;
}
