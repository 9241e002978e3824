/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

typedef struct Manager Manager;
typedef struct Retention Retention;

/* Deletes ended sessions older than [History] RetentionDays=, a few hundred at a time
 * when the daemon is idle, shortly after start and then every hour. */
int retention_start(Manager *manager);
Retention *retention_free(Retention *retention);
