/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <signal.h>

#include "log.h"
#include "manager.h"

/* A sessmgrd manager for tests that drive the method handlers through real connections:
 * an in-memory store and the sessions layer, but no logind, no poller, no journal.
 * Shared by tests/unit/test-methods.c and tests/fuzz/fuzz-methods.c. */

static int in_memory_manager_nothing(sd_event_source *source, void *userdata) {
        return 0;
}

static inline int in_memory_manager_new(Manager **ret) {
        Manager *manager = NULL;
        sigset_t mask;
        int r;

        /* As sessmgrd's main() does: the event loop takes SIGTERM and SIGINT. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        log_set_max_level(-1);

        r = manager_new(&manager);
        if (r >= 0)
                r = store_open(":memory:", &manager->store);
        if (r >= 0)
                r = sessions_new(manager, NULL, NULL, &manager->sessions);
        /* server.c's reaper of closed connections, which is not set up here: a source that does nothing. */
        if (r >= 0)
                r = sd_event_add_defer(manager->event, &manager->reap_source, in_memory_manager_nothing, NULL);
        if (r < 0) {
                manager_free(manager);
                return r;
        }
        (void) sd_event_source_set_enabled(manager->reap_source, SD_EVENT_OFF);
        *ret = manager;
        return 0;
}
