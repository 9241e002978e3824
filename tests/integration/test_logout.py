# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgrctl logout's checks that come before logind (the container tests cover
logind itself), and AnnounceLogout's refusals on the raw socket."""

NO_SUCH_SESSION = "org.sessmgr.Error.NoSuchSession"


def open_logind_session(world, user, uid, logind_session):
    """A record as pam_sessmgr makes it after pam_systemd: with a logind id."""
    error, _, reply = world.raw_call("OpenSession", "a{sv}", {
        "uid": ["u", uid], "user": ["s", user], "service": ["s", "sshd"],
        "logind_session": ["s", logind_session], "remote_address": ["s", "203.0.113.7"]})
    assert error is None
    return reply[0]


def test_another_users_session_is_no_such_session(daemon):
    bob = open_logind_session(daemon, "bob", 60002, "c2")
    result = daemon.ctl("logout", str(bob), "--yes", user="alice")
    assert result.returncode == 1
    assert result.stderr == f"sessmgrctl: No session {bob}.\n"
    missing = daemon.ctl("logout", "999", "--yes", user="alice")
    assert missing.stderr == "sessmgrctl: No session 999.\n"


def test_a_typo_ends_nothing(daemon):
    alice = open_logind_session(daemon, "alice", 60001, "c1")
    result = daemon.ctl("logout", str(alice), "999", "--yes", user="alice")
    assert result.returncode == 1
    assert "No session 999." in result.stderr
    error, _, reply = daemon.raw_call("GetSession", "t", alice)
    assert reply[0]["state"] == "active" and "end_reason" not in reply[0]


def test_sessions_without_logind_cannot_be_logged_out(daemon):
    daemon.login("alice", "open_session")          # pam_wrapper: no logind session
    result = daemon.ctl("logout", "1", "--yes", user="alice")
    assert result.returncode == 1
    assert "not known to systemd-logind" in result.stderr
    result = daemon.ctl("logout", "--others", "--yes", user="alice")
    assert result.returncode == 0
    assert "no other sessions" in result.stdout


def test_without_logind_logout_says_it_needs_logind(daemon):
    open_logind_session(daemon, "alice", 60001, "c1")
    result = daemon.ctl("logout", "1", "--yes", user="alice")
    assert result.returncode == 1
    assert "Logging out needs systemd-logind" in result.stderr


def test_announce_logout_refusals(daemon):
    alice = open_logind_session(daemon, "alice", 60001, "c1")
    bob = open_logind_session(daemon, "bob", 60002, "c2")

    error, message, _ = daemon.raw_call("AnnounceLogout", "t", bob, user="alice")
    assert error == NO_SUCH_SESSION and message == f"No session {bob}."
    error, message, _ = daemon.raw_call("AnnounceLogout", "t", 4242, user="alice")
    assert error == NO_SUCH_SESSION and message == "No session 4242."

    error, _, _ = daemon.raw_call("AnnounceLogout", "t", alice, user="alice")
    assert error is None
    # The end reason is decided by who asked, as the kernel reports the caller.
    error, _, _ = daemon.raw_call("CloseSession", "ts", alice, "logout")
    _, _, reply = daemon.raw_call("GetSession", "t", alice)
    assert reply[0]["state"] == "closed"
    assert reply[0]["end_reason"] == "revoked by alice"

    # bob's session kept its own story.
    daemon.raw_call("CloseSession", "ts", bob, "logout")
    _, _, reply = daemon.raw_call("GetSession", "t", bob)
    assert reply[0]["end_reason"] == "logout"

    error, message, _ = daemon.raw_call("AnnounceLogout", "t", alice, user="alice")
    assert error == NO_SUCH_SESSION and "already ended" in message
