/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "manager.h"
#include "retention.h"
#include "stepper.h"
#include "time-format.h"

/* Small steps at idle priority (stepper.c), so logins are never held up by a million-row
 * cleanup; each step is one write of the sessions layer, in the shared transaction of its
 * loop turn. */
#define ROWS_PER_STEP 500
#define FIRST_PASS_USEC (1 * USEC_PER_SEC)
#define INTERVAL_USEC (3600 * USEC_PER_SEC)

struct Retention {
        Manager *manager;
        Stepper *walk;
        int64_t cutoff_usec;            /* of the pass under way */
        uint64_t deleted;
};

static void begin_pass(void *userdata) {
        Retention *retention = userdata;

        retention->cutoff_usec = now_usec(CLOCK_REALTIME) - retention->manager->config.retention_usec;
        retention->deleted = 0;
}

/* One step of a pass: > 0 while more may be left. */
static int step(void *userdata) {
        Retention *retention = userdata;
        Manager *manager = retention->manager;
        int r;

        r = sessions_expire(manager->sessions, retention->cutoff_usec, ROWS_PER_STEP);
        if (r > 0) {
                retention->deleted += (uint64_t) r;
                if (r == ROWS_PER_STEP)
                        return 1;
        }

        if (retention->deleted > 0)
                log_info("deleted %llu ended session(s) older than %lld days",
                         (unsigned long long) retention->deleted,
                         (long long) (manager->config.retention_usec / (86400 * USEC_PER_SEC)));
        return 0;
}

int retention_start(Manager *manager) {
        Retention *retention;

        if (manager->config.retention_usec == 0)
                return 0;       /* keep everything */

        retention = calloc(1, sizeof(*retention));
        if (!retention)
                return -ENOMEM;
        retention->manager = manager;
        manager->retention = retention;

        return stepper_new(manager->event, FIRST_PASS_USEC, INTERVAL_USEC, begin_pass, step, retention, &retention->walk);
}

Retention *retention_free(Retention *retention) {
        if (!retention)
                return NULL;
        stepper_free(retention->walk);
        free(retention);
        return NULL;
}
