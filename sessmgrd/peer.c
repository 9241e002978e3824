/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <systemd/sd-login.h>

#include "macro.h"
#include "peer.h"
#include "subordinate-uid.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77         /* Linux 6.5 */
#endif

/* The pid a pidfd stands for, from its fdinfo; -ESRCH once the process is gone. */
static int pidfd_get_pid(int pidfd, pid_t *ret) {
        _cleanup_(fclosep) FILE *file = NULL;
        char path[64], line[128];
        int pid = 0;

        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        file = fopen(path, "re");
        if (!file)
                return -errno;
        while (fgets(line, sizeof(line), file))
                if (sscanf(line, "Pid: %d", &pid) == 1) {
                        if (pid <= 0)
                                return -ESRCH;
                        *ret = pid;
                        return 0;
                }
        return -ENOTTY;
}

/* Whether the process a pidfd stands for has exited: its pidfd polls readable then.
 * Unlike a signal 0, this asks no permission of another user's process, so sessmgrd
 * needs no CAP_KILL for root's and users' connections. */
static int pidfd_exited(int pidfd) {
        struct pollfd poll_fd = { .fd = pidfd, .events = POLLIN };

        if (poll(&poll_fd, 1, 0) < 0)
                return -errno;
        return (poll_fd.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

/* The socket's SO_PEERPIDFD names the very process that connected. Its session is read
 * by pid, then the pidfd tells whether that process still lives: if it does, the pid
 * was not reused meanwhile and the answer is the caller's. */
static int session_by_pidfd(int socket_fd, char **ret) {
        _cleanup_(closep) int pidfd = -1;
        socklen_t length = sizeof(pidfd);
        pid_t pid = 0;
        int r;

        if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &length) < 0)
                return -errno;
        r = pidfd_get_pid(pidfd, &pid);
        if (r < 0)
                return r;
        r = sd_pid_get_session(pid, ret);
        if (r < 0)
                return r;
        r = pidfd_exited(pidfd);
        if (r != 0) {
                free(*ret);
                *ret = NULL;
                return r < 0 ? r : -ESRCH;
        }
        return 0;
}

int peer_get_logind_session(int socket_fd, pid_t pid_at_accept, char **ret) {
        int r;

        r = session_by_pidfd(socket_fd, ret);
        if (r != -ENOPROTOOPT)
                return r;
        /* Kernels before 6.5: the pid seen at accept, which may since belong to another
         * process. Callers use the answer only to find records of the caller's own uid. */
        if (pid_at_accept <= 0)
                return -ESRCH;
        return sd_pid_get_session(pid_at_accept, ret);
}

int peer_get_owner_uid(const struct ucred *credentials, uid_t *ret) {
        int r;

        r = sd_pid_get_owner_uid(credentials->pid, ret);
        if (r != -ENODATA && r != -ENXIO)
                return r;
        /* In no login (a cron job, a service): its uid, unless that is one of a user's
         * subordinate uids, which count as the user, logged in or not. Root's never is,
         * and root's calls are every login's: no file read for them. */
        if (credentials->uid == 0) {
                *ret = 0;
                return 0;
        }
        r = subordinate_uid_owner(credentials->uid, ret);
        if (r > 0)
                return 0;
        *ret = credentials->uid;
        return 0;
}
