/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notice.h"
#include "record.h"
#include "text.h"

/* Shown in the user's terminal, whose character set the module cannot know: ASCII only,
 * the rest escaped as sessmgrd(8) describes. */
static int print_escaped(FILE *f, const char *prefix, const char *text) {
        _cleanup_(freep) char *escaped = text_escape(text, 0, TEXT_ESCAPE_ASCII);

        if (!escaped)
                return -ENOMEM;
        fprintf(f, "%s%s", prefix, escaped);
        return 0;
}

int format_login_notice(uint32_t others, char *const *places, const char *new_address, char **ret) {
        _cleanup_(fclosep) FILE *f = NULL;
        char *text = NULL;
        size_t size = 0, listed = 0;
        int r = 0;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;

        if (others > 0) {
                fprintf(f, "You have %" PRIu32 " other active session%s", others, others == 1 ? "" : "s");
                for (char *const *place = places; r >= 0 && place && *place; place++)
                        r = print_escaped(f, listed++ == 0 ? ": " : ", ", *place);
                fputs(listed > 0 && listed < others ? ", ..." : ".", f);
        }
        if (r >= 0 && new_address) {
                r = print_escaped(f, others > 0 ? "\nNew login from " : "New login from ", new_address);
                fputs(" - not you? Run: sessmgrctl logout --others", f);
        }

        if (fclose(TAKE_PTR(f)) != 0 || r < 0) {
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
