/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "dispatch.h"

/* GetChanges and ApplyRevocation, for the fleet agent (methods-fleet.c). */
extern const Method fleet_methods[];
extern const size_t fleet_methods_count;
