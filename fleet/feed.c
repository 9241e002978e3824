/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "feed.h"
#include "time-format.h"

/* sessmgrd answers after the commit it may have pending (a second at most by default): a
 * call that takes longer than this means a daemon in trouble; the agent tries again later. */
#define FEED_CALL_TIMEOUT_USEC (30 * USEC_PER_SEC)

void change_batch_done(ChangeBatch *batch) {
        free(batch->feed);
        session_record_array_free(batch->records, batch->count);
        *batch = (ChangeBatch) {};
}

int feed_connect(const char *socket_path, sd_bus **ret) {
        return sessmgr_connect(socket_path, ret);
}

static int call(sd_bus *bus, sd_bus_message *m, sd_bus_error *error, sd_bus_message **ret_reply) {
        return sessmgr_call(bus, m, now_usec(CLOCK_MONOTONIC) + FEED_CALL_TIMEOUT_USEC, error, ret_reply);
}

int feed_get_changes(sd_bus *bus, uint64_t after, uint32_t limit, ChangeBatch *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(change_batch_done) ChangeBatch batch = {};
        const char *feed;
        size_t allocated = 0;
        int r;

        r = sessmgr_new_method_call(bus, &m, "GetChanges");
        if (r >= 0)
                r = sd_bus_message_append(m, "tu", after, limit);
        if (r >= 0)
                r = call(bus, m, error, &reply);
        if (r < 0)
                return r;

        r = sd_bus_message_read(reply, "st", &feed, &batch.cursor);
        if (r < 0)
                return r;
        batch.feed = strdup(feed);
        if (!batch.feed)
                return -ENOMEM;
        r = sd_bus_message_enter_container(reply, 'a', "a{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_at_end(reply, false)) == 0) {
                SessionRecord *record = session_record_array_add(&batch.records, &batch.count, &allocated);

                if (!record)
                        return -ENOMEM;
                r = session_record_read(reply, record);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;

        *ret = batch;
        batch = (ChangeBatch) {};
        return 0;
}

int feed_apply_revocation(sd_bus *bus, uint64_t id, const char *user, const char *reason, char **ret_outcome,
                          sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *outcome;
        int r;

        r = sessmgr_new_method_call(bus, &m, "ApplyRevocation");
        if (r >= 0)
                r = sd_bus_message_append(m, "tss", id, user, reason);
        if (r >= 0)
                r = call(bus, m, error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "s", &outcome);
        if (r < 0)
                return r;
        *ret_outcome = strdup(outcome);
        return *ret_outcome ? 0 : -ENOMEM;
}
