# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pushing session changes the way the agent will (tests/fleet/sync.py), and revocations
announced with NOTIFY, against a real PostgreSQL."""

import select

import pytest

from sync import LIST_FLEET, change, push_copy, push_values

PUSHES = {"values": push_values, "copy": push_copy}


def rows(connection, machine_id):
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT session_id, change_cursor, state, end_reason, synced_at FROM sessmgr.sessions "
                       "WHERE machine_id = %s ORDER BY session_id", (machine_id,))
        return cursor.fetchall()


def synced_cursor(connection):
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT synced_cursor FROM sessmgr.machines WHERE machine_id = sessmgr.my_machine_id()")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("shape", sorted(PUSHES))
def test_same_changes_twice_leave_one_row_each(fleet, shape):
    push = PUSHES[shape]
    b = fleet.connect("B")
    machine = fleet.machines["B"]
    batch = [change(machine, 1, 1), change(machine, 2, 2),
             change(machine, 1, 3, state="closed", end_time=1_700_000_500_000_000, end_reason="logout")]
    if shape == "values":
        batch = batch[1:]       # one INSERT may not touch a row twice: the agent sends each session's latest
    push(b, batch)
    first = rows(b, machine)
    assert [(session, cursor) for session, cursor, *_ in first] == [(1, 3), (2, 2)]
    push(b, batch)              # resent after a lost acknowledgement
    assert rows(b, machine) == first    # synced_at included: the resent rows were not even rewritten
    assert synced_cursor(b) == 3


@pytest.mark.parametrize("shape", sorted(PUSHES))
def test_older_change_after_a_newer_is_a_no_op(fleet, shape):
    push = PUSHES[shape]
    b = fleet.connect("B")
    machine = fleet.machines["B"]
    push(b, [change(machine, 1, 5, state="closed", end_time=1_700_000_500_000_000, end_reason="logout")])
    push(b, [change(machine, 1, 4, state="active")])
    assert [(cursor, state, reason) for _, cursor, state, reason, _ in rows(b, machine)] == [(5, "closed", "logout")]


def test_failed_batch_moves_neither_rows_nor_cursor(fleet):
    """A batch with one bad row rolls back whole: the agent resends it from the same cursor."""
    b = fleet.connect("B")
    machine = fleet.machines["B"]
    push_values(b, [change(machine, 1, 1)])
    with pytest.raises(Exception, match="safe_text"):
        push_values(b, [change(machine, 2, 2), change(machine, 3, 3, tty="\x1b[2J")])
    assert [session for session, *_ in rows(b, machine)] == [1]
    assert synced_cursor(b) == 1


def test_list_fleet_sees_the_users_open_sessions_everywhere(fleet):
    for name in "ABC":
        machine = fleet.machines[name]
        push_values(fleet.connect(name), [change(machine, 1, 1), change(machine, 2, 2, user_name="bob", uid=60002),
                                          change(machine, 3, 3, state="closed", end_time=1_700_000_500_000_000)])
    a = fleet.connect("A")

    def list_fleet(user_name):
        with a, a.cursor() as cursor:
            cursor.execute(LIST_FLEET, {"user_name": user_name, "stale_after": "5 minutes"})
            return {(row[1], row[3]): row[-1] for row in cursor.fetchall()}

    # Every machine pushed just now (a push reports in): none is stale. Only alice's
    # open sessions: not bob's, not the ended one.
    assert list_fleet("alice") == {(fleet.machines[name], 1): False for name in "ABC"}
    with fleet.owner() as owner, owner.cursor() as cursor:
        cursor.execute("UPDATE sessmgr.machines SET last_sync = now() - interval '1 hour' WHERE machine_id = %s",
                       (fleet.machines["C"],))
    assert list_fleet("alice")[(fleet.machines["C"], 1)] is True
    assert set(list_fleet("bob")) == {(fleet.machines[name], 2) for name in "ABC"}


def wait_for_notifications(connection, until, limit=30.0):
    """Collects the payloads that arrive on connection until one satisfies until (the
    bound only stops a hang: the test waits for a notification, never for a time)."""
    received = []
    while not any(until(payload) for payload in received):
        if select.select([connection], [], [], limit) == ([], [], []):
            raise AssertionError(f"no notification within {limit} s; got {received}")
        connection.poll()
        while connection.notifies:
            received.append(connection.notifies.pop(0).payload)
    return received


def listen(fleet, name):
    connection = fleet.connect(name, autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sessmgr.channel(sessmgr.my_machine_id())")
        channel = cursor.fetchone()[0]
        cursor.execute(f'LISTEN "{channel}"')
    return connection, channel


def test_notify_reaches_the_target_machine_only(fleet):
    listeners = {name: listen(fleet, name) for name in "ABC"}
    b_machine = fleet.machines["B"]
    push_values(fleet.connect("B"), [change(b_machine, 1, 1)])
    a = fleet.connect("A")
    with a, a.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sessmgr.revocations (target_machine_id, target_boot_id, target_session_id, target_user_name,"
            " requester_machine_id, requester_user_name, requester_uid, expires_at)"
            " VALUES (%s, %s, 1, 'alice', sessmgr.my_machine_id(), 'alice', 60001, now() + interval '1 minute')"
            " RETURNING id", (b_machine, "b" * 32))
        request_id = cursor.fetchone()[0]
    assert wait_for_notifications(listeners["B"][0], lambda payload: payload == f"revoke {request_id}") == [
        f"revoke {request_id}"]

    # B answers; the outcome is announced to the requester A.
    b = fleet.connect("B")
    with b, b.cursor() as cursor:
        cursor.execute("UPDATE sessmgr.revocations SET state = 'done', outcome = 'logged out' WHERE id = %s",
                       (request_id,))
    assert wait_for_notifications(listeners["A"][0], lambda payload: payload == f"outcome {request_id}") == [
        f"outcome {request_id}"]

    # C heard nothing: notifications arrive in commit order, so once a marker sent after
    # both has reached C, anything for C before it would have arrived first.
    for name in "BC":
        with fleet.owner() as owner, owner.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, 'marker')", (listeners[name][1],))
    assert wait_for_notifications(listeners["C"][0], lambda payload: payload == "marker") == ["marker"]
    assert wait_for_notifications(listeners["B"][0], lambda payload: payload == "marker") == ["marker"]


def test_request_for_an_ended_session_is_not_announced(fleet):
    b_listener, b_channel = listen(fleet, "B")
    b_machine = fleet.machines["B"]
    push_values(fleet.connect("B"), [change(b_machine, 1, 1, state="closed", end_time=1_700_000_500_000_000)])
    a = fleet.connect("A")
    with a, a.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sessmgr.revocations (target_machine_id, target_boot_id, target_session_id, target_user_name,"
            " requester_machine_id, requester_user_name, requester_uid, expires_at)"
            " VALUES (%s, %s, 1, 'alice', sessmgr.my_machine_id(), 'alice', 60001, now() + interval '1 minute')"
            " RETURNING state", (b_machine, "b" * 32))
        assert cursor.fetchone()[0] == "gone"
    with fleet.owner() as owner, owner.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, 'marker')", (b_channel,))
    assert wait_for_notifications(b_listener, lambda payload: payload == "marker") == ["marker"]
