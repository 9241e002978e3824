/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notice.h"
#include "record.h"

int format_login_notice(uint32_t others, char *const *places, const char *new_address, char **ret) {
        char *text = NULL;
        size_t size = 0, listed = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return -ENOMEM;

        if (others > 0) {
                fprintf(f, "You have %" PRIu32 " other active session%s", others, others == 1 ? "" : "s");
                for (char *const *place = places; place && *place; place++)
                        /* From sessmgrd, but shown in a terminal: printable text only. */
                        if (text_is_printable(*place))
                                fprintf(f, "%s%s", listed++ == 0 ? ": " : ", ", *place);
                fputs(listed > 0 && listed < others ? ", ..." : ".", f);
        }
        if (new_address && text_is_printable(new_address))
                fprintf(f, "%sNew login from %s - not you? Run: sessmgrctl logout --others",
                        others > 0 ? "\n" : "", new_address);

        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        if (size == 0) {
                free(text);
                text = NULL;
        }
        *ret = text;
        return 0;
}
