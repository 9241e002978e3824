/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idle.h"
#include "macro.h"

#define MINUTE_USEC (60 * USEC_PER_SEC)

static bool exempt(const Config *config, const SessionRecord *record) {
        return config_list_contains(config->exempt_users, record->user) ||
               config_list_contains(config->exempt_services, record->service);
}

IdleVerdict idle_judge(const Config *config, const SessionRecord *record, int64_t now_usec, bool warned) {
        int64_t idle;

        /* su and sudo records share the logind session of the login they ran in: that
         * login alone is judged (its exemptions included), never them. */
        if (config->idle_timeout_usec <= 0 || record->state != SESSION_ACTIVE || !record->logind_session ||
            record->parent_id > 0 || exempt(config, record))
                return IDLE_NOTHING;

        idle = now_usec - record->last_active_usec;
        if (idle >= config->idle_timeout_usec)
                return IDLE_LOG_OUT;
        if (!warned && config->idle_warning_usec > 0 && idle >= config->idle_timeout_usec - config->idle_warning_usec)
                return IDLE_WARN;
        return IDLE_NOTHING;
}

int idle_warning_text(const Config *config, const SessionRecord *record, int64_t now_usec, char **ret) {
        int64_t left = record->last_active_usec + config->idle_timeout_usec - now_usec;
        long minutes = (long) ((left + MINUTE_USEC - 1) / MINUTE_USEC);

        if (minutes < 1)
                minutes = 1;
        return asprintf(ret, "\r\nsessmgr: this session has been idle and will be logged out in %ld minute%s "
                        "unless it is used.\r\n", minutes, minutes == 1 ? "" : "s") < 0 ? -ENOMEM : 0;
}

void idle_write_to_terminals(const char *ttys, const char *text) {
        _cleanup_(freep) char *copy = strdup(ttys ?: "");
        char *state = NULL;

        for (char *name = strtok_r(copy ?: "", " ", &state); name; name = strtok_r(NULL, " ", &state)) {
                _cleanup_(closep) int fd = -1;
                char path[64];

                /* Only terminal names as the poller found them: "pts/N", "ttyN". */
                if (strchr(name, '.') || snprintf(path, sizeof(path), "/dev/%s", name) >= (int) sizeof(path))
                        continue;
                fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
                if (fd >= 0)
                        (void) !write(fd, text, strlen(text));
        }
}
