/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* Whose subordinate uid uid is, from /etc/subuid: 1 and the user's uid in *ret, 0 when it
 * is nobody's. A user's subordinate uids are that user's to use (newuidmap), so caps per
 * user count them as the user. */
int subordinate_uid_owner(uid_t uid, uid_t *ret);
