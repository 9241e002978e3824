/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "record.h"

/* The fleet agent's own socket, spoken peer-to-peer with sd-bus like sessmgrd's, by
 * sessmgrctl --fleet. Documented in man/sessmgr-fleet.8.scd, INTERFACE. What a caller may
 * see and end is decided by the agent from the caller's peer credentials: a user name
 * (identity across machines) from its uid.
 *
 * ListSessions(s user, b every_user, t current) -> (a FLEET_SESSION)
 *     open sessions of the caller ("" ), of user (root on an admin machine), or of every
 *     user (every_user; root on an admin machine); current: the caller's session id on
 *     this machine (0: none), to be marked if it is the caller's own open session
 * ListHistory(s user, b every_user, x since_usec, u limit) -> (a FLEET_SESSION)
 *     ended sessions, newest end first; limit 0 or above 10000 means 10000
 * GetSession(s host, t id, t current) -> (FLEET_SESSION)
 * RequestLogout(a(st) sessions, t current) -> (a(stss) results)
 *     asks the sessions' machines to end them (host, id each), waits a bounded time
 *     for the outcomes and answers each: (host, id, result, message), result one of
 *     FLEET_RESULT_* below. */

#define FLEET_OBJECT_PATH       "/org/sessmgr1/fleet"
#define FLEET_INTERFACE         "org.sessmgr.Fleet1"

/* host name, machine id, the machine's last report (µs, 0: never), stale, the record,
 * current */
#define FLEET_SESSION_STRUCT    "(ssxb" SESSION_RECORD_STRUCT "b)"

#define FLEET_ERROR_DATABASE        "org.sessmgr.Fleet.Error.DatabaseUnreachable"
#define FLEET_ERROR_NO_SUCH_SESSION "org.sessmgr.Fleet.Error.NoSuchSession"
#define FLEET_ERROR_BUSY            "org.sessmgr.Fleet.Error.Busy"

#define FLEET_RESULT_LOGGED_OUT "logged-out"
#define FLEET_RESULT_PENDING    "pending"       /* the machine has not answered: done when it does */
#define FLEET_RESULT_REFUSED    "refused"
#define FLEET_RESULT_GONE       "gone"          /* the session had already ended */
#define FLEET_RESULT_EXPIRED    "expired"
#define FLEET_RESULT_NOT_FOUND  "not-found"
#define FLEET_RESULT_FAILED     "failed"

/* At most this many sessions in one RequestLogout, and records in one answer. */
#define FLEET_LOGOUT_MAX 1000
#define FLEET_LIST_MAX 10000
/* At most this many records, and bytes of them, from any one machine in one answer of
 * ListSessions and ListHistory (its newest): a compromised machine may write as many
 * sessions of any user as it likes, and must not push the user's others out of the
 * answer, nor make it outgrow the agent's memory. An honest record is a few hundred
 * bytes. */
#define FLEET_MACHINE_ROWS_MAX 1000
#define FLEET_MACHINE_BYTES_MAX 1048576
