/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"

/* Which files make up the configuration, found as systemd finds logind.conf and its
 * drop-ins (systemd.syntax(7), "Configuration Directories and Precedence"):
 *
 *   the main file: the first of /etc/sessmgr/sessmgrd.conf, /run/sessmgr/sessmgrd.conf,
 *     /usr/lib/sessmgr/sessmgrd.conf that exists;
 *   then the drop-ins sessmgrd.conf.d/NAME.conf of those three directories, sorted by NAME
 *     whichever directory holds them; of two with the same NAME, the one in the directory
 *     listed first wins (/etc over /run over /usr/lib);
 *   a file that is empty or a symbolic link to /dev/null masks the files of its name in
 *     the directories after it, and is not read itself. */

#define CONFIG_FILE_NAME "sessmgrd.conf"
#define CONFIG_DROP_IN_DIRECTORY CONFIG_FILE_NAME ".d"

/* The directories, first the one that wins (the paths come from the build). */
extern const char *const config_directories[3];

/* The files to read, in order, a NULL-terminated list to free with config_files_free().
 * root: a directory the search runs under ("/" or NULL: the system's own), for images
 * and tests. An unreadable directory is an error, with its path in *ret_error. */
int config_files_find(const char *root, char ***ret_paths, char **ret_error);

void config_files_free(char **paths);
DEFINE_POINTER_CLEANUP_FUNC(char *, config_files_free);

/* Where sessmgrd's configuration comes from: one file (--config), or the search. */
typedef struct ConfigSource {
        const char *path;       /* --config: this file alone, no drop-ins */
        const char *root;       /* --config-root */
} ConfigSource;

/* The files of source, in the order they are read. */
int config_source_files(const ConfigSource *source, char ***ret_paths, char **ret_error);

/* A fresh Config from the defaults and the files of source. */
int config_source_load(const ConfigSource *source, Config *ret, char **ret_error);
