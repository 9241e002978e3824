/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Login overhead: what one PAM stack costs a login. Runs pam_start, pam_open_session,
 * pam_close_session, pam_end in a loop (in-process, as sshd does) in P concurrent
 * processes, and prints the median and p99 of one open+close pair, one line per stack.
 * Several stacks take turns (A B C D A B C D ...): in each round every stack has a turn
 * of N logins in each process, and all processes start a turn together, so that the
 * machine's drift hits every stack alike. Meant to run with a directory of test stacks
 * bind-mounted over /etc/pam.d (tests/bench/run sets it up). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-stats.h"
#include "macro.h"
#include "pam-login.h"
#include "time-format.h"

#define MAX_STACKS 8
#define MAX_PROCESSES 1024

typedef struct Options {
        const char *stacks[MAX_STACKS];
        unsigned stack_count;
        const char *user;
        unsigned processes, rounds, logins_per_turn;
} Options;

/* Shared by all the logging-in processes. */
typedef struct Shared {
        pthread_barrier_t turn;
} Shared;

/* What a process tells the parent: a login's time (-1: it failed), or (process 0) how long
 * a turn took. */
typedef struct Record {
        int64_t usec;
        uint32_t stack;
        uint32_t turn;                  /* no padding: every byte written is set */
} Record;

static int send_record(int fd, uint32_t stack, bool turn, int64_t usec) {
        Record record = { .usec = usec, .stack = stack, .turn = turn };

        /* Smaller than PIPE_BUF: the processes' records never interleave. */
        return write(fd, &record, sizeof(record)) == sizeof(record) ? 0 : -EIO;
}

/* One process: every turn of every round, each login's time written to fd. */
static int run_turns(const Options *options, Shared *shared, unsigned index, int fd) {
        int64_t turn_started = 0;

        for (unsigned round = 0; round <= options->rounds; round++)
                for (unsigned stack = 0; stack < options->stack_count; stack++) {
                        int r = pthread_barrier_wait(&shared->turn);
                        if (r != 0 && r != PTHREAD_BARRIER_SERIAL_THREAD)
                                return 1;
                        if (index == 0 && turn_started > 0) {
                                /* The turn before this one: its stack is the previous. */
                                uint32_t previous = (stack + options->stack_count - 1) % options->stack_count;
                                if (send_record(fd, previous, true, now_usec(CLOCK_MONOTONIC) - turn_started) < 0)
                                        return 1;
                        }
                        if (round == options->rounds)
                                return 0;       /* the last barrier only ends the last turn */
                        turn_started = now_usec(CLOCK_MONOTONIC);

                        /* A failed login is a result of the stack's, counted, not the end of the run. */
                        for (unsigned i = 0; i < options->logins_per_turn; i++) {
                                int64_t started = now_usec(CLOCK_MONOTONIC);
                                int64_t elapsed = pam_login_once(options->stacks[stack], options->user) < 0 ? -1 :
                                                  now_usec(CLOCK_MONOTONIC) - started;

                                if (send_record(fd, stack, false, elapsed) < 0)
                                        return 1;
                        }
                }
        return 0;
}

static int parse_options(int argc, char *argv[], Options *options) {
        int c;

        *options = (Options) { .user = "bench", .processes = 1, .rounds = 1, .logins_per_turn = 1000 };
        while ((c = getopt(argc, argv, "s:u:p:r:n:")) >= 0)
                switch (c) {
                case 's':
                        if (options->stack_count == MAX_STACKS)
                                return -E2BIG;
                        options->stacks[options->stack_count++] = optarg;
                        break;
                case 'u': options->user = optarg; break;
                case 'p': options->processes = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'r': options->rounds = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'n': options->logins_per_turn = (unsigned) strtoul(optarg, NULL, 10); break;
                default:  return -EINVAL;
                }
        if (options->stack_count == 0 || options->processes == 0 || options->processes > MAX_PROCESSES ||
            options->rounds == 0 || options->logins_per_turn == 0 || optind < argc)
                return -EINVAL;
        return 0;
}

/* Waits for the processes, and stops them all if one of them dies in a turn (the
 * others would wait at the barrier for ever). Returns how many did not end well. */
static unsigned reap(pid_t *pids, unsigned count, bool block) {
        unsigned failed = 0;
        bool killed = false;

        for (unsigned i = 0; i < count; i++) {
                int status;
                pid_t pid;

                if (pids[i] <= 0)
                        continue;
                pid = waitpid(pids[i], &status, block ? 0 : WNOHANG);
                if (pid == 0)
                        continue;
                pids[i] = 0;
                if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        failed++;
                        if (!block && !killed) {
                                for (unsigned j = 0; j < count; j++)
                                        if (pids[j] > 0)
                                                (void) kill(pids[j], SIGKILL);
                                killed = true;
                        }
                }
        }
        return failed;
}

int main(int argc, char *argv[]) {
        Options options;
        Samples samples[MAX_STACKS] = {};
        int64_t turn_usec[MAX_STACKS] = {};
        unsigned failed_logins[MAX_STACKS] = {};
        _cleanup_(freep) pid_t *pids = NULL;
        pthread_barrierattr_t attributes;
        Shared *shared;
        int pipe_fds[2];
        unsigned failed = 0;
        Record record;

        if (parse_options(argc, argv, &options) < 0) {
                fprintf(stderr, "usage: %s -s SERVICE [-s SERVICE...] [-u USER] [-p PROCESSES] [-r ROUNDS] "
                        "[-n LOGINS_PER_TURN]\n", argv[0]);
                return 2;
        }
        pids = calloc(options.processes, sizeof(*pids));
        shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (!pids || shared == MAP_FAILED || pipe(pipe_fds) < 0)
                return 1;
        pthread_barrierattr_init(&attributes);
        pthread_barrierattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
        if (pthread_barrier_init(&shared->turn, &attributes, options.processes) != 0)
                return 1;

        for (unsigned i = 0; i < options.processes; i++) {
                pids[i] = fork();
                if (pids[i] < 0) {
                        failed++;
                        /* The barrier counts on all of them. */
                        for (unsigned j = 0; j < i; j++)
                                (void) kill(pids[j], SIGKILL);
                        options.processes = i;
                        break;
                }
                if (pids[i] == 0) {
                        free(TAKE_PTR(pids));   /* _exit() runs no cleanup */
                        close(pipe_fds[0]);
                        _exit(run_turns(&options, shared, i, pipe_fds[1]));
                }
        }
        close(pipe_fds[1]);

        for (;;) {
                struct pollfd readable = { .fd = pipe_fds[0], .events = POLLIN };
                int r = poll(&readable, 1, 1000);

                if (r == 0) {
                        failed += reap(pids, options.processes, false);
                        continue;
                }
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0 || read(pipe_fds[0], &record, sizeof(record)) != sizeof(record))
                        break;
                if (record.stack >= options.stack_count)
                        continue;
                if (record.turn)
                        turn_usec[record.stack] += record.usec;
                else if (record.usec < 0)
                        failed_logins[record.stack]++;
                else
                        samples_add(&samples[record.stack], record.usec);
        }
        failed += reap(pids, options.processes, true);

        for (unsigned s = 0; s < options.stack_count; s++) {
                printf("service=%s processes=%u rounds=%u logins=%zu failed_logins=%u failed_processes=%u "
                       "logins_per_second=%.0f ",
                       options.stacks[s], options.processes, options.rounds, samples[s].count, failed_logins[s],
                       failed,
                       (double) samples[s].count * USEC_PER_SEC / (double) (turn_usec[s] ?: 1));
                samples_print(&samples[s], "login");
                free(samples[s].values);
        }
        pthread_barrier_destroy(&shared->turn);
        /* Every line is printed all the same: a stack's failed logins are among its results. */
        for (unsigned s = 0; s < options.stack_count; s++)
                if (failed_logins[s] > 0)
                        failed++;
        return failed ? 1 : 0;
}
