/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "batch.h"
#include "events.h"
#include "log.h"
#include "macro.h"
#include "protocol.h"

/* Commit at the latest after this many waiting replies, so that a steady stream of
 * requests can never hold a transaction open. */
#define BATCH_REPLIES_MAX 1024

typedef struct PendingReply {
        sd_bus_message *call;
        sd_bus_message *reply;
} PendingReply;

struct Batch {
        Store *store;
        void (*after_send)(void *userdata);
        void *userdata;
        sd_event_source *commit_source;
        PendingReply pending[BATCH_REPLIES_MAX];
        size_t count;
        JournalEntry **events;
        size_t event_count, event_allocated;
};

static void pending_reply_drop(PendingReply *pending) {
        sd_bus_message_unref(pending->call);
        sd_bus_message_unref(pending->reply);
        *pending = (PendingReply) {};
}

static void send_or_log(sd_bus_message *message) {
        int r = sd_bus_send(NULL, message, NULL);
        /* The caller may have given up and closed its connection: nothing to do then. */
        if (r < 0 && r != -ENOTCONN && r != -ECONNRESET)
                log_debug_errno(r, "cannot send reply: %m");
}

/* After the replies: a caller waiting for its login matters more than the journal. */
static void send_events(Batch *batch) {
        for (size_t i = 0; i < batch->event_count; i++) {
                journal_entry_send(batch->events[i]);
                batch->events[i] = journal_entry_free(batch->events[i]);
        }
        batch->event_count = 0;
}

static void drop_events(Batch *batch) {
        for (size_t i = 0; i < batch->event_count; i++)
                batch->events[i] = journal_entry_free(batch->events[i]);
        batch->event_count = 0;
}

void batch_event(Batch *batch, JournalEntry *entry) {
        if (!entry)
                return;
        if (!batch || !store_in_transaction(batch->store)) {
                journal_entry_send(entry);
                journal_entry_free(entry);
                return;
        }
        if (!GREEDY_REALLOC(batch->events, batch->event_allocated, batch->event_count + 1)) {
                log_debug("out of memory: a journal event is dropped");
                journal_entry_free(entry);
                return;
        }
        batch->events[batch->event_count++] = entry;
}

static void fail_all(Batch *batch, int error) {
        for (size_t i = 0; i < batch->count; i++) {
                PendingReply *pending = &batch->pending[i];
                int r = sd_bus_reply_method_errorf(pending->call, SESSMGR_ERROR_STORE,
                                                   "The session database could not be written: %s", strerror(-error));
                if (r < 0 && r != -ENOTCONN && r != -ECONNRESET)
                        log_debug_errno(r, "cannot send error reply: %m");
                pending_reply_drop(pending);
        }
        if (batch->count > 0 && batch->after_send)
                batch->after_send(batch->userdata);
        batch->count = 0;
}

int batch_flush(Batch *batch) {
        int r;

        if (!store_in_transaction(batch->store))
                return 0;

        r = store_commit(batch->store);
        if (r < 0) {
                batch_abort(batch, r);
                return r;
        }

        for (size_t i = 0; i < batch->count; i++) {
                send_or_log(batch->pending[i].reply);
                pending_reply_drop(&batch->pending[i]);
        }
        if (batch->count > 0 && batch->after_send)
                batch->after_send(batch->userdata);
        batch->count = 0;
        send_events(batch);
        return 0;
}

static int on_commit_time(sd_event_source *source, void *userdata) {
        (void) batch_flush(userdata);
        return 0;
}

int batch_new(sd_event *event, Store *store, void (*after_send)(void *userdata), void *userdata, Batch **ret) {
        _cleanup_(batch_freep) Batch *batch = NULL;
        int r;

        batch = calloc(1, sizeof(*batch));
        if (!batch)
                return -ENOMEM;
        batch->store = store;
        batch->after_send = after_send;
        batch->userdata = userdata;

        /* Idle priority: the commit runs once every readable connection has been served. */
        r = sd_event_add_defer(event, &batch->commit_source, on_commit_time, batch);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(batch->commit_source, SD_EVENT_PRIORITY_IDLE);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(batch->commit_source, SD_EVENT_OFF);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(batch);
        return 0;
}

Batch *batch_free(Batch *batch) {
        if (!batch)
                return NULL;
        (void) batch_flush(batch);
        drop_events(batch);
        free(batch->events);
        sd_event_source_disable_unref(batch->commit_source);
        free(batch);
        return NULL;
}

int batch_begin(Batch *batch) {
        int r;

        if (store_in_transaction(batch->store))
                return 0;
        r = store_begin(batch->store);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(batch->commit_source, SD_EVENT_ONESHOT);
}

int batch_reply(Batch *batch, sd_bus_message *call, sd_bus_message *reply) {
        /* The module sends the end of a session without waiting for it: the write
         * stands, nobody waits for its answer. */
        if (!sd_bus_message_get_expect_reply(call))
                return 1;
        if (!store_in_transaction(batch->store))
                return sd_bus_send(NULL, reply, NULL);

        batch->pending[batch->count++] = (PendingReply) {
                .call = sd_bus_message_ref(call),
                .reply = sd_bus_message_ref(reply),
        };
        if (batch->count == BATCH_REPLIES_MAX)
                (void) batch_flush(batch);
        return 1;
}

void batch_abort(Batch *batch, int error) {
        store_rollback(batch->store);
        fail_all(batch, error);
        drop_events(batch);
        (void) sd_event_source_set_enabled(batch->commit_source, SD_EVENT_OFF);
}
