/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* sessmgr-fleet --init: brings the fleet database to the schema of the migrations in
 * directory (NNN-name.sql, applied in order), as fleet/sql/migrate.psql does: every
 * pending file in one transaction, under the same advisory lock, recorded in
 * sessmgr.schema_migrations (by the files themselves), and a database newer than these
 * files left untouched. Prints what it did. Returns 0, or negative with the reason
 * printed. */
int migrate_database(const char *conninfo, const char *directory);
