/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Login overhead: what one PAM stack costs a login. Runs pam_start, pam_open_session,
 * pam_close_session, pam_end in a loop (in-process, as sshd does) in P concurrent
 * processes, and prints the median and p99 of one open+close pair. Meant to run under
 * pam_wrapper with a service directory of test stacks (tests/bench/run sets it up). */
#include <errno.h>
#include <getopt.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-stats.h"
#include "macro.h"
#include "time-format.h"

static int conversation(int count, const struct pam_message **messages, struct pam_response **responses,
                        void *userdata) {
        *responses = calloc((size_t) count, sizeof(struct pam_response));
        return *responses ? PAM_SUCCESS : PAM_BUF_ERR;
}

/* One process: iterations logins of user, each latency (µs) written to fd. */
static int run_logins(const char *service, const char *user, unsigned iterations, int fd) {
        const struct pam_conv conv = { conversation, NULL };

        for (unsigned i = 0; i < iterations; i++) {
                pam_handle_t *handle = NULL;
                int64_t started = now_usec(CLOCK_MONOTONIC), elapsed;

                if (pam_start(service, user, &conv, &handle) != PAM_SUCCESS ||
                    pam_set_item(handle, PAM_TTY, "ssh") != PAM_SUCCESS ||
                    pam_set_item(handle, PAM_RHOST, "198.51.100.7") != PAM_SUCCESS ||
                    pam_open_session(handle, 0) != PAM_SUCCESS ||
                    pam_close_session(handle, 0) != PAM_SUCCESS) {
                        fprintf(stderr, "login %u failed\n", i);
                        return 1;
                }
                pam_end(handle, PAM_SUCCESS);
                elapsed = now_usec(CLOCK_MONOTONIC) - started;
                if (write(fd, &elapsed, sizeof(elapsed)) != sizeof(elapsed))
                        return 1;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        const char *service = NULL, *user = "bench";
        unsigned processes = 1, iterations = 1000;
        Samples samples = {};
        int pipe_fds[2], c, failed = 0;
        int64_t started, value;

        while ((c = getopt(argc, argv, "s:u:p:n:")) >= 0)
                switch (c) {
                case 's': service = optarg; break;
                case 'u': user = optarg; break;
                case 'p': processes = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'n': iterations = (unsigned) strtoul(optarg, NULL, 10); break;
                default:
                        fprintf(stderr, "usage: %s -s SERVICE [-u USER] [-p PROCESSES] [-n LOGINS_EACH]\n", argv[0]);
                        return 2;
                }
        if (!service || processes == 0 || iterations == 0 || pipe(pipe_fds) < 0)
                return 2;

        started = now_usec(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < processes; i++) {
                pid_t pid = fork();
                if (pid < 0)
                        return 1;
                if (pid == 0) {
                        close(pipe_fds[0]);
                        _exit(run_logins(service, user, iterations, pipe_fds[1]));
                }
        }
        close(pipe_fds[1]);
        while (read(pipe_fds[0], &value, sizeof(value)) == sizeof(value))
                samples_add(&samples, value);
        for (unsigned i = 0; i < processes; i++) {
                int status;
                if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        failed++;
        }

        printf("service=%s processes=%u logins=%zu failed_processes=%d logins_per_second=%.0f ",
               service, processes, samples.count, failed,
               (double) samples.count * USEC_PER_SEC / (double) (now_usec(CLOCK_MONOTONIC) - started));
        samples_print(&samples, "login");
        free(samples.values);
        return failed ? 1 : 0;
}
