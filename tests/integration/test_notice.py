# SPDX-License-Identifier: LGPL-2.1-or-later
"""The login notice of option "notify": other active sessions and where they are, and
a warning for a client address never seen for this user. Never delays a login; nothing
without the option, with PAM_SILENT, or when sessmgrd is not there."""


def login_from(world, user, address, *operations, port=50022):
    world.configure_pam(module_arguments="notify", ssh_connection=f"{address} {port} 10.0.0.1 22")
    return world.login(user, *(operations or ("open_session",)), items=["tty=ssh"])


def test_first_login_from_an_address_warns(daemon):
    first = login_from(daemon, "alice", "203.0.113.7")
    assert "New login from 203.0.113.7 - not you? Run: sessmgrctl logout --others" in first.stdout
    assert "other active session" not in first.stdout

    again = login_from(daemon, "alice", "203.0.113.7")
    assert "New login from" not in again.stdout
    assert "You have 1 other active session: 203.0.113.7 (sessmgr-test)." in again.stdout

    # The address is new for bob even though alice used it.
    assert "New login from 203.0.113.7" in login_from(daemon, "bob", "203.0.113.7").stdout


def test_other_sessions_are_listed(daemon):
    daemon.configure_pam()
    daemon.login("alice", "open_session", items=["tty=tty2"])
    login_from(daemon, "alice", "198.51.100.4")
    third = login_from(daemon, "alice", "198.51.100.4")
    assert ("You have 2 other active sessions: local (sessmgr-test tty2), 198.51.100.4 (sessmgr-test)."
            in third.stdout)


def test_ended_sessions_still_count_as_seen(daemon):
    login_from(daemon, "alice", "203.0.113.9", "open_session", "close_session")
    later = login_from(daemon, "alice", "203.0.113.9")
    assert "New login" not in later.stdout and "other active" not in later.stdout


def test_quiet_without_the_option_or_with_pam_silent(daemon):
    daemon.configure_pam(ssh_connection="203.0.113.8 50022 10.0.0.1 22")
    assert "New login" not in daemon.login("alice", "open_session", items=["tty=ssh"]).stdout
    daemon.configure_pam(module_arguments="notify", ssh_connection="203.0.113.10 50022 10.0.0.1 22")
    result, _ = daemon.pamtester("alice", "open_session", items=["tty=ssh"], silent=True)
    assert result.returncode == 0 and "New login" not in result.stdout


def test_no_daemon_no_notice_no_delay(world):
    world.configure_pam(module_arguments="notify", ssh_connection="203.0.113.7 50022 10.0.0.1 22")
    result, seconds = world.pamtester("alice", "open_session", items=["tty=ssh"])
    assert result.returncode == 0 and seconds < 1
    assert "New login" not in result.stdout
