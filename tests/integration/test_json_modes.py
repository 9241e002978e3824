# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgrctl's JSON modes as systemd's tools spell them (--json=short|pretty|off, -j),
and logout --json's result per session, as far as it goes without logind (the container
tests end real sessions: tests/e2e/test_logout.py)."""

import json
import os
import pty
import subprocess

import pytest

from conftest import PRELOAD_FIRST, SESSMGRCTL


def open_logind_session(world, user, uid, logind_session):
    """A record as pam_sessmgr makes it after pam_systemd: with a logind id."""
    error, _, reply = world.raw_call("OpenSession", "a{sv}", {
        "uid": ["u", uid], "user": ["s", user], "service": ["s", "sshd"],
        "logind_session": ["s", logind_session], "remote_address": ["s", "203.0.113.7"]})
    assert error is None
    return reply[0]


def on_terminal(world, *arguments, user=None):
    """sessmgrctl with its standard output on a pseudo-terminal; returns (exit status,
    output with the terminal's \\r\\n made \\n)."""
    controller, terminal = pty.openpty()
    environment = world.wrapper_environment()
    # The sanitizers' runtime first in sanitizer builds, as conftest's ctl() does.
    environment["LD_PRELOAD"] = f"{PRELOAD_FIRST} libnss_wrapper.so".strip()
    try:
        process = subprocess.run(world.as_user(user) + [SESSMGRCTL, "--socket", world.socket, *arguments],
                                 stdout=terminal, stderr=subprocess.PIPE, env=environment, timeout=30)
        os.close(terminal)
        terminal = None
        output = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:         # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            output += chunk
    finally:
        if terminal is not None:
            os.close(terminal)
        os.close(controller)
    return process.returncode, output.decode().replace("\r\n", "\n")


def is_short(text):
    """One line, without a blank between the parts."""
    return text == json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False) + "\n"


def is_pretty(text):
    return text.count("\n") > 3 and '\n  "sessions": [' in text


@pytest.fixture
def two_sessions(daemon):
    daemon.login("alice", "open_session")
    daemon.login("alice", "open_session")
    return daemon


@pytest.mark.parametrize("verb", [["list"], ["history"], ["show", "1"]])
def test_short_and_pretty_are_the_same_document(two_sessions, verb):
    if verb == ["history"]:
        two_sessions.login("alice", "open_session", "close_session")
    short = two_sessions.ctl(*verb, "--json=short", user="alice")
    pretty = two_sessions.ctl(*verb, "--json=pretty", user="alice")
    assert short.returncode == pretty.returncode == 0, (short, pretty)
    assert is_short(short.stdout), short.stdout
    assert pretty.stdout.count("\n") > 10 and pretty.stdout.endswith("}\n"), pretty.stdout
    assert json.loads(short.stdout) == json.loads(pretty.stdout)
    assert json.loads(short.stdout)  # not an empty list: both sessions are in it


def test_j_follows_the_terminal_and_plain_json_is_short(two_sessions):
    # Not a terminal: short, as --json always printed for programs.
    for option in ("--json", "-j"):
        result = two_sessions.ctl("list", option, user="alice")
        assert result.returncode == 0 and is_short(result.stdout), (option, result.stdout)
    # A terminal: -j is pretty, for the person reading it; plain --json stays short.
    for option in ("-j", "--json=pretty"):
        status, output = on_terminal(two_sessions, "list", option, user="alice")
        assert status == 0 and is_pretty(output), (option, output)
    for option in ("--json", "--json=short"):
        status, output = on_terminal(two_sessions, "list", option, user="alice")
        assert status == 0 and is_short(output), (option, output)
    # off: the table, wherever it goes; the last mode given counts.
    for arguments in (["--json=off"], ["-j", "--json=off"]):
        result = two_sessions.ctl("list", *arguments, user="alice")
        assert result.returncode == 0 and result.stdout.split()[:2] == ["ID", "DEVICE"], result.stdout
    result = two_sessions.ctl("list", "--json=off", "--json=pretty", user="alice")
    assert is_pretty(result.stdout), result.stdout


def test_json_help_lists_the_modes(world):
    result = world.ctl("--json=help")
    assert result.returncode == 0 and result.stdout == "off\nshort\npretty\n"


@pytest.mark.parametrize("arguments, message", [
    (["list", "--json=yaml"], "--json: 'yaml' is not a JSON mode (short, pretty, off)."),
    (["list", "--json="], "--json: '' is not a JSON mode"),
    # Without "=", the word would be taken for an argument of list.
    (["list", "--json", "pretty"], "the JSON mode goes after '=': --json=pretty."),
    (["--json", "short", "list"], "the JSON mode goes after '=': --json=short."),
    (["logout", "--others", "--json"], "logout with JSON output does not ask for confirmation: add --yes."),
    (["logout", "3", "-j"], "add --yes"),
])
def test_json_usage_errors(world, arguments, message):
    result = world.ctl(*arguments)
    assert result.returncode == 2, result
    assert message in result.stderr and "Try 'sessmgrctl --help'" in result.stderr
    assert result.stdout == ""


def test_logout_json_reports_every_session_named_and_ends_nothing_after_a_typo(daemon):
    chosen = open_logind_session(daemon, "alice", 60001, "c1")
    bobs = open_logind_session(daemon, "bob", 60002, "c2")
    daemon.login("alice", "open_session")          # pam_wrapper: no logind session
    without_logind = chosen + 2
    closed = open_logind_session(daemon, "alice", 60001, "c3")
    daemon.raw_call("CloseSession", "ts", closed, "logout")

    result = daemon.ctl("logout", str(chosen), "999", str(bobs), str(without_logind), str(closed),
                        "--json=short", "--yes", user="alice")
    assert result.returncode == 1, result
    assert json.loads(result.stdout) == {"sessions": [
        {"id": chosen, "logind_session": "c1", "current": False, "result": "skipped",
         "message": "Not logged out: another session named cannot be."},
        {"id": 999, "logind_session": None, "current": False, "result": "not-found",
         "message": "No session 999."},
        # Another user's session is as unknown as an id never given out.
        {"id": bobs, "logind_session": None, "current": False, "result": "not-found",
         "message": f"No session {bobs}."},
        {"id": without_logind, "logind_session": None, "current": False, "result": "refused",
         "message": f"Session {without_logind} cannot be logged out: it is not known to systemd-logind "
                    "(it was recorded without pam_systemd)."},
        {"id": closed, "logind_session": "c3", "current": False, "result": "refused",
         "message": f"Session {closed} cannot be logged out: it has already ended."},
    ]}
    assert is_short(result.stdout)
    # Each failure is said on stderr as well, for the log of whatever ran it.
    assert result.stderr.splitlines() == [
        "sessmgrctl: No session 999.", f"sessmgrctl: No session {bobs}.",
        f"sessmgrctl: Session {without_logind} cannot be logged out: it is not known to systemd-logind "
        "(it was recorded without pam_systemd).",
        f"sessmgrctl: Session {closed} cannot be logged out: it has already ended."]
    _, _, reply = daemon.raw_call("GetSession", "t", chosen)
    assert reply[0]["state"] == "active"


def test_logout_others_json_lists_what_it_leaves(daemon):
    daemon.login("alice", "open_session")
    daemon.login("alice", "open_session")
    result = daemon.ctl("logout", "--others", "--yes", "--json", user="alice")
    assert result.returncode == 0, result
    answer = json.loads(result.stdout)
    assert sorted(s["id"] for s in answer["sessions"]) == [1, 2]
    for session in answer["sessions"]:
        assert session["result"] == "skipped", session
        assert session["message"] == "it is not known to systemd-logind (it was recorded without pam_systemd)"
    # What the text says on stdout is in the JSON instead.
    text = daemon.ctl("logout", "--others", "--yes", user="alice")
    assert "Leaving session 1: it is not known" in text.stdout
    assert "no other sessions" in text.stdout

    nothing = daemon.ctl("logout", "--all", "--yes", "--json=pretty", user="bob")
    assert nothing.returncode == 0 and nothing.stdout == '{\n  "sessions": []\n}\n', nothing.stdout


def test_logout_json_without_logind_prints_no_document(daemon):
    open_logind_session(daemon, "alice", 60001, "c1")
    result = daemon.ctl("logout", "1", "--yes", "--json", user="alice")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Logging out needs systemd-logind" in result.stderr
