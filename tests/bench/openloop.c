/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Open loop: logins arrive the way they do on a real server, at random (Poisson) times
 * at a given rate, whether or not the ones before are done. Each is an in-process PAM
 * login (pam_start, open, close, pam_end) through a real stack, and its latency counts
 * from its scheduled arrival, not from when a worker got to it: a login that waited for
 * a free worker or a busy CPU is counted with its wait (no coordinated omission).
 *
 * Several stacks take turns (A B A B ...), each turn the same arrivals for every stack
 * of a round, so that drift hits all alike. One line per stack.
 *
 * Workers are processes, as sshd's sessions are, not threads: libpam loads the modules
 * for every handle, and in one process the loader's lock would serialise what separate
 * sshd processes do in parallel; pam_wtmpdb keeps its options in static variables; and
 * nss_wrapper, which the bench uses for its users, is made for processes. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-stats.h"
#include "macro.h"
#include "pam-login.h"
#include "time-format.h"

#define MAX_STACKS 8
#define MAX_WORKERS 1024
#define START_DELAY_USEC (50 * USEC_PER_MSEC)   /* for the workers to be past the barrier */
#define LATE_START_USEC USEC_PER_MSEC

typedef struct Options {
        const char *stacks[MAX_STACKS];
        unsigned stack_count;
        const char *user;
        double rate, seconds_per_turn;
        unsigned rounds, workers;
} Options;

typedef struct Arrival {
        int64_t scheduled_usec;         /* CLOCK_MONOTONIC */
        int64_t start_delay_usec;       /* how late a worker began it */
        int64_t latency_usec;           /* from the scheduled time to the end; -1: failed */
} Arrival;

/* Shared by the parent and the workers, followed by the arrivals of one turn. */
typedef struct Shared {
        pthread_barrier_t start, end;   /* the workers and the parent */
        atomic_uint next, finished;
        unsigned count, stack;
        bool quit;
        Arrival arrivals[];
} Shared;

typedef struct Totals {
        Samples latency;
        unsigned logins, failed, started_late;
        double seconds;
} Totals;

static void sleep_until(int64_t usec) {
        struct timespec until = { .tv_sec = usec / USEC_PER_SEC, .tv_nsec = (long) (usec % USEC_PER_SEC) * 1000 };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
                ;
}

static int barrier_wait(pthread_barrier_t *barrier) {
        int r = pthread_barrier_wait(barrier);
        return r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD ? 0 : -r;
}

/* A worker: takes the next arrival, sleeps until it is due, logs in; until none is left. */
static int run_worker(const Options *options, Shared *shared) {
        /* Woken when the arrival is due, not up to 50 µs later as timers are by default. */
        (void) prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
        /* Not timed: a worker's first login also pays for its first reading of the users'
         * files and the pages it touches first, which sshd's children inherit warm. */
        for (unsigned stack = 0; stack < options->stack_count; stack++)
                (void) pam_login_once(options->stacks[stack], options->user);
        if (barrier_wait(&shared->end) < 0)
                return 1;
        for (;;) {
                if (barrier_wait(&shared->start) < 0)
                        return 1;
                if (shared->quit)
                        return 0;
                for (;;) {
                        unsigned i = atomic_fetch_add(&shared->next, 1);
                        Arrival *arrival;
                        int64_t started;
                        int r;

                        if (i >= shared->count)
                                break;
                        arrival = &shared->arrivals[i];
                        sleep_until(arrival->scheduled_usec);
                        started = now_usec(CLOCK_MONOTONIC);
                        r = pam_login_once(options->stacks[shared->stack], options->user);
                        arrival->start_delay_usec = started - arrival->scheduled_usec;
                        arrival->latency_usec = r < 0 ? -1 : now_usec(CLOCK_MONOTONIC) - arrival->scheduled_usec;
                        atomic_fetch_add(&shared->finished, 1);
                }
                if (barrier_wait(&shared->end) < 0)
                        return 1;
        }
}

/* Poisson arrivals: exponential gaps at the rate, from the same seed for each stack of a
 * round. Returns how many fit in the turn (at most capacity). */
static unsigned schedule_turn(Shared *shared, unsigned capacity, const Options *options, unsigned round,
                              int64_t start_usec) {
        unsigned short seed[3] = { (unsigned short) round, (unsigned short) options->rate, 0x5e55 };
        int64_t end_usec = start_usec + (int64_t) (options->seconds_per_turn * USEC_PER_SEC);
        double at = (double) start_usec;
        unsigned count = 0;

        for (;;) {
                at += -log(1.0 - erand48(seed)) / options->rate * USEC_PER_SEC;
                if (at >= (double) end_usec || count == capacity)
                        break;
                shared->arrivals[count++] = (Arrival) { .scheduled_usec = (int64_t) at, .latency_usec = -1 };
        }
        return count;
}

/* Any worker gone while a turn is under way? Then the others are stopped too. */
static int check_workers(pid_t *pids, unsigned count) {
        for (unsigned i = 0; i < count; i++) {
                int status;

                if (pids[i] <= 0 || waitpid(pids[i], &status, WNOHANG) == 0)
                        continue;
                pids[i] = 0;
                fprintf(stderr, "bench-openloop: a worker ended in a turn\n");
                for (unsigned j = 0; j < count; j++)
                        if (pids[j] > 0)
                                (void) kill(pids[j], SIGKILL);
                return -ECHILD;
        }
        return 0;
}

static int run_turn(const Options *options, Shared *shared, unsigned capacity, pid_t *pids, unsigned round,
                    unsigned stack, Totals *totals) {
        int64_t start = now_usec(CLOCK_MONOTONIC) + START_DELAY_USEC;
        int r;

        shared->count = schedule_turn(shared, capacity, options, round, start);
        shared->stack = stack;
        atomic_store(&shared->next, 0);
        atomic_store(&shared->finished, 0);
        if (barrier_wait(&shared->start) < 0)
                return -EIO;

        sleep_until(start + (int64_t) (options->seconds_per_turn * USEC_PER_SEC));
        while (atomic_load(&shared->finished) < shared->count) {
                r = check_workers(pids, options->workers);
                if (r < 0)
                        return r;
                sleep_until(now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_MSEC);
        }
        if (barrier_wait(&shared->end) < 0)
                return -EIO;

        for (unsigned i = 0; i < shared->count; i++) {
                const Arrival *arrival = &shared->arrivals[i];

                totals->logins++;
                if (arrival->latency_usec < 0)
                        totals->failed++;
                else
                        samples_add(&totals->latency, arrival->latency_usec);
                if (arrival->start_delay_usec > LATE_START_USEC)
                        totals->started_late++;
        }
        totals->seconds += options->seconds_per_turn;
        return 0;
}

static int parse_options(int argc, char *argv[], Options *options) {
        int c;

        *options = (Options) { .user = "bench", .rate = 100, .seconds_per_turn = 5, .rounds = 1, .workers = 100 };
        while ((c = getopt(argc, argv, "s:u:r:t:k:w:")) >= 0)
                switch (c) {
                case 's':
                        if (options->stack_count == MAX_STACKS)
                                return -E2BIG;
                        options->stacks[options->stack_count++] = optarg;
                        break;
                case 'u': options->user = optarg; break;
                case 'r': options->rate = strtod(optarg, NULL); break;
                case 't': options->seconds_per_turn = strtod(optarg, NULL); break;
                case 'k': options->rounds = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'w': options->workers = (unsigned) strtoul(optarg, NULL, 10); break;
                default:  return -EINVAL;
                }
        if (options->stack_count == 0 || !(options->rate > 0 && options->rate <= 1e6) ||
            !(options->seconds_per_turn > 0 && options->seconds_per_turn <= 3600) || options->rounds == 0 ||
            options->workers == 0 || options->workers > MAX_WORKERS || optind < argc)
                return -EINVAL;
        return 0;
}

int main(int argc, char *argv[]) {
        Options options;
        Totals totals[MAX_STACKS] = {};
        _cleanup_(freep) pid_t *pids = NULL;
        pthread_barrierattr_t attributes;
        unsigned capacity, failed_workers = 0;
        size_t size;
        Shared *shared;
        int r = 0;

        if (parse_options(argc, argv, &options) < 0) {
                fprintf(stderr, "usage: %s -s SERVICE [-s SERVICE...] [-u USER] [-r LOGINS_PER_SECOND]\n"
                        "       [-t SECONDS_PER_TURN] [-k ROUNDS] [-w WORKERS]\n", argv[0]);
                return 2;
        }
        /* Room for far more arrivals than a Poisson turn brings. */
        capacity = (unsigned) (options.rate * options.seconds_per_turn * 1.5) + 1000;
        size = sizeof(Shared) + (size_t) capacity * sizeof(Arrival);
        pids = calloc(options.workers, sizeof(*pids));
        shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (!pids || shared == MAP_FAILED)
                return 1;
        pthread_barrierattr_init(&attributes);
        pthread_barrierattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
        if (pthread_barrier_init(&shared->start, &attributes, options.workers + 1) != 0 ||
            pthread_barrier_init(&shared->end, &attributes, options.workers + 1) != 0)
                return 1;

        for (unsigned i = 0; i < options.workers; i++) {
                pids[i] = fork();
                if (pids[i] < 0) {
                        fprintf(stderr, "bench-openloop: cannot start worker %u: %m\n", i);
                        for (unsigned j = 0; j < i; j++)
                                (void) kill(pids[j], SIGKILL);
                        return 1;
                }
                if (pids[i] == 0) {
                        free(TAKE_PTR(pids));   /* _exit() runs no cleanup */
                        _exit(run_worker(&options, shared));
                }
        }

        /* The first turn is scheduled once every worker is ready. */
        if (barrier_wait(&shared->end) < 0)
                r = -EIO;
        for (unsigned round = 0; round < options.rounds && r >= 0; round++)
                for (unsigned stack = 0; stack < options.stack_count && r >= 0; stack++)
                        r = run_turn(&options, shared, capacity, pids, round, stack, &totals[stack]);

        if (r >= 0) {
                shared->quit = true;
                (void) barrier_wait(&shared->start);
        }
        for (unsigned i = 0; i < options.workers; i++) {
                int status;
                if (pids[i] > 0 && (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0))
                        failed_workers++;
        }
        if (r < 0 && failed_workers == 0)
                failed_workers = 1;     /* a turn broke off */

        for (unsigned s = 0; s < options.stack_count; s++) {
                printf("service=%s rate=%.0f workers=%u rounds=%u logins=%u failed_logins=%u failed_processes=%u "
                       "started_late=%u offered_per_second=%.0f ",
                       options.stacks[s], options.rate, options.workers, options.rounds, totals[s].logins,
                       totals[s].failed, failed_workers, totals[s].started_late,
                       totals[s].logins / (totals[s].seconds ?: 1));
                samples_print(&totals[s].latency, "login");
                free(totals[s].latency.values);
                /* Printed all the same: a stack's failed logins are among its results. */
                if (totals[s].failed > 0)
                        r = -EIO;
        }
        return r < 0 || failed_workers > 0 ? 1 : 0;
}
