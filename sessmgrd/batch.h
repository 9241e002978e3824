/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "store.h"

/* Group commit. Writes of one event-loop turn share a transaction; their replies wait
 * until it is committed, so a caller hears "recorded" only once the record is on disk,
 * and a login storm costs one fsync per turn instead of one per login. The sessions
 * layer (sessions.c) is its only user. */

typedef struct Batch Batch;
typedef struct JournalEntry JournalEntry;

/* after_send runs once replies went out from the commit (the connections must learn
 * that they may have output waiting). */
int batch_new(sd_event *event, Store *store, void (*after_send)(void *userdata), void *userdata, Batch **ret);
Batch *batch_free(Batch *batch);
DEFINE_POINTER_CLEANUP_FUNC(Batch, batch_free);

/* Opens the shared transaction unless one is open already. */
int batch_begin(Batch *batch);

/* Sends a reply, at once when no transaction is open, else after the commit (a reply
 * computed inside an uncommitted transaction must not escape before it is durable). */
int batch_reply(Batch *batch, sd_bus_message *call, sd_bus_message *reply);

/* Takes the journal entry: sent after the commit (at once if no transaction is open or
 * batch is NULL), dropped if the transaction is rolled back. */
void batch_event(Batch *batch, JournalEntry *entry);

/* A write failed: roll back, answer every waiting call with an error, drop the events. */
void batch_abort(Batch *batch, int error);

/* Commits and sends the waiting replies now. */
int batch_flush(Batch *batch);
