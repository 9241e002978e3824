/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <systemd/sd-daemon.h>

#include "connection.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "peer.h"
#include "protocol.h"
#include "time-format.h"

/* The listening socket: accepts connections, applies the connection limits, and frees
 * closed connections (connection.c serves each one). */

/* Enough for every login a busy host can have in flight, small enough that a flood of
 * idle connections cannot exhaust the daemon's file descriptors. */
#define CONNECTIONS_MAX 4096
#define CONNECTIONS_PER_USER_MAX 16
/* Beyond CONNECTIONS_MAX, for root only: the PAM module of every login calls as root,
 * and no number of other connections may leave it without room. */
#define CONNECTIONS_ROOT_RESERVE 512
/* Root's connections from inside one user's logins: su, sudo, and the module in that
 * user's own logins. A user can start setuid programs at will and stop them mid-call,
 * so these count per user too, against a cap no real login burst comes near. */
#define CONNECTIONS_ROOT_PER_USER_MAX 64
/* Descriptors that are not connections: the database and its journal, the buses,
 * the event loop's timers, /proc and cgroup files being read, the journal socket. */
#define DESCRIPTORS_OTHER 128
/* Connections taken from the backlog in one turn of the event loop. */
#define ACCEPTS_PER_TURN 64

/* accept4() failing for want of descriptors or memory would fail again at once:
 * listening pauses this long, and says so at most once per interval. */
#define ACCEPT_PAUSE_USEC (100 * USEC_PER_MSEC)
#define ACCEPT_FAILURE_LOG_INTERVAL_USEC (60 * USEC_PER_SEC)

void server_connection_limits(uint64_t descriptors, unsigned *ret_max, unsigned *ret_root_reserve) {
        /* Below what everything else needs, half for connections: too few to serve a
         * busy host, but root's logins are still recorded rather than all refused. */
        uint64_t budget = descriptors > 2 * DESCRIPTORS_OTHER ? descriptors - DESCRIPTORS_OTHER : descriptors / 2;

        if (budget >= CONNECTIONS_MAX + CONNECTIONS_ROOT_RESERVE) {
                *ret_max = CONNECTIONS_MAX;
                *ret_root_reserve = CONNECTIONS_ROOT_RESERVE;
                return;
        }
        /* Fewer descriptors than planned for (run by hand with a shell's 1024): shrink
         * both, so that accept4() still never runs out; root keeps a quarter. */
        *ret_root_reserve = (unsigned) (budget / 4);
        *ret_max = (unsigned) (budget - budget / 4);
}

static unsigned connections_of(Manager *manager, uid_t owner, bool of_root) {
        unsigned count = 0;

        for (Connection *c = manager->connections; c; c = c->next)
                if ((c->peer_uid == 0) == of_root && c->owner_uid == owner && !c->closed)
                        count++;
        return count;
}

static void identify_root_connections(Manager *manager) {
        for (Connection *c = manager->connections; c; c = c->next)
                if (c->peer_uid == 0 && c->owner_uid == OWNER_UNKNOWN) {
                        struct ucred credentials = { .pid = c->peer_pid, .uid = 0 };

                        if (peer_get_owner_uid(&credentials, &c->owner_uid) < 0)
                                c->owner_uid = 0;
                }
}

static void log_refusal(Manager *manager, const struct ucred *credentials, uid_t owner, const char *why) {
        /* At most one line a second: refusals are what a flood is made of. */
        if (now_usec(CLOCK_MONOTONIC) < manager->refusal_logged_usec + USEC_PER_SEC)
                return;
        if (owner == OWNER_UNKNOWN)     /* root's, not asked (see accept_one()) */
                log_warning("refusing connection from uid %u (pid %d): %s",
                            (unsigned) credentials->uid, (int) credentials->pid, why);
        else
                log_warning("refusing connection from uid %u (pid %d, login of uid %u): %s",
                            (unsigned) credentials->uid, (int) credentials->pid, (unsigned) owner, why);
        manager->refusal_logged_usec = now_usec(CLOCK_MONOTONIC);
}

static int on_accept_resume(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *manager = userdata;

        return sd_event_source_set_enabled(manager->listen_source, SD_EVENT_ON);
}

/* Out of descriptors or memory: the pending connection stays in the backlog, so the
 * listening socket stays readable, and retrying at once would spin. */
static void pause_accepting(Manager *manager, int error) {
        int64_t now = now_usec(CLOCK_MONOTONIC);

        manager->accept_failures++;
        if (manager->accept_failure_logged_usec == 0 ||
            now >= manager->accept_failure_logged_usec + (int64_t) ACCEPT_FAILURE_LOG_INTERVAL_USEC) {
                log_warning("cannot accept connections: %s (%u times since the last such message); "
                            "pausing for %d ms each time",
                            strerror(error), manager->accept_failures,
                            (int) (ACCEPT_PAUSE_USEC / USEC_PER_MSEC));
                manager->accept_failures = 0;
                manager->accept_failure_logged_usec = now;
        }
        if (sd_event_source_set_time_relative(manager->accept_resume_source, ACCEPT_PAUSE_USEC) < 0 ||
            sd_event_source_set_enabled(manager->accept_resume_source, SD_EVENT_ONESHOT) < 0)
                return;         /* without a timer to resume, keep listening rather than never again */
        (void) sd_event_source_set_enabled(manager->listen_source, SD_EVENT_OFF);
}

/* Takes one connection from the backlog: serves it or refuses it. 0 when there was none
 * (or accepting is paused), 1 otherwise. */
static int accept_one(Manager *manager, int listen_fd) {
        _cleanup_(closep) int fd = -1;
        Connection *connection;
        struct ucred credentials;
        socklen_t length = sizeof(credentials);
        uid_t owner;
        int r;

        fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                        pause_accepting(manager, errno);
                else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning_errno(errno, "cannot accept a connection: %m");
                return errno == ECONNABORTED || errno == EINTR;
        }

        /* Who is calling is the kernel's answer, taken once here; nothing the client
         * says later can change it. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0)
                return log_warning_errno(errno, "cannot read peer credentials: %m"), 1;

        if (credentials.uid == 0) {
                /* Whose login root's call comes from is asked only once root holds
                 * enough connections for one user's share to matter: every login calls
                 * as root, and the question costs a /proc read, a sixth of the daemon's
                 * time per connection. Then the connections taken before are asked too.
                 * Root outside any user's login, or whose login cannot be told: served. */
                owner = OWNER_UNKNOWN;
                if (manager->root_connection_count >= CONNECTIONS_ROOT_PER_USER_MAX) {
                        identify_root_connections(manager);
                        if (peer_get_owner_uid(&credentials, &owner) < 0)
                                owner = 0;
                }
                if (manager->connection_count >= manager->connections_max + manager->connections_root_reserve) {
                        log_refusal(manager, &credentials, owner, "too many connections of root");
                        return 1;
                }
                if (owner != 0 && connections_of(manager, owner, true) >= CONNECTIONS_ROOT_PER_USER_MAX) {
                        log_refusal(manager, &credentials, owner, "too many connections of root from this user's logins");
                        return 1;
                }
        } else {
                if (peer_get_owner_uid(&credentials, &owner) < 0) {
                        /* Connected and went away: nobody to serve, and whose it was is
                         * unknown (counting it as its raw uid would be the way around
                         * the cap). */
                        log_refusal(manager, &credentials, credentials.uid, "its process is gone");
                        return 1;
                }
                if (manager->connection_count >= manager->connections_max) {
                        log_refusal(manager, &credentials, owner, "too many connections");
                        return 1;
                }
                if (connections_of(manager, owner, false) >= CONNECTIONS_PER_USER_MAX) {
                        log_refusal(manager, &credentials, owner, "too many connections of this login's user");
                        return 1;
                }
        }

        r = connection_new(manager, &fd, &credentials, owner, &connection);
        if (r < 0)
                log_warning_errno(r, "cannot set up a connection from uid %u: %m", (unsigned) credentials.uid);
        return 1;
}

/* At idle priority, with the commit: a flood of connects cannot hold the commit of
 * logins back. So each turn empties the backlog (up to a bound): accepting one
 * connection per turn would commit after every login, a flush each, where the logins
 * that arrived together should share one. */
static int on_accept(sd_event_source *source, int listen_fd, uint32_t revents, void *userdata) {
        for (unsigned i = 0; i < ACCEPTS_PER_TURN; i++)
                if (accept_one(userdata, listen_fd) <= 0)
                        break;
        return 0;
}

static bool someone_listens(const struct sockaddr_un *address, socklen_t length) {
        _cleanup_(closep) int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        if (probe < 0)
                return false;
        /* EAGAIN: a listener whose backlog is full, alive all the same. */
        return connect(probe, (const struct sockaddr *) address, length) == 0 || errno == EAGAIN;
}

static int bind_socket(Manager *manager, const char *socket_path) {
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        size_t length = strlen(socket_path);
        _cleanup_(freep) char *directory = NULL;
        _cleanup_(closep) int fd = -1;
        socklen_t address_length;
        struct stat st;
        char *slash;

        if (length == 0 || length >= sizeof(address.sun_path))
                return log_error_errno(ENAMETOOLONG, "socket path too long: %s", socket_path);
        memcpy(address.sun_path, socket_path, length);
        address_length = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + length + 1);

        directory = strdup(socket_path);
        if (!directory)
                return -ENOMEM;
        slash = strrchr(directory, '/');
        if (slash && slash != directory) {
                *slash = '\0';
                /* Explicit mode: our umask is 077, and every user must reach the socket. */
                if (mkdir(directory, 0755) < 0) {
                        if (errno != EEXIST)
                                return log_error_errno(errno, "cannot create %s: %m", directory);
                } else if (chmod(directory, 0755) < 0)
                        return log_error_errno(errno, "cannot set permissions of %s: %m", directory);
        }

        /* A socket left by a previous run is replaced; one somebody still listens on, or
         * anything that is not a socket, is not ours to take. */
        if (lstat(socket_path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return log_error_errno(EEXIST, "%s exists and is not a socket", socket_path);
                if (someone_listens(&address, address_length))
                        return log_error_errno(EADDRINUSE, "another sessmgrd is already listening on %s", socket_path);
                (void) unlink(socket_path);
        }

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "cannot create socket: %m");
        if (bind(fd, (struct sockaddr *) &address, address_length) < 0)
                return log_error_errno(errno, "cannot bind %s: %m", socket_path);
        /* Every user may connect: what each may do is decided per call. */
        if (chmod(socket_path, 0666) < 0)
                return log_error_errno(errno, "cannot set permissions of %s: %m", socket_path);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "cannot listen on %s: %m", socket_path);

        manager->socket_path = strdup(socket_path);
        if (!manager->socket_path)
                return -ENOMEM;
        manager->listen_fd = TAKE_FD(fd);
        manager->listen_fd_owned = true;
        return 0;
}

static int on_reap(sd_event_source *source, void *userdata) {
        Manager *manager = userdata;

        for (Connection *connection = manager->connections, *next; connection; connection = next) {
                next = connection->next;
                if (connection->closed)
                        connection_free(connection);
        }
        return 0;
}

void manager_schedule_reap(Manager *manager) {
        (void) sd_event_source_set_enabled(manager->reap_source, SD_EVENT_ONESHOT);
}

int server_listen(Manager *manager, const char *socket_path) {
        struct rlimit descriptors;
        int n, r;

        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "cannot read the sockets passed by systemd: %m");
        if (n > 1)
                return log_error_errno(EINVAL, "systemd passed %d sockets, expected one", n);
        if (n == 1) {
                if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0)
                        return log_error_errno(EINVAL, "the socket passed by systemd is not a listening Unix stream socket");
                /* Its backlog is emptied until accept4() says EAGAIN: it must not block. */
                r = fcntl(SD_LISTEN_FDS_START, F_GETFL);
                if (r < 0 || fcntl(SD_LISTEN_FDS_START, F_SETFL, r | O_NONBLOCK) < 0)
                        return log_error_errno(errno, "cannot make the socket passed by systemd non-blocking: %m");
                manager->listen_fd = SD_LISTEN_FDS_START;
                log_debug("using the socket passed by systemd");
        } else {
                r = bind_socket(manager, socket_path);
                if (r < 0)
                        return r;
                log_debug("listening on %s", socket_path);
        }

        if (getrlimit(RLIMIT_NOFILE, &descriptors) < 0)
                return log_error_errno(errno, "cannot read the limit of open files: %m");
        server_connection_limits(descriptors.rlim_cur, &manager->connections_max, &manager->connections_root_reserve);
        if (manager->connections_max < CONNECTIONS_MAX)
                log_notice("only %llu open files allowed: at most %u connections, %u more for root",
                           (unsigned long long) descriptors.rlim_cur, manager->connections_max,
                           manager->connections_root_reserve);

        r = sd_id128_randomize(&manager->server_id);
        if (r < 0)
                return r;
        r = sd_event_add_defer(manager->event, &manager->reap_source, on_reap, manager);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(manager->reap_source, SD_EVENT_OFF);
        if (r < 0)
                return r;
        r = sd_event_add_time(manager->event, &manager->accept_resume_source, CLOCK_MONOTONIC, 0, 0,
                              on_accept_resume, manager);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(manager->accept_resume_source, SD_EVENT_OFF);
        if (r < 0)
                return r;
        r = sd_event_add_io(manager->event, &manager->listen_source, manager->listen_fd, EPOLLIN, on_accept, manager);
        if (r < 0)
                return r;
        /* With the commit of logins and the poll, after root's connections, before
         * other users' (connection.c): a user's flood of calls cannot delay accepting
         * root's login, nor a flood of connects the commit of logins. */
        return sd_event_source_set_priority(manager->listen_source, SD_EVENT_PRIORITY_IDLE);
}

void server_close(Manager *manager) {
        while (manager->connections)
                connection_free(manager->connections);
        manager->reap_source = sd_event_source_disable_unref(manager->reap_source);

        manager->listen_source = sd_event_source_disable_unref(manager->listen_source);
        manager->accept_resume_source = sd_event_source_disable_unref(manager->accept_resume_source);
        if (manager->listen_fd_owned) {
                closep(&manager->listen_fd);
                if (manager->socket_path)
                        (void) unlink(manager->socket_path);
        }
        manager->listen_fd = -1;
        free(manager->socket_path);
        manager->socket_path = NULL;
}
