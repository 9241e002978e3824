# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgrctl history: a user's ended sessions, newest first, theirs only."""

import json
import time

ALL_USERS = 0xFFFFFFFF


def history(world, *arguments, user=None):
    result = world.ctl("history", "--json", *arguments, user=user)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["sessions"]


def test_ended_sessions_newest_first(daemon):
    for tty in ("pts/1", "pts/2", "pts/3"):
        daemon.login("alice", "open_session", "close_session", items=[f"tty={tty}"])
    daemon.login("alice", "open_session", items=["tty=pts/9"])        # still open
    daemon.login("bob", "open_session", "close_session")

    ended = history(daemon, user="alice")
    assert [s["tty"] for s in ended] == ["pts/3", "pts/2", "pts/1"]
    assert all(s["state"] == "closed" and s["end_reason"] == "logout" for s in ended)
    assert all(s["end_time_usec"] >= s["login_time_usec"] for s in ended)

    assert [s["user"] for s in history(daemon, user="bob")] == ["bob"]
    assert len(history(daemon, "--all")) == 4
    assert len(history(daemon, "--user", "alice")) == 3

    table = daemon.ctl("history", user="alice").stdout.splitlines()
    assert table[0].split() == ["ID", "DEVICE", "FROM", "LOGIN", "LOGOUT", "DURATION", "REASON"]
    assert len(table) == 4 and table[1].split()[-1] == "logout"


def test_limit_and_since(daemon):
    for _ in range(5):
        daemon.login("alice", "open_session", "close_session")
    assert len(history(daemon, "--limit", "2", user="alice")) == 2
    assert len(history(daemon, "--limit", "0", user="alice")) == 5
    assert len(history(daemon, "--since", "1h", user="alice")) == 5
    assert len(history(daemon, "--since", "2000-01-01", user="alice")) == 5
    future = time.strftime("%Y-%m-%d", time.localtime(time.time() + 2 * 86400))
    assert history(daemon, "--since", future, user="alice") == []


def test_history_of_others_is_refused(daemon):
    daemon.login("bob", "open_session", "close_session")
    for arguments in (["--user", "bob"], ["--all"]):
        result = daemon.ctl("history", *arguments, user="alice")
        assert result.returncode == 1 and "only list your own" in result.stderr
    for uid in (60002, ALL_USERS, 0):
        error, _, reply = daemon.raw_call("ListHistory", "uxu", uid, 0, 0, user="alice")
        assert error == "org.freedesktop.DBus.Error.AccessDenied" and reply is None
    error, _, reply = daemon.raw_call("ListHistory", "uxu", 60001, 0, 0, user="alice")
    assert error is None and reply == [[]]


def test_usage(world):
    for arguments, message in ((["history", "--since", "soon"], "is not a time"),
                               (["history", "--limit", "-1"], "is not a number"),
                               (["history", "--limit", "10001"], "is not a number"),
                               (["list", "--limit", "5"], "apply to history only"),
                               (["history", "extra"], "takes no arguments")):
        result = world.ctl(*arguments)
        assert result.returncode == 2, arguments
        assert message in result.stderr


def test_empty_history(daemon):
    assert daemon.ctl("history", user="alice").stdout == "No ended sessions.\n"
