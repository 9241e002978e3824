# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fleet across real machines (issue 15): three containers A, B and C, each with real
systemd, logind and sshd logins, its own machine id, sessmgrd, and the fleet agent
sessmgr-fleet running as its own user through its unit; one PostgreSQL on the host, started
by the test, with a role and password per machine (fleet_machines.py). Proved by counts
and states, not by timings: logins reach the database and their ends close the rows; a
revocation asked from A ends the session in B's logind; a database outage loses and
doubles nothing; a machine cut off takes its revocation when it returns; a machine's
credential cannot write another's rows.

The requests are written as A's role exactly as A's agent writes them for `sessmgrctl
logout --fleet` (fleet_machines.Fleet.request_revocation)."""

import pytest
from psycopg2 import errors

from fleet_machines import WAIT_SECONDS, Fleet
from waiting import wait_until


@pytest.fixture(scope="module")
def fleet(rootfs, stage):
    with Fleet(rootfs, stage) as running:
        for name in "ABC":
            running.add(name)
        yield running


@pytest.fixture(autouse=True)
def diagnostics(request, fleet):
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        fleet.diagnostics()


def wait(condition, what):
    return wait_until(condition, timeout=WAIT_SECONDS, what=what)


def test_machines_are_distinct_and_their_agents_run_unprivileged(fleet):
    machines = fleet.machines.values()
    assert len({machine.machine_id for machine in machines}) == 3
    assert len({machine.box.ssh_address for machine in machines}) == 3
    for machine in machines:
        box = machine.box
        assert box.run(["systemctl", "is-active", "sessmgr-fleet.service"]).stdout.strip() == "active"
        pid = box.run(["systemctl", "show", "--property=MainPID", "--value", "sessmgr-fleet.service"]).stdout.strip()
        status = dict(line.split(":", 1) for line in box.read_file(f"/proc/{pid}/status").splitlines())
        uid = box.run(["id", "-u", "sessmgr-fleet"]).stdout.strip()
        assert status["Uid"].split() == [uid] * 4
        assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0
        # Its role, by its password, is the one the database knows for this machine id.
        assert fleet.query("SELECT role_name, host_name FROM sessmgr.machines WHERE machine_id = %s",
                           machine.machine_id) == [(machine.role, machine.host_name)]
        wait(lambda: fleet.query("SELECT last_sync IS NOT NULL FROM sessmgr.machines WHERE machine_id = %s",
                                 machine.machine_id) == [(True,)], f"{machine.name} to report in")


def test_logins_on_b_and_c_reach_postgresql_and_their_ends_close_the_rows(fleet):
    b, c = fleet.machines["B"], fleet.machines["C"]
    on_b, on_c = b.login("bob"), c.login("alice")
    for machine, login, user in ((b, on_b, "bob"), (c, on_c, "alice")):
        row = wait(lambda: machine.database_row(login.session_id), f"{user}'s login on {machine.name} in PostgreSQL")
        assert row == (login.session_id, user, "active", "", login.logind_session)
    # Each under its own machine's id, and nowhere else.
    owners = fleet.query("SELECT machine_id, user_name FROM sessmgr.sessions WHERE (machine_id, session_id) IN "
                         "((%s, %s), (%s, %s))", b.machine_id, on_b.session_id, c.machine_id, on_c.session_id)
    assert sorted(owners) == sorted([(b.machine_id, "bob"), (c.machine_id, "alice")])
    assert fleet.query("SELECT count(*) FROM sessmgr.sessions WHERE machine_id = %s",
                       fleet.machines["A"].machine_id) == [(0,)]

    on_b.handle.close()
    on_c.handle.close()
    for machine, login in ((b, on_b), (c, on_c)):
        wait(lambda: machine.database_row(login.session_id)[2] == "closed",
             f"the end of {machine.name}'s login to reach PostgreSQL")
        local = machine.local_rows()[login.session_id]
        assert local[2] == "closed" and local[3]
        assert machine.database_row(login.session_id) == local
        machine.wait_in_sync()


def test_a_revocation_asked_from_a_ends_the_session_in_bs_logind(fleet):
    a, b = fleet.machines["A"], fleet.machines["B"]
    asker = a.login("bob")
    target, other = b.login("bob"), b.login("bob")
    a.wait_in_sync()
    b.wait_in_sync()

    request_id, reason = fleet.request_revocation(a, asker, b, target, "bob")
    assert reason.startswith(f"revoked by session {asker.session_id} on machine-a.fleet.test from 127.")
    assert fleet.wait_answered(request_id) == ("done", "logged out")
    wait(lambda: not b.logind_has(target.logind_session), "the session to leave B's logind")
    wait(lambda: not target.handle.is_running(), "the SSH client on B to be disconnected")
    # That session only.
    assert b.logind_has(other.logind_session) and other.handle.is_running()
    assert asker.handle.is_running() and a.logind_has(asker.logind_session)
    # B's history says who ended it, from where; so does the database once B has synced.
    ended = wait(lambda: b.history("bob").get(target.session_id), "the revoked session in B's history")
    assert ended["end_reason"] == reason
    b.wait_in_sync()
    assert b.database_row(target.session_id)[2:4] == ("closed", reason)
    assert b.database_row(other.session_id)[2] == "active"

    other.handle.close()
    asker.handle.close()


def test_logins_go_on_while_postgresql_is_down_and_b_catches_up(fleet):
    b = fleet.machines["B"]
    b.wait_in_sync()
    before = b.local_rows()
    fleet.server.stop()
    try:
        for _ in range(3):
            assert b.box.ssh("alice", "echo logged-in").stdout.strip() == "logged-in"
        kept = b.login("bob")

        def recorded():
            new = [row for session_id, row in b.local_rows().items() if session_id not in before]
            return sorted((row[1], row[2]) for row in new) == [("alice", "closed")] * 3 + [("bob", "active")] and new
        new = wait(recorded, "B to record the logins made during the outage")
        assert kept.session_id in {row[0] for row in new}
        # The agent noticed, and logins did not wait for it.
        wait(lambda: "the fleet database:" in b.box.run(["systemctl", "show", "--property=StatusText", "--value",
                                              "sessmgr-fleet.service"]).stdout,
             "the agent's status to name the database")
    finally:
        fleet.server.restart()

    # Back: every local record in PostgreSQL once, as it is locally; none lost, none twice
    # (database_rows refuses a session twice; wait_in_sync wants the same set both sides).
    b.wait_in_sync()
    rows = b.database_rows()
    assert len(rows) == len(before) + 4 == len(b.local_rows())
    assert all(rows[row[0]] == row for row in new)

    kept.handle.close()
    wait(lambda: b.database_row(kept.session_id)[2] == "closed", "the kept login's end after the outage")
    b.wait_in_sync()


def test_a_machine_cut_off_takes_its_revocation_when_it_returns(fleet):
    a, b, c = fleet.machines["A"], fleet.machines["B"], fleet.machines["C"]
    asker = a.login("alice")
    target, ending = c.login("alice"), c.login("alice")
    on_b = b.login("alice")
    for machine in (a, b, c):
        machine.wait_in_sync()

    c.agent("stop")
    try:
        waiting_id, reason = fleet.request_revocation(a, asker, c, target, "alice")
        gone_id, _ = fleet.request_revocation(a, asker, c, ending, "alice")
        # This one ends on C while C is away: when C returns, there is nothing to end.
        ending.handle.close()
        wait(lambda: not c.logind_has(ending.logind_session), "the ended login to leave C's logind")
        # A later request to B is answered while C's two wait: the fleet works on, and a
        # request for an absent machine is neither lost nor answered in its name.
        later_id, _ = fleet.request_revocation(a, asker, b, on_b, "alice")
        assert fleet.wait_answered(later_id) == ("done", "logged out")
        assert fleet.request_state(waiting_id) == ("pending", None)
        assert fleet.request_state(gone_id) == ("pending", None)
        assert target.handle.is_running() and c.logind_has(target.logind_session)
    finally:
        c.agent("start")

    assert fleet.wait_answered(waiting_id) == ("done", "logged out")
    assert fleet.wait_answered(gone_id) == ("gone", "the session had already ended")
    wait(lambda: not c.logind_has(target.logind_session), "the revoked session to leave C's logind")
    wait(lambda: not target.handle.is_running(), "the SSH client on C to be disconnected")
    history = wait(lambda: target.session_id in c.history("alice") and c.history("alice"),
                   "the revoked session in C's history")
    assert history[target.session_id]["end_reason"] == reason
    assert history[ending.session_id]["end_reason"] != reason
    c.wait_in_sync()
    assert c.database_row(target.session_id)[2:4] == ("closed", reason)
    asker.handle.close()


def test_cs_credential_cannot_write_rows_for_b(fleet):
    b, c = fleet.machines["B"], fleet.machines["C"]
    b.wait_in_sync()
    before = b.database_rows()
    assert before
    boot_id = fleet.query("SELECT boot_id FROM sessmgr.sessions WHERE machine_id = %s LIMIT 1", b.machine_id)[0][0]
    forged = max(before) + 1
    with fleet.connect_as(c) as connection, connection.cursor() as cursor:
        # C's role may read B's rows (list --fleet needs them) ...
        cursor.execute("SELECT count(*) FROM sessmgr.sessions WHERE machine_id = %s", (b.machine_id,))
        assert cursor.fetchone()[0] == len(before)
        # ... but not write one: the database refuses.
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            cursor.execute("INSERT INTO sessmgr.sessions (machine_id, boot_id, session_id, change_cursor, uid, "
                           "user_name, login_time, state) VALUES (%s, %s, %s, 1, 1000, 'alice', now(), 'active')",
                           (b.machine_id, boot_id, forged))
        # Nor change one: B's rows are not C's to update.
        cursor.execute("UPDATE sessmgr.sessions SET state = 'closed', end_reason = 'forged' WHERE machine_id = %s",
                       (b.machine_id,))
        assert cursor.rowcount == 0
    assert b.database_rows() == before
