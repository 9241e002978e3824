# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgr-fleet for the people who run it: --init applies the shipped migrations as
migrate.psql does (same schema, idempotent, a newer database left alone), --status says
what the database knows of this machine, and bad settings get clear errors and exit codes."""

import pytest

from agent import Machine
from postgres import MIGRATIONS
from test_migrations import new_database, schema_dump, versions


@pytest.fixture
def machine(fleet):
    result = Machine(fleet, "A")
    yield result
    result.cleanup()


def init(machine, database):
    return machine.run_agent("--init", "--connection", machine.server.dsn(database, "sessmgr_owner"),
                             "--sql-directory", str(MIGRATIONS), as_agent=False)


def test_init_builds_the_schema_migrate_psql_builds(machine):
    by_agent = new_database(machine.server)
    result = init(machine, by_agent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["applied 001-schema", "applied 002-security",
                                          "sessmgr: fleet schema at version 2 (was 0)"]
    by_psql = new_database(machine.server)
    machine.server.migrate(by_psql)
    assert schema_dump(machine.server, by_agent) == schema_dump(machine.server, by_psql)
    assert [version for version, _ in versions(machine.server, by_agent)] == [1, 2]

    again = init(machine, by_agent)
    assert again.returncode == 0 and "at version 2 already, nothing to do" in again.stdout


def test_init_leaves_a_newer_database_alone(machine):
    database = new_database(machine.server)
    assert init(machine, database).returncode == 0
    machine.server.psql("-c", "INSERT INTO sessmgr.schema_migrations (version, name) VALUES (3, '003-future')",
                        database=database, user="sessmgr_owner")
    result = init(machine, database)
    assert result.returncode == 1
    assert "at version 3, newer than these migrations (2): leaving it untouched" in result.stderr


def test_init_without_the_owners_rights_changes_nothing(machine):
    database = new_database(machine.server)
    result = machine.run_agent("--init", "--connection", machine.server.dsn(database, machine.role),
                               "--sql-directory", str(MIGRATIONS), as_agent=False)
    assert result.returncode == 1 and "permission denied" in result.stderr
    assert machine.server.psql("-Atc", "SELECT to_regclass('sessmgr.machines') IS NULL",
                               database=database).stdout.strip() == "t"


def test_status_shows_what_the_database_knows(machine):
    machine.start_daemon()
    machine.login("alice")
    assert machine.run_agent("--once").returncode == 0
    machine.login("alice")
    result = machine.run_agent("--status", as_agent=False)
    assert result.returncode == 0, result.stderr
    host = machine.query("SELECT host_name FROM sessmgr.machines WHERE machine_id = %s", machine.machine_id)[0][0]
    assert f"Host name:    {host} (as the fleet database knows it)" in result.stdout
    assert f"Machine:      {machine.machine_id}" in result.stdout
    assert "Last sync:    never" not in result.stdout
    assert "Open sessions in the database: 1" in result.stdout
    assert "Pending revocation requests for this machine: 0" in result.stdout
    assert "sessmgrd:     1 records changed since the last sync" in result.stdout


def test_status_of_an_unregistered_machine_fails(machine):
    machine.machine_id = "0" * 32
    result = machine.run_agent("--status", as_agent=False)
    assert result.returncode == 1
    assert f"machine {'0' * 32} is not registered in the fleet database" in result.stderr


def test_status_without_a_database_fails_clearly(machine):
    machine.config.write_text("[Database]\nConnection=host=/nonexistent dbname=sessmgr user=nobody\n")
    result = machine.run_agent("--status", as_agent=False)
    assert result.returncode == 1
    assert "/nonexistent" in result.stderr and "No such file or directory" in result.stderr


@pytest.mark.parametrize("text, message", [
    ("[Sync]\nIntervalSec=0\n", "fleet.conf:2: [Sync] IntervalSec=: invalid value \"0\""),
    ("[Database]\nConnection=x\n[Sync]\nSpeed=1\n", "fleet.conf:4: unknown setting Speed= in [Sync]"),
    ("[Sync]\nIntervalSec=2\n", "[Database] Connection= is not set"),
    ("Connection=x\n", "fleet.conf:1: setting Connection= outside any [section]"),
    ("[Revocations]\nExpireSec=864000\n", "[Revocations] ExpireSec=: invalid value"),
])
def test_bad_settings_are_named_with_their_line(machine, text, message):
    machine.config.write_text(text)
    result = machine.run_agent("--status", as_agent=False)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_bad_arguments(machine):
    for arguments, message in ((["--machine-id", "XYZ"], "--machine-id takes 32 lower-case hex digits"),
                               (["--status", "--init"], "exclude each other"),
                               (["--socket", "relative"], "--socket takes an absolute path"),
                               (["extra"], "unexpected argument: extra")):
        result = machine.run_agent(*arguments, as_agent=False)
        assert result.returncode == 2 and message in result.stderr, (arguments, result.stderr)
