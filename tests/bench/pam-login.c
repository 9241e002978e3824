/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>

#include "pam-login.h"

static int conversation(int count, const struct pam_message **messages, struct pam_response **responses,
                        void *userdata) {
        *responses = calloc((size_t) count, sizeof(struct pam_response));
        return *responses ? PAM_SUCCESS : PAM_BUF_ERR;
}

int pam_login_once(const char *service, const char *user) {
        const struct pam_conv conv = { conversation, NULL };
        pam_handle_t *handle = NULL;
        const char *step = "pam_start";
        int r;

        r = pam_start(service, user, &conv, &handle);
        if (r == PAM_SUCCESS)
                r = pam_set_item(handle, PAM_TTY, "ssh");
        if (r == PAM_SUCCESS)
                r = pam_set_item(handle, PAM_RHOST, "198.51.100.7");
        if (r == PAM_SUCCESS) {
                step = "pam_open_session";
                r = pam_open_session(handle, 0);
        }
        if (r == PAM_SUCCESS) {
                step = "pam_close_session";
                r = pam_close_session(handle, 0);
        }
        if (r != PAM_SUCCESS)
                fprintf(stderr, "%s: %s: %s\n", service, step, pam_strerror(handle, r));
        if (handle)
                pam_end(handle, r);
        return r == PAM_SUCCESS ? 0 : -EIO;
}
