/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>

#include "macro.h"
#include "subordinate-uid.h"

/* Whose subordinate uid this is, from /etc/subuid ("name:first:count"): newuidmap maps
 * nothing else into a user namespace. */
int subordinate_uid_owner(uid_t uid, uid_t *ret) {
        _cleanup_(fclosep) FILE *file = fopen("/etc/subuid", "re");
        char line[512];

        if (!file)
                return errno == ENOENT ? 0 : -errno;
        while (fgets(line, sizeof(line), file)) {
                unsigned long long first, count;
                char name[256];
                struct passwd *entry;

                if (sscanf(line, "%255[^:]:%llu:%llu", name, &first, &count) != 3 ||
                    uid < first || uid - first >= count)
                        continue;
                entry = getpwnam(name);
                if (!entry)
                        continue;
                *ret = entry->pw_uid;
                return 1;
        }
        return 0;
}
