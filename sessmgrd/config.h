/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "macro.h"

/* /etc/sessmgr/sessmgrd.conf, documented in sessmgrd.conf(5). */

#define CONFIG_PATH_DEFAULT SESSMGR_CONFIG_PATH

typedef struct Config {
        int64_t flush_interval_usec;    /* [Database] FlushIntervalSec=, 0: before answering */
        int64_t poll_interval_usec;     /* [Activity] PollIntervalSec= */
        int64_t retention_usec;         /* [History] RetentionDays=, 0: keep forever */
        int64_t idle_timeout_usec;      /* [IdleLogout] IdleTimeoutSec=, 0: off */
        int64_t idle_warning_usec;      /* [IdleLogout] WarnSec= */
        char **exempt_users;            /* [IdleLogout] ExemptUsers=, NULL-terminated */
        char **exempt_services;         /* [IdleLogout] ExemptServices= */
        char *fleet_agent_user;         /* [Fleet] AgentUser=, NULL: no fleet */
} Config;

void config_defaults(Config *config);
void config_done(Config *config);

/* Reads the file over the defaults. A missing file is fine (the defaults stay); an
 * unreadable or invalid one is an error, with the file, line and reason in *ret_error
 * (to be freed). */
int config_load(Config *config, const char *path, char **ret_error);

/* The same for text in memory (what the fuzzer feeds). */
int config_parse_string(Config *config, const char *text, char **ret_error);

bool config_list_contains(char *const *list, const char *item);
