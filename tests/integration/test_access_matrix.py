# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every method x every kind of caller, straight on the socket: the owner of a session,
another user, root, and a user who puts someone else's uid or id in the message. Each
call either does what the caller may do, or is refused, or sees nothing; another
user's session id gets the very answer an id that does not exist gets."""

import pytest

from conftest import USERS

ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
NO_SUCH_SESSION = "org.sessmgr.Error.NoSuchSession"
ALL = 0xFFFFFFFF
ALICE, BOB = USERS["alice"], USERS["bob"]
MISSING = 4242


@pytest.fixture
def sessions(daemon):
    """alice: one open (1), one ended (2); bob: one open (3), one ended (4)."""
    for user in ("alice", "bob"):
        daemon.login(user, "open_session")
        daemon.login(user, "open_session", "close_session")
    return daemon


def record_for(uid, user):
    return {"uid": ["u", uid], "user": ["s", user], "service": ["s", "sshd"]}


# (method, signature, arguments, caller) -> expected: "ok", an error name, or "nothing"
CASES = [
    # Reading: alice sees her own, never bob's; root sees everything.
    ("ListSessions", "u", [ALICE], "alice", "ok:1"),
    ("ListSessions", "u", [BOB], "alice", ACCESS_DENIED),
    ("ListSessions", "u", [ALL], "alice", ACCESS_DENIED),
    ("ListSessions", "u", [0], "alice", ACCESS_DENIED),
    ("ListSessions", "u", [ALICE], "root", "ok:1"),
    ("ListSessions", "u", [ALL], "root", "ok:1,3"),
    ("ListHistory", "uxu", [ALICE, 0, 0], "alice", "ok:2"),
    ("ListHistory", "uxu", [BOB, 0, 0], "alice", ACCESS_DENIED),
    ("ListHistory", "uxu", [ALL, 0, 0], "alice", ACCESS_DENIED),
    ("ListHistory", "uxu", [ALL, 0, 0], "root", "ok:4,2"),
    ("GetSession", "t", [1], "alice", "ok:1"),
    ("GetSession", "t", [2], "alice", "ok:2"),
    ("GetSession", "t", [3], "alice", NO_SUCH_SESSION),
    ("GetSession", "t", [4], "alice", NO_SUCH_SESSION),
    ("GetSession", "t", [MISSING], "alice", NO_SUCH_SESSION),
    ("GetSession", "t", [3], "root", "ok:3"),
    # Announcing a logout: own open sessions only.
    ("AnnounceLogout", "t", [1], "alice", "ok"),
    ("AnnounceLogout", "t", [3], "alice", NO_SUCH_SESSION),
    ("AnnounceLogout", "t", [4], "alice", NO_SUCH_SESSION),
    ("AnnounceLogout", "t", [MISSING], "alice", NO_SUCH_SESSION),
    ("AnnounceLogout", "t", [3], "root", "ok"),
    # Writing: root only, whatever the record claims.
    ("OpenSession", "a{sv}", [record_for(ALICE, "alice")], "alice", ACCESS_DENIED),
    ("OpenSession", "a{sv}", [record_for(0, "root")], "alice", ACCESS_DENIED),
    ("OpenSession", "a{sv}", [record_for(BOB, "bob")], "alice", ACCESS_DENIED),
    ("OpenSession", "a{sv}", [record_for(BOB, "bob")], "root", "ok"),
    ("CloseSession", "ts", [1, "logout"], "alice", ACCESS_DENIED),
    ("CloseSession", "ts", [3, "logout"], "alice", ACCESS_DENIED),
    ("CloseSession", "ts", [MISSING, "logout"], "alice", ACCESS_DENIED),
    ("CloseSession", "ts", [MISSING, "logout"], "root", NO_SUCH_SESSION),
    ("CloseSession", "ts", [3, "logout"], "root", "ok"),
]


@pytest.mark.parametrize("method, signature, arguments, caller, expected", CASES,
                         ids=[f"{c[0]}-{c[3]}-{c[2]}" for c in CASES])
def test_access(sessions, method, signature, arguments, caller, expected):
    error, message, reply = sessions.raw_call(method, signature, *arguments,
                                              user=None if caller == "root" else caller)
    if expected.startswith("ok"):
        assert error is None, (error, message)
        if ":" in expected:
            records = reply[0] if isinstance(reply[0], list) else [reply[0]]
            assert [r["id"] for r in records] == [int(i) for i in expected[3:].split(",")]
    else:
        assert error == expected, (error, message)
        assert reply is None


def test_refusals_change_nothing(sessions):
    for method, signature, arguments, caller, expected in CASES:
        if caller != "root" and not expected.startswith("ok"):
            sessions.raw_call(method, signature, *arguments, user=caller)
    error, _, reply = sessions.raw_call("ListSessions", "u", ALL)
    assert [(r["id"], r["state"]) for r in reply[0]] == [(1, "active"), (3, "active")]
    error, _, reply = sessions.raw_call("ListHistory", "uxu", ALL, 0, 0)
    assert [(r["id"], r["end_reason"]) for r in reply[0]] == [(4, "logout"), (2, "logout")]


def test_no_such_session_messages_match(sessions):
    """bob's id and a missing id: same error, same words (but the number)."""
    _, other, _ = sessions.raw_call("GetSession", "t", 3, user="alice")
    _, missing, _ = sessions.raw_call("GetSession", "t", MISSING, user="alice")
    assert other.replace("3", "N") == missing.replace(str(MISSING), "N")
