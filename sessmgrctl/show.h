/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "json-writer.h"

/* sessmgrctl list: open sessions of uid (or SESSMGR_UID_ALL, with a USER column). */
int show_sessions(sd_bus *bus, uint32_t uid, JsonMode json);
/* sessmgrctl show ID */
int show_session(sd_bus *bus, uint64_t id, JsonMode json);
/* sessmgrctl history */
int show_history(sd_bus *bus, uint32_t uid, int64_t since_usec, uint32_t limit, JsonMode json);
