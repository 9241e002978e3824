/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sqlite3.h>
#include <stdint.h>

#include "macro.h"

/* Makes the database's commits durable away from the event loop. With
 * synchronous=NORMAL a commit is in the WAL, which survives any crash of sessmgrd,
 * but not yet on the disk. A thread of its own, with a connection of its own, flushes
 * the WAL soon after each commit: once commits have paused for a moment, and at the
 * latest an interval after the first one not yet flushed. It also checkpoints the WAL,
 * which SQLite would otherwise do inside a commit, on the login path. */
typedef struct Flusher Flusher;

/* Starts flushing the commits of `writer` (the daemon's connection to the database at
 * `path`): takes over its WAL hook and turns its automatic checkpoints off. */
int flusher_start(sqlite3 *writer, const char *path, int64_t interval_usec, Flusher **ret);

/* Flushes what is left, then stops the thread and gives the writer its automatic
 * checkpoints back. */
Flusher *flusher_stop(Flusher *flusher);
DEFINE_POINTER_CLEANUP_FUNC(Flusher, flusher_stop);

/* The last change number of the fleet's feed (change_counter) that is on disk: the feed
 * shows no change that a power cut could take back, and number again. */
int64_t flusher_durable_change(Flusher *flusher);

/* How many flushes have run, and how many commits they covered (for tests and logs). */
typedef struct FlusherCounts {
        uint64_t commits, flushes, checkpoints, failures;
} FlusherCounts;
FlusherCounts flusher_counts(Flusher *flusher);
