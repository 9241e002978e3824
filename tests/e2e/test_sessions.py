# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgr on a real system: SSH logins through the real PAM stack and logind,
recorded by the socket-activated sessmgrd, listed by sessmgrctl for their owner."""

import json

from waiting import wait_until


def uid_of(box, user):
    return int(box.run(["id", "-u", user]).stdout)


def look_from_inside(box, user):
    """Logs in over SSH and returns what that session sees: its own logind id, its
    SSH_CONNECTION, and sessmgrctl's list."""
    result = box.ssh(user, 'echo "$XDG_SESSION_ID"; echo "$SSH_CONNECTION"; sessmgrctl list --json')
    session_id, ssh_connection, listing = result.stdout.split("\n", 2)
    return session_id, ssh_connection.split(), json.loads(listing)["sessions"]


def test_each_user_lists_exactly_their_own_ssh_sessions(box):
    held = {user: box.ssh_background(user) for user in ("alice", "bob")}
    held_ids = {user: box.wait_for_sessions(user, 1)[0] for user in held}

    for user in ("alice", "bob"):
        current_id, (client_address, client_port, _, _), sessions = look_from_inside(box, user)

        assert len(sessions) == 2, sessions
        assert {s["uid"] for s in sessions} == {uid_of(box, user)}
        assert {s["user"] for s in sessions} == {user}
        assert {s["logind_session"] for s in sessions} == {held_ids[user], current_id}
        for session in sessions:
            assert session["service"] == "sshd"
            assert session["remote_address"] == "127.0.0.1"
            assert session["from"] == "127.0.0.1"
            assert session["state"] == "active"
            assert session["current"] == (session["logind_session"] == current_id)
        current = next(s for s in sessions if s["current"])
        assert current["remote_port"] == int(client_port)
        assert client_address == "127.0.0.1"

    # The logins were recorded by the socket-activated daemon.
    assert box.run(["systemctl", "is-active", "sessmgrd.service"]).stdout.strip() == "active"

    # The two short logins ended with their ssh command (sshd reports the end to PAM just
    # after the client returns); the held ones are active.
    def open_logind_ids():
        everyone = json.loads(box.run(["sessmgrctl", "--all", "--json"]).stdout)["sessions"]
        return sorted(s["logind_session"] for s in everyone)
    wait_until(lambda: open_logind_ids() == sorted(held_ids.values()), what="the short logins to be closed")

    for handle in held.values():
        handle.close()


def test_table_marks_the_current_session(box):
    held = box.ssh_background("alice")
    box.wait_for_sessions("alice", 1)
    table = box.ssh("alice", "sessmgrctl").stdout.splitlines()
    assert table[0].split() == ["ID", "DEVICE", "FROM", "LOGIN", "LAST", "ACTIVE"]
    rows = [line for line in table[1:3]]
    assert len(rows) == 2
    assert sum(row.startswith("*") for row in rows) == 1
    assert all("sshd" in row and "127.0.0.1" in row for row in rows)
    assert table[-1] == "* this session"
    held.close()


def test_logout_is_recorded(box):
    box.ssh("alice", "true")
    wait_until(lambda: json.loads(box.run(["sessmgrctl", "--all", "--json"]).stdout)["sessions"] == [],
               what="the logout to be recorded")
    shown = json.loads(box.run(["sessmgrctl", "show", "1", "--json"]).stdout)
    assert shown["user"] == "alice"
    assert shown["state"] == "closed"
    assert shown["end_reason"] == "logout"


def test_login_works_while_sessmgrd_is_down(box):
    box.run(["systemctl", "stop", "sessmgrd.socket", "sessmgrd.service"])
    result = box.ssh("alice", "echo still here")
    assert result.stdout.strip() == "still here"
    assert "sessmgrd is not running" in box.journal()
