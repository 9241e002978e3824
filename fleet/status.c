/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "database.h"
#include "feed.h"
#include "log.h"
#include "status.h"

static int show_database(Database *database) {
        _cleanup_(PQclearp) PGresult *result = NULL;
        _cleanup_(freep) char *message = NULL;
        const char *params[] = { database->machine_id };
        int r;

        r = database_exec(database->connection,
                          "SELECT coalesce(to_char(m.last_sync, 'YYYY-MM-DD HH24:MI:SS TZ'), 'never'), "
                          "coalesce(extract(epoch FROM now() - m.last_sync)::bigint::text, ''), "
                          "(SELECT count(*) FROM sessmgr.revocations r "
                          " WHERE r.target_machine_id = $1 AND r.state = 'pending'), "
                          "(SELECT count(*) FROM sessmgr.sessions s WHERE s.machine_id = $1 AND s.state <> 'closed'), "
                          "current_user, current_setting('server_version') "
                          "FROM sessmgr.machines m WHERE m.machine_id = $1",
                          1, params, PGRES_TUPLES_OK, &result, &message);
        if (r < 0 || PQntuples(result) != 1)
                return log_error_errno(r < 0 ? r : -ENOENT, "cannot read this machine's report: %s",
                                       message ?: "no row");

        printf("Machine:      %s\n", database->machine_id);
        printf("Host name:    %s (as the fleet database knows it)\n", database->host_name);
        printf("Role:         %s%s\n", PQgetvalue(result, 0, 4), database->admin ? " (an admin machine)" : "");
        printf("Server:       PostgreSQL %s\n", PQgetvalue(result, 0, 5));
        printf("Last sync:    %s", PQgetvalue(result, 0, 0));
        if (*PQgetvalue(result, 0, 1))
                printf(" (%s s ago)", PQgetvalue(result, 0, 1));
        printf("\nSynced up to: change %" PRIu64 " of feed %s\n", database->synced_cursor,
               database->synced_feed ?: "(none yet)");
        printf("Open sessions in the database: %s\n", PQgetvalue(result, 0, 3));
        printf("Pending revocation requests for this machine: %s\n", PQgetvalue(result, 0, 2));
        return 0;
}

/* How many changes sessmgrd holds that the database has not: a page's worth at most. */
static void show_feed(const Database *database, const char *socket_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(change_batch_done) ChangeBatch batch = {};
        bool same_feed;
        int r;

        r = feed_connect(socket_path, &bus);
        if (r >= 0)
                r = feed_get_changes(bus, database->synced_cursor, 1000, &batch, &error);
        if (r < 0) {
                printf("sessmgrd:     not answering the fleet's calls: %s\n",
                       sd_bus_error_is_set(&error) ? error.message : strerror(-r));
                return;
        }
        same_feed = streq_ptr(batch.feed, database->synced_feed);
        if (!same_feed)
                printf("sessmgrd:     feed %s, numbered anew: everything is to be shipped again\n", batch.feed);
        else
                printf("sessmgrd:     %s%zu records changed since the last sync\n", batch.count >= 1000 ? "at least " : "",
                       batch.count);
}

int status_show(const FleetConfig *config, const char *machine_id, const char *socket_path) {
        _cleanup_(database_freep) Database *database = NULL;
        _cleanup_(freep) char *message = NULL;
        int r;

        r = database_connect(config->connection, machine_id, &database, &message);
        if (r < 0)
                return log_error_errno(r, "%s", message ?: "cannot connect to the fleet database");
        r = show_database(database);
        if (r < 0)
                return r;
        show_feed(database, socket_path);
        return 0;
}
