/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdlib.h>

/* What went wrong in a round of work (a sync, a look at revocations): which side failed,
 * so the agent drops and reconnects that one, and a message for people. */

typedef enum RoundSide {
        ROUND_OK,
        ROUND_FEED,             /* sessmgrd: its socket, or its answer */
        ROUND_DATABASE,         /* PostgreSQL */
} RoundSide;

typedef struct RoundError {
        RoundSide side;
        int error;              /* negative errno */
        char *message;          /* NULL: the errno says it all */
} RoundError;

static inline void round_error_done(RoundError *error) {
        free(error->message);
        *error = (RoundError) {};
}

/* Records a failure and returns its (negative) error, for "return round_fail(...)". */
static inline int round_fail(RoundError *error, RoundSide side, int code, char *message) {
        free(error->message);
        *error = (RoundError) { .side = side, .error = code < 0 ? code : -EIO, .message = message };
        return error->error;
}
