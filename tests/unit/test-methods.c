/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Walks sessmgrd's method table: every method declares who may call it, and each
 * declaration holds when an ordinary user calls the method through a real sessmgrd
 * connection (connection.c, dispatch.c, methods.c over a socketpair, in-memory store). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "../in-memory-manager.h"
#include "connection.h"
#include "dispatch.h"
#include "methods-fleet.h"
#include "log.h"
#include "manager.h"
#include "protocol.h"

#define ALICE 60001
#define BOB 60002

static Manager *manager;
static uint64_t bobs_session;

static int setup(void **state) {
        _cleanup_(session_record_done) SessionRecord record = SESSION_RECORD_INIT;

        assert_int_equal(in_memory_manager_new(&manager), 0);

        record.uid = BOB;
        assert_int_equal(record_set_string(&record.user, "bob"), 0);
        assert_int_equal(record_set_string(&record.service, "sshd"), 0);
        assert_int_equal(record_set_string(&record.boot_id, manager->boot_id), 0);
        record.login_time_usec = record.last_active_usec = 1700000000000000;
        assert_int_equal(store_begin(manager->store), 0);
        assert_int_equal(store_add_session(manager->store, &record), 0);
        assert_int_equal(store_commit(manager->store), 0);
        bobs_session = record.id;
        return 0;
}

static int teardown(void **state) {
        manager = manager_free(manager);
        return 0;
}

static void test_every_method_declares_its_access(void **state) {
        assert_true(manager_methods_count > 0);
        for (size_t i = 0; i < manager_methods_count + fleet_methods_count; i++) {
                const Method *method = i < manager_methods_count ? &manager_methods[i]
                                                                 : &fleet_methods[i - manager_methods_count];

                assert_non_null(method->handler);
                assert_non_null(method->signature);
                assert_non_null(method_access_to_string(method->access));
                assert_int_not_equal(method->access, ACCESS_UNDECLARED);
                /* The argument the check reads is the one the signature starts with. */
                if (method->access == ACCESS_OWN_UID)
                        assert_int_equal(method->signature[0], 'u');
                if (method->access == ACCESS_OWN_SESSION)
                        assert_int_equal(method->signature[0], 't');
        }
}

static void test_writes_are_root_only(void **state) {
        static const char *const root_only[] = { "OpenSession", "CloseSession", "GetLoginNotice" };

        for (size_t i = 0; i < ELEMENTSOF(root_only); i++) {
                bool found = false;

                for (size_t j = 0; j < manager_methods_count; j++)
                        if (strcmp(manager_methods[j].member, root_only[i]) == 0) {
                                assert_int_equal(manager_methods[j].access, ACCESS_ROOT);
                                found = true;
                        }
                assert_true(found);
        }
}

/* Fills every argument of the signature: uids name bob, session ids bob's session. */
static void append_arguments(sd_bus_message *call, const char *signature) {
        for (const char *type = signature; *type; type++)
                switch (*type) {
                case 'u':
                        assert_true(sd_bus_message_append_basic(call, 'u', &(uint32_t) { BOB }) >= 0);
                        break;
                case 't':
                        assert_true(sd_bus_message_append_basic(call, 't', &bobs_session) >= 0);
                        break;
                case 'x':
                        assert_true(sd_bus_message_append_basic(call, 'x', &(int64_t) { 0 }) >= 0);
                        break;
                case 's':
                        assert_true(sd_bus_message_append_basic(call, 's', "logout") >= 0);
                        break;
                case 'a':       /* a{sv}: an empty record */
                        assert_string_equal(type, "a{sv}");
                        assert_true(sd_bus_message_append(call, "a{sv}", 0) >= 0);
                        type += 4;
                        break;
                default:
                        fail_msg("no test value for type '%c' in %s", *type, signature);
                }
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const sd_bus_error *failure = sd_bus_message_get_error(reply);

        *(char **) userdata = strdup(failure ? failure->name : "success");
        return 1;
}

/* Calls one method as alice on a fresh connection; returns the error name or "success". */
static char *call_as_alice(const Method *method) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        struct ucred credentials = { .pid = getpid(), .uid = ALICE, .gid = ALICE };
        Connection *connection = NULL;
        sd_bus *client = NULL;
        char *answer = NULL;
        int fds[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
        assert_int_equal(connection_new(manager, &fds[0], &credentials, credentials.uid, &connection), 0);
        assert_int_equal(sd_bus_new(&client), 0);
        assert_int_equal(sd_bus_set_fd(client, fds[1], fds[1]), 0);
        assert_true(sd_bus_start(client) >= 0);
        assert_int_equal(sd_bus_message_new_method_call(client, &call, NULL, SESSMGR_OBJECT_PATH, SESSMGR_INTERFACE,
                                                        method->member), 0);
        append_arguments(call, method->signature);
        assert_true(sd_bus_call_async(client, NULL, call, on_reply, &answer, 0) >= 0);

        for (int i = 0; i < 1000 && !answer; i++) {
                (void) sd_event_run(manager->event, 1000);
                while (sd_bus_process(client, NULL) > 0)
                        ;
                (void) sd_bus_flush(client);
        }
        (void) sessions_flush(manager->sessions);
        connection_free(connection);
        sd_bus_flush_close_unref(client);
        assert_non_null(answer);
        return answer;
}

static void test_an_ordinary_user_is_refused_as_declared(void **state) {
        for (size_t i = 0; i < manager_methods_count; i++) {
                const Method *method = &manager_methods[i];
                _cleanup_(freep) char *answer = call_as_alice(method);
                const char *expected = NULL;

                switch (method->access) {
                case ACCESS_ROOT:
                case ACCESS_OWN_UID:    /* bob's uid */
                        expected = SD_BUS_ERROR_ACCESS_DENIED;
                        break;
                case ACCESS_OWN_SESSION:        /* bob's session: as if it did not exist */
                        expected = SESSMGR_ERROR_NO_SUCH_SESSION;
                        break;
                default:
                        fail_msg("%s: access %d", method->member, method->access);
                }
                if (strcmp(answer, expected) != 0)
                        fail_msg("%s as alice: %s, expected %s", method->member, answer, expected);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_method_declares_its_access),
                cmocka_unit_test(test_writes_are_root_only),
                cmocka_unit_test(test_an_ordinary_user_is_refused_as_declared),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
