/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "parse-util.h"

static const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static int parse_timeout(const char *value, unsigned *ret) {
        unsigned long long n;
        int r;

        r = parse_unsigned(value, 1, PAM_SESSMGR_TIMEOUT_MSEC_MAX, &n);
        if (r < 0)
                return r;
        *ret = (unsigned) n;
        return 0;
}

void pam_options_parse(PamOptions *options, int argc, const char **argv,
                       PamOptionWarning warn, void *userdata) {
        *options = (PamOptions) {
                .socket_path = SESSMGR_SOCKET_PATH,
                .timeout_msec = PAM_SESSMGR_TIMEOUT_MSEC_DEFAULT,
        };

        for (int i = 0; i < argc; i++) {
                const char *argument = argv[i], *value;

                if (!argument)
                        continue;

                if (strcmp(argument, "debug") == 0)
                        options->debug = true;
                else if (strcmp(argument, "notify") == 0)
                        options->notify = true;
                else if ((value = startswith(argument, "socket="))) {
                        if (value[0] == '/')
                                options->socket_path = value;
                        else
                                warn(userdata, argument, "the socket must be an absolute path");
                } else if ((value = startswith(argument, "timeout="))) {
                        if (parse_timeout(value, &options->timeout_msec) < 0)
                                warn(userdata, argument, "the timeout must be 1 to 60000 milliseconds");
                } else
                        warn(userdata, argument, "unknown option");
        }
}
