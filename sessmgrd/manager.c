/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"

int manager_new(Manager **ret) {
        _cleanup_(manager_freep) Manager *manager = NULL;
        sd_id128_t boot_id;
        int r;

        manager = calloc(1, sizeof(*manager));
        if (!manager)
                return -ENOMEM;
        manager->listen_fd = -1;
        manager->fleet_agent_uid = (uid_t) -1;
        config_defaults(&manager->config);

        r = sd_event_default(&manager->event);
        if (r < 0)
                return r;

        /* SIGTERM/SIGINT end the loop; the handlers need the signals blocked. */
        r = sd_event_add_signal(manager->event, NULL, SIGTERM, NULL, NULL);
        if (r < 0)
                return r;
        r = sd_event_add_signal(manager->event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return r;
        r = sd_event_set_watchdog(manager->event, true);
        if (r < 0)
                return r;

        r = sd_id128_get_boot(&boot_id);
        if (r < 0)
                return log_error_errno(r, "cannot read the boot id: %m");
        sd_id128_to_string(boot_id, manager->boot_id);

        *ret = TAKE_PTR(manager);
        return 0;
}

/* The database directory holds every user's login history: root only. */
static int create_database_directory(const char *database_path) {
        _cleanup_(freep) char *directory = strdup(database_path);
        char *slash;

        if (!directory)
                return -ENOMEM;
        slash = strrchr(directory, '/');
        if (!slash || slash == directory)
                return 0;
        *slash = '\0';
        if (mkdir(directory, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "cannot create %s: %m", directory);
        return 0;
}

static void connections_update_events(void *userdata) {
        Manager *manager = userdata;

        for (Connection *connection = manager->connections; connection; connection = connection->next)
                connection_update_events(connection);
}

/* The fleet agent's user may read the change feed and ask for revocations; the feed's
 * triggers exist only while there is such a user. */
static int manager_configure_fleet(Manager *manager) {
        const char *name = manager->config.fleet_agent_user;
        struct passwd *entry = NULL;

        manager->fleet_agent_uid = (uid_t) -1;
        if (name) {
                errno = 0;
                entry = getpwnam(name);
                if (!entry)
                        log_warning("[Fleet] AgentUser=%s: no such user%s%s: the fleet agent is refused",
                                    name, errno > 0 ? ": " : "", errno > 0 ? strerror(errno) : "");
                else if (entry->pw_uid == 0)
                        log_warning("[Fleet] AgentUser=%s is root: the fleet agent must run as a user of its own",
                                    name);
                else
                        manager->fleet_agent_uid = entry->pw_uid;
        }
        return store_configure_change_feed(manager->store, manager->fleet_agent_uid != (uid_t) -1);
}

int manager_open_store(Manager *manager, const char *database_path) {
        int r;

        r = create_database_directory(database_path);
        if (r < 0)
                return r;
        r = store_open(database_path, &manager->store);
        if (r < 0)
                return r;
        r = store_configure_flushing(manager->store, manager->config.flush_interval_usec);
        if (r < 0)
                return r;
        r = manager_configure_fleet(manager);
        if (r < 0)
                return r;
        r = sessions_new(manager, connections_update_events, manager, &manager->sessions);
        if (r < 0)
                return r;
        /* Sessions still open from an earlier boot ended with it. */
        return sessions_close_previous_boots(manager->sessions);
}

int manager_run(Manager *manager) {
        int r;

        (void) sd_notify(false, "READY=1\nSTATUS=Recording sessions.");
        r = sd_event_loop(manager->event);
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Shutting down.");
        if (r < 0)
                return log_error_errno(r, "event loop failed: %m");

        /* Answer what is still waiting for a commit before the connections go away. */
        if (manager->sessions)
                (void) sessions_flush(manager->sessions);
        return 0;
}

Manager *manager_free(Manager *manager) {
        if (!manager)
                return NULL;
        poller_free(manager->poller);
        retention_free(manager->retention);
        sshd_auth_free(manager->sshd_auth);
        logind_free(manager->logind);
        sessions_free(manager->sessions);
        server_close(manager);
        store_free(manager->store);
        sd_event_unref(manager->event);
        config_done(&manager->config);
        free(manager);
        return NULL;
}
