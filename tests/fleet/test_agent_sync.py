# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgr-fleet's sync against the real thing: a private PostgreSQL (conftest.py), a real
sessmgrd with the agent's user granted the fleet methods, real logins through the PAM
module, and the agent run as its own unprivileged user. What reaches the database is
compared with the local store: every record once, in its local state, and the machine's
cursor at the feed's, after outages of either side and a kill in the middle of a batch."""

import contextlib
import signal
import time

import pytest

from agent import Machine, wait_until


@pytest.fixture
def machine(fleet):
    result = Machine(fleet, "A")
    result.start_daemon()
    yield result
    result.cleanup()


def test_logins_reach_the_database_and_an_end_closes_the_row(machine):
    machine.start_agent()
    machine.login("alice")
    machine.login("bob")
    machine.wait_in_sync()
    rows = machine.rows()
    assert sorted((state, user) for state, user, _ in rows.values()) == [("active", "alice"), ("active", "bob")]
    synced_cursor, feed, last_sync = machine.report()
    assert synced_cursor > 0 and len(feed) == 32 and last_sync is not None

    alice = next(session for session, (_, user, _) in rows.items() if user == "alice")
    error, message, _ = machine.world.raw_call("CloseSession", "ts", alice, "logout", user="root")
    assert error is None, message
    machine.wait_in_sync("alice's row closed")
    assert machine.rows()[alice][0] == "closed"
    assert machine.query("SELECT end_reason, end_time IS NOT NULL, login_time IS NOT NULL FROM sessmgr.sessions "
                         "WHERE machine_id = %s AND session_id = %s", machine.machine_id, alice) == [
        ("logout", True, True)]
    assert machine.stop_agent() == 0
    assert "connected to the fleet database as host-a-" in machine.log()


def test_logins_go_on_while_the_database_is_down_and_nothing_is_lost(machine):
    machine.start_agent()
    machine.login("alice")
    machine.wait_in_sync()

    machine.server.stop()
    try:
        durations = []
        for _ in range(8):
            _, seconds = machine.world.pamtester("alice", "open_session")
            durations.append(seconds)
        machine.world.login("bob", "open_session", "close_session")
        # The agent notices and keeps trying; the logins never waited for it (each took
        # what a login takes: the module does not know the agent exists).
        wait_until(lambda: "the fleet database:" in machine.log(), "the agent to notice the outage")
        assert max(durations) < 10, durations
    finally:
        machine.server.restart()

    machine.wait_in_sync("the agent to catch up after the outage")
    assert len(machine.rows()) == 10
    log = machine.log()
    assert log.count("the fleet database: working again") == 1, log
    # Logged once, not once per attempt (a different message, e.g. "starting up", again).
    attempts = log.count("the fleet database:")
    assert attempts <= 5, log


def test_an_agent_killed_in_the_middle_of_a_batch_loses_and_doubles_nothing(machine):
    machine.write_config("[Sync]\nBatchSize=3\n")
    machine.start_agent()
    for _ in range(4):
        machine.login("alice")
    machine.wait_in_sync()

    # Hold the machines table: the agent's next batch, inside its transaction with its
    # rows copied in, waits on it (the sessions' key to their machine, then the cursor's
    # update). That is where it gets killed.
    blocker = machine.fleet.owner()
    blocker.autocommit = False
    with blocker.cursor() as cursor:
        cursor.execute("LOCK TABLE sessmgr.machines IN EXCLUSIVE MODE")
        for _ in range(5):
            machine.login("bob")
        machine.world.login("alice", "open_session", "close_session")

        def agent_waits_on_the_lock():
            # Other roles' activity is the superuser's to see.
            with contextlib.closing(machine.server.connect(machine.fleet.database)) as superuser, \
                    superuser.cursor() as activity:
                activity.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s "
                                 "AND wait_event_type = 'Lock' AND xact_start IS NOT NULL "
                                 "AND query LIKE 'INSERT INTO sessmgr.sessions%%'", (machine.role,))
                return activity.fetchone()[0] == 1
        wait_until(agent_waits_on_the_lock, "the agent to wait inside its batch")
        assert machine.stop_agent(signal.SIGKILL) == -signal.SIGKILL
        blocker.rollback()
    blocker.close()

    # Its transaction died with it: the rows it had written are not there.
    def uncommitted_gone():
        return len(machine.rows()) == 4
    wait_until(uncommitted_gone, "the killed agent's transaction to end")
    machine.login("alice")
    machine.start_agent()
    machine.wait_in_sync("a restarted agent to resume from the last commit")
    assert len(machine.rows()) == 11
    assert machine.stop_agent() == 0


def test_sessmgrd_down_and_back(machine):
    machine.start_agent()
    machine.login("alice")
    machine.wait_in_sync()
    machine.stop_daemon()
    wait_until(lambda: "sessmgrd:" in machine.log(), "the agent to notice that sessmgrd is gone")
    machine.start_daemon()
    machine.login("bob")
    machine.wait_in_sync("the agent to reconnect to sessmgrd")
    assert machine.log().count("sessmgrd: working again") == 1


def test_a_renumbered_feed_is_shipped_again_without_doubles(machine):
    machine.start_agent()
    machine.login("alice")
    machine.login("alice")
    machine.wait_in_sync()
    _, old_feed, _ = machine.report()
    machine.stop_agent()

    # The feed off and on again: sessmgrd numbers every record anew, under a new identity;
    # a session that ended meanwhile was not numbered while the feed was off.
    machine.stop_daemon()
    machine.start_daemon(agent_user=None)
    first = sorted(machine.rows())[0]
    error, message, _ = machine.world.raw_call("CloseSession", "ts", first, "logout", user="root")
    assert error is None, message
    machine.stop_daemon()
    machine.start_daemon()

    machine.start_agent()
    machine.wait_in_sync("the renumbered feed to be shipped again")
    _, new_feed, _ = machine.report()
    assert new_feed != old_feed
    rows = machine.rows()
    assert rows[first][0] == "closed" and len(rows) == 2
    # Every row now carries a cursor of the new numbering.
    assert all(cursor > 0 for _, _, cursor in rows.values())


def test_the_agent_cannot_ship_as_another_machine(machine):
    # A's credential, B's machine id: the agent stops at the database's identity.
    machine.machine_id = machine.fleet.machines["B"]
    machine.login("alice")
    result = machine.run_agent("--once")
    assert result.returncode == 1
    assert f"the database role {machine.role} is not the one of machine {machine.machine_id}" in result.stderr
    assert machine.query("SELECT count(*) FROM sessmgr.sessions")[0][0] == 0
    status = machine.run_agent("--status")
    assert status.returncode == 1 and "is not the one of machine" in status.stderr


def test_the_agent_is_refused_by_sessmgrd_without_agent_user(machine):
    machine.stop_daemon()
    machine.start_daemon(agent_user=None)
    result = machine.run_agent("--once")
    assert result.returncode == 1
    assert "sessmgrd: Only root and the fleet agent may call GetChanges;" in result.stderr


def test_once_under_valgrind_leaks_nothing(machine):
    """Every path of a round: a batch, a renumbered feed's reset, a revocation answered."""
    for _ in range(3):
        machine.login("alice")
    machine.world.login("bob", "open_session", "close_session")
    assert machine.run_agent("--once").returncode == 0
    session = max(session for session, (state, _, _) in machine.rows().items() if state == "active")
    connection = machine.fleet.connect("B", autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO sessmgr.revocations (target_machine_id, target_boot_id, target_session_id, "
                       "target_user_name, requester_machine_id, requester_user_name, requester_uid, expires_at) "
                       "SELECT machine_id, boot_id, session_id, user_name, sessmgr.my_machine_id(), user_name, uid, "
                       "now() + interval '1 hour' FROM sessmgr.sessions WHERE machine_id = %s AND session_id = %s",
                       (machine.machine_id, session))
    machine.login("alice")
    valgrind = ["valgrind", "-q", "--leak-check=full", "--error-exitcode=99",
                "--errors-for-leak-kinds=definite,indirect"]
    result = machine.run_agent("--once", wrapper=valgrind, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "fleet revocation request" in result.stderr
    machine.wait_in_sync()
    status = machine.run_agent("--status", wrapper=valgrind, timeout=300)
    assert status.returncode == 0, status.stderr
