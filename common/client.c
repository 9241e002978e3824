/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client.h"
#include "macro.h"
#include "protocol.h"
#include "time-format.h"

int sessmgr_connect(const char *socket_path, sd_bus **ret) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        _cleanup_(closep) int fd = -1;
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        size_t length = strlen(socket_path);
        int r;

        if (length == 0 || length >= sizeof(address.sun_path))
                return -ENAMETOOLONG;
        memcpy(address.sun_path, socket_path, length);

        /* Connect ourselves rather than through a bus address: a non-blocking connect
         * fails at once when the daemon's backlog is full instead of waiting. */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &address,
                    offsetof(struct sockaddr_un, sun_path) + length + 1) < 0 && errno != EINPROGRESS)
                return negative_errno();

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_fd(bus, fd, fd);
        if (r < 0)
                return r;
        TAKE_FD(fd);            /* the bus owns it now */
        r = sd_bus_negotiate_fds(bus, false);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(bus);
        return 0;
}

int sessmgr_new_method_call(sd_bus *bus, sd_bus_message **ret, const char *member) {
        return sd_bus_message_new_method_call(bus, ret, NULL, SESSMGR_OBJECT_PATH, SESSMGR_INTERFACE, member);
}

typedef struct PendingCall {
        sd_bus_message *reply;
        bool done;
} PendingCall;

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PendingCall *call = userdata;

        call->reply = sd_bus_message_ref(reply);
        call->done = true;
        return 0;
}

int sessmgr_call(sd_bus *bus, sd_bus_message *m, int64_t deadline_usec,
                 sd_bus_error *error, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        PendingCall call = {};
        int64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        if (now >= deadline_usec)
                return -ETIMEDOUT;

        /* sd_bus_call() would first wait for authentication without our deadline, so
         * drive the connection ourselves and never wait longer than what is left. */
        r = sd_bus_call_async(bus, &slot, m, on_reply, &call, (uint64_t) (deadline_usec - now));
        if (r < 0)
                return r;

        while (!call.done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;

                now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline_usec)
                        return -ETIMEDOUT;
                r = sd_bus_wait(bus, (uint64_t) (deadline_usec - now));
                if (r < 0 && r != -EINTR)
                        return r;
        }

        if (sd_bus_message_is_method_error(call.reply, NULL)) {
                const sd_bus_error *reply_error = sd_bus_message_get_error(call.reply);

                r = sd_bus_message_get_errno(call.reply);
                /* sd-bus answers pending calls itself when the connection drops: that
                 * is a reset, not a daemon that was too slow. */
                if (sd_bus_is_open(bus) <= 0 &&
                    sd_bus_error_has_name(reply_error, SD_BUS_ERROR_NO_REPLY))
                        r = ECONNRESET;
                if (error)
                        sd_bus_error_copy(error, reply_error);
                sd_bus_message_unref(call.reply);
                /* sd-bus reports its own timeout as an error reply: keep it recognisable. */
                return r > 0 ? -r : -EIO;
        }

        if (ret_reply)
                *ret_reply = call.reply;
        else
                sd_bus_message_unref(call.reply);
        return 0;
}

int sessmgr_send(sd_bus *bus, sd_bus_message *m, int64_t deadline_usec) {
        uint64_t queued;
        int r;

        r = sd_bus_message_set_expect_reply(m, false);
        if (r < 0)
                return r;
        r = sd_bus_send(bus, m, NULL);
        if (r < 0)
                return r;

        /* Queued until the daemon has accepted the authentication, then written: wait for
         * both under the deadline, as sessmgr_call() does. */
        for (;;) {
                r = sd_bus_get_n_queued_write(bus, &queued);
                if (r < 0)
                        return r;
                if (queued == 0)
                        return 0;

                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;

                int64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline_usec)
                        return -ETIMEDOUT;
                r = sd_bus_wait(bus, (uint64_t) (deadline_usec - now));
                if (r < 0 && r != -EINTR)
                        return r;
        }
}
