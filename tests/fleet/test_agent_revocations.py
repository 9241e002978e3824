# SPDX-License-Identifier: LGPL-2.1-or-later
"""Revocations through sessmgr-fleet: a request another machine makes in PostgreSQL for a
session of this one reaches sessmgrd (NOTIFY, or the agent's look at start), which checks
it, and the outcome goes back into the request, once. These tests have no logind, so a
session that sessmgrd would end comes back "unsupported"; the container tests show
"logged out"."""

import time

import pytest

from agent import Machine, wait_until


@pytest.fixture
def machine(fleet):
    result = Machine(fleet, "A")
    result.start_daemon()
    yield result
    result.cleanup()


def synced_session(machine, user="alice"):
    machine.login(user)
    machine.wait_in_sync()
    return max(session for session, (_, name, _) in machine.rows().items() if name == user)


def request(machine, session, user="alice", requester="B", requester_user=None, requester_uid=60001,
            expires="1 hour", requester_session=7, address="203.0.113.9"):
    """A request as the requesting machine's agent would make it, as that machine's role."""
    boot = machine.query("SELECT boot_id FROM sessmgr.sessions WHERE machine_id = %s AND session_id = %s",
                         machine.machine_id, session)[0][0]
    connection = machine.fleet.connect(requester, autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO sessmgr.revocations (target_machine_id, target_boot_id, target_session_id, "
                       "target_user_name, requester_machine_id, requester_user_name, requester_uid, "
                       "requester_session_id, requester_address, expires_at) "
                       "VALUES (%s, %s, %s, %s, sessmgr.my_machine_id(), %s, %s, %s, %s, now() + %s::interval) "
                       "RETURNING id",
                       (machine.machine_id, boot, session, user, requester_user or user, requester_uid,
                        requester_session, address, expires))
        return cursor.fetchone()[0]


def outcome(machine, request_id):
    return machine.query("SELECT state, outcome, finished_at IS NOT NULL FROM sessmgr.revocations WHERE id = %s",
                         request_id)[0]


def wait_answered(machine, request_id):
    return wait_until(lambda: outcome(machine, request_id)[0] != "pending" and outcome(machine, request_id),
                      f"request {request_id} to be answered")


def test_a_request_reaches_sessmgrd_by_notify_and_the_outcome_goes_back(machine):
    # Polling once an hour: an answer within the test's wait came by NOTIFY.
    machine.start_agent()
    session = synced_session(machine)
    # One more round: the agent's first look at pending requests is behind it.
    machine.login("bob")
    machine.wait_in_sync()
    host_b = machine.query("SELECT host_name FROM sessmgr.machines WHERE machine_id = %s",
                           machine.fleet.machines["B"])[0][0]

    request_id = request(machine, session)
    assert wait_answered(machine, request_id) == (
        "refused", "unsupported: not a session systemd-logind knows", True)
    # sessmgrd did the check and logged who asked, from where.
    assert (f"revocation of session {session} refused: systemd-logind does not know it "
            f"(revoked by session 7 on {host_b} from 203.0.113.9)") in machine.world.daemon_log.read_text()
    assert f"fleet revocation request {request_id}: refused" in machine.log()


def test_a_request_for_another_users_session_is_refused_by_sessmgrd(machine):
    machine.start_agent()
    session = synced_session(machine)
    # The database's row says bob (a DBA's mistake, or a tampered row): the request for
    # bob's session passes the database, and sessmgrd, which knows it is alice's, refuses.
    machine.query("UPDATE sessmgr.sessions SET user_name = 'bob', uid = 60002 WHERE machine_id = %s "
                  "AND session_id = %s", machine.machine_id, session)
    request_id = request(machine, session, user="bob", requester_uid=60002)
    assert wait_answered(machine, request_id) == (
        "refused", "refused: the session belongs to another user", True)
    assert f"it belongs to alice, not to bob" in machine.world.daemon_log.read_text()


def test_requests_made_while_the_agent_was_away_are_taken_at_start(machine):
    session = synced_session_without_agent(machine)
    waiting = request(machine, session)
    expiring = request(machine, session, expires="1 second")
    # Past its time before the agent comes: wall-clock time must pass, nothing is measured.
    time.sleep(1.5)
    machine.start_agent()
    assert wait_answered(machine, expiring) == ("expired", "expired before its machine took it", True)
    assert wait_answered(machine, waiting)[0] == "refused"


def synced_session_without_agent(machine):
    machine.login("alice")
    result = machine.run_agent("--once")
    assert result.returncode == 0, result.stderr
    return max(machine.rows())


def test_a_request_for_an_ended_session_is_gone(machine):
    machine.start_agent()
    session = synced_session(machine)
    machine.stop_agent()
    # Ended here, not yet in the database: the database takes the request, sessmgrd says gone.
    error, message, _ = machine.world.raw_call("CloseSession", "ts", session, "logout", user="root")
    assert error is None, message
    request_id = request(machine, session)
    machine.start_agent()
    assert wait_answered(machine, request_id) == ("gone", "the session had already ended", True)


def test_an_answered_request_is_not_applied_again(machine):
    machine.start_agent()
    session = synced_session(machine)
    request_id = request(machine, session)
    wait_answered(machine, request_id)
    machine.stop_agent()
    log = machine.world.daemon_log.read_text()
    machine.start_agent()
    machine.login("bob")
    machine.wait_in_sync()
    assert machine.world.daemon_log.read_text().count(f"revocation of session {session}") == \
        log.count(f"revocation of session {session}")
