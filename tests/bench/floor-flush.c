/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "floor-flush.h"
#include "macro.h"
#include "time-format.h"

struct FloorFlush {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        sqlite3 *database;              /* the thread's own connection */
        int64_t interval_usec;
        int64_t first_unflushed_usec;   /* CLOCK_MONOTONIC; 0: nothing waits */
        bool stop;
        int64_t flushes;
        int error;
};

static int flush_now(FloorFlush *flush) {
        int rc = sqlite3_wal_checkpoint_v2(flush->database, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

        if (rc != SQLITE_OK) {
                fprintf(stderr, "bench-floor: background flush: %s\n", sqlite3_errmsg(flush->database));
                return -EIO;
        }
        return 0;
}

static void *run_flush(void *userdata) {
        FloorFlush *flush = userdata;

        pthread_mutex_lock(&flush->lock);
        while (!flush->stop || flush->first_unflushed_usec > 0) {
                int64_t deadline = flush->first_unflushed_usec + flush->interval_usec;
                int r;

                if (flush->first_unflushed_usec == 0) {
                        pthread_cond_wait(&flush->wake, &flush->lock);
                        continue;
                }
                if (!flush->stop && now_usec(CLOCK_MONOTONIC) < deadline) {
                        struct timespec until = {
                                .tv_sec = deadline / USEC_PER_SEC,
                                .tv_nsec = (long) (deadline % USEC_PER_SEC) * 1000,
                        };
                        (void) pthread_cond_timedwait(&flush->wake, &flush->lock, &until);
                        continue;
                }

                /* Commits that come while it runs wait for the next one. */
                flush->first_unflushed_usec = 0;
                pthread_mutex_unlock(&flush->lock);
                r = flush_now(flush);
                pthread_mutex_lock(&flush->lock);
                flush->flushes++;
                if (r < 0)
                        flush->error = r;
        }
        pthread_mutex_unlock(&flush->lock);
        return NULL;
}

static void floor_flush_free(FloorFlush *flush) {
        sqlite3_close_v2(flush->database);
        pthread_cond_destroy(&flush->wake);
        pthread_mutex_destroy(&flush->lock);
        free(flush);
}

int floor_flush_start(sqlite3 *writer, const char *path, int64_t interval_usec, FloorFlush **ret) {
        FloorFlush *flush;
        pthread_condattr_t attributes;

        flush = calloc(1, sizeof(*flush));
        if (!flush)
                return -ENOMEM;
        flush->interval_usec = interval_usec;
        pthread_mutex_init(&flush->lock, NULL);
        pthread_condattr_init(&attributes);
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
        pthread_cond_init(&flush->wake, &attributes);
        pthread_condattr_destroy(&attributes);

        if (sqlite3_open_v2(path, &flush->database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
            sqlite3_exec(flush->database, "PRAGMA synchronous = NORMAL;", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(writer, "PRAGMA wal_autocheckpoint = 0;", NULL, NULL, NULL) != SQLITE_OK) {
                fprintf(stderr, "bench-floor: cannot set up the background flush: %s\n",
                        flush->database ? sqlite3_errmsg(flush->database) : "out of memory");
                floor_flush_free(flush);
                return -EIO;
        }
        if (pthread_create(&flush->thread, NULL, run_flush, flush) != 0) {
                floor_flush_free(flush);
                return -EAGAIN;
        }
        *ret = flush;
        return 0;
}

void floor_flush_notify(FloorFlush *flush) {
        pthread_mutex_lock(&flush->lock);
        if (flush->first_unflushed_usec == 0) {
                flush->first_unflushed_usec = now_usec(CLOCK_MONOTONIC);
                pthread_cond_signal(&flush->wake);
        }
        pthread_mutex_unlock(&flush->lock);
}

int64_t floor_flush_stop(FloorFlush *flush) {
        int64_t result;

        pthread_mutex_lock(&flush->lock);
        flush->stop = true;
        pthread_cond_signal(&flush->wake);
        pthread_mutex_unlock(&flush->lock);
        pthread_join(flush->thread, NULL);

        result = flush->error < 0 ? flush->error : flush->flushes;
        floor_flush_free(flush);
        return result;
}
