/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sqlite3.h>

/* Brings the database from its PRAGMA user_version to the newest schema, one migration
 * at a time, in one transaction. -EPROTONOSUPPORT for a version newer than this build. */
int store_schema_migrate(sqlite3 *database, const char *path);

int store_schema_latest(void);
