# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgrctl's command line: help, usage errors (exit 2), failures (exit 1)."""

import pytest


def test_help_and_version(world):
    for argument in ("--help", "-h"):
        result = world.ctl(argument)
        assert result.returncode == 0
        assert "Usage: sessmgrctl" in result.stdout
    result = world.ctl("--version")
    assert result.returncode == 0 and result.stdout.startswith("sessmgrctl ")


@pytest.mark.parametrize("arguments, message", [
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["--frobnicate"], "unknown option '--frobnicate'"),
    (["list", "extra"], "list takes no arguments"),
    (["show"], "show takes exactly one session id"),
    (["show", "1", "2"], "show takes exactly one session id"),
    (["show", "abc"], "'abc' is not a session id"),
    (["show", "5x"], "is not a session id"),
    (["--user", "alice", "--all"], "exclude each other"),
    (["list", "--user"], "needs a value"),
    (["show", "1", "--all"], "do not apply to show"),
    (["logout"], "logout takes session ids, or --others, or --all"),
    (["logout", "1", "--all"], "logout takes session ids"),
    (["logout", "--others", "--all"], "logout takes session ids"),
    (["logout", "--user", "bob", "3"], "not with session ids"),
    (["logout", "x"], "is not a session id"),
    (["list", "--others"], "applies to logout only"),
    (["list", "--yes"], "--yes applies to logout only"),
    (["logout", "--all", "--json"], "logout with JSON output does not ask for confirmation: add --yes"),
    # The verb table says which options each command takes; the refusals follow from it.
    (["history", "--others"], "--others applies to logout only"),
    (["show", "1", "--yes"], "--yes applies to logout only"),
    (["logout", "--all", "--since", "1d"], "--since and --limit apply to history only"),
    (["show", "1", "--user", "alice"], "--user and --all do not apply to show"),
    (["history", "--user", "alice", "--all"], "--user and --all exclude each other with history"),
    (["history", "--limit", "+5"], "is not a number from 0 to 10000"),
    (["show", "99999999999999999999"], "is not a session id"),
])
def test_usage_errors_exit_2(world, arguments, message):
    result = world.ctl(*arguments)
    assert result.returncode == 2, result
    assert message in result.stderr
    assert "Try 'sessmgrctl --help'" in result.stderr


def test_daemon_not_running(world):
    result = world.ctl("list", user="alice")
    assert result.returncode == 1
    assert "sessmgrd is not running" in result.stderr
    assert str(world.socket) in result.stderr


def test_no_such_session(daemon):
    result = daemon.ctl("show", "4242", user="alice")
    assert result.returncode == 1
    assert result.stderr == "sessmgrctl: No session 4242.\n"


def test_unknown_user(daemon):
    result = daemon.ctl("list", "--user", "nobody-at-all")
    assert result.returncode == 1
    assert "No such user: nobody-at-all" in result.stderr


def test_options_after_the_command(daemon):
    daemon.login("alice", "open_session")
    before = daemon.ctl("--json", "list", user="alice")
    after = daemon.ctl("list", "--json", user="alice")
    assert before.returncode == after.returncode == 0
    assert before.stdout == after.stdout
