# SPDX-License-Identifier: LGPL-2.1-or-later
"""Refusals, proven by calling sessmgrd's socket directly, as any program of a user
could, not only through sessmgrctl. The daemon decides by the kernel's peer
credentials; nothing in a message can change who the caller is."""

import json

from conftest import USERS

ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
NO_SUCH_SESSION = "org.sessmgr.Error.NoSuchSession"
ALL_USERS = 0xFFFFFFFF


def open_sessions(world):
    """alice gets session 1, bob session 2."""
    world.login("alice", "open_session")
    world.login("bob", "open_session")


def test_users_cannot_record_or_end_sessions(daemon):
    open_sessions(daemon)
    record = {"uid": ["u", USERS["alice"]], "user": ["s", "alice"], "service": ["s", "sshd"]}
    for user in ("alice", "bob"):
        error, message, _ = daemon.raw_call("OpenSession", "a{sv}", record, user=user)
        assert error == ACCESS_DENIED, (user, error)
        assert "Only root" in message
        for session_id in (1, 2):
            error, _, _ = daemon.raw_call("CloseSession", "ts", session_id, "logout", user=user)
            assert error == ACCESS_DENIED

    # Nothing was added and nothing ended.
    error, _, reply = daemon.raw_call("ListSessions", "u", ALL_USERS)
    assert error is None
    assert sorted(s["id"] for s in reply[0]) == [1, 2]
    assert all(s["state"] == "active" for s in reply[0])


def test_list_returns_only_the_callers_sessions(daemon):
    open_sessions(daemon)
    error, _, reply = daemon.raw_call("ListSessions", "u", USERS["alice"], user="alice")
    assert error is None
    assert [s["uid"] for s in reply[0]] == [USERS["alice"]]

    # Asking for another uid, or for everyone, is refused outright.
    for uid in (USERS["bob"], 0, ALL_USERS):
        error, message, reply = daemon.raw_call("ListSessions", "u", uid, user="alice")
        assert error == ACCESS_DENIED, uid
        assert reply is None
        assert "only list your own" in message


def test_other_users_sessions_cannot_be_probed(daemon):
    open_sessions(daemon)
    # bob's session 2 and a session that does not exist get the same answer.
    error_other, message_other, reply = daemon.raw_call("GetSession", "t", 2, user="alice")
    error_missing, message_missing, _ = daemon.raw_call("GetSession", "t", 999, user="alice")
    assert reply is None
    assert error_other == error_missing == NO_SUCH_SESSION
    assert message_other.replace("2", "N") == message_missing.replace("999", "N")

    error, _, reply = daemon.raw_call("GetSession", "t", 1, user="alice")
    assert error is None and reply[0]["user"] == "alice"
    error, _, reply = daemon.raw_call("GetSession", "t", 2)         # root sees everything
    assert error is None and reply[0]["user"] == "bob"


def test_sessmgrctl_refusals(daemon):
    open_sessions(daemon)
    shown = daemon.ctl("show", "2", user="alice")
    assert shown.returncode == 1
    assert shown.stderr.strip() == "sessmgrctl: No session 2."
    assert "bob" not in shown.stdout

    for arguments in (["--user", "bob"], ["--all"]):
        listed = daemon.ctl("list", *arguments, user="alice")
        assert listed.returncode == 1
        assert "only list your own sessions" in listed.stderr
        assert "bob" not in listed.stdout

    listed = json.loads(daemon.ctl("list", "--json", user="alice").stdout)["sessions"]
    assert [s["user"] for s in listed] == ["alice"]


def test_malformed_records_are_refused(daemon):
    uid, user = ["u", 60001], ["s", "alice"]
    cases = [
        ({"uid": ["s", "0"], "user": user}, "wrong type"),         # text where a uid belongs
        ({"uid": ["i", 0], "user": user}, "wrong type"),           # signed where unsigned belongs
        ({"user": user}, "no uid"),
        ({"uid": uid}, "no user name"),
        # Texts are not refused but stored escaped or cut: test_text_fields.py.
        ({"uid": uid, "user": user, "state": ["s", "zombie"]}, "wrong type"),
    ]
    for record, what in cases:
        error, message, _ = daemon.raw_call("OpenSession", "a{sv}", record)
        assert error == "org.sessmgr.Error.InvalidRecord", (what, error, message)
        assert what in message, (what, message)

    error, _, reply = daemon.raw_call("ListSessions", "u", ALL_USERS)
    assert reply[0] == []


def test_daemon_owned_fields_cannot_be_forged(daemon):
    """Even root's client cannot choose the id, state or boot of a new record."""
    error, _, reply = daemon.raw_call("OpenSession", "a{sv}", {
        "uid": ["u", 60001], "user": ["s", "alice"], "id": ["t", 4242], "state": ["s", "closed"],
        "boot_id": ["s", "00000000000000000000000000000000"], "end_reason": ["s", "forged"],
        "end_time_usec": ["x", 5]})
    assert error is None
    session_id = reply[0]
    assert session_id != 4242
    error, _, reply = daemon.raw_call("GetSession", "t", session_id)
    record = reply[0]
    assert record["state"] == "active"
    assert record["boot_id"] != "00000000000000000000000000000000"
    assert "end_reason" not in record
    assert record.get("end_time_usec", 0) == 0      # zero numbers are left out on the wire


def test_end_reason_must_be_printable(daemon):
    daemon.login("alice", "open_session")
    for reason in ("", "x\x01y", "bell\x07", "del\x7f", "a" * 65):
        error, _, _ = daemon.raw_call("CloseSession", "ts", 1, reason)
        assert error == "org.freedesktop.DBus.Error.InvalidArgs", repr(reason)
    error, _, _ = daemon.raw_call("GetSession", "t", 1)
    assert error is None
