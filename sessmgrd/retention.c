/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "manager.h"
#include "retention.h"
#include "time-format.h"

/* Small steps at idle priority, so logins are never held up by a million-row cleanup;
 * each step joins the shared transaction of its loop turn (batch.c). */
#define ROWS_PER_STEP 500
#define FIRST_PASS_USEC (1 * USEC_PER_SEC)
#define INTERVAL_USEC (3600 * USEC_PER_SEC)

struct Retention {
        Manager *manager;
        sd_event_source *timer;
        sd_event_source *step;
        int64_t cutoff_usec;            /* of the pass under way */
        uint64_t deleted;
};

static int on_step(sd_event_source *source, void *userdata) {
        Retention *retention = userdata;
        Manager *manager = retention->manager;
        int r;

        r = batch_begin(manager->batch);
        if (r >= 0)
                r = store_delete_history(manager->store, retention->cutoff_usec, ROWS_PER_STEP);
        if (r < 0)
                batch_abort(manager->batch, r);
        if (r > 0) {
                retention->deleted += (uint64_t) r;
                if (r == ROWS_PER_STEP)
                        return 0;       /* more: the next step when the loop is idle again */
        }

        if (retention->deleted > 0)
                log_info("deleted %llu ended session(s) older than %lld days",
                         (unsigned long long) retention->deleted,
                         (long long) (manager->config.retention_usec / (86400 * USEC_PER_SEC)));
        (void) sd_event_source_set_enabled(retention->step, SD_EVENT_OFF);
        (void) sd_event_source_set_time_relative(retention->timer, INTERVAL_USEC);
        return sd_event_source_set_enabled(retention->timer, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Retention *retention = userdata;

        retention->cutoff_usec = now_usec(CLOCK_REALTIME) - retention->manager->config.retention_usec;
        retention->deleted = 0;
        return sd_event_source_set_enabled(retention->step, SD_EVENT_ON);
}

int retention_start(Manager *manager) {
        Retention *retention;
        int r;

        if (manager->config.retention_usec == 0)
                return 0;       /* keep everything */

        retention = calloc(1, sizeof(*retention));
        if (!retention)
                return -ENOMEM;
        retention->manager = manager;
        manager->retention = retention;

        r = sd_event_add_time_relative(manager->event, &retention->timer, CLOCK_MONOTONIC, FIRST_PASS_USEC,
                                       USEC_PER_SEC, on_timer, retention);
        if (r < 0)
                return r;
        r = sd_event_add_defer(manager->event, &retention->step, on_step, retention);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(retention->step, SD_EVENT_OFF);
        return sd_event_source_set_priority(retention->step, SD_EVENT_PRIORITY_IDLE);
}

Retention *retention_free(Retention *retention) {
        if (!retention)
                return NULL;
        sd_event_source_disable_unref(retention->timer);
        sd_event_source_disable_unref(retention->step);
        free(retention);
        return NULL;
}
