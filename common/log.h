/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* Logging for sessmgrd and sessmgrctl (never for the PAM module, which uses pam_syslog).
 * Under systemd, stderr goes to the journal: lines get a "<N>" priority prefix there and
 * "program: " in front of them on a terminal. */

void log_setup(const char *program_name);
void log_set_max_level(int level);

/* Logs and returns -abs(error), so callers can write "return log_error_errno(r, ...)".
 * While formatting, errno is abs(error) when error is not 0, so "%m" prints its text:
 * log_error_errno(r, "cannot listen: %m"). errno is left as it was. */
int log_internal(int level, int error, const char *format, ...) _printf_(3, 4);

#define log_debug(...)   log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_internal(LOG_ERR, 0, __VA_ARGS__)

#define log_info_errno(error, ...)    log_internal(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_internal(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...)   log_internal(LOG_ERR, (error), __VA_ARGS__)
#define log_debug_errno(error, ...)   log_internal(LOG_DEBUG, (error), __VA_ARGS__)
