/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "config-files.h"
#include "macro.h"

typedef struct Manager Manager;
typedef struct Reloader Reloader;

/* SIGHUP (systemctl reload) reads the configuration again, from where it was read at
 * start, and applies it to the running sessmgrd; an invalid one is logged and the one in
 * use stays. poll_interval_override_usec: --poll-interval, which wins over the files
 * (0: none). */
int reloader_start(Manager *manager, const ConfigSource *source, int64_t poll_interval_override_usec,
                   Reloader **ret);
Reloader *reloader_free(Reloader *reloader);
DEFINE_POINTER_CLEANUP_FUNC(Reloader, reloader_free);

/* Makes loaded the configuration in use (taking it over), as far as a running sessmgrd
 * can: logs each change and each setting that waits for a restart. */
int manager_apply_config(Manager *manager, Config *loaded);
