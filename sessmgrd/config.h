/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"

/* sessmgrd.conf and its drop-ins, documented in sessmgrd.conf(5). Each setting is one
 * line of the table in config.c: parsing, printing (--dump-config) and what a reload
 * does with it all come from there. */

#define CONFIG_PATH_DEFAULT SESSMGR_CONFIG_PATH

typedef struct Config {
        int64_t flush_interval_usec;    /* [Database] FlushIntervalSec=, 0: before answering */
        int64_t poll_interval_usec;     /* [Activity] PollIntervalSec= */
        int64_t retention_usec;         /* [History] RetentionDays=, 0: keep forever */
        int64_t idle_timeout_usec;      /* [IdleLogout] IdleTimeoutSec=, 0: off */
        int64_t idle_warning_usec;      /* [IdleLogout] WarnSec= */
        char **exempt_users;            /* [IdleLogout] ExemptUsers=, NULL-terminated */
        char **exempt_services;         /* [IdleLogout] ExemptServices= */
        bool count_process_activity;    /* [IdleLogout] CountProcessActivity=, for terminal sessions */
        char *fleet_agent_user;         /* [Fleet] AgentUser=, NULL: no fleet */
} Config;

void config_defaults(Config *config);
void config_done(Config *config);

/* Reads the file over what config holds. A missing file is fine (nothing changes); an
 * unreadable or invalid one is an error, with the file, line and reason in *ret_error
 * (to be freed). Checks the settings against each other at the end (config_verify). */
int config_load(Config *config, const char *path, char **ret_error);

/* Several files in this order, each over the ones before, then config_verify once: a
 * drop-in may raise IdleTimeoutSec= before a later one raises WarnSec=. */
int config_load_files(Config *config, char *const *paths, char **ret_error);

/* The same for text in memory (what the fuzzer feeds). */
int config_parse_string(Config *config, const char *text, char **ret_error);

/* Settings that are valid alone but not together. */
int config_verify(const Config *config, const char *origin, char **ret_error);

/* The effective settings as a file sessmgrd would read back, every one of them. */
int config_dump(const Config *config, FILE *f);

/* A reload: logs each setting that differs between *running and *loaded; those a running
 * sessmgrd cannot change are logged as waiting for a restart and copied from *running
 * into *loaded. Returns how many settings change now. */
int config_compare_for_reload(const Config *running, Config *loaded);

bool config_list_contains(char *const *list, const char *item);
