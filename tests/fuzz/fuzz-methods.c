/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every sessmgrd method handler, fed through real sd-bus messages: the input is what a
 * client writes after the authentication handshake, served by a real sessmgrd connection
 * (connection.c, methods.c) over a socketpair, against an in-memory store. The first
 * byte chooses the caller: root or an ordinary user. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../in-memory-manager.h"
#include "connection.h"
#include "log.h"
#include "manager.h"

static Manager *manager;

static void setup(void) {
        if (in_memory_manager_new(&manager) < 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct ucred credentials = { .pid = getpid() };
        Connection *connection = NULL;
        /* What sd-bus clients send: EXTERNAL with the kernel's word for who we are. */
        static const char handshake[] = "\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n";
        int fds[2];

        if (!manager)
                setup();
        if (size < 1 || size > 65536)
                return 0;
        credentials.uid = data[0] & 1 ? 0 : 60001;
        data++, size--;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0)
                abort();
        if (write(fds[1], handshake, sizeof(handshake) - 1) != sizeof(handshake) - 1 ||
            write(fds[1], data, size) != (ssize_t) size) {
                close(fds[0]);
                close(fds[1]);
                return 0;
        }
        shutdown(fds[1], SHUT_WR);

        if (connection_new(manager, &fds[0], &credentials, credentials.uid, &connection) >= 0) {
                for (int i = 0; i < 256 && !connection->closed; i++)
                        if (sd_event_run(manager->event, 0) <= 0)
                                break;
                (void) sessions_flush(manager->sessions);
                connection_free(connection);
        }
        if (fds[0] >= 0)
                close(fds[0]);
        close(fds[1]);
        return 0;
}
