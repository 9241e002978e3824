/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One login through a PAM stack, in-process, as sshd makes it: pam_start, PAM_TTY "ssh"
 * and a remote host, pam_open_session, pam_close_session, pam_end. 0, or -EIO with the
 * step that failed on stderr. */
int pam_login_once(const char *service, const char *user);
