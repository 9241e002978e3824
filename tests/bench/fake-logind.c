/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for systemd-logind on a private bus, for the startup benchmark and the
 * tests that need many sessions or a logind that says no: it owns org.freedesktop.login1,
 * lists N sessions (ListSessions), answers GetSession and their properties
 * (Properties.GetAll on /org/freedesktop/login1/session/ID) and takes TerminateSession,
 * refusing the first REFUSALS calls; each call is printed on stdout ("terminate ID:
 * refused|done"). Lines on stdin act as logind does when a session changes:
 * "closing ID" broadcasts its State as closing, "remove ID" drops it and broadcasts
 * SessionRemoved; each is answered "ok ID" on stdout once sent. Connects to
 * DBUS_SYSTEM_BUS_ADDRESS. Usage: bench-fake-logind SESSIONS [REFUSALS] */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <sys/epoll.h>
#include <unistd.h>

static unsigned session_count;
static unsigned refusals_left;
static bool *removed, *closing;         /* per session */

/* Session "fN" belongs to uid 60000 + N % 1000. */
static int session_index(const char *path, unsigned *ret) {
        char *id = NULL, *end;
        unsigned long n;
        int r;

        r = sd_bus_path_decode(path, "/org/freedesktop/login1/session", &id);
        if (r <= 0)
                return 0;
        n = id[0] == 'f' ? strtoul(id + 1, &end, 10) : (unsigned long) -1;
        r = id[0] == 'f' && *end == '\0' && n < session_count && !removed[n];
        free(id);
        if (r)
                *ret = (unsigned) n;
        return r;
}

static int find_session(sd_bus *bus, const char *path, const char *interface, void *userdata,
                        void **ret_found, sd_bus_error *error) {
        unsigned index;

        if (!session_index(path, &index))
                return 0;
        *ret_found = (void *) (uintptr_t) (index + 1);
        return 1;
}

#define INDEX(userdata) ((unsigned) ((uintptr_t) (userdata) - 1))

static int property_id(sd_bus *bus, const char *path, const char *interface, const char *property,
                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char id[32];
        snprintf(id, sizeof(id), "f%u", INDEX(userdata));
        return sd_bus_message_append(reply, "s", id);
}

static int property_user(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "(uo)", 60000 + INDEX(userdata) % 1000, "/org/freedesktop/login1/user/_1");
}

static int property_name(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char name[32];
        snprintf(name, sizeof(name), "user%u", INDEX(userdata) % 1000);
        return sd_bus_message_append(reply, "s", name);
}

static int property_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const char *value = strcmp(property, "Service") == 0 ? "sshd" :
                            strcmp(property, "RemoteHost") == 0 ? "198.51.100.7" :
                            strcmp(property, "Class") == 0 ? "user" :
                            strcmp(property, "State") != 0 ? "" :
                            closing[INDEX(userdata)] ? "closing" : "active";
        return sd_bus_message_append(reply, "s", value);
}

static int property_number(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        if (strcmp(property, "Timestamp") == 0)
                return sd_bus_message_append(reply, "t", (uint64_t) 1795848751000000ULL);
        if (strcmp(property, "Remote") == 0)
                return sd_bus_message_append(reply, "b", 1);
        return sd_bus_message_append(reply, "u", strcmp(property, "Leader") == 0 ? 1000 + INDEX(userdata) : 0);
}

static int property_seat(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "(so)", "", "/");
}

static const sd_bus_vtable session_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("User", "(uo)", property_user, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", property_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Timestamp", "t", property_number, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VTNr", "u", property_number, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Seat", "(so)", property_seat, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("TTY", "s", property_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Display", "s", property_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Remote", "b", property_number, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RemoteHost", "s", property_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Service", "s", property_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Leader", "u", property_number, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Class", "s", property_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

static int method_list_sessions(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(susso)");
        for (unsigned i = 0; r >= 0 && i < session_count; i++) {
                char id[32], user[32], path[96];

                if (removed[i])
                        continue;
                snprintf(id, sizeof(id), "f%u", i);
                snprintf(user, sizeof(user), "user%u", i % 1000);
                snprintf(path, sizeof(path), "/org/freedesktop/login1/session/f%u", i);
                r = sd_bus_message_append(reply, "(susso)", id, 60000 + i % 1000, user, "", path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

static int method_get_session(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        char path[96];
        const char *id;
        unsigned index;
        int r;

        r = sd_bus_message_read(message, "s", &id);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/org/freedesktop/login1/session/%s", id);
        if (!session_index(path, &index))
                return sd_bus_error_setf(error, "org.freedesktop.login1.NoSuchSession", "No session '%s' known", id);
        return sd_bus_reply_method_return(message, "o", path);
}

static int method_terminate_session(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *id;
        bool refuse = refusals_left > 0;
        int r;

        r = sd_bus_message_read(message, "s", &id);
        if (r < 0)
                return r;
        printf("terminate %s: %s\n", id, refuse ? "refused" : "done");
        fflush(stdout);
        if (refuse) {
                refusals_left--;
                return sd_bus_error_set(error, "org.freedesktop.DBus.Error.Failed", "Not now.");
        }
        return sd_bus_reply_method_return(message, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("ListSessions", "", "a(susso)", method_list_sessions, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("GetSession", "s", "o", method_get_session, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("TerminateSession", "s", "", method_terminate_session, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL("SessionNew", "so", 0),
        SD_BUS_SIGNAL("SessionRemoved", "so", 0),
        SD_BUS_VTABLE_END
};

/* One command from stdin: "closing ID" or "remove ID" (see the top of this file). */
static int on_command(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        sd_bus *bus = userdata;
        char line[128], command[16], id[32], path[96];
        unsigned index;
        int r = 0;

        if (!fgets(line, sizeof(line), stdin))
                return sd_event_source_set_enabled(source, SD_EVENT_OFF);      /* no more commands */
        if (sscanf(line, "%15s %31s", command, id) != 2)
                return 0;
        snprintf(path, sizeof(path), "/org/freedesktop/login1/session/%s", id);
        if (!session_index(path, &index))
                r = -ENOENT;
        else if (strcmp(command, "closing") == 0) {
                closing[index] = true;
                r = sd_bus_emit_properties_changed(bus, path, "org.freedesktop.login1.Session", "State", NULL);
        } else if (strcmp(command, "remove") == 0) {
                removed[index] = true;
                r = sd_bus_emit_signal(bus, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                                       "SessionRemoved", "so", id, path);
        }
        printf("%s %s\n", r < 0 ? "failed" : "ok", id);
        fflush(stdout);
        return 0;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        sd_event *event = NULL;
        int r;

        if (argc < 2 || argc > 3)
                return 2;
        session_count = (unsigned) strtoul(argv[1], NULL, 10);
        refusals_left = argc == 3 ? (unsigned) strtoul(argv[2], NULL, 10) : 0;
        removed = calloc(session_count + 1, sizeof(bool));
        closing = calloc(session_count + 1, sizeof(bool));
        if (!removed || !closing)
                return 1;
        /* Unbuffered: a line not read yet stays in the pipe, for the event loop to see. */
        setvbuf(stdin, NULL, _IONBF, 0);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                                             manager_vtable, NULL);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, "/org/freedesktop/login1/session",
                                               "org.freedesktop.login1.Session", session_vtable, find_session, NULL);
        if (r >= 0)
                r = sd_bus_request_name(bus, "org.freedesktop.login1", 0);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r < 0) {
                fprintf(stderr, "fake logind: %s\n", strerror(-r));
                return 1;
        }
        /* Commands only where stdin is something to wait on, such as a pipe. */
        (void) sd_event_add_io(event, NULL, STDIN_FILENO, EPOLLIN, on_command, bus);
        printf("ready\n");
        fflush(stdout);
        return sd_event_loop(event) < 0;
}
