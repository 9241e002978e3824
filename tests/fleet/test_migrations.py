# SPDX-License-Identifier: LGPL-2.1-or-later
"""The shipped migrations (fleet/sql/migrate.psql) against a real PostgreSQL: they apply,
a second run changes nothing, two runs at once do not collide, and a database from a
newer sessmgr is left alone."""

import contextlib
import subprocess
import threading
import uuid

from postgres import MIGRATIONS


def new_database(server):
    name = "migrate_" + uuid.uuid4().hex[:12]
    with contextlib.closing(server.connect()) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'sessmgr_owner'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE ROLE sessmgr_owner LOGIN CREATEROLE")
        cursor.execute(f"CREATE DATABASE {name} OWNER sessmgr_owner ENCODING 'UTF8' TEMPLATE template0")
    return name


def schema_dump(server, database):
    dump = subprocess.run([server.bindir / "pg_dump", "--schema-only", "-d", server.dsn(database)], check=True,
                          capture_output=True, text=True).stdout
    # pg_dump brackets its output with a random key (\restrict KEY): not part of the schema.
    return [line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))]


def versions(server, database):
    with contextlib.closing(server.connect(database)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT version, name FROM sessmgr.schema_migrations ORDER BY version")
        return cursor.fetchall()


def test_migrations_apply_every_shipped_file(server):
    database = new_database(server)
    result = server.migrate(database)
    assert "fleet schema at version 2" in result.stdout
    shipped = sorted(path.stem for path in MIGRATIONS.glob("[0-9][0-9][0-9]-*.sql"))
    assert [name for _, name in versions(server, database)] == shipped
    assert [version for version, _ in versions(server, database)] == list(range(1, len(shipped) + 1))
    # migrate.psql names every shipped file: one added without it would never be applied.
    driver = (MIGRATIONS / "migrate.psql").read_text()
    for name in shipped:
        assert f"\\ir {name}.sql" in driver


def test_second_run_changes_nothing(server):
    database = new_database(server)
    server.migrate(database)
    before = schema_dump(server, database)
    applied = versions(server, database)
    result = server.migrate(database)
    assert result.returncode == 0
    assert versions(server, database) == applied
    assert schema_dump(server, database) == before


def test_two_runs_at_once_apply_once(server):
    database = new_database(server)
    results = []
    runs = [threading.Thread(target=lambda: results.append(server.migrate(database, check=False))) for _ in range(3)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert [result.returncode for result in results] == [0, 0, 0], [result.stderr for result in results]
    assert [version for version, _ in versions(server, database)] == [1, 2]


def test_newer_schema_is_left_untouched(server):
    database = new_database(server)
    server.migrate(database)
    with contextlib.closing(server.connect(database, "sessmgr_owner")) as connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO sessmgr.schema_migrations (version, name) VALUES (99, '099-future')")
    before = schema_dump(server, database)
    result = server.migrate(database, check=False)
    assert result.returncode != 0
    assert "newer than these migrations" in result.stderr
    assert schema_dump(server, database) == before


def test_failed_migration_leaves_nothing_behind(server):
    """A database that is not UTF8 is refused by 001 and keeps no half of the schema."""
    name = "latin_" + uuid.uuid4().hex[:12]
    with contextlib.closing(server.connect()) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'sessmgr_owner'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE ROLE sessmgr_owner LOGIN CREATEROLE")
        cursor.execute(f"CREATE DATABASE {name} OWNER sessmgr_owner ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
                       "TEMPLATE template0")
    result = server.migrate(name, check=False)
    assert result.returncode != 0
    assert "must be UTF8" in result.stderr
    with contextlib.closing(server.connect(name)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_regnamespace('sessmgr')")
        assert cursor.fetchone() == (None,)
