/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The sessmgrd interface, spoken peer-to-peer with sd-bus over a Unix socket.
 * Documented in man/sessmgrd.8.scd; changing a name here breaks installed PAM modules. */

#define SESSMGR_OBJECT_PATH     "/org/sessmgr1"
#define SESSMGR_INTERFACE       "org.sessmgr.Manager1"

/* OpenSession(a{sv} record) -> (t id)           root only
 * CloseSession(t id, s reason) -> ()            root only
 * ListSessions(u uid) -> (a(...) records)       own uid; root: any uid, or SESSMGR_UID_ALL;
 *                                               a(...) is an array of SESSION_RECORD_STRUCT
 * ListHistory(u uid, x since_usec, u limit)
 *     -> (a(...) records)                       ended sessions, newest end first; same
 *                                               rules as ListSessions; limit 0 or above
 *                                               10000 means 10000
 * GetSession(t id) -> (a{sv} record)            owner or root, others get NoSuchSession
 * GetLoginNotice(t id) -> (u others, as places, b new_address)
 *                                               root only: for pam_sessmgr's "notify": the
 *                                               user's other open sessions (a few of them as
 *                                               "ADDRESS (SERVICE TTY)") and whether the
 *                                               client address is new for the user
 * AnnounceLogout(t id) -> ()                    owner or root: the session is about to be
 *                                               ended through logind by the caller; its
 *                                               end reason becomes "revoked by ..." */
#define SESSMGR_UID_ALL ((uint32_t) -1)

#define SESSMGR_ERROR_NO_SUCH_SESSION   "org.sessmgr.Error.NoSuchSession"
#define SESSMGR_ERROR_STORE             "org.sessmgr.Error.StoreFailed"
#define SESSMGR_ERROR_INVALID_RECORD    "org.sessmgr.Error.InvalidRecord"
