/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The text parsers that read what others wrote: sshd's log lines (sshd-auth.c), the
 * SSH_CONNECTION variable (pam_sessmgr), the PAM module's arguments, --since times, and
 * sessmgrd.conf. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gather.h"
#include "options.h"
#include "sshd-auth.h"
#include "time-format.h"

static void ignore_warning(void *userdata, const char *argument, const char *why) {
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = strndup((const char *) data, size), *address = NULL;
        const char *argv[4];
        PamOptions options;
        SshdLogin login;
        uint16_t port;
        int64_t when;

        if (!text)
                return 0;
        (void) sshd_parse_accepted(text, &login);
        if (parse_ssh_connection(text, &address, &port) >= 0)
                free(address);
        (void) parse_timestamp(text, 1795848751000000, &when);

        Config config;
        char *error = NULL;
        config_defaults(&config);
        (void) config_parse_string(&config, text, &error);
        free(error);
        config_done(&config);

        /* Up to four arguments, split at spaces, as a PAM stack line would give them. */
        int argc = 0;
        for (char *state = NULL, *word = strtok_r(text, " ", &state); word && argc < 4; word = strtok_r(NULL, " ", &state))
                argv[argc++] = word;
        pam_options_parse(&options, argc, argv, ignore_warning, NULL);
        free(text);
        return 0;
}
