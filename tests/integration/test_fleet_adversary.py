# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fleet methods against those who are not, or are no longer, the fleet agent
(sessmgrd(8), FLEET): the rights go with the user [Fleet] AgentUser= names, not with a
number that user once had."""

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import RAW_CALL, VALGRIND

AGENT_UID = 60003


def wait_until(condition, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def write_users(world, *entries):
    """Replaces the passwd file as useradd and userdel do (a new file renamed over)."""
    text = "root:x:0:0:root:/root:/bin/sh\n" + "".join(
        f"{name}:x:{uid}:{uid}:{name}:/nonexistent:/bin/sh\n" for name, uid in entries)
    staged = world.passwd.with_suffix(".new")
    staged.write_text(text)
    os.rename(staged, world.passwd)


def call_as(world, uid, method, signature, *arguments):
    command = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
               sys.executable, RAW_CALL, str(world.socket), method, signature, json.dumps(list(arguments))]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_deleted_agents_uid_given_to_another_user_gets_no_fleet_rights(world):
    write_users(world, ("alice", 60001), ("bob", 60002), ("fleetagent", AGENT_UID))
    config = world.directory / "sessmgrd.conf"
    config.write_text("[Fleet]\nAgentUser=fleetagent\n")
    world.start_daemon("--config", str(config))
    world.login("alice", "open_session")
    answer = call_as(world, AGENT_UID, "GetChanges", "tu", 0, 10)
    assert "error" not in answer and answer["reply"][2], answer

    # The administrator removes the agent's account (userdel fleetagent); useradd later
    # gives its free uid to a new user, who must not read every user's records.
    write_users(world, ("alice", 60001), ("bob", 60002), ("mallory", AGENT_UID))
    answer = call_as(world, AGENT_UID, "GetChanges", "tu", 0, 10)
    assert answer.get("error") == "org.freedesktop.DBus.Error.AccessDenied", answer
    answer = call_as(world, AGENT_UID, "ApplyRevocation", "tss", 1, "", "revoked by mallory")
    assert answer.get("error") == "org.freedesktop.DBus.Error.AccessDenied", answer


@pytest.mark.skipif(bool(VALGRIND), reason="strace and valgrind cannot both trace sessmgrd")
def test_the_feed_shows_no_change_that_is_not_on_disk(world):
    """A login is answered from the WAL and flushed in the background: a power cut may
    take back the last second of changes, their change numbers with them, and the next
    ones take those numbers again. An agent that had shipped the lost ones would skip
    their successors for good (its cursor is past them, the feed identity unchanged), so
    the feed must show only what is on disk. strace makes every flush fail, as a failing
    disk would; a delay would do the same, only slower."""
    write_users(world, ("alice", 60001), ("bob", 60002), ("fleetagent", AGENT_UID))
    config = world.directory / "sessmgrd.conf"
    config.write_text("[Database]\nFlushIntervalSec=1\n[Fleet]\nAgentUser=fleetagent\n")
    daemon = world.start_daemon("--config", str(config))
    # The first commit starts the WAL, and flushes its header in the event loop: before
    # the flushes fail, not to refuse the login below.
    world.login("alice", "open_session")
    wait_until(lambda: "error" not in (answer := call_as(world, AGENT_UID, "GetChanges", "tu", 0, 10))
               and answer["reply"][2], what="alice's login in the feed")
    cursor = call_as(world, AGENT_UID, "GetChanges", "tu", 0, 10)["reply"][1]

    strace = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync", "-e",
                               "inject=fsync,fdatasync:error=EIO", "-o", "/dev/null", "-p", str(daemon.pid)],
                              stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)         # strace says nothing once it has attached to every thread
        assert strace.poll() is None, strace.stderr.read()
        world.login("bob", "open_session")
        wait_until(lambda: "cannot flush the session database" in world.daemon_log.read_text(),
                   what="the flush of bob's login to fail")
        answer = call_as(world, AGENT_UID, "GetChanges", "tu", cursor, 10)
        assert "error" not in answer, answer
        assert [r["user"] for r in answer["reply"][2]] == [], f"the feed shows a change not on disk: {answer}"
    finally:
        strace.terminate()
        strace.wait(timeout=10)

    # The disk is back: the next flush brings bob's login to the feed.
    shown = wait_until(lambda: call_as(world, AGENT_UID, "GetChanges", "tu", cursor, 10)["reply"][2],
                       what="bob's login in the feed once flushed")
    assert [r["user"] for r in shown] == ["bob"]
