/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "flusher.h"
#include "log.h"
#include "time-format.h"

/* Commits that pause this long are flushed at once: the daemon is idle. */
#define QUIET_USEC (5 * USEC_PER_MSEC)
/* The first commit after a complete checkpoint starts the WAL over and flushes its
 * header, in the event loop (SQLite must: an unflushed header can corrupt the database
 * after a power cut). A login writes about 11 pages: checkpointing every 4096 pages
 * (16 MiB of WAL) leaves that flush to one login in about 370, out of the 99th
 * percentile, where SQLite's 1000 put it in one in 90. */
#define CHECKPOINT_PAGES 4096
/* What SQLite's automatic checkpoint waits for, given back when the thread stops. */
#define AUTOCHECKPOINT_PAGES 1000
/* The thread's own connection may wait for the writer: nobody waits for the thread. */
#define BUSY_TIMEOUT_MSEC 2000

struct Flusher {
        sqlite3 *writer;
        sqlite3 *database;              /* the thread's own connection */
        sqlite3_stmt *read_change_counter;
        int64_t interval_usec;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t wake;

        /* Under lock. */
        uint64_t commits, flushed;      /* commits seen by the WAL hook, commits flushed */
        int64_t last_commit_usec, first_unflushed_usec, retry_usec;
        int wal_pages;
        int64_t durable_change;         /* the fleet's change numbers up to it are on disk */
        bool waiting_for_commit, stopping, failing, unflushed_start;
        FlusherCounts counts;
};

/* Runs in the writer's thread, after each commit, with the WAL's size in pages. */
static int on_commit(void *userdata, sqlite3 *database, const char *name, int pages) {
        Flusher *flusher = userdata;
        int64_t now = now_usec(CLOCK_MONOTONIC);

        pthread_mutex_lock(&flusher->lock);
        if (flusher->commits == flusher->flushed)
                flusher->first_unflushed_usec = now;
        flusher->commits++;
        flusher->last_commit_usec = now;
        flusher->wal_pages = pages;
        /* A thread waiting for a deadline sees this commit when it wakes: no need to
         * pay for waking it now. */
        if (flusher->waiting_for_commit)
                pthread_cond_signal(&flusher->wake);
        pthread_mutex_unlock(&flusher->lock);
        return SQLITE_OK;
}

static int sync_wal(Flusher *flusher) {
        sqlite3_file *wal = NULL;
        int rc;

        rc = sqlite3_file_control(flusher->database, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
        if (rc == SQLITE_OK && (!wal || !wal->pMethods)) {
                /* This connection opens the WAL with its first read. */
                rc = sqlite3_exec(flusher->database, "SELECT count(*) FROM sqlite_schema;", NULL, NULL, NULL);
                if (rc == SQLITE_OK)
                        rc = sqlite3_file_control(flusher->database, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
        }
        if (rc != SQLITE_OK)
                return rc;
        if (!wal || !wal->pMethods)
                return SQLITE_OK;       /* no WAL: nothing was written to one */
        return wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
}

/* The last change number committed: read before the WAL is flushed, it is on disk after. */
static int read_change_counter(Flusher *flusher, int64_t *ret) {
        int rc = sqlite3_step(flusher->read_change_counter);

        if (rc == SQLITE_ROW) {
                *ret = sqlite3_column_int64(flusher->read_change_counter, 0);
                rc = SQLITE_OK;
        }
        (void) sqlite3_reset(flusher->read_change_counter);    /* ends the read: checkpoints pass */
        return rc;
}

static int flush(Flusher *flusher, bool checkpoint, bool *ret_checkpointed, int64_t *ret_durable_change) {
        int rc;

        *ret_checkpointed = false;
        rc = read_change_counter(flusher, ret_durable_change);
        if (rc == SQLITE_OK)
                rc = sync_wal(flusher);
        if (rc != SQLITE_OK || !checkpoint)
                return rc;
        /* PASSIVE: copies what no reader still needs, never blocks the writer. */
        rc = sqlite3_wal_checkpoint_v2(flusher->database, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc == SQLITE_BUSY)
                return SQLITE_OK;       /* someone else checkpoints: the WAL is synced anyway */
        *ret_checkpointed = rc == SQLITE_OK;
        return rc;
}

static void wait_until(Flusher *flusher, int64_t deadline_usec) {
        struct timespec deadline = {
                .tv_sec = deadline_usec / USEC_PER_SEC,
                .tv_nsec = (deadline_usec % USEC_PER_SEC) * 1000,
        };
        (void) pthread_cond_timedwait(&flusher->wake, &flusher->lock, &deadline);
}

static void *run(void *userdata) {
        Flusher *flusher = userdata;

        pthread_mutex_lock(&flusher->lock);
        for (;;) {
                if (flusher->commits == flusher->flushed && !flusher->unflushed_start) {
                        if (flusher->stopping)
                                break;
                        flusher->waiting_for_commit = true;
                        pthread_cond_wait(&flusher->wake, &flusher->lock);
                        flusher->waiting_for_commit = false;
                        continue;
                }

                int64_t now = now_usec(CLOCK_MONOTONIC);
                int64_t quiet = flusher->last_commit_usec + QUIET_USEC;
                int64_t latest = flusher->first_unflushed_usec + flusher->interval_usec;
                int64_t due = quiet < latest ? quiet : latest;
                if (due < flusher->retry_usec)
                        due = flusher->retry_usec;
                if (!flusher->stopping && now < due) {
                        wait_until(flusher, due);
                        continue;
                }

                uint64_t target = flusher->commits;
                bool checkpoint = flusher->wal_pages >= CHECKPOINT_PAGES;
                bool checkpointed;
                int64_t durable_change = 0;
                pthread_mutex_unlock(&flusher->lock);
                int rc = flush(flusher, checkpoint, &checkpointed, &durable_change);
                pthread_mutex_lock(&flusher->lock);

                if (rc == SQLITE_OK) {
                        if (flusher->failing)
                                log_info("the session database is flushed to disk again");
                        flusher->failing = false;
                        flusher->unflushed_start = false;
                        flusher->flushed = target;
                        flusher->durable_change = durable_change;
                        flusher->counts.flushes++;
                        flusher->counts.checkpoints += checkpointed;
                        if (checkpointed)
                                flusher->wal_pages = 0;
                        continue;
                }

                flusher->counts.failures++;
                if (!flusher->failing)
                        log_error("cannot flush the session database to disk: %s (retrying every %" PRIi64 " ms)",
                                  sqlite3_errstr(rc), flusher->interval_usec / USEC_PER_MSEC);
                flusher->failing = true;
                if (flusher->stopping)
                        break;          /* the writer's close checkpoints: its last chance */
                flusher->retry_usec = now_usec(CLOCK_MONOTONIC) + flusher->interval_usec;
        }
        flusher->counts.commits = flusher->commits;
        pthread_mutex_unlock(&flusher->lock);
        return NULL;
}

static Flusher *flusher_free(Flusher *flusher) {
        sqlite3_finalize(flusher->read_change_counter);
        sqlite3_close_v2(flusher->database);
        pthread_cond_destroy(&flusher->wake);
        pthread_mutex_destroy(&flusher->lock);
        free(flusher);
        return NULL;
}

int flusher_start(sqlite3 *writer, const char *path, int64_t interval_usec, Flusher **ret) {
        pthread_condattr_t attributes;
        Flusher *flusher;
        int rc, r;

        flusher = calloc(1, sizeof(*flusher));
        if (!flusher)
                return -ENOMEM;
        flusher->writer = writer;
        flusher->interval_usec = interval_usec;
        /* What an earlier sessmgrd committed may not be on disk yet (it was killed): one
         * flush at start tells which change numbers are. */
        flusher->unflushed_start = true;
        flusher->first_unflushed_usec = flusher->last_commit_usec = now_usec(CLOCK_MONOTONIC);
        pthread_mutex_init(&flusher->lock, NULL);
        pthread_condattr_init(&attributes);
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
        pthread_cond_init(&flusher->wake, &attributes);
        pthread_condattr_destroy(&attributes);

        rc = sqlite3_open_v2(path, &flusher->database,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_busy_timeout(flusher->database, BUSY_TIMEOUT_MSEC);
        /* It reads no records: a checkpoint copies pages past the cache. */
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(flusher->database, "PRAGMA cache_size = 8;", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_prepare_v2(flusher->database, "SELECT value FROM change_counter;", -1,
                                        &flusher->read_change_counter, NULL);
        if (rc != SQLITE_OK) {
                log_error("%s: cannot open a second connection to flush the database: %s",
                          path, flusher->database ? sqlite3_errmsg(flusher->database) : sqlite3_errstr(rc));
                flusher_free(flusher);
                return -EIO;
        }

        r = -pthread_create(&flusher->thread, NULL, run, flusher);
        if (r < 0) {
                flusher_free(flusher);
                return log_error_errno(r, "cannot start the thread that flushes the database: %m");
        }

        /* Replaces the writer's automatic checkpoint, which is a WAL hook too. */
        sqlite3_wal_hook(writer, on_commit, flusher);
        *ret = flusher;
        return 0;
}

Flusher *flusher_stop(Flusher *flusher) {
        if (!flusher)
                return NULL;

        sqlite3_wal_hook(flusher->writer, NULL, NULL);
        (void) sqlite3_wal_autocheckpoint(flusher->writer, AUTOCHECKPOINT_PAGES);

        pthread_mutex_lock(&flusher->lock);
        flusher->stopping = true;
        pthread_cond_signal(&flusher->wake);
        pthread_mutex_unlock(&flusher->lock);
        (void) pthread_join(flusher->thread, NULL);

        log_debug("%" PRIu64 " commits flushed to disk in %" PRIu64 " flushes, %" PRIu64 " checkpoints, %" PRIu64 " failures",
                  flusher->counts.commits, flusher->counts.flushes, flusher->counts.checkpoints, flusher->counts.failures);
        return flusher_free(flusher);
}

int64_t flusher_durable_change(Flusher *flusher) {
        int64_t change;

        pthread_mutex_lock(&flusher->lock);
        change = flusher->durable_change;
        pthread_mutex_unlock(&flusher->lock);
        return change;
}

FlusherCounts flusher_counts(Flusher *flusher) {
        FlusherCounts counts;

        pthread_mutex_lock(&flusher->lock);
        counts = flusher->counts;
        counts.commits = flusher->commits;
        pthread_mutex_unlock(&flusher->lock);
        return counts;
}
