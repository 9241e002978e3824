# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fleet methods against those who are not, or are no longer, the fleet agent
(sessmgrd(8), FLEET): the rights go with the user [Fleet] AgentUser= names, not with a
number that user once had."""

import json
import os
import subprocess
import sys

from conftest import RAW_CALL

AGENT_UID = 60003


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
