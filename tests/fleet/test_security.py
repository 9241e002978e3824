# SPDX-License-Identifier: LGPL-2.1-or-later
"""Row-level security and the request checks, against a real PostgreSQL: what machine C's
own role (its root compromised: any SQL at all) cannot do to machine B, and what an
ordinary machine cannot ask for that an admin machine can."""

import contextlib

import psycopg2
import pytest
from psycopg2 import errors

from sync import change, push_values

IN_AN_HOUR = "now() + interval '1 hour'"


def session_of(fleet, machine, session_id=1, **fields):
    """Machine MACHINE's agent pushes a session of its own."""
    with contextlib.closing(fleet.connect(machine)) as connection:
        push_values(connection, [change(fleet.machines[machine], session_id, session_id, **fields)])


def request(connection, fleet, target, session_id=1, target_user="alice", requester=None, user="alice", uid=60001,
            expires=IN_AN_HOUR, returning=True):
    """Inserts a revocation request and returns (id, state). Without RETURNING, the row
    need not be readable by the requester afterwards: only the insert's checks apply."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sessmgr.revocations (target_machine_id, target_boot_id, target_session_id, target_user_name,"
            " requester_machine_id, requester_user_name, requester_uid, requester_session_id, requester_address,"
            f" expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 7, '198.51.100.9', {expires})"
            + (" RETURNING id, state" if returning else ""),
            (fleet.machines[target], "b" * 32, session_id, target_user, fleet.machines[requester], user, uid))
        return cursor.fetchone() if returning else None


def one(connection, query, *arguments):
    with connection, connection.cursor() as cursor:
        cursor.execute(query, arguments)
        return cursor.fetchone()


def affected(connection, query, *arguments):
    with connection, connection.cursor() as cursor:
        cursor.execute(query, arguments)
        return cursor.rowcount


def test_machine_cannot_insert_sessions_of_another(fleet):
    c = fleet.connect("C")
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        push_values(c, [change(fleet.machines["B"], 1, 1)])
    owner = fleet.owner()
    assert one(owner, "SELECT count(*) FROM sessmgr.sessions") == (0,)


def test_machine_cannot_change_sessions_of_another(fleet):
    session_of(fleet, "B", user_name="alice")
    c = fleet.connect("C")
    # The rows are readable (list --fleet) but not writable: the update finds nothing.
    assert one(c, "SELECT user_name FROM sessmgr.sessions WHERE machine_id = %s", fleet.machines["B"]) == ("alice",)
    assert affected(c, "UPDATE sessmgr.sessions SET state = 'closed', end_reason = 'forged' WHERE machine_id = %s",
                    fleet.machines["B"]) == 0
    assert affected(c, "DELETE FROM sessmgr.sessions WHERE machine_id = %s", fleet.machines["B"]) == 0
    # An upsert over B's key, newer cursor and all, is refused outright.
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        push_values(c, [change(fleet.machines["B"], 1, 99, state="closed")])
    # Nor can C move a row of its own over to B.
    session_of(fleet, "C", session_id=5)
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        affected(c, "UPDATE sessmgr.sessions SET machine_id = %s WHERE machine_id = %s", fleet.machines["B"],
                 fleet.machines["C"])
    owner = fleet.owner()
    assert one(owner, "SELECT state, end_reason, change_cursor FROM sessmgr.sessions WHERE machine_id = %s",
               fleet.machines["B"]) == ("active", None, 1)


def test_machine_cannot_set_itself_admin_or_rename_itself(fleet):
    c = fleet.connect("C")
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        affected(c, "UPDATE sessmgr.machines SET admin = true WHERE machine_id = sessmgr.my_machine_id()")
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        affected(c, "UPDATE sessmgr.machines SET host_name = 'host-b' WHERE machine_id = sessmgr.my_machine_id()")
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        affected(c, "INSERT INTO sessmgr.machines (machine_id, host_name, role_name, admin) "
                    "VALUES (repeat('e', 32), 'rogue', current_user, true)")
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        one(c, "SELECT sessmgr.add_machine(repeat('f', 32), 'rogue', true)")
    # Its own report it may write, but B's it cannot even reach.
    assert affected(c, "UPDATE sessmgr.machines SET synced_cursor = 5 WHERE machine_id = sessmgr.my_machine_id()") == 1
    assert affected(c, "UPDATE sessmgr.machines SET synced_cursor = 5 WHERE machine_id = %s", fleet.machines["B"]) == 0
    owner = fleet.owner()
    assert one(owner, "SELECT admin, synced_cursor FROM sessmgr.machines WHERE machine_id = %s",
               fleet.machines["C"]) == (False, 5)


def test_last_sync_is_the_servers_clock(fleet):
    c = fleet.connect("C")
    affected(c, "UPDATE sessmgr.machines SET last_sync = now() + interval '10 years' "
                "WHERE machine_id = sessmgr.my_machine_id()")
    (fresh,) = one(fleet.owner(), "SELECT last_sync <= now() FROM sessmgr.machines WHERE machine_id = %s",
                   fleet.machines["C"])
    assert fresh


def test_request_is_stamped_with_the_requesters_own_machine(fleet):
    session_of(fleet, "A")
    c = fleet.connect("C")
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        request(c, fleet, target="A", requester="B", returning=False)
    assert one(fleet.owner(), "SELECT count(*) FROM sessmgr.revocations") == (0,)
    # In its own name it may, and the host name recorded is the DBA's, not C's say.
    request_id, state = request(c, fleet, target="A", requester="C")
    assert state == "pending"
    assert one(fleet.owner(), "SELECT requester_host_name FROM sessmgr.revocations WHERE id = %s",
               request_id) == (f"host-c-{fleet.machines['C'][:6]}",)


def test_machine_cannot_finish_requests_addressed_to_another(fleet):
    session_of(fleet, "B")
    a = fleet.connect("A")
    request_id, _ = request(a, fleet, target="B", requester="A")
    c = fleet.connect("C")
    # C neither sees A's request to B nor can mark it done.
    assert one(c, "SELECT count(*) FROM sessmgr.revocations") == (0,)
    assert affected(c, "UPDATE sessmgr.revocations SET state = 'done' WHERE id = %s", request_id) == 0
    # The requester sees its request but may not answer it either.
    assert affected(a, "UPDATE sessmgr.revocations SET state = 'done' WHERE id = %s", request_id) == 0
    assert one(fleet.owner(), "SELECT state FROM sessmgr.revocations WHERE id = %s", request_id) == ("pending",)
    # The target answers, once; its outcome cannot be rewritten, nor anything else of the row.
    b = fleet.connect("B")
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        affected(b, "UPDATE sessmgr.revocations SET target_user_name = 'bob' WHERE id = %s", request_id)
    assert affected(b, "UPDATE sessmgr.revocations SET state = 'done', outcome = 'logged out' WHERE id = %s",
                    request_id) == 1
    with pytest.raises(errors.CheckViolation, match="already finished"):
        affected(b, "UPDATE sessmgr.revocations SET state = 'refused' WHERE id = %s", request_id)
    assert one(a, "SELECT state, outcome, finished_at IS NOT NULL FROM sessmgr.revocations WHERE id = %s",
               request_id) == ("done", "logged out", True)
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        affected(b, "DELETE FROM sessmgr.revocations WHERE id = %s", request_id)


def test_ordinary_machine_may_end_only_the_users_own_sessions(fleet):
    session_of(fleet, "B", session_id=1, user_name="alice", uid=60001)
    session_of(fleet, "B", session_id=2, user_name="bob", uid=60002)
    session_of(fleet, "B", session_id=3, user_name="root", uid=0)
    c = fleet.connect("C")
    assert request(c, fleet, target="B", session_id=1, target_user="alice", requester="C")[1] == "pending"
    # alice asking for bob's session, even as "root" on an ordinary machine: refused.
    with pytest.raises(errors.InsufficientPrivilege, match="may not end sessions of bob"):
        request(c, fleet, target="B", session_id=2, target_user="bob", requester="C")
    with pytest.raises(errors.InsufficientPrivilege, match="only root on an admin machine"):
        request(c, fleet, target="B", session_id=2, target_user="bob", requester="C", user="root", uid=0)
    # Naming bob's session as alice's does not pass for alice's own.
    with pytest.raises(errors.InsufficientPrivilege, match="belongs to another user"):
        request(c, fleet, target="B", session_id=2, target_user="alice", requester="C")
    # root's own sessions: not from an ordinary machine, so a compromised one cannot lock the admins out.
    with pytest.raises(errors.InsufficientPrivilege, match="only from an admin machine"):
        request(c, fleet, target="B", session_id=3, target_user="root", requester="C", user="root", uid=0)
    # Root on the admin machine D may do both.
    d = fleet.connect("D")
    assert request(d, fleet, target="B", session_id=2, target_user="bob", requester="D", user="root",
                   uid=0)[1] == "pending"
    assert request(d, fleet, target="B", session_id=3, target_user="root", requester="D", user="root",
                   uid=0)[1] == "pending"
    # And D, an admin machine, sees every request; C only its own.
    assert one(d, "SELECT count(*) FROM sessmgr.revocations") == (3,)
    assert one(c, "SELECT count(*) FROM sessmgr.revocations") == (1,)


def test_request_for_unknown_ended_or_far_future(fleet):
    session_of(fleet, "B", session_id=1)
    session_of(fleet, "B", session_id=2, state="closed", end_time=1_700_000_100_000_000, end_reason="logout")
    c = fleet.connect("C")
    with pytest.raises(errors.ForeignKeyViolation, match="no session 9"):
        request(c, fleet, target="B", session_id=9, requester="C")
    with pytest.raises(errors.CheckViolation, match="expire within 7 days"):
        request(c, fleet, target="B", session_id=1, requester="C", expires="now() + interval '30 days'")
    with pytest.raises(errors.CheckViolation, match="expire within 7 days"):
        request(c, fleet, target="B", session_id=1, requester="C", expires="now() - interval '1 second'")
    # An ended session: the request is finished at once as "gone".
    request_id, state = request(c, fleet, target="B", session_id=2, requester="C")
    assert state == "gone"


def test_text_a_terminal_would_act_on_is_refused(fleet):
    c = fleet.connect("C")
    for hostile in ("evil\x1b]0;pwned\x07", "a\u202eb", "x\u009by"):
        with pytest.raises(errors.CheckViolation, match="safe_text"):
            push_values(c, [change(fleet.machines["C"], 1, 1, remote_host=hostile)])
    push_values(c, [change(fleet.machines["C"], 1, 1, remote_host="caf\u00e9.example \\x1b")])


def test_roles_outside_the_fleet_see_nothing(fleet):
    session_of(fleet, "B")
    with contextlib.closing(fleet.server.connect()) as admin, admin.cursor() as cursor:
        cursor.execute("DROP ROLE IF EXISTS stranger")
        cursor.execute("CREATE ROLE stranger LOGIN")
    # The database is closed to roles outside the fleet (docs/FLEET.md's set-up) ...
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        fleet.server.connect(fleet.database, "stranger")
    # ... and were it opened to one, the schema still is.
    with contextlib.closing(fleet.server.connect()) as admin, admin.cursor() as cursor:
        cursor.execute(f"GRANT CONNECT ON DATABASE {fleet.database} TO stranger")
    with contextlib.closing(fleet.server.connect(fleet.database, "stranger")) as stranger:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            one(stranger, "SELECT count(*) FROM sessmgr.sessions")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            one(stranger, "SELECT sessmgr.my_machine_id()")
    with contextlib.closing(fleet.server.connect()) as admin, admin.cursor() as cursor:
        cursor.execute(f"REVOKE ALL ON DATABASE {fleet.database} FROM stranger")
        cursor.execute("DROP ROLE stranger")
