/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Daemon throughput: N concurrent clients, each recording a login and its end over and
 * over, as pam_sessmgr does (by default a new connection per call, like the module;
 * --reuse keeps one connection per client). Prints pairs per second and latency
 * percentiles of one open+close pair. sessmgrd answers the open after its commit; the
 * close is sent with D-Bus's no-reply flag and not waited for, as the module sends it
 * since issue 16 (--contract full: awaited, as before). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-stats.h"
#include "client.h"
#include "macro.h"
#include "record.h"
#include "time-format.h"

#define CALL_TIMEOUT_USEC (10 * USEC_PER_SEC)

typedef struct Options {
        const char *socket_path;
        unsigned clients;
        double seconds;
        bool reuse;
        bool await_close;
} Options;

typedef struct Client {
        const Options *options;
        unsigned index;
        int64_t stop_at;
        Samples pairs;
        unsigned errors;
} Client;

/* Sends m; when nobody waits for its answer, returns once it is written. */
static int send_or_call(sd_bus *bus, sd_bus_message *m, bool await_reply, sd_bus_message **ret_reply) {
        int r;

        if (await_reply)
                return sessmgr_call(bus, m, now_usec(CLOCK_MONOTONIC) + CALL_TIMEOUT_USEC, NULL, ret_reply);
        r = sd_bus_message_set_expect_reply(m, false);
        if (r < 0)
                return r;
        r = sd_bus_send(bus, m, NULL);
        return r < 0 ? r : sd_bus_flush(bus);
}

static int call(sd_bus **bus, const Options *options, const char *member, const SessionRecord *record,
                uint64_t *id) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        if (!*bus) {
                r = sessmgr_connect(options->socket_path, bus);
                if (r < 0)
                        return r;
        }
        r = sessmgr_new_method_call(*bus, &m, member);
        if (r < 0)
                return r;
        r = record ? session_record_append(m, record) : sd_bus_message_append(m, "ts", *id, "logout");
        if (r < 0)
                return r;
        /* The open, whose answer carries the session's id, is always awaited. */
        r = send_or_call(*bus, m, record || options->await_close, &reply);
        if (r >= 0 && record)
                r = sd_bus_message_read(reply, "t", id);
        if (!options->reuse)
                *bus = sd_bus_close_unref(*bus);
        return r;
}

static void *run_client(void *userdata) {
        Client *client = userdata;
        const Options *options = client->options;
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;
        sd_bus *bus = NULL;
        char address[32];

        record.uid = 60000 + client->index % 1000;
        (void) record_set_string(&record.user, "bench");
        (void) record_set_string(&record.service, "sshd");
        (void) record_set_string(&record.tty, "ssh");
        snprintf(address, sizeof(address), "198.51.100.%u", client->index % 250 + 1);
        (void) record_set_string(&record.remote_address, address);
        record.remote_port = (uint16_t) (40000 + client->index);

        while (now_usec(CLOCK_MONOTONIC) < client->stop_at) {
                int64_t started = now_usec(CLOCK_MONOTONIC);
                uint64_t id = 0;

                record.login_time_usec = now_usec(CLOCK_REALTIME);
                if (call(&bus, options, "OpenSession", &record, &id) < 0 ||
                    call(&bus, options, "CloseSession", NULL, &id) < 0) {
                        client->errors++;
                        bus = sd_bus_close_unref(bus);
                        continue;
                }
                samples_add(&client->pairs, now_usec(CLOCK_MONOTONIC) - started);
        }
        sd_bus_close_unref(bus);
        return NULL;
}

static int parse_options(int argc, char *argv[], Options *options) {
        static const struct option long_options[] = {
                { "socket",  required_argument, NULL, 's' },
                { "clients", required_argument, NULL, 'c' },
                { "seconds", required_argument, NULL, 't' },
                { "reuse",   no_argument,       NULL, 'r' },
                { "contract", required_argument, NULL, 'k' },
                {}
        };
        int c;

        *options = (Options) { .socket_path = SESSMGR_SOCKET_PATH, .clients = 1, .seconds = 5 };
        while ((c = getopt_long(argc, argv, "", long_options, NULL)) >= 0)
                switch (c) {
                case 's': options->socket_path = optarg; break;
                case 'c': options->clients = (unsigned) strtoul(optarg, NULL, 10); break;
                case 't': options->seconds = strtod(optarg, NULL); break;
                case 'r': options->reuse = true; break;
                case 'k':
                        if (streq_ptr(optarg, "full"))
                                options->await_close = true;
                        else if (!streq_ptr(optarg, "normal"))
                                options->clients = 0;
                        break;
                default:
                        options->clients = 0;
                }
        if (options->clients == 0 || options->seconds <= 0 || optind < argc) {
                fprintf(stderr, "usage: %s [--socket PATH] [--clients N] [--seconds S] [--reuse] [--contract normal|full]\n"
                        "  normal: CloseSession sent with the no-reply flag, not waited for (default)\n"
                        "  full:   CloseSession awaited (before issue 16)\n", argv[0]);
                return -EINVAL;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        Options options;
        Client *clients;
        pthread_t *threads;
        Samples all = {};
        unsigned errors = 0;
        int64_t started, elapsed;

        if (parse_options(argc, argv, &options) < 0)
                return 2;
        clients = calloc(options.clients, sizeof(*clients));
        threads = calloc(options.clients, sizeof(*threads));
        if (!clients || !threads)
                return 1;

        started = now_usec(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < options.clients; i++) {
                clients[i] = (Client) { .options = &options, .index = i,
                                        .stop_at = started + (int64_t) (options.seconds * USEC_PER_SEC) };
                if (pthread_create(&threads[i], NULL, run_client, &clients[i]) != 0) {
                        fprintf(stderr, "cannot start client %u\n", i);
                        return 1;
                }
        }
        for (unsigned i = 0; i < options.clients; i++) {
                pthread_join(threads[i], NULL);
                samples_merge(&all, &clients[i].pairs);
                errors += clients[i].errors;
        }
        elapsed = now_usec(CLOCK_MONOTONIC) - started;

        printf("clients=%u connection=%s contract=%s pairs=%zu errors=%u pairs_per_second=%.0f ",
               options.clients, options.reuse ? "reused" : "per-call", options.await_close ? "full" : "normal",
               all.count, errors,
               (double) all.count * USEC_PER_SEC / (double) elapsed);
        samples_print(&all, "pair");
        free(all.values);
        free(clients);
        free(threads);
        return errors > 0 ? 1 : 0;
}
