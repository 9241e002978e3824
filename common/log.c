/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static const char *program = "sessmgr";
static int max_level = LOG_INFO;
static bool to_journal;

void log_setup(const char *program_name) {
        program = program_name;
        /* systemd sets JOURNAL_STREAM when stderr is connected to the journal. */
        to_journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_internal(int level, int error, const char *format, ...) {
        int saved_errno = errno;
        va_list ap;

        if (error < 0)
                error = -error;

        if (level <= max_level) {
                if (to_journal)
                        fprintf(stderr, "<%d>", level);
                else
                        fprintf(stderr, "%s: ", program);
                /* "%m" in the format then says what error is (as systemd's log_*_errno do);
                 * errno is put back below. */
                if (error > 0)
                        errno = error;
                va_start(ap, format);
                vfprintf(stderr, format, ap);
                va_end(ap);
                fputc('\n', stderr);
        }

        errno = saved_errno;
        return error > 0 ? -error : -EIO;
}
