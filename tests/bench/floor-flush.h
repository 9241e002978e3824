/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sqlite3.h>
#include <stdint.h>

/* bench-floor's background flush, the least the contract of issue 16 asks for: commits
 * are answered once in the WAL (synchronous=NORMAL), and a thread with a connection of
 * its own makes them durable at most an interval after the first one not yet flushed
 * (a passive checkpoint: it syncs the WAL, copies it into the database and syncs that).
 * The writer's automatic checkpoints are turned off, so that none runs on the reply path. */
typedef struct FloorFlush FloorFlush;

int floor_flush_start(sqlite3 *writer, const char *path, int64_t interval_usec, FloorFlush **ret);

/* After each commit of the writer. */
void floor_flush_notify(FloorFlush *flush);

/* Flushes what is left, stops the thread; returns how many flushes ran, or a negative
 * errno if one failed. */
int64_t floor_flush_stop(FloorFlush *flush);
