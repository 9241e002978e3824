/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "manager.h"
#include "sshd-auth.h"
#include "time-format.h"

/* Lines not yet matched to a session are kept this long, at most this many, and at most
 * this many of one user: a user who makes many logins that open no session (ssh -N)
 * pushes out their own lines, not those of others. */
#define WAITING_USEC (10 * 60 * USEC_PER_SEC)
#define WAITING_MAX 256
#define WAITING_PER_USER_MAX 16

typedef struct WaitingLogin {
        SshdLogin login;
        int64_t seen_usec;      /* CLOCK_MONOTONIC */
} WaitingLogin;

struct SshdAuth {
        Manager *manager;
        sd_journal *journal;
        sd_event_source *source;
        WaitingLogin waiting[WAITING_MAX];
        size_t waiting_count;
};

int sshd_parse_accepted(const char *message, SshdLogin *ret) {
        SshdLogin login = {};
        unsigned port;
        int consumed = 0;
        char key_type[48] = "", fingerprint[100] = "";

        if (sscanf(message, "Accepted %63s for %255s from %63s port %u ssh2%n",
                   login.method, login.user, login.address, &port, &consumed) != 4 || consumed == 0)
                return -EINVAL;
        if (port == 0 || port > 65535)
                return -EINVAL;
        login.port = (uint16_t) port;

        /* "ssh2: ED25519 SHA256:..." (certificates add "ID ... CA ..." after it). */
        if (message[consumed] == ':' &&
            sscanf(message + consumed + 1, " %47s %99s", key_type, fingerprint) == 2)
                snprintf(login.key, sizeof(login.key), "%s %s", key_type, fingerprint);
        else if (message[consumed] != '\0')
                return -EINVAL;

        if (!text_is_printable(login.method) || !text_is_printable(login.key))
                return -EINVAL;
        *ret = login;
        return 0;
}

/* Keeps the list in the order seen: the first is the oldest. */
static void forget(SshdAuth *auth, size_t index) {
        memmove(auth->waiting + index, auth->waiting + index + 1,
                (auth->waiting_count - index - 1) * sizeof(WaitingLogin));
        auth->waiting_count--;
}

static bool login_matches(const SshdLogin *login, const SessionRecord *record) {
        return streq_ptr(record->user, login->user) && streq_ptr(record->remote_address, login->address) &&
               record->remote_port == login->port;
}

void sshd_auth_fill(SshdAuth *auth, SessionRecord *record) {
        if (!auth || !record->remote_address || record->auth_method)
                return;
        for (size_t i = 0; i < auth->waiting_count; i++) {
                const SshdLogin *login = &auth->waiting[i].login;

                if (!login_matches(login, record))
                        continue;
                (void) record_set_string(&record->auth_method, login->method);
                (void) record_set_string(&record->auth_key, login->key);
                /* Matched once: drop it, so a reused port cannot match it again. */
                forget(auth, i);
                return;
        }
}

static void remember(SshdAuth *auth, const SshdLogin *login) {
        int64_t now = now_usec(CLOCK_MONOTONIC);
        size_t kept = 0, oldest_of_user = SIZE_MAX, of_user = 0;

        for (size_t i = 0; i < auth->waiting_count; i++)
                if (now - auth->waiting[i].seen_usec < WAITING_USEC)
                        auth->waiting[kept++] = auth->waiting[i];
        auth->waiting_count = kept;
        for (size_t i = 0; i < auth->waiting_count; i++)
                if (strcmp(auth->waiting[i].login.user, login->user) == 0 && of_user++ == 0)
                        oldest_of_user = i;
        if (of_user >= WAITING_PER_USER_MAX)
                forget(auth, oldest_of_user);
        else if (auth->waiting_count == WAITING_MAX)
                forget(auth, 0);
        auth->waiting[auth->waiting_count++] = (WaitingLogin) { .login = *login, .seen_usec = now };
}

static void handle_login(SshdAuth *auth, const SshdLogin *login) {
        /* The session may be recorded already (sessmgrd read the journal late). */
        if (sessions_set_auth(auth->manager->sessions, login) == 0)
                remember(auth, login);
}

static void read_new_entries(SshdAuth *auth) {
        while (sd_journal_next(auth->journal) > 0) {
                _cleanup_(freep) char *message = NULL;
                const void *data;
                size_t length;
                SshdLogin login;

                if (sd_journal_get_data(auth->journal, "MESSAGE", &data, &length) < 0 || length <= 8)
                        continue;
                message = strndup((const char *) data + 8, length - 8);        /* skip "MESSAGE=" */
                if (message && sshd_parse_accepted(message, &login) >= 0)
                        handle_login(auth, &login);
        }
}

static int on_journal(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        SshdAuth *auth = userdata;

        if (sd_journal_process(auth->journal) != SD_JOURNAL_NOP)
                read_new_entries(auth);
        return 0;
}

int sshd_auth_start(Manager *manager) {
        SshdAuth *auth;
        int fd, r;

        auth = calloc(1, sizeof(*auth));
        if (!auth)
                return -ENOMEM;
        auth->manager = manager;
        manager->sshd_auth = auth;

        r = sd_journal_open(&auth->journal, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        /* OpenSSH 9.8 and later log the line from sshd-session. Any process may call
         * itself sshd; only root's lines are sshd's ("_" fields are journald's own word,
         * and matches on different fields must all hold). */
        if (r >= 0)
                r = sd_journal_add_match(auth->journal, "SYSLOG_IDENTIFIER=sshd", 0);
        if (r >= 0)
                r = sd_journal_add_match(auth->journal, "SYSLOG_IDENTIFIER=sshd-session", 0);
        if (r >= 0)
                r = sd_journal_add_match(auth->journal, "_UID=0", 0);
        /* Logins from just before a restart still find their line. */
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(auth->journal, (uint64_t) (now_usec(CLOCK_REALTIME) - WAITING_USEC));
        if (r >= 0)
                r = fd = sd_journal_get_fd(auth->journal);
        if (r >= 0)
                r = sd_event_add_io(manager->event, &auth->source, fd, (uint32_t) sd_journal_get_events(auth->journal),
                                    on_journal, auth);
        if (r < 0) {
                log_info_errno(r, "cannot follow the journal (%m): "
                               "SSH sessions are recorded without their authentication method");
                sd_journal_close(auth->journal);
                auth->journal = NULL;
                return 0;
        }
        (void) sd_event_source_set_priority(auth->source, SD_EVENT_PRIORITY_IDLE);
        read_new_entries(auth);
        return 0;
}

SshdAuth *sshd_auth_free(SshdAuth *auth) {
        if (!auth)
                return NULL;
        sd_event_source_disable_unref(auth->source);
        sd_journal_close(auth->journal);
        free(auth);
        return NULL;
}
