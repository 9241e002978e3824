# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgrctl --fleet through the agent's own socket: two or three machines on this host
(each a real sessmgrd with its own database and machine id, and a real sessmgr-fleet),
one real PostgreSQL, real logins through PAM. The agent decides by the caller's peer
credentials what each user may see and end. Without logind here, a session's machine
answers a logout "refused: unsupported"; the container tests show "logged out"."""

import json

import pytest

from agent import Machine, wait_until

SETTINGS = "[Revocations]\nWaitSec=3\n"


@pytest.fixture
def machines(fleet):
    started = {}

    def start(name, settings=SETTINGS):
        machine = Machine(fleet, name, settings)
        started[name] = machine
        machine.start_daemon()
        machine.start_agent()
        machine.wait_agent_listening()
        return machine
    yield start
    for machine in started.values():
        machine.cleanup()


def host(machine):
    return machine.query("SELECT host_name FROM sessmgr.machines WHERE machine_id = %s", machine.machine_id)[0][0]


def login(machine, user):
    """A login, synced; returns its local id."""
    machine.login(user)
    machine.wait_in_sync()
    return max(session for session, (state, name, _) in machine.rows().items() if name == user and state != "closed")


def listed(machine, user, *arguments):
    result = machine.ctl("list", "--fleet", "--json", *arguments, user=user)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["sessions"]


def test_list_fleet_shows_the_users_sessions_on_every_machine_and_no_one_elses(machines):
    a, b = machines("A"), machines("B")
    alice_a, alice_b, bob_b = login(a, "alice"), login(b, "alice"), login(b, "bob")

    sessions = listed(a, "alice")
    assert sorted((s["host"], s["machine_id"], s["id"], s["user"]) for s in sessions) == sorted([
        (host(a), a.machine_id, alice_a, "alice"), (host(b), b.machine_id, alice_b, "alice")])
    assert {s["fleet_id"] for s in sessions} == {f"{host(a)}:{alice_a}", f"{host(b)}:{alice_b}"}
    assert not any(s["stale"] or s["current"] for s in sessions)
    # bob sees his own, on B, from A.
    assert [(s["host"], s["id"]) for s in listed(a, "bob")] == [(host(b), bob_b)]

    table = a.ctl("list", "--fleet", user="alice")
    assert table.returncode == 0, table.stderr
    assert table.stdout.split("\n")[0].split()[:2] == ["HOST", "ID"]
    assert host(a) in table.stdout and host(b) in table.stdout and "bob" not in table.stdout

    shown = a.ctl("show", "--fleet", f"{host(b)}:{alice_b}", "--json", user="alice")
    assert shown.returncode == 0, shown.stderr
    assert (json.loads(shown.stdout)["host"], json.loads(shown.stdout)["id"]) == (host(b), alice_b)


def test_bobs_sessions_are_never_visible_to_alice_not_even_by_calling_the_agent(machines):
    a, b = machines("A"), machines("B")
    login(a, "alice")
    bob_b = login(b, "bob")

    # sessmgrctl
    assert all(s["user"] == "alice" for s in listed(a, "alice"))
    refused = a.ctl("list", "--fleet", "--user", "bob", user="alice")
    assert refused.returncode == 1 and "only see and end your own" in refused.stderr
    shown = a.ctl("show", "--fleet", f"{host(b)}:{bob_b}", user="alice")
    assert shown.returncode == 1 and "No session" in shown.stderr
    # The socket itself, as alice.
    error, _, _ = a.fleet_call("ListSessions", "sbt", "bob", False, 0, user="alice")
    assert error == "org.freedesktop.DBus.Error.AccessDenied"
    error, _, _ = a.fleet_call("ListSessions", "sbt", "", True, 0, user="alice")
    assert error == "org.freedesktop.DBus.Error.AccessDenied"
    error, _, _ = a.fleet_call("ListHistory", "sbxu", "bob", False, 0, 0, user="alice")
    assert error == "org.freedesktop.DBus.Error.AccessDenied"
    error, _, _ = a.fleet_call("GetSession", "stt", host(b), bob_b, 0, user="alice")
    assert error == "org.sessmgr.Fleet.Error.NoSuchSession"
    error, _, reply = a.fleet_call("RequestLogout", "a(st)t", [[host(b), bob_b]], 0, user="alice")
    assert error is None and reply[0] == [[host(b), bob_b, "not-found", "no such session of yours in the fleet"]]
    assert a.query("SELECT count(*) FROM sessmgr.revocations")[0][0] == 0
    # Her own list, asked directly, holds none of bob's; claiming bob's session on A as
    # her current one marks nothing.
    bob_a = login(a, "bob")
    error, _, reply = a.fleet_call("ListSessions", "sbt", "", False, bob_a, user="alice")
    assert error is None and {record[4][4] for record in reply[0]} == {"alice"}
    assert not any(record[5] for record in reply[0])


def test_the_current_session_is_marked_only_when_it_is_the_callers_own_here(machines):
    a = machines("A")
    alice_a = login(a, "alice")
    error, _, reply = a.fleet_call("ListSessions", "sbt", "", False, alice_a, user="alice")
    assert error is None and [(record[4][0], record[5]) for record in reply[0]] == [(alice_a, True)]
    error, _, reply = a.fleet_call("ListSessions", "sbt", "", False, alice_a, user="bob")
    assert error is None and reply[0] == []


def test_logout_others_from_a_reaches_the_other_machines_and_their_answers_come_back(machines):
    a, b = machines("A"), machines("B")
    alice_a, alice_b = login(a, "alice"), login(b, "alice")
    bob_b = login(b, "bob")

    result = a.ctl("logout", "--fleet", "--others", "--yes", "--json", user="alice")
    # No logind here: each machine's sessmgrd answers "unsupported", a refusal.
    assert result.returncode == 1, result.stderr
    answers = {(s["host"], s["id"]): (s["result"], s["message"]) for s in json.loads(result.stdout)["sessions"]}
    unsupported = ("refused", "unsupported: not a session systemd-logind knows")
    assert answers == {(host(a), alice_a): unsupported, (host(b), alice_b): unsupported}

    rows = a.query("SELECT target_machine_id, target_session_id, requester_machine_id, requester_user_name, "
                   "requester_uid, state FROM sessmgr.revocations ORDER BY id")
    assert sorted(rows) == sorted([(a.machine_id, alice_a, a.machine_id, "alice", 60001, "refused"),
                                   (b.machine_id, alice_b, a.machine_id, "alice", 60001, "refused")])
    # B's sessmgrd checked it, with who asked from where; bob's session was not asked for.
    assert f"revocation of session {alice_b} refused" in b.world.daemon_log.read_text()
    assert f"revoked by alice on {host(a)}" in b.world.daemon_log.read_text()
    assert f"session {bob_b} " not in b.world.daemon_log.read_text()


def test_a_machine_offline_leaves_the_request_pending_until_it_comes_back(machines):
    a = machines("A", SETTINGS + "[Clients]\nStaleSec=1\n")
    b = machines("B")
    alice_b = login(b, "alice")
    b.stop_agent()
    # B has not reported for longer than A's StaleSec=: shown stale, with since when.
    wait_until(lambda: listed(a, "alice")[0]["stale"], "B to be stale")
    table = a.ctl("list", "--fleet", user="alice")
    assert f"{host(b)} is stale: no report since" in table.stdout, table.stdout

    result = a.ctl("logout", "--fleet", f"{host(b)}:{alice_b}", "--yes", "--json", user="alice")
    assert result.returncode == 0, result.stderr
    [answer] = json.loads(result.stdout)["sessions"]
    assert answer["result"] == "pending" and "offline" in answer["message"], answer
    [(request_id, state)] = a.query("SELECT id, state FROM sessmgr.revocations")
    assert state == "pending"

    b.start_agent()
    wait_until(lambda: a.query("SELECT state FROM sessmgr.revocations WHERE id = %s", request_id)[0][0] != "pending",
               "B to take the request when it comes back")
    assert a.query("SELECT state, outcome FROM sessmgr.revocations")[0] == (
        "refused", "unsupported: not a session systemd-logind knows")


def test_root_names_other_users_only_on_an_admin_machine(machines):
    a, b, d = machines("A"), machines("B"), machines("D")
    alice_a, alice_b = login(a, "alice"), login(b, "alice")

    refused = a.ctl("list", "--fleet", "--user", "alice", user="root")
    assert refused.returncode == 1 and "admin machine" in refused.stderr, refused.stderr
    refused = a.ctl("logout", "--fleet", "--all", "--user", "alice", "--yes", "--json", user="root")
    assert refused.returncode == 1 and "admin machine" in refused.stderr, refused.stderr
    assert a.query("SELECT count(*) FROM sessmgr.revocations")[0][0] == 0

    assert sorted(s["id"] for s in listed(d, "root", "--user", "alice")) == sorted([alice_a, alice_b])
    assert {s["user"] for s in listed(d, "root", "--all")} == {"alice"}
    result = d.ctl("logout", "--fleet", "--all", "--user", "alice", "--yes", "--json", user="root")
    answers = {(s["host"], s["id"]): s["result"] for s in json.loads(result.stdout)["sessions"]}
    assert answers == {(host(a), alice_a): "refused", (host(b), alice_b): "refused"}, result.stderr
    assert a.query("SELECT DISTINCT requester_machine_id, requester_user_name, requester_uid "
                   "FROM sessmgr.revocations") == [(d.machine_id, "root", 0)]


def test_a_flood_of_connections_by_alice_stops_neither_bob_nor_the_sync(machines):
    a = machines("A")
    login(a, "bob")
    held = a.hold_connections(100, 8, user="alice")["kept"]
    # Meanwhile (8 s): counted below, not timed.
    assert held == 8
    assert len(listed(a, "bob")) == 1
    login(a, "bob")                      # the sync goes on: wait_in_sync inside
    assert len(listed(a, "bob")) == 2


def test_clear_errors_when_the_agent_or_the_database_is_away(machines):
    a = machines("A")
    login(a, "alice")
    a.stop_agent()
    result = a.ctl("list", "--fleet", user="alice")
    assert result.returncode == 1 and "fleet agent is not running" in result.stderr
    # The agent up, its database gone: the agent answers, and says what is wrong.
    a.write_config(SETTINGS, role="no_such_role")
    a.start_agent()
    a.wait_agent_listening()
    result = a.ctl("list", "--fleet", user="alice")
    assert result.returncode == 1 and "fleet database cannot be reached" in result.stderr, result.stderr
    result = a.ctl("list", "--fleet", "--fleet-socket", "relative", user="alice")
    assert result.returncode == 1
    assert a.ctl("show", "--fleet", "42", user="alice").returncode == 2
    assert a.ctl("list", user="alice").returncode == 0    # local commands unaffected


def test_the_agents_socket_under_valgrind_leaks_nothing(machines):
    """List, show, history and a logout that waits and one that answers at once, a refusal,
    and connections cut mid-call, all served by the agent run under valgrind."""
    a, b = machines("A"), machines("B")
    alice_a, alice_b = login(a, "alice"), login(b, "alice")
    a.stop_agent()
    valgrind = ["valgrind", "-q", "--leak-check=full", "--error-exitcode=99",
                "--errors-for-leak-kinds=definite,indirect"]
    a.agent_socket.unlink(missing_ok=True)
    a.start_agent(wrapper=valgrind)
    wait_until(lambda: a.ctl("list", "--fleet", user="alice").returncode == 0, "the agent under valgrind")
    assert len(listed(a, "alice")) == 2
    assert a.ctl("history", "--fleet", user="alice").returncode == 0
    assert a.ctl("show", "--fleet", f"{host(b)}:{alice_b}", user="alice").returncode == 0
    assert a.ctl("list", "--fleet", "--user", "bob", user="alice").returncode == 1
    b.stop_agent()
    result = a.ctl("logout", "--fleet", "--all", "--yes", "--json", user="alice")
    assert {s["result"] for s in json.loads(result.stdout)["sessions"]} == {"refused", "pending"}, result.stdout
    a.hold_connections(20, 1, user="bob")
    assert a.stop_agent() == 0, a.log()
