/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-login.h>

#include "activity-probe.h"
#include "activity.h"
#include "alloc-util.h"
#include "idle.h"
#include "log.h"
#include "manager.h"
#include "poller.h"
#include "stepper.h"
#include "time-format.h"

/* What the previous look at one session saw, kept in memory by session id. */
typedef struct SessionCounters {
        uint64_t id;
        ActivityCounters counters;
        bool seen;              /* in the current full poll */
        bool idle_warned;       /* since its last activity */
        int64_t looked_usec;    /* CLOCK_MONOTONIC of the last look, 0: none yet */
        int64_t idle_logout_asked_usec; /* when logind was last asked to end it, 0: not yet */
} SessionCounters;

/* Sessions looked at per loop iteration: a poll of 10,000 sessions must not hold up the
 * logins arriving meanwhile. */
#define SESSIONS_PER_STEP 256

/* What one look may cost, counted in processes whose /proc/PID/stat is read (a few
 * microseconds each): per session, and per loop iteration (a poll step or one
 * ListSessions), so that no user's processes or calls hold up the logins being recorded
 * for more than a few milliseconds at a time. */
#define PROCESSES_PER_LOOK_MAX 1024
#define PROCESSES_PER_TURN_MAX (2 * PROCESSES_PER_LOOK_MAX)

/* A user's list shows what a look at most this old saw: calling ListSessions in a loop
 * costs a look per session per interval, not per call. */
#define LIST_LOOK_MAX_AGE_USEC (2 * USEC_PER_SEC)

struct Poller {
        Manager *manager;
        Stepper *walk;                  /* over the open sessions, between other work */
        uint64_t next_after_id;
        int64_t interval_usec;
        const char *cgroup_root;
        SessionCounters *sessions;      /* sorted by id */
        size_t count, allocated;
};

static SessionCounters *counters_of(Poller *poller, uint64_t id) {
        size_t low = 0, high = poller->count;

        while (low < high) {
                size_t middle = low + (high - low) / 2;
                if (poller->sessions[middle].id == id)
                        return &poller->sessions[middle];
                if (poller->sessions[middle].id < id)
                        low = middle + 1;
                else
                        high = middle;
        }

        /* New session: ids only grow, so it usually goes at the end. */
        if (!GREEDY_REALLOC(poller->sessions, poller->allocated, poller->count + 1))
                return NULL;
        memmove(poller->sessions + low + 1, poller->sessions + low, (poller->count - low) * sizeof(*poller->sessions));
        poller->sessions[low] = (SessionCounters) { .id = id };
        poller->count++;
        return &poller->sessions[low];
}

static void forget_unseen(Poller *poller) {
        size_t kept = 0;

        for (size_t i = 0; i < poller->count; i++)
                if (poller->sessions[i].seen) {
                        poller->sessions[i].seen = false;
                        poller->sessions[kept++] = poller->sessions[i];
                }
        poller->count = kept;
}

/* su and sudo inside a login end with their PAM stack, but one that was killed never
 * reports it, and logind has no session of its own to tell. Its process gone, or its pid
 * taken by a process started after the login, it has ended. */
static bool leader_gone(const SessionRecord *record) {
        int64_t started;
        int r;

        if (record->leader_pid == 0)
                return false;
        r = process_start_time_usec((pid_t) record->leader_pid, &started);
        if (r == -ENOENT || r == -ESRCH)
                return true;
        return r >= 0 && started > record->login_time_usec + USEC_PER_SEC;
}

static void apply_idle_policy(Poller *poller, const SessionRecord *record, SessionCounters *counters, int64_t now) {
        Manager *manager = poller->manager;
        _cleanup_(freep) char *warning = NULL;
        int r;

        /* Asked already: logind refused, could not be reached, or is ending it now (then
         * the session is closing at the next poll and no longer judged). Asked again a
         * poll later, not at every look (a ListSessions looks too). */
        if (counters->idle_logout_asked_usec > 0 && now - counters->idle_logout_asked_usec < poller->interval_usec)
                return;
        switch (idle_judge(&manager->config, record, now, counters->idle_warned)) {
        case IDLE_NOTHING:
                return;
        case IDLE_WARN:
                counters->idle_warned = true;
                if (idle_warning_text(&manager->config, record, now, &warning) >= 0)
                        idle_write_to_terminals(record->ttys, warning);
                return;
        case IDLE_LOG_OUT:
                break;
        }

        counters->idle_logout_asked_usec = now;
        log_info("logging out session %llu of %s: idle since %lld s",
                 (unsigned long long) record->id, record->user,
                 (long long) ((now - record->last_active_usec) / USEC_PER_SEC));
        /* The reason first, so the end logind reports is recorded as "idle". */
        if (sessions_revoke(manager->sessions, NULL, record->id, "idle", NULL) < 0)
                return;
        r = logind_terminate_session(manager->logind, record->logind_session);
        if (r < 0)
                log_warning_errno(r, "cannot ask systemd-logind to end idle session %llu: %m",
                                  (unsigned long long) record->id);
}

/* Returns the processes it read. */
static unsigned look_at(Poller *poller, SessionRecord *record, int64_t now, bool recent_look_will_do) {
        Manager *manager = poller->manager;
        _cleanup_(freep) char *ttys = NULL;
        const char *source = record->last_active_source ?: ACTIVITY_SOURCE_LOGIN;
        int64_t last_active = record->last_active_usec;
        uid_t owner = record->uid;
        int64_t monotonic = now_usec(CLOCK_MONOTONIC);
        SessionCounters *previous;
        ActivitySample sample;
        unsigned processes;
        bool moved, first_look;

        if (record->state == SESSION_CLOSED || !record->logind_session ||
            !streq_ptr(record->boot_id, manager->boot_id))
                return 0;
        previous = counters_of(poller, record->id);
        if (!previous)
                return 0;
        previous->seen = true;
        if (recent_look_will_do && previous->looked_usec > 0 &&
            monotonic - previous->looked_usec < (int64_t) LIST_LOOK_MAX_AGE_USEC)
                return 0;       /* the record holds what that look saw */
        previous->looked_usec = monotonic;

        if (record->parent_id > 0 && leader_gone(record)) {
                (void) sessions_end_unreported(manager->sessions, record);
                return 0;
        }
        /* su and sudo records live in the scope of the login they ran in, under its owner. */
        if (record->parent_id > 0 && sd_session_get_uid(record->logind_session, &owner) < 0)
                return 0;
        if (activity_probe_session(poller->cgroup_root, owner, record->logind_session, PROCESSES_PER_LOOK_MAX,
                                   &sample, &ttys, &processes) < 0)
                return processes;       /* its cgroup is gone: logind will tell us it ended */

        first_look = !previous->counters.known;
        moved = activity_judge(&sample, &previous->counters, now, manager->config.count_process_activity,
                               &last_active, &source);
        if (moved) {
                previous->idle_warned = false;
                previous->idle_logout_asked_usec = 0;
        }
        if (moved || !streq_ptr(ttys, record->ttys))
                (void) sessions_set_activity(manager->sessions, record, last_active, source, &ttys);
        /* Not at the first look: without a baseline, a session without a terminal has
         * no activity to show yet (just imported, or busy while sessmgrd was down). */
        if (!first_look)
                apply_idle_policy(poller, record, previous, now);
        return processes;
}

/* Looks at records from the first until a turn's worth of processes was read (one
 * session at least); returns how many it went through. */
static size_t look_at_some(Poller *poller, SessionRecord *records, size_t count, bool recent_look_will_do) {
        int64_t now = now_usec(CLOCK_REALTIME);
        unsigned processes = 0;
        size_t i;

        for (i = 0; i < count && processes + PROCESSES_PER_LOOK_MAX <= PROCESSES_PER_TURN_MAX; i++)
                processes += look_at(poller, &records[i], now, recent_look_will_do);
        return i;
}

void poller_refresh(Poller *poller, SessionRecord *records, size_t count) {
        if (!poller)
                return;
        /* Those left out show the last look's results; the next list looks at them. */
        (void) look_at_some(poller, records, count, true);
}

/* One step of a walk over the open sessions: > 0 while more are left. */
static int step(void *userdata) {
        Poller *poller = userdata;
        SessionRecord *records = NULL;
        size_t count = 0;
        int r;

        r = store_list_open_page(poller->manager->store, poller->next_after_id, SESSIONS_PER_STEP, &records, &count);
        if (r >= 0) {
                size_t looked = look_at_some(poller, records, count, false);

                if (looked > 0)
                        poller->next_after_id = records[looked - 1].id;
                session_record_array_free(records, count);
                if (looked < count || count == SESSIONS_PER_STEP)
                        return 1;
        }

        /* The whole walk is done. */
        forget_unseen(poller);
        return 0;
}

static void begin_walk(void *userdata) {
        Poller *poller = userdata;

        poller->next_after_id = 0;
}

int poller_start(Manager *manager, int64_t interval_usec, const char *cgroup_root) {
        Poller *poller;

        poller = calloc(1, sizeof(*poller));
        if (!poller)
                return -ENOMEM;
        poller->manager = manager;
        poller->interval_usec = interval_usec;
        poller->cgroup_root = cgroup_root ?: activity_cgroup_root();
        manager->poller = poller;
        if (!poller->cgroup_root)
                log_info("no cgroup v2 hierarchy: sessions are not looked at for terminals or activity");

        /* The first walk an interval after start, as each after the previous one. */
        return stepper_new(manager->event, interval_usec, interval_usec, begin_walk, step, poller, &poller->walk);
}

int poller_set_interval(Poller *poller, int64_t interval_usec) {
        if (!poller || poller->interval_usec == interval_usec)
                return 0;
        /* A walk under way is dropped: the next one goes over every session again. */
        poller->walk = stepper_free(poller->walk);
        poller->interval_usec = interval_usec;
        return stepper_new(poller->manager->event, interval_usec, interval_usec, begin_walk, step, poller,
                           &poller->walk);
}

Poller *poller_free(Poller *poller) {
        if (!poller)
                return NULL;
        stepper_free(poller->walk);
        free(poller->sessions);
        free(poller);
        return NULL;
}
