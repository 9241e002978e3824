/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"

/* sessmgr-fleet --status: connects as the agent does and prints what the database knows of
 * this machine (host name, last report, position), its pending revocation requests and,
 * when sessmgrd answers, how far the local change feed is ahead. 0 when the database
 * knows this machine; negative (printed) otherwise. */
int status_show(const FleetConfig *config, const char *machine_id, const char *socket_path);
