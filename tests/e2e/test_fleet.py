# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fleet across real machines (issue 15), as its users get it: three containers A, B
and C, each with real systemd, logind and sshd logins, its own machine id, sessmgrd, and the
fleet agent sessmgr-fleet running as its own user through its unit; one PostgreSQL on the
host, started by the test, with a role and password per machine (fleet_machines.py).
Users type `sessmgrctl ... --fleet` in their SSH logins on A, as they would.

Proved by counts and states, not by timings: logins reach the database and their ends
close the rows; alice's `list --fleet` on A shows her sessions on B and C, this one marked,
and nothing of bob's, whom she can neither show nor end; her `logout --fleet --others`
ends her sessions in B's and C's logind, and their histories say who asked from where; a
database outage loses and doubles nothing; a machine cut off is reported pending and
takes the logout when it returns; root names another user only on an admin machine; a
machine's credential cannot write another's rows."""

import json
import re

import pytest
from psycopg2 import errors

from fleet_machines import AGENT_SOCKET, WAIT_SECONDS, Fleet
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


def in_sync(*machines):
    for machine in machines:
        machine.wait_in_sync()


def output(result):
    """The JSON a sessmgrctl command printed, its sessions."""
    assert result.stdout, result
    return json.loads(result.stdout)["sessions"]


def end_all(fleet, *logins):
    """Closes the logins (and shells) a test opened; waits until no machine has them, so
    that the next test starts without (its in_sync waits for the database to know)."""
    for login in logins:
        login.close()
    for machine in fleet.machines.values():
        wait(lambda: not any(session["user"] in ("alice", "bob") for session in machine.box.sessions()),
             f"the logins on {machine.name} to end")


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
        # Its socket for sessmgrctl --fleet, in the unit's RuntimeDirectory=: every user may
        # connect, the agent judges each by peer credentials.
        assert box.run(["stat", "--format=%F %a %U", AGENT_SOCKET]).stdout.split() == [
            "socket", "666", "sessmgr-fleet"]
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


def test_list_fleet_in_alices_session_on_a_shows_hers_everywhere_and_nothing_of_bobs(fleet):
    a, b, c = fleet.machines["A"], fleet.machines["B"], fleet.machines["C"]
    shell = a.shell("alice")
    on_b, on_c = b.login("alice"), c.login("alice")
    bobs, bobs_ended, hers_ended = b.login("bob"), b.login("bob"), b.login("alice")
    for ended in (bobs_ended, hers_ended):
        ended.close()
        wait(lambda: b.local_rows()[ended.session_id][2] == "closed", "the end of a login on B")
    in_sync(a, b, c)

    listed = output(shell.run("sessmgrctl list --fleet --json", check=True))
    assert sorted((s["fleet_id"], s["host"], s["machine_id"], s["id"], s["user"], s["current"]) for s in listed) == [
        (f"{m.host_name}:{login.session_id}", m.host_name, m.machine_id, login.session_id, "alice", m is a)
        for m, login in ((a, shell), (b, on_b), (c, on_c))]
    assert not any(s["stale"] for s in listed)
    # The table: a HOST column before the ID, this session marked.
    table = shell.run("sessmgrctl list --fleet", check=True).stdout.splitlines()
    assert table[0].split()[:2] == ["HOST", "ID"]
    rows = {(line.startswith("*"), *line.lstrip("* ").split()[:2]) for line in table[1:] if "fleet.test" in line}
    assert rows == {(m is a, m.host_name, str(login.session_id)) for m, login in ((a, shell), (b, on_b), (c, on_c))}
    assert "* this session" in table

    # bob's are there, for bob (asking on A), and never for alice.
    assert [s["id"] for s in output(a.box.run(["sessmgrctl", "list", "--fleet", "--json"], user="bob"))] == [
        bobs.session_id]
    on_b_of = {user: {s["id"] for s in output(a.box.run(["sessmgrctl", "history", "--fleet", "--json"], user=user))
                      if s["host"] == b.host_name and s["user"] == user} for user in ("alice", "bob")}
    assert bobs_ended.session_id in on_b_of["bob"] and hers_ended.session_id in on_b_of["alice"]
    hers = output(shell.run("sessmgrctl history --fleet --json", check=True))
    assert (b.host_name, hers_ended.session_id) in {(s["host"], s["id"]) for s in hers}
    assert {s["user"] for s in hers} == {"alice"}
    for bobs_id in (bobs.session_id, bobs_ended.session_id):
        shown = shell.run(f"sessmgrctl show --fleet {b.host_name}:{bobs_id}")
        assert (shown.returncode, shown.stdout) == (1, "") and "No session" in shown.stderr, shown
    shown = json.loads(shell.run(f"sessmgrctl show --fleet --json {b.host_name}:{on_b.session_id}", check=True).stdout)
    assert (shown["host"], shown["id"], shown["user"]) == (b.host_name, on_b.session_id, "alice")
    refused = shell.run("sessmgrctl list --fleet --user bob")
    assert refused.returncode == 1 and "only see and end your own" in refused.stderr, refused
    # Her logout of bob's session: not found, nothing asked, nothing ended.
    result = shell.run(f"sessmgrctl logout --fleet --yes --json {b.host_name}:{bobs.session_id}")
    assert result.returncode == 1, result
    assert [(s["id"], s["result"]) for s in output(result)] == [(bobs.session_id, "not-found")]
    assert bobs.session_id not in fleet.requests(b)
    assert b.logind_has(bobs.logind_session) and bobs.handle.is_running()
    end_all(fleet, shell, on_b, on_c, bobs)


def test_logout_fleet_others_in_alices_session_on_a_ends_hers_in_bs_and_cs_logind(fleet):
    a, b, c = fleet.machines["A"], fleet.machines["B"], fleet.machines["C"]
    shell = a.shell("alice")
    on_b, on_c, bobs = b.login("alice"), c.login("alice"), b.login("bob")
    in_sync(a, b, c)

    result = shell.run("sessmgrctl logout --fleet --others --yes", timeout=60)
    assert result.returncode == 0, result
    reported = [line for line in result.stdout.splitlines() if re.match(r"\S+:\d+: ", line)]
    assert sorted(reported) == [f"{machine.host_name}:{login.session_id}: logged out"
                                for machine, login in ((b, on_b), (c, on_c))], result.stdout
    # Gone from B's and C's logind, their SSH clients disconnected; A's session and bob's stay.
    for machine, login in ((b, on_b), (c, on_c)):
        wait(lambda: not machine.logind_has(login.logind_session), f"alice's session to leave {machine.name}'s logind")
        wait(lambda: not login.handle.is_running(), f"alice's SSH client on {machine.name} to be disconnected")
    assert shell.is_running() and a.logind_has(shell.logind_session)
    assert b.logind_has(bobs.logind_session) and bobs.handle.is_running()
    # Each target's history says who ended it, from where; so does the database.
    reason = f"revoked by session {shell.session_id} on {a.host_name} from {a.box.ssh_address}"
    for machine, login in ((b, on_b), (c, on_c)):
        ended = wait(lambda: machine.history("alice").get(login.session_id), f"the session in {machine.name}'s history")
        assert ended["end_reason"] == reason
        assert fleet.requests(machine)[login.session_id] == ("done", "logged out", "alice")
        machine.wait_in_sync()
        assert machine.database_row(login.session_id)[2:4] == ("closed", reason)
    assert shell.session_id not in fleet.requests(a)
    end_all(fleet, shell, bobs)


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


def test_a_machine_cut_off_is_reported_pending_and_takes_the_logout_when_it_returns(fleet):
    a, b, c = fleet.machines["A"], fleet.machines["B"], fleet.machines["C"]
    shell = a.shell("alice")
    on_b, target, ending = b.login("alice"), c.login("alice"), c.login("alice")
    in_sync(a, b, c)

    def requested():
        requests = fleet.requests(c)
        return {login.session_id: requests.get(login.session_id) for login in (target, ending)}

    c.agent("stop")
    try:
        # This one ends on C while C is away: when C returns, there is nothing to end.
        ending.handle.close()
        wait(lambda: not c.logind_has(ending.logind_session), "the ended login to leave C's logind")
        result = shell.run("sessmgrctl logout --fleet --others --yes --json", timeout=90)
        # Pending is not a failure: the fleet works on without C, and C's sessions wait.
        assert result.returncode == 0, result
        answers = {s["fleet_id"]: (s["result"], s["current"]) for s in output(result)}
        assert answers == {f"{a.host_name}:{shell.session_id}": ("skipped", True),
                           f"{b.host_name}:{on_b.session_id}": ("logged-out", False),
                           f"{c.host_name}:{target.session_id}": ("pending", False),
                           f"{c.host_name}:{ending.session_id}": ("pending", False)}, result.stdout
        # Silent for less than StaleSec=: "has not answered yet" (after it, "is offline").
        assert all(s["message"].startswith(f"{c.host_name} has not answered yet: it will take the request")
                   for s in output(result) if s["result"] == "pending"), result.stdout
        wait(lambda: not b.logind_has(on_b.logind_session), "alice's session to leave B's logind")
        assert requested() == {target.session_id: ("pending", None, "alice"),
                               ending.session_id: ("pending", None, "alice")}
        assert target.handle.is_running() and c.logind_has(target.logind_session)
    finally:
        c.agent("start")

    answered = wait(lambda: "pending" not in {state for state, _, _ in requested().values()} and requested(),
                    "C to answer the requests when it returns")
    assert answered == {target.session_id: ("done", "logged out", "alice"),
                        ending.session_id: ("gone", "the session had already ended", "alice")}
    wait(lambda: not c.logind_has(target.logind_session), "the revoked session to leave C's logind")
    wait(lambda: not target.handle.is_running(), "the SSH client on C to be disconnected")
    reason = f"revoked by session {shell.session_id} on {a.host_name} from {a.box.ssh_address}"
    history = wait(lambda: target.session_id in c.history("alice") and c.history("alice"),
                   "the revoked session in C's history")
    assert history[target.session_id]["end_reason"] == reason
    assert history[ending.session_id]["end_reason"] != reason
    c.wait_in_sync()
    assert c.database_row(target.session_id)[2:4] == ("closed", reason)
    assert shell.is_running()
    end_all(fleet, shell)


def test_root_names_another_user_only_on_an_admin_machine(fleet):
    a, b, c = fleet.machines["A"], fleet.machines["B"], fleet.machines["C"]
    on_a, on_c = a.login("alice"), c.login("alice")
    in_sync(a, b, c)
    for command in (("list", "--fleet", "--user", "alice"), ("logout", "--fleet", "--all", "--user", "alice", "--yes")):
        refused = b.ctl(*command)
        assert refused.returncode == 1 and "admin machine" in refused.stderr, refused
    assert on_a.session_id not in fleet.requests(a) and on_c.session_id not in fleet.requests(c)

    # The DBA makes B an admin machine, and B's running agent follows at once: offboarding
    # alice is one command there.
    fleet.query("UPDATE sessmgr.machines SET admin = true WHERE machine_id = %s", b.machine_id)
    try:
        listed = output(b.ctl("list", "--fleet", "--user", "alice", "--json"))
        assert sorted((s["host"], s["id"]) for s in listed) == [(a.host_name, on_a.session_id),
                                                                (c.host_name, on_c.session_id)]
        result = b.ctl("logout", "--fleet", "--all", "--user", "alice", "--yes", "--json")
        assert result.returncode == 0, result
        assert sorted((s["host"], s["id"], s["result"]) for s in output(result)) == [
            (a.host_name, on_a.session_id, "logged-out"), (c.host_name, on_c.session_id, "logged-out")]
        for machine, login in ((a, on_a), (c, on_c)):
            wait(lambda: not machine.logind_has(login.logind_session), f"alice's session to leave {machine.name}")
            ended = wait(lambda: machine.history("alice").get(login.session_id), f"{machine.name}'s history")
            assert ended["end_reason"] == f"revoked by root on {b.host_name}"
    finally:
        fleet.query("UPDATE sessmgr.machines SET admin = false WHERE machine_id = %s", b.machine_id)
    # Taken back: refused again.
    refused = b.ctl("list", "--fleet", "--user", "alice")
    assert refused.returncode == 1 and "admin machine" in refused.stderr, refused
    end_all(fleet)


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
