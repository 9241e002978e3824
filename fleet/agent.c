/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "clients.h"
#include "log.h"
#include "revocations.h"
#include "sync.h"
#include "time-format.h"

/* Waiting for one side to come back: the delay doubles from a second up to [Database]
 * RetryMaxSec=. The first failure is logged as a warning, a different one again, the same
 * one again only in debug output; the first success after them says how long it took. */
typedef struct Backoff {
        const char *what;               /* "the fleet database", "sessmgrd" */
        int64_t delay_usec, next_usec;  /* CLOCK_MONOTONIC */
        int64_t down_since_usec;        /* 0: up */
        unsigned failures;
        char *last_message;
} Backoff;

typedef struct Agent {
        const AgentOptions *options;
        Database *database;
        sd_bus *bus;
        Clients *clients;               /* the agent's own socket (clients.c) */
        Backoff database_backoff, feed_backoff;
        int64_t next_sync_usec, next_heartbeat_usec, next_revocations_usec;
        bool sync_done_once, revocations_done_once;
} Agent;

static void backoff_failed(Backoff *backoff, int64_t now, int64_t maximum, int error, const char *message) {
        _cleanup_(freep) char *text = NULL;

        text = strdup(message ?: strerror(-error));
        /* sessmgrd's messages are sentences: the period would come before the "; ". */
        if (text && *text && text[strlen(text) - 1] == '.')
                text[strlen(text) - 1] = '\0';

        if (backoff->failures == 0 || !streq_ptr(text, backoff->last_message))
                log_warning("%s: %s; trying again%s", backoff->what, text ?: "out of memory",
                            backoff->failures == 0 ? ", and saying so when it works" : "");
        else
                log_debug("%s: %s (attempt %u)", backoff->what, text ?: "out of memory", backoff->failures + 1);
        free(backoff->last_message);
        backoff->last_message = TAKE_PTR(text);

        if (backoff->failures++ == 0) {
                backoff->down_since_usec = now;
                backoff->delay_usec = USEC_PER_SEC;
        } else
                backoff->delay_usec = backoff->delay_usec * 2 > maximum ? maximum : backoff->delay_usec * 2;
        backoff->next_usec = now + backoff->delay_usec;
        sd_notifyf(false, "STATUS=%s: %s", backoff->what, backoff->last_message ?: "failing");
}

static void backoff_succeeded(Backoff *backoff, int64_t now) {
        char duration[TIMESTAMP_MAX];

        if (backoff->failures > 0) {
                log_info("%s: working again after %s", backoff->what,
                         format_duration(duration, now - backoff->down_since_usec));
                sd_notify(false, "STATUS=working");
        }
        backoff->failures = 0;
        backoff->down_since_usec = 0;
        backoff->next_usec = 0;
        free(backoff->last_message);
        backoff->last_message = NULL;
}

static void agent_drop_database(Agent *agent) {
        agent->database = database_free(agent->database);
}

static void agent_drop_bus(Agent *agent) {
        if (agent->bus) {
                sd_bus_flush_close_unref(agent->bus);
                agent->bus = NULL;
        }
}

static void agent_connect_database(Agent *agent, int64_t now) {
        const AgentOptions *options = agent->options;
        _cleanup_(freep) char *message = NULL;
        int r;

        r = database_connect(options->config->connection, options->machine_id, &agent->database, &message);
        if (r >= 0)
                r = database_listen(agent->database, &message);
        /* sessmgrctl --fleet's answers, on a connection of their own. */
        if (r >= 0 && options->listen_path)
                r = database_open_queries(agent->database, options->config->connection, &message);
        if (r < 0) {
                agent_drop_database(agent);
                backoff_failed(&agent->database_backoff, now, options->config->retry_max_usec, r, message);
                return;
        }
        if (agent->database_backoff.failures == 0)
                log_info("connected to the fleet database as %s, machine %s", agent->database->host_name,
                         options->machine_id);
        backoff_succeeded(&agent->database_backoff, now);
        /* Notifications sent while the connection was down are lost: look now. */
        agent->next_revocations_usec = now;
        agent->next_sync_usec = now;
}

static void agent_connect_bus(Agent *agent, int64_t now) {
        int r;

        r = feed_connect(agent->options->socket_path, &agent->bus);
        if (r < 0) {
                agent_drop_bus(agent);
                backoff_failed(&agent->feed_backoff, now, agent->options->config->retry_max_usec, r, NULL);
                return;
        }
        /* Whether sessmgrd lets this user in shows at the first call. */
        agent->next_sync_usec = now;
        agent->next_revocations_usec = now;
}

/* A round failed: drop the side that failed when its connection is gone, and wait before
 * that side is used again. */
static void agent_round_failed(Agent *agent, RoundError *error, int64_t now) {
        int64_t maximum = agent->options->config->retry_max_usec;

        if (error->side == ROUND_DATABASE) {
                if (!database_is_open(agent->database))
                        agent_drop_database(agent);
                backoff_failed(&agent->database_backoff, now, maximum, error->error, error->message);
        } else {
                if (!agent->bus || sd_bus_is_open(agent->bus) <= 0)
                        agent_drop_bus(agent);
                backoff_failed(&agent->feed_backoff, now, maximum, error->error, error->message);
        }
        round_error_done(error);
}

static bool agent_can_work(const Agent *agent, int64_t now) {
        return agent->database && agent->bus && now >= agent->database_backoff.next_usec &&
               now >= agent->feed_backoff.next_usec;
}

static void agent_sync(Agent *agent, int64_t now) {
        const FleetConfig *config = agent->options->config;
        RoundError error = {};
        size_t shipped;
        bool more;
        int r;

        r = sync_round(agent->database, agent->bus, config->batch_size, &more, &shipped, &error);
        if (r >= 0 && shipped == 0 && now >= agent->next_heartbeat_usec)
                r = sync_heartbeat(agent->database, &error);
        if (r < 0) {
                agent_round_failed(agent, &error, now);
                return;
        }
        backoff_succeeded(&agent->database_backoff, now);
        backoff_succeeded(&agent->feed_backoff, now);
        if (shipped > 0 || now >= agent->next_heartbeat_usec)
                agent->next_heartbeat_usec = now + config->heartbeat_usec;
        if (shipped > 0)
                log_debug("shipped %zu records, up to change %" PRIu64, shipped, agent->database->synced_cursor);
        agent->next_sync_usec = more ? now : now + config->sync_interval_usec;
        agent->sync_done_once = !more;
}

static void agent_revocations(Agent *agent, int64_t now) {
        RoundError error = {};
        unsigned answered;
        bool more;
        int r;

        r = revocations_round(agent->database, agent->bus, &answered, &more, &error);
        if (r < 0) {
                agent_round_failed(agent, &error, now);
                return;
        }
        agent->next_revocations_usec = more ? now : now + agent->options->config->revocation_poll_usec;
        agent->revocations_done_once = !more;
}

static void on_outcome(uint64_t request_id, void *userdata) {
        Agent *agent = userdata;

        if (agent->clients)
                clients_request_finished(agent->clients, request_id);
}

static void agent_read_notifications(Agent *agent, int64_t now) {
        unsigned revocations = 0;
        int r;

        r = database_read_notifications(agent->database, &revocations, on_outcome, agent);
        if (r < 0) {
                RoundError error = {};

                round_fail(&error, ROUND_DATABASE, r, database_error_message(agent->database->connection, NULL));
                agent_round_failed(agent, &error, now);
                return;
        }
        if (revocations > 0)
                agent->next_revocations_usec = now;
}

static int64_t earliest(int64_t a, int64_t b) {
        return a < b ? a : b;
}

/* When to wake next, given what is waiting. */
static int64_t agent_next_wakeup(const Agent *agent) {
        int64_t next = INT64_MAX;

        if (!agent->database)
                next = earliest(next, agent->database_backoff.next_usec);
        if (!agent->bus)
                next = earliest(next, agent->feed_backoff.next_usec);
        if (agent->database && agent->bus) {
                int64_t work = earliest(agent->next_sync_usec, agent->next_revocations_usec);

                next = earliest(next, work > agent->database_backoff.next_usec ? work : agent->database_backoff.next_usec);
                next = earliest(next, work > agent->feed_backoff.next_usec ? work : agent->feed_backoff.next_usec);
        }
        if (agent->clients)
                next = earliest(next, clients_next_wakeup(agent->clients));
        return next;
}

static int make_signal_fd(void) {
        sigset_t mask;
        int fd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        return fd < 0 ? negative_errno() : fd;
}

/* Poll's timeout from a deadline: rounded up, so that the loop does not wake a little
 * early and spin until the deadline. -1: nothing to wait for but the sockets. */
static int poll_timeout(int64_t deadline, int64_t now) {
        int64_t milliseconds;

        if (deadline == INT64_MAX)
                return -1;
        if (deadline <= now)
                return 0;
        milliseconds = (deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
        return milliseconds > 60000 ? 60000 : (int) milliseconds;
}

static bool agent_failing(const Agent *agent) {
        return agent->database_backoff.failures > 0 || agent->feed_backoff.failures > 0;
}

int agent_run(const AgentOptions *options) {
        Agent agent = {
                .options = options,
                .database_backoff = { .what = "the fleet database" },
                .feed_backoff = { .what = "sessmgrd" },
        };
        _cleanup_(closep) int signal_fd = -1;
        int r = 0;

        signal_fd = make_signal_fd();
        if (signal_fd < 0)
                return log_error_errno(signal_fd, "cannot watch for signals: %m");
        if (options->listen_path) {
                ClientsContext context = {
                        .database = &agent.database,
                        .config = options->config,
                        .machine_id = options->machine_id,
                };

                r = clients_open(options->listen_path, &context, &agent.clients);
                if (r < 0)
                        return r;
        }
        sd_notify(false, "READY=1\nSTATUS=starting");

        for (;;) {
                _cleanup_(freep) struct pollfd *fds = NULL;
                size_t n_fds = 2 + (agent.clients ? clients_poll_count(agent.clients) : 0);
                int64_t now = now_usec(CLOCK_MONOTONIC);

                if (!agent.database && now >= agent.database_backoff.next_usec)
                        agent_connect_database(&agent, now);
                if (!agent.bus && now >= agent.feed_backoff.next_usec)
                        agent_connect_bus(&agent, now);
                if (agent_can_work(&agent, now) && now >= agent.next_sync_usec)
                        agent_sync(&agent, now);
                if (agent_can_work(&agent, now) && now >= agent.next_revocations_usec)
                        agent_revocations(&agent, now);
                /* Notifications that arrived with the answers of the rounds above are in
                 * libpq's buffer already, where poll() cannot see them. */
                if (agent.database)
                        agent_read_notifications(&agent, now);

                if (options->once) {
                        if (agent_failing(&agent)) {
                                r = -EIO;
                                break;
                        }
                        if (agent.sync_done_once && agent.revocations_done_once &&
                            now < agent.next_revocations_usec)
                                break;
                }

                n_fds = 2 + (agent.clients ? clients_poll_count(agent.clients) : 0);
                fds = calloc(n_fds, sizeof(struct pollfd));
                if (!fds) {
                        r = log_error_errno(ENOMEM, "out of memory");
                        break;
                }
                fds[0] = (struct pollfd) { .fd = signal_fd, .events = POLLIN };
                fds[1] = (struct pollfd) { .fd = database_socket(agent.database), .events = POLLIN };
                if (agent.clients)
                        clients_fill_poll(agent.clients, fds + 2);
                r = poll(fds, n_fds, poll_timeout(agent_next_wakeup(&agent), now_usec(CLOCK_MONOTONIC)));
                if (r < 0 && errno != EINTR) {
                        r = log_error_errno(errno, "cannot wait: %m");
                        break;
                }
                r = 0;
                if (fds[0].revents & POLLIN) {
                        log_info("stopping");
                        break;
                }
                /* The clients after the sync's turn, each a few messages: none of them holds
                 * the next round back for long. */
                if (agent.clients)
                        clients_dispatch(agent.clients, fds + 2);
        }

        sd_notify(false, "STOPPING=1");
        agent.clients = clients_free(agent.clients);
        agent_drop_database(&agent);
        agent_drop_bus(&agent);
        free(agent.database_backoff.last_message);
        free(agent.feed_backoff.last_message);
        return r;
}
