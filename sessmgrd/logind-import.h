/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "logind.h"
#include "record.h"

/* Between logind.c (events) and logind-import.c (reading a session's properties). */

/* logind's session ids are short, of letters and digits ("c1", "42"). Anything else that
 * claims to be one is refused wherever it comes in, before it is stored or kept. */
#define LOGIND_SESSION_ID_MAX 64
bool logind_session_id_valid(const char *id);

/* Asks logind for a session's properties; logind_import() gets the result. */
int logind_fetch_session(Logind *logind, sd_bus *bus, const char *logind_session);

/* Every answer to logind_fetch_session() ends here, imported or not: it makes room for
 * the next queued one, and the reconcile after a list is done when the last one arrived. */
void logind_fetch_done(Logind *logind);

/* Queues a live session for logind_fetch_session(), a bounded number being in flight. */
int logind_queue_fetch(Logind *logind, const char *logind_session);

/* Hands a session logind has to the sessions layer, unless it ended meanwhile: imported if
 * no record holds it, marked closing if logind says so. */
void logind_import(Logind *logind, SessionRecord *record);

/* From a PropertiesChanged message positioned after the interface name: the new State,
 * or NULL when it did not change. */
int logind_read_state_change(sd_bus_message *message, const char **ret_state);
