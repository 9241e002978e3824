/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "record.h"

/* The idle logout policy ([IdleLogout] in sessmgrd.conf), judged on sessmgr's own
 * activity, so that it also ends SSH sessions without a terminal (sftp, "ssh host cmd",
 * port forwards), which logind's StopIdleSessionSec= leaves alone. */

typedef enum IdleVerdict {
        IDLE_NOTHING,
        IDLE_WARN,              /* within WarnSec= of the limit: say so on its terminals */
        IDLE_LOG_OUT,
} IdleVerdict;

/* What to do about this session now. *warned says whether it was warned since it was
 * last active (the caller keeps it). */
IdleVerdict idle_judge(const Config *config, const SessionRecord *record, int64_t now_usec, bool warned);

/* The warning written to the session's terminals. */
int idle_warning_text(const Config *config, const SessionRecord *record, int64_t now_usec, char **ret);

/* Writes text to each of the session's terminals ("pts/3 pts/5"); never blocks. */
void idle_write_to_terminals(const char *ttys, const char *text);
