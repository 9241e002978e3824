/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The floor under sessmgrd: the least an open+close pair must cost on this machine. One
 * server thread, epoll on a Unix socket and fixed-size binary requests instead of sd-bus,
 * but the same work: group commit (a transaction per epoll round, replies after its
 * COMMIT) into the sessions table of a database made by sessmgrd, in WAL mode. Under
 * the contract of issue 16 (--contract normal, the default) a commit is answered once
 * it is in the WAL (synchronous=NORMAL), a thread flushes it within a second, and the
 * close is sent without waiting for an answer, as pam_sessmgr sends it; under the one
 * of issue 6 (--contract full) every call waits for its commit's fdatasync. A target
 * this misses is out of the machine's reach; one it meets and bench-load misses is the
 * design's to fix. One line in bench-load's format. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-id128.h>

#include "bench-stats.h"
#include "floor-flush.h"
#include "macro.h"
#include "time-format.h"

#define IO_TIMEOUT_SEC 10
#define MAX_EVENTS 512
#define FLUSH_INTERVAL_USEC USEC_PER_SEC

enum { REQUEST_OPEN = 1, REQUEST_CLOSE = 2 };
enum { REQUEST_NO_REPLY = 1 << 0 };     /* as D-Bus's NO_REPLY_EXPECTED: nobody waits */

/* What OpenSession carries for an ssh login, minus the D-Bus framing. */
typedef struct Request {
        uint32_t type;
        uint32_t uid;
        uint64_t id;                    /* REQUEST_CLOSE: the session to end */
        int64_t login_time_usec;
        uint16_t remote_port;
        uint16_t flags;
        char user[32], service[16], tty[32], remote_address[46];
} Request;

typedef struct Reply {
        int64_t status;                 /* 0 or a negative errno */
        uint64_t id;
} Reply;

/* One request buffer: a client sends the next request only after the reply, and one that
 * sends more early simply has them read one per round. */
typedef struct Connection Connection;
struct Connection {
        int fd;
        bool waiting, eof;              /* its reply waits for the commit; the peer is gone */
        Connection *previous, *next, *next_waiting;
        size_t in_size;
        Request in;
        Reply out;
};

typedef struct Server {
        bool full;                      /* --contract full: synchronous=FULL, no background flush */
        FloorFlush *flush;
        sqlite3 *database;
        sqlite3_stmt *insert, *end, *begin, *commit, *rollback;
        char boot_id[SD_ID128_STRING_MAX];
        char directory[32];
        struct sockaddr_un address;
        int listen_fd, epoll_fd, stop_fd;
        Connection *connections, *waiting;
        bool in_transaction;
        int batch_error;
        uint64_t closes_in_round, closes_recorded;
        int error;                      /* why the loop stopped early */
        int64_t cpu_usec, wall_usec;
} Server;

typedef struct Options {
        const char *database;
        unsigned clients;
        double seconds;
        bool per_call;
        bool full;
} Options;

typedef struct Client {
        const char *socket_path;
        bool per_call;
        bool await_close;
        unsigned index;
        int64_t stop_at;
        Samples pairs;
        unsigned errors;
        uint64_t closes_sent;
} Client;

/* Tags in epoll_event.data.ptr for the two descriptors that are not connections. */
static char listen_tag, stop_tag;

static int sqlite_error(Server *server, const char *what) {
        fprintf(stderr, "bench-floor: %s: %s\n", what, sqlite3_errmsg(server->database));
        return -EIO;
}

static int step_done(sqlite3_stmt *statement) {
        int rc = sqlite3_step(statement);

        sqlite3_reset(statement);
        return rc == SQLITE_DONE ? 0 : -EIO;
}

/* The client's strings are not trusted to be terminated. */
static void bind_string(sqlite3_stmt *statement, int index, const char *field, size_t size) {
        sqlite3_bind_text(statement, index, field, (int) strnlen(field, size), SQLITE_STATIC);
}

static int execute_open(Server *server, const Request *request, uint64_t *ret_id) {
        sqlite3_stmt *s = server->insert;
        int r;

        sqlite3_bind_int64(s, 1, request->uid);
        bind_string(s, 2, request->user, sizeof(request->user));
        bind_string(s, 3, request->service, sizeof(request->service));
        bind_string(s, 4, request->tty, sizeof(request->tty));
        bind_string(s, 5, request->remote_address, sizeof(request->remote_address));
        sqlite3_bind_int(s, 6, request->remote_port);
        sqlite3_bind_int64(s, 7, request->login_time_usec);
        sqlite3_bind_text(s, 8, server->boot_id, -1, SQLITE_STATIC);
        r = step_done(s);
        if (r < 0)
                return sqlite_error(server, "cannot add a session");
        *ret_id = (uint64_t) sqlite3_last_insert_rowid(server->database);
        return 0;
}

static int execute_close(Server *server, uint64_t id) {
        sqlite3_bind_int64(server->end, 1, now_usec(CLOCK_REALTIME));
        sqlite3_bind_int64(server->end, 2, (sqlite3_int64) id);
        if (step_done(server->end) < 0)
                return sqlite_error(server, "cannot end a session");
        return sqlite3_changes(server->database) == 1 ? 0 : -ENOENT;
}

/* Runs the request inside the round's transaction; its reply waits for the commit. */
static void execute(Server *server, Connection *c) {
        int r = server->batch_error;

        c->out = (Reply) {};
        if (r == 0 && !server->in_transaction) {
                r = step_done(server->begin);
                if (r < 0)
                        r = sqlite_error(server, "cannot begin");
                server->in_transaction = r == 0;
        }
        if (r == 0)
                switch (c->in.type) {
                case REQUEST_OPEN:  r = execute_open(server, &c->in, &c->out.id); break;
                case REQUEST_CLOSE: r = execute_close(server, c->in.id); break;
                default:            r = -EBADMSG;
                }
        /* A failed statement spoils the transaction for everyone in it. */
        if (r == -EIO)
                server->batch_error = r;
        if (r == 0 && c->in.type == REQUEST_CLOSE)
                server->closes_in_round++;
        if (c->in.flags & REQUEST_NO_REPLY)
                return;
        c->out.status = r;
        c->waiting = true;
        c->next_waiting = server->waiting;
        server->waiting = c;
}

static void connection_free(Server *server, Connection *c) {
        if (c->previous)
                c->previous->next = c->next;
        else
                server->connections = c->next;
        if (c->next)
                c->next->previous = c->previous;
        close(c->fd);
        free(c);
}

/* Returns 1 when it accepted one, 0 when none is waiting. */
static int accept_connection(Server *server) {
        _cleanup_(closep) int fd = accept4(server->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct epoll_event event = { .events = EPOLLIN };
        Connection *c;

        if (fd < 0)
                return errno == EAGAIN || errno == ECONNABORTED ? 0 : negative_errno();
        c = event.data.ptr = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        if (epoll_ctl(server->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) {
                free(c);
                return negative_errno();
        }
        c->fd = TAKE_FD(fd);
        c->next = server->connections;
        if (c->next)
                c->next->previous = c;
        server->connections = c;
        return 1;
}

static void connection_read(Server *server, Connection *c) {
        ssize_t n = read(c->fd, (uint8_t *) &c->in + c->in_size, sizeof(c->in) - c->in_size);

        if (n > 0) {
                c->in_size += (size_t) n;
                if (c->in_size == sizeof(c->in)) {
                        c->in_size = 0;
                        execute(server, c);
                }
        } else if (n == 0 || errno != EAGAIN)
                c->eof = true;
        if (c->eof && !c->waiting)
                connection_free(server, c);
}

/* The end of a round: one COMMIT for all of it (with --contract full, one fdatasync),
 * then the replies. */
static void flush_round(Server *server) {
        int r = server->batch_error;

        if (server->in_transaction) {
                if (r == 0 && step_done(server->commit) < 0)
                        r = sqlite_error(server, "cannot commit");
                if (r < 0)
                        (void) step_done(server->rollback);
                else {
                        server->closes_recorded += server->closes_in_round;
                        if (server->flush)
                                floor_flush_notify(server->flush);
                }
        }
        server->in_transaction = false;
        server->batch_error = 0;
        server->closes_in_round = 0;

        while (server->waiting) {
                Connection *c = server->waiting;

                server->waiting = c->next_waiting;
                c->waiting = false;
                if (r < 0)
                        c->out = (Reply) { .status = r };
                /* The client is waiting for these 16 bytes: they always fit in the socket buffer. */
                if (send(c->fd, &c->out, sizeof(c->out), MSG_NOSIGNAL | MSG_DONTWAIT) != sizeof(c->out) || c->eof)
                        connection_free(server, c);
        }
}

static void *run_server(void *userdata) {
        Server *server = userdata;
        int64_t cpu_start = now_usec(CLOCK_THREAD_CPUTIME_ID), wall_start = now_usec(CLOCK_MONOTONIC);
        struct epoll_event events[MAX_EVENTS];
        bool stopping = false;

        for (;;) {
                int n = epoll_wait(server->epoll_fd, events, MAX_EVENTS, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        server->error = negative_errno();
                        break;
                }
                for (int i = 0; i < n; i++) {
                        void *tag = events[i].data.ptr;
                        Connection *c = tag;

                        if (tag == &stop_tag) {
                                eventfd_t value;
                                (void) eventfd_read(server->stop_fd, &value);
                                stopping = true;
                        } else if (tag == &listen_tag) {
                                /* All that wait: a client's first pair must not wait for many rounds. */
                                int r;
                                while ((r = accept_connection(server)) > 0)
                                        ;
                                if (r < 0)
                                        server->error = r;
                        } else
                                connection_read(server, c);
                }
                flush_round(server);
                if (server->error < 0)
                        break;
                /* The clients are done and have hung up: what they sent without waiting
                 * for an answer is recorded all the same before the loop ends. */
                if (stopping) {
                        int r;
                        while ((r = accept_connection(server)) > 0)
                                ;
                        if (r < 0)
                                server->error = r;
                        if (r < 0 || !server->connections)
                                break;
                }
        }
        server->cpu_usec = now_usec(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
        server->wall_usec = now_usec(CLOCK_MONOTONIC) - wall_start;

        /* Clients still connected (after an error) see the end of file at once, and new
         * ones a refusal. */
        while (server->connections)
                connection_free(server, server->connections);
        closep(&server->listen_fd);
        server->listen_fd = -1;
        return NULL;
}

static void server_free(Server *server) {
        sqlite3_stmt *statements[] = { server->insert, server->end, server->begin, server->commit, server->rollback };

        if (server->flush)
                (void) floor_flush_stop(server->flush);
        for (size_t i = 0; i < ELEMENTSOF(statements); i++)
                sqlite3_finalize(statements[i]);
        sqlite3_close_v2(server->database);
        closep(&server->listen_fd);
        closep(&server->epoll_fd);
        closep(&server->stop_fd);
        if (server->address.sun_path[0])
                (void) unlink(server->address.sun_path);
        if (server->directory[0])
                (void) rmdir(server->directory);
}

static int server_open_database(Server *server, const char *path) {
        /* FULL: a commit is on disk when it returns; NORMAL: it is in the WAL, which
         * survives any crash of the server, and on disk after the background flush. */
        const char *pragmas = server->full ? "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                                           : "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";
        struct { sqlite3_stmt **statement; const char *sql; } statements[] = {
                { &server->insert, "INSERT INTO sessions (uid, user, service, tty, remote_address, remote_port,"
                                   " login_time_usec, last_active_usec, state, boot_id, origin)"
                                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, 'active', ?8, 'pam');" },
                { &server->end, "UPDATE sessions SET state = 'closed', end_time_usec = ?1, end_reason = 'logout'"
                                  " WHERE id = ?2;" },
                { &server->begin, "BEGIN IMMEDIATE;" },
                { &server->commit, "COMMIT;" },
                { &server->rollback, "ROLLBACK;" },
        };
        sd_id128_t boot_id;
        int r;

        r = sd_id128_get_boot(&boot_id);
        if (r < 0)
                return r;
        sd_id128_to_string(boot_id, server->boot_id);

        /* No SQLITE_OPEN_CREATE: the table and its indexes must be sessmgrd's own. */
        if (sqlite3_open_v2(path, &server->database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
            sqlite3_exec(server->database, pragmas, NULL, NULL, NULL) != SQLITE_OK)
                return server->database ? sqlite_error(server, path) : -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(statements); i++)
                if (sqlite3_prepare_v3(server->database, statements[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                                       statements[i].statement, NULL) != SQLITE_OK)
                        return sqlite_error(server, "cannot prepare (is it a database made by sessmgrd?)");
        return server->full ? 0 : floor_flush_start(server->database, path, FLUSH_INTERVAL_USEC, &server->flush);
}

static int server_listen(Server *server) {
        struct epoll_event listen_event = { .events = EPOLLIN, .data.ptr = &listen_tag };
        struct epoll_event stop_event = { .events = EPOLLIN, .data.ptr = &stop_tag };

        strcpy(server->directory, "/tmp/bench-floor-XXXXXX");
        if (!mkdtemp(server->directory)) {
                server->directory[0] = '\0';
                return negative_errno();
        }
        server->address.sun_family = AF_UNIX;
        snprintf(server->address.sun_path, sizeof(server->address.sun_path), "%s/socket", server->directory);

        server->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        server->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        server->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (server->listen_fd < 0 || server->epoll_fd < 0 || server->stop_fd < 0 ||
            bind(server->listen_fd, (struct sockaddr *) &server->address, sizeof(server->address)) < 0 ||
            listen(server->listen_fd, SOMAXCONN) < 0 ||
            epoll_ctl(server->epoll_fd, EPOLL_CTL_ADD, server->listen_fd, &listen_event) < 0 ||
            epoll_ctl(server->epoll_fd, EPOLL_CTL_ADD, server->stop_fd, &stop_event) < 0)
                return negative_errno();
        return 0;
}

static int call(int fd, const Request *request, uint64_t *ret_id) {
        Reply reply;

        /* A blocking send and MSG_WAITALL move all of it, or fail (at the latest on the timeout). */
        if (send(fd, request, sizeof(*request), MSG_NOSIGNAL) != (ssize_t) sizeof(*request))
                return -EIO;
        if (request->flags & REQUEST_NO_REPLY)
                return 0;
        if (recv(fd, &reply, sizeof(reply), MSG_WAITALL) != (ssize_t) sizeof(reply))
                return -EIO;
        if (reply.status == 0 && ret_id)
                *ret_id = reply.id;
        return (int) reply.status;
}

static int client_connect(const char *path, int *ret) {
        _cleanup_(closep) int fd = -1;
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        /* A server that stopped answering shows up as an error, not as a hang. */
        struct timeval timeout = { .tv_sec = IO_TIMEOUT_SEC };

        snprintf(address.sun_path, sizeof(address.sun_path), "%s", path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) < 0 ||
            connect(fd, (struct sockaddr *) &address, sizeof(address)) < 0)
                return negative_errno();
        *ret = TAKE_FD(fd);
        return 0;
}

/* Connects first if there is no connection; with --per-call, hangs up after the call (or,
 * for a request nobody waits for, once it is written), as pam_sessmgr does. */
static int client_call(Client *client, int *fd, const Request *request, uint64_t *ret_id) {
        int r;

        if (*fd < 0) {
                r = client_connect(client->socket_path, fd);
                if (r < 0)
                        return r;
        }
        r = call(*fd, request, ret_id);
        if (r < 0 || client->per_call) {
                closep(fd);
                *fd = -1;
        }
        return r;
}

static void *run_client(void *userdata) {
        Client *client = userdata;
        _cleanup_(closep) int fd = -1;
        /* The login bench-load sends. */
        Request open_request = {
                .type = REQUEST_OPEN, .uid = 60000 + client->index % 1000, .user = "bench",
                .service = "sshd", .tty = "ssh", .remote_port = (uint16_t) (40000 + client->index),
        };
        Request close_request = { .type = REQUEST_CLOSE, .flags = client->await_close ? 0 : REQUEST_NO_REPLY };

        snprintf(open_request.remote_address, sizeof(open_request.remote_address), "198.51.100.%u",
                 client->index % 250 + 1);

        while (now_usec(CLOCK_MONOTONIC) < client->stop_at) {
                int64_t started;

                /* Connected before the clock starts, unless connecting is part of each call. */
                if (!client->per_call && fd < 0 && client_connect(client->socket_path, &fd) < 0) {
                        client->errors++;
                        break;  /* refused: the server is gone, stop rather than spin */
                }
                started = now_usec(CLOCK_MONOTONIC);
                open_request.login_time_usec = now_usec(CLOCK_REALTIME);
                if (client_call(client, &fd, &open_request, &close_request.id) < 0 ||
                    client_call(client, &fd, &close_request, NULL) < 0) {
                        client->errors++;
                        if (client->per_call)
                                break;
                        continue;
                }
                client->closes_sent++;
                samples_add(&client->pairs, now_usec(CLOCK_MONOTONIC) - started);
        }
        return NULL;
}

static int parse_options(int argc, char *argv[], Options *options) {
        static const struct option long_options[] = {
                { "db",      required_argument, NULL, 'd' },
                { "clients", required_argument, NULL, 'c' },
                { "seconds", required_argument, NULL, 't' },
                { "per-call", no_argument,       NULL, 'p' },
                { "contract", required_argument, NULL, 'k' },
                {}
        };
        int c;

        *options = (Options) { .clients = 1, .seconds = 5 };
        while ((c = getopt_long(argc, argv, "", long_options, NULL)) >= 0)
                switch (c) {
                case 'd': options->database = optarg; break;
                case 'c': options->clients = (unsigned) strtoul(optarg, NULL, 10); break;
                case 't': options->seconds = strtod(optarg, NULL); break;
                case 'p': options->per_call = true; break;
                case 'k':
                        if (streq_ptr(optarg, "full"))
                                options->full = true;
                        else if (!streq_ptr(optarg, "normal"))
                                options->clients = 0;
                        break;
                default:  options->clients = 0;
                }
        if (!options->database || options->clients == 0 || options->seconds <= 0 || optind < argc) {
                fprintf(stderr, "usage: %s --db PATH [--clients N] [--seconds S] [--per-call] [--contract normal|full]\n"
                        "  normal: answered once in the WAL, flushed within 1 s, the close not awaited (default)\n"
                        "  full:   answered after its fdatasync, the close awaited (before issue 16)\n", argv[0]);
                return -EINVAL;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(server_free) Server server = { .listen_fd = -1, .epoll_fd = -1, .stop_fd = -1 };
        uint64_t closes_sent = 0;
        int64_t flushes = 0;
        _cleanup_(freep) Client *clients = NULL;
        _cleanup_(freep) pthread_t *threads = NULL;
        pthread_t server_thread;
        Options options;
        Samples all = {};
        unsigned errors = 0, started_clients;
        int64_t started, elapsed;
        int r;

        if (parse_options(argc, argv, &options) < 0)
                return 2;
        server.full = options.full;
        clients = calloc(options.clients, sizeof(*clients));
        threads = calloc(options.clients, sizeof(*threads));
        if (!clients || !threads)
                return 1;

        r = server_open_database(&server, options.database);
        if (r >= 0)
                r = server_listen(&server);
        if (r >= 0 && pthread_create(&server_thread, NULL, run_server, &server) != 0)
                r = -EAGAIN;
        if (r < 0) {
                fprintf(stderr, "bench-floor: cannot start the server: %s\n", strerror(-r));
                return 1;
        }

        started = now_usec(CLOCK_MONOTONIC);
        for (started_clients = 0; started_clients < options.clients; started_clients++) {
                clients[started_clients] = (Client) {
                        .socket_path = server.address.sun_path, .per_call = options.per_call,
                        .await_close = options.full, .index = started_clients,
                        .stop_at = started + (int64_t) (options.seconds * USEC_PER_SEC),
                };
                if (pthread_create(&threads[started_clients], NULL, run_client, &clients[started_clients]) != 0) {
                        fprintf(stderr, "bench-floor: cannot start client %u\n", started_clients);
                        errors++;
                        break;
                }
        }
        for (unsigned i = 0; i < started_clients; i++) {
                pthread_join(threads[i], NULL);
                samples_merge(&all, &clients[i].pairs);
                errors += clients[i].errors;
                closes_sent += clients[i].closes_sent;
        }
        elapsed = now_usec(CLOCK_MONOTONIC) - started;

        /* Every client is done: the server records what is left, then stops. */
        (void) eventfd_write(server.stop_fd, 1);
        pthread_join(server_thread, NULL);
        if (server.error < 0) {
                fprintf(stderr, "bench-floor: the server stopped early: %s\n", strerror(-server.error));
                errors++;
        }
        if (server.flush) {
                flushes = floor_flush_stop(TAKE_PTR(server.flush));
                if (flushes < 0)
                        errors++;
        }

        /* A close sent without waiting must still be recorded: one that is not is counted. */
        printf("clients=%u connection=%s contract=%s pairs=%zu errors=%u closes_unrecorded=%" PRIi64
               " flushes=%" PRIi64 " pairs_per_second=%.0f server_cpu_percent=%.0f ",
               options.clients, options.per_call ? "floor-per-call" : "floor", options.full ? "full" : "normal",
               all.count, errors, (int64_t) (closes_sent - server.closes_recorded), flushes,
               (double) all.count * USEC_PER_SEC / (double) elapsed,
               100.0 * (double) server.cpu_usec / (double) (server.wall_usec ?: 1));
        samples_print(&all, "pair");
        free(all.values);
        return errors > 0 ? 1 : 0;
}
