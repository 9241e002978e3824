/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "database.h"
#include "log.h"
#include "migrate.h"
#include "parse-util.h"

/* The key of fleet/sql/migrate.psql ("sessmgr" in ASCII): both runners take the same lock. */
#define MIGRATION_LOCK "32481168853919602"
#define MIGRATIONS_MAX 999

typedef struct Migration {
        unsigned version;
        char *name;             /* "001-schema" */
} Migration;

static int migration_filter(const struct dirent *entry) {
        size_t length = strlen(entry->d_name);

        return length > 8 && strspn(entry->d_name, "0123456789") == 3 && entry->d_name[3] == '-' &&
               strcmp(entry->d_name + length - 4, ".sql") == 0;
}

/* The files, in order; their numbers must run 1, 2, 3... without a gap. */
static int list_migrations(const char *directory, Migration **ret, size_t *ret_count) {
        struct dirent **entries = NULL;
        Migration *migrations;
        int n, r = 0;

        n = scandir(directory, &entries, migration_filter, alphasort);
        if (n < 0)
                return log_error_errno(errno, "cannot read the migrations in %s: %m", directory);
        migrations = calloc(n > 0 ? (size_t) n : 1, sizeof(Migration));
        for (int i = 0; i < n; i++) {
                unsigned long long version = 0;
                char number[4];

                memcpy(number, entries[i]->d_name, 3);
                number[3] = '\0';
                if (r >= 0 && migrations) {
                        if (parse_unsigned(number, 1, MIGRATIONS_MAX, &version) < 0 || version != (unsigned) i + 1)
                                r = log_error_errno(EINVAL, "%s/%s: expected migration number %03d", directory,
                                                    entries[i]->d_name, i + 1);
                        migrations[i].version = (unsigned) version;
                        migrations[i].name = strndup(entries[i]->d_name, strlen(entries[i]->d_name) - 4);
                        if (!migrations[i].name)
                                r = -ENOMEM;
                }
                free(entries[i]);
        }
        free(entries);
        if (!migrations)
                return -ENOMEM;
        if (r >= 0 && n == 0)
                r = log_error_errno(ENOENT, "no migrations (NNN-name.sql) in %s", directory);
        if (r < 0) {
                for (int i = 0; i < n; i++)
                        free(migrations[i].name);
                free(migrations);
                return r;
        }
        *ret = migrations;
        *ret_count = (size_t) n;
        return 0;
}

static int read_file(const char *path, char **ret) {
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_(freep) char *text = NULL;
        size_t size = 0;
        ssize_t length;

        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        length = getdelim(&text, &size, '\0', f);
        if (length < 0)
                return ferror(f) ? -EIO : (*ret = strdup(""), *ret ? 0 : -ENOMEM);
        *ret = TAKE_PTR(text);
        return 0;
}

static int current_version(PGconn *connection, unsigned *ret) {
        _cleanup_(PQclearp) PGresult *result = NULL;
        _cleanup_(freep) char *message = NULL;
        int r;

        /* Two statements: one naming the table would fail to parse where it does not exist. */
        r = database_exec(connection, "SELECT to_regclass('sessmgr.schema_migrations') IS NOT NULL", 0, NULL,
                          PGRES_TUPLES_OK, &result, &message);
        if (r >= 0 && strcmp(PQgetvalue(result, 0, 0), "t") != 0) {
                *ret = 0;
                return 0;
        }
        if (r >= 0) {
                PQclear(TAKE_PTR(result));
                r = database_exec(connection, "SELECT coalesce(max(version), 0) FROM sessmgr.schema_migrations", 0,
                                  NULL, PGRES_TUPLES_OK, &result, &message);
        }
        if (r < 0)
                return log_error_errno(r, "cannot read the schema's version: %s", message ?: "out of memory");
        *ret = (unsigned) strtoul(PQgetvalue(result, 0, 0), NULL, 10);
        return 0;
}

static int apply(PGconn *connection, const char *directory, const Migration *migrations, size_t count,
                 unsigned *ret_from) {
        _cleanup_(freep) char *message = NULL;
        unsigned version;
        int r;

        r = database_exec(connection, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, &message);
        if (r >= 0)
                r = database_exec(connection, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", 0, NULL,
                                  PGRES_TUPLES_OK, NULL, &message);
        if (r < 0)
                return log_error_errno(r, "cannot start: %s", message ?: "out of memory");
        r = current_version(connection, &version);
        if (r < 0)
                return r;
        if (version > count)
                return log_error_errno(EPROTO, "the fleet schema here is at version %u, newer than these "
                                       "migrations (%zu): leaving it untouched", version, count);
        *ret_from = version;

        for (size_t i = version; i < count; i++) {
                _cleanup_(PQclearp) PGresult *result = NULL;
                _cleanup_(freep) char *path = NULL, *sql = NULL;

                if (asprintf(&path, "%s/%s.sql", directory, migrations[i].name) < 0)
                        return -ENOMEM;
                r = read_file(path, &sql);
                if (r < 0)
                        return log_error_errno(r, "cannot read %s: %m", path);
                /* A file holds many statements: the simple protocol runs them all, inside
                 * the transaction opened above. */
                result = PQexec(connection, sql);
                if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK) {
                        message = database_error_message(connection, result);
                        return log_error_errno(EIO, "%s: %s", path, message ?: "out of memory");
                }
                printf("applied %s\n", migrations[i].name);
        }
        r = database_exec(connection, "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL, &message);
        if (r < 0)
                return log_error_errno(r, "cannot commit: %s", message ?: "out of memory");
        return 0;
}

int migrate_database(const char *conninfo, const char *directory) {
        _cleanup_(PQfinishp) PGconn *connection = NULL;
        _cleanup_(freep) char *message = NULL;
        Migration *migrations = NULL;
        size_t count = 0;
        unsigned from = 0, version;
        int r;

        r = list_migrations(directory, &migrations, &count);
        if (r < 0)
                return r;
        r = database_connect_plain(conninfo, &connection, &message);
        if (r < 0)
                log_error("cannot connect to the fleet database: %s", message ?: "out of memory");
        else
                r = apply(connection, directory, migrations, count, &from);
        for (size_t i = 0; i < count; i++)
                free(migrations[i].name);
        free(migrations);
        if (r < 0)
                return r;       /* the transaction, if any, ends with the connection: nothing stays */

        r = current_version(connection, &version);
        if (r < 0)
                return r;
        if (from == version)
                printf("sessmgr: fleet schema at version %u already, nothing to do\n", version);
        else
                printf("sessmgr: fleet schema at version %u (was %u)\n", version, from);
        return 0;
}
