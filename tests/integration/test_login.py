# SPDX-License-Identifier: LGPL-2.1-or-later
"""A login through the real PAM module is recorded by the real daemon and listed by
sessmgrctl for its owner only; its close ends it."""

import json

from conftest import USERS


def list_json(world, user=None, *extra):
    result = world.ctl("list", "--json", *extra, user=user)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["sessions"]


def test_login_is_listed_for_its_owner_only(daemon):
    daemon.configure_pam(ssh_connection="203.0.113.7 50022 10.0.0.1 22")
    daemon.login("alice", "open_session", items=["tty=ssh", "rhost=203.0.113.7"])

    sessions = list_json(daemon, "alice")
    assert len(sessions) == 1
    session = sessions[0]
    assert session["user"] == "alice"
    assert session["uid"] == USERS["alice"]
    assert session["service"] == "sessmgr-test"
    assert session["tty"] == "ssh"
    assert session["remote_address"] == "203.0.113.7"
    assert session["remote_port"] == 50022
    assert session["remote_host"] == "203.0.113.7"
    assert session["from"] == "203.0.113.7"
    assert session["state"] == "active"
    assert session["end_time"] is None
    assert session["login_time"].endswith("Z")
    assert len(session["boot_id"]) == 32

    assert list_json(daemon, "bob") == []

    table = daemon.ctl(user="alice")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "DEVICE", "FROM", "LOGIN", "LAST", "ACTIVE"]
    assert "203.0.113.7" in lines[1] and "sessmgr-test" in lines[1]
    assert "\033" not in table.stdout          # no colour into a pipe

    assert "No active sessions." in daemon.ctl(user="bob").stdout


def test_each_user_sees_exactly_their_own(daemon):
    for user, count in (("alice", 3), ("bob", 2)):
        for _ in range(count):
            daemon.login(user, "open_session", items=["tty=pts/1"])

    for user, count in (("alice", 3), ("bob", 2)):
        sessions = list_json(daemon, user)
        assert len(sessions) == count
        assert {s["uid"] for s in sessions} == {USERS[user]}

    # root: one user by name, or everyone with a USER column
    assert len(list_json(daemon, None, "--user", "bob")) == 2
    assert len(list_json(daemon, None, "--all")) == 5
    everyone = daemon.ctl("--all")
    assert everyone.stdout.splitlines()[0].split()[:3] == ["ID", "USER", "DEVICE"]


def test_close_ends_the_session(daemon):
    daemon.login("alice", "open_session", "close_session", items=["tty=tty2"])
    assert list_json(daemon, "alice") == []

    # The ended session is still known to its owner, with its end.
    shown = daemon.ctl("show", "1", "--json", user="alice")
    assert shown.returncode == 0, shown.stderr
    session = json.loads(shown.stdout)
    assert session["state"] == "closed"
    assert session["end_reason"] == "logout"
    assert session["end_time_usec"] >= session["login_time_usec"]
    assert session["device"] == "sessmgr-test tty2"


def test_show_prints_every_field(daemon):
    daemon.configure_pam(ssh_connection="2001:db8::7 4242 2001:db8::1 22")
    daemon.login("alice", "open_session", items=["tty=ssh"])
    shown = daemon.ctl("show", "1", user="alice")
    assert shown.returncode == 0, shown.stderr
    fields = dict(line.split(":", 1) for line in shown.stdout.splitlines())
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    assert fields["User"] == "alice"
    assert fields["Remote address"] == "2001:db8::7"
    assert fields["Remote port"] == "4242"
    assert fields["State"] == "active"
    assert fields["From"] == "2001:db8::7"
    assert fields["Device"] == "sessmgr-test"


def test_module_logs_unknown_options_and_still_records(daemon):
    daemon.configure_pam(module_arguments="bogus timeout=abc debug")
    # Level 3 lets pam_wrapper show LOG_DEBUG lines too.
    result = daemon.login("alice", "open_session", environment={"PAM_WRAPPER_DEBUGLEVEL": "3"})
    assert 'ignoring option "bogus"' in result.stderr
    assert 'ignoring option "timeout=abc"' in result.stderr
    assert "recorded session 1 for alice" in result.stderr
    assert len(list_json(daemon, "alice")) == 1


def test_unknown_user_is_not_recorded_and_login_goes_on(daemon):
    result, _ = daemon.pamtester("mallory", "open_session")
    assert result.returncode == 0
    assert "not recording session: the user is not in the user database" in result.stderr
    assert list_json(daemon, None, "--all") == []


def test_records_survive_a_daemon_crash(daemon):
    """A login is answered only once its record is committed: kill -9 right after the
    logins and every one of them is still there."""
    for _ in range(20):
        daemon.login("alice", "open_session")
    daemon.daemon.kill()
    daemon.daemon.wait()
    daemon.start_daemon()
    assert len(list_json(daemon, "alice")) == 20
