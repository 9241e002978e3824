/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define PAM_SESSMGR_TIMEOUT_MSEC_DEFAULT 250
#define PAM_SESSMGR_TIMEOUT_MSEC_MAX     60000

typedef struct PamOptions {
        const char *socket_path;        /* points into argv */
        unsigned timeout_msec;
        bool debug;
        bool notify;            /* tell the user about other sessions and new addresses */
} PamOptions;

/* Called once for every argument that is ignored, with a sentence saying why. */
typedef void (*PamOptionWarning)(void *userdata, const char *argument, const char *why);

/* Parses the module arguments of the PAM stack line. Never fails: a bad argument is
 * reported and ignored, because a typo in a PAM file must not break logins. */
void pam_options_parse(PamOptions *options, int argc, const char **argv,
                       PamOptionWarning warn, void *userdata);
