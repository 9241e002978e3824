/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Unsigned decimal numbers from text that users, PAM stacks, sshd and config files write.
 * Only digits are accepted: no sign, no space, no "0x"; leading zeros are fine.
 * Return 0, -EINVAL when the text is not such a number, -ERANGE when it is one outside
 * [min, max] (or beyond what unsigned long long holds). *ret is set only on success. */

/* The whole of text. */
int parse_unsigned(const char *text, unsigned long long min, unsigned long long max, unsigned long long *ret);

/* The digits at the start of text (at least one); *ret_end points past them, for callers
 * that parse what follows ("22 ssh2" of an address, "12h" of an age). */
int parse_unsigned_prefix(const char *text, unsigned long long min, unsigned long long max,
                          unsigned long long *ret, const char **ret_end);
