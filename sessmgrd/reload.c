/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"
#include "reload.h"
#include "time-format.h"

struct Reloader {
        Manager *manager;
        ConfigSource source;
        int64_t poll_interval_override_usec;
        sd_event_source *signal_source;
};

int manager_apply_config(Manager *manager, Config *loaded) {
        bool retention_was_on = manager->config.retention_usec > 0;
        int changed, r;

        changed = config_compare_for_reload(&manager->config, loaded);
        if (changed < 0)
                return changed;

        r = poller_set_interval(manager->poller, loaded->poll_interval_usec);
        if (r < 0)
                return log_error_errno(r, "cannot change the poll interval: %m");

        /* Idle logout and exemptions are read from manager->config at every look, the
         * retention at every pass: taking the new values over is all they need. */
        config_done(&manager->config);
        manager->config = *loaded;
        *loaded = (Config) {};

        if (retention_was_on && manager->config.retention_usec == 0)
                manager->retention = retention_free(manager->retention);
        else if (!retention_was_on && manager->config.retention_usec > 0) {
                r = retention_start(manager);
                if (r < 0)
                        return log_error_errno(r, "cannot start deleting old sessions: %m");
        }

        if (changed == 0)
                log_info("configuration reloaded: nothing changed");
        else
                log_info("configuration reloaded: %d setting(s) changed", changed);
        return 0;
}

static int on_reload(sd_event_source *source, const struct signalfd_siginfo *info, void *userdata) {
        Reloader *reloader = userdata;
        _cleanup_(freep) char *error = NULL;
        Config loaded;
        int r;

        /* MONOTONIC_USEC= is what Type=notify-reload (systemd 253 and later) asks for. */
        (void) sd_notifyf(false, "RELOADING=1\nSTATUS=Reloading the configuration.\nMONOTONIC_USEC=%lld",
                          (long long) now_usec(CLOCK_MONOTONIC));

        r = config_source_load(&reloader->source, &loaded, &error);
        if (r < 0)
                log_error("%s: configuration not reloaded, the one in use stays", error ?: "out of memory");
        else {
                if (reloader->poll_interval_override_usec > 0)
                        loaded.poll_interval_usec = reloader->poll_interval_override_usec;
                r = manager_apply_config(reloader->manager, &loaded);
                config_done(&loaded);
        }

        (void) sd_notify(false, r < 0 ? "READY=1\nSTATUS=Recording sessions; the last reload failed, see the log."
                                      : "READY=1\nSTATUS=Recording sessions.");
        return 0;
}

int reloader_start(Manager *manager, const ConfigSource *source, int64_t poll_interval_override_usec,
                   Reloader **ret) {
        _cleanup_(reloader_freep) Reloader *reloader = NULL;
        int r;

        reloader = calloc(1, sizeof(*reloader));
        if (!reloader)
                return -ENOMEM;
        *reloader = (Reloader) {
                .manager = manager,
                .source = *source,
                .poll_interval_override_usec = poll_interval_override_usec,
        };
        /* The caller blocked SIGHUP, as sd-event's signal sources want. */
        r = sd_event_add_signal(manager->event, &reloader->signal_source, SIGHUP, on_reload, reloader);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(reloader);
        return 0;
}

Reloader *reloader_free(Reloader *reloader) {
        if (!reloader)
                return NULL;
        sd_event_source_disable_unref(reloader->signal_source);
        free(reloader);
        return NULL;
}
