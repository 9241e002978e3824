# SPDX-License-Identifier: LGPL-2.1-or-later
"""Device and last activity that tell the truth: terminals of SSH sessions (several with
multiplexing), how sshd authenticated them, and when each session was last used, by
terminal input or, without a terminal, by what its processes do."""

import json
import time

from remote_shell import RemoteShell
from waiting import wait_until

ACTIVITY_SOURCE_SCRIPT = """#!/usr/bin/python3
import sqlite3, sys

database = sqlite3.connect("file:/var/lib/sessmgr/sessions.db?mode=ro", uri=True)
row = database.execute("SELECT last_active_source FROM sessions WHERE logind_session = ? AND state = 'active'",
                       (sys.argv[1],)).fetchone()
print(row[0] if row else "")
"""


def sessions_of(box, user):
    """What `sessmgrctl list` shows (a fresh look at this user's sessions)."""
    return json.loads(box.run(["sessmgrctl", "list", "--json", "--user", user]).stdout)["sessions"]


def session(box, user, logind_session):
    """The record of a logind session; None in the moment between logind creating the
    session and pam_sessmgr recording it."""
    found = [s for s in sessions_of(box, user) if s["logind_session"] == logind_session]
    assert len(found) <= 1, found
    return found[0] if found else None


def ttys_of(box, user, logind_session):
    record = session(box, user, logind_session)
    return record["ttys"] if record else []


def test_typing_moves_last_active_and_idling_does_not(box):
    shell = RemoteShell(box, "alice")
    first = wait_until(lambda: ttys_of(box, "alice", shell.logind_session), timeout=15, what="the pty")
    record = session(box, "alice", shell.logind_session)
    assert len(first) == 1 and first[0].startswith("pts/")
    assert record["device"] == f"sshd {first[0]}"
    login = record["last_active_usec"]

    # The kernel stamps terminal input in 8-second steps: wait past one, then type.
    time.sleep(9)
    typed_at = time.time()
    shell.run("true")
    record = session(box, "alice", shell.logind_session)
    assert record["last_active_source"] == "tty-input"
    assert record["last_active_usec"] > login
    assert record["last_active_usec"] >= (typed_at - 8) * 1e6

    # Idle: nothing moves.
    time.sleep(10)
    idle = session(box, "alice", shell.logind_session)
    assert idle["last_active_usec"] == record["last_active_usec"]
    shell.close()


def test_sessions_without_terminal_by_process_activity(box):
    sleeping = box.ssh_background("alice", "sleep 600")
    sleeping_id = box.wait_for_sessions("alice", 1)[0]
    busy = box.ssh_background("alice", "while :; do :; done")
    (busy_id,) = set(box.wait_for_sessions("alice", 2)) - {sleeping_id}

    wait_until(lambda: session(box, "alice", sleeping_id) and session(box, "alice", busy_id),
               timeout=15, what="both logins to be recorded")  # that look is the baseline too
    time.sleep(3)
    looked_at = time.time()
    quiet, working = session(box, "alice", sleeping_id), session(box, "alice", busy_id)
    assert quiet["ttys"] == [] and quiet["device"] == "sshd"
    assert quiet["last_active_source"] == "login"
    assert quiet["last_active_usec"] == quiet["login_time_usec"]
    assert working["last_active_source"] == "process-activity"
    assert working["last_active_usec"] >= (looked_at - 2) * 1e6

    # The list puts the session used most recently first.
    assert [s["logind_session"] for s in sessions_of(box, "alice")] == [busy_id, sleeping_id]
    busy.close()
    sleeping.close()


def test_poller_updates_without_anyone_asking(box):
    box.write_file("/etc/systemd/system/sessmgrd.service.d/poll.conf",
                   "[Service]\nExecStart=\nExecStart=/usr/sbin/sessmgrd --db /var/lib/sessmgr/sessions.db "
                   "--poll-interval 1\n")
    box.run(["systemctl", "daemon-reload"])
    box.run(["systemctl", "restart", "sessmgrd.service"])
    busy = box.ssh_background("alice", "while :; do :; done")
    busy_id = box.wait_for_sessions("alice", 1)[0]
    # Read straight from the database: no list request triggers a look.
    box.write_file("/usr/local/bin/activity-source", ACTIVITY_SOURCE_SCRIPT, mode=0o755)
    wait_until(lambda: box.run(["activity-source", busy_id], check=False).stdout.strip() == "process-activity",
               timeout=15, what="the poller to see the busy session")
    busy.close()


def test_multiplexed_connection_lists_both_terminals(box):
    control = ["-o", "ControlMaster=auto", "-o", "ControlPath=/tmp/sessmgr-test-%r@%h", "-o", "ControlPersist=60"]
    first = box.ssh_background("alice", "exec bash --norc", tty=True, options=control)
    logind_id = box.wait_for_sessions("alice", 1)[0]
    wait_until(lambda: len(ttys_of(box, "alice", logind_id)) == 1, timeout=15, what="the first pty")
    second = box.ssh_background("alice", "exec bash --norc", tty=True, options=control)
    # Still one SSH connection, one logind session, now with two terminals.
    ttys = wait_until(lambda: (lambda t: t if len(t) == 2 else None)(ttys_of(box, "alice", logind_id)),
                      timeout=15, what="the second pty of the multiplexed connection")
    assert box.wait_for_sessions("alice", 1) == [logind_id]
    assert all(t.startswith("pts/") for t in ttys)
    assert session(box, "alice", logind_id)["device"] == "sshd " + ",".join(ttys)
    second.close()
    first.close()


def test_key_login_records_method_and_fingerprint(box):
    held = box.ssh_background("alice")
    logind_id = box.wait_for_sessions("alice", 1)[0]
    fingerprint = box.run("ssh-keygen -lf /home/alice/.ssh/id_ed25519.pub").stdout.split()[1]
    record = wait_until(lambda: (lambda s: s if s and s["auth_method"] else None)(session(box, "alice", logind_id)),
                        timeout=15, what="the authentication method")
    assert record["auth_method"] == "publickey"
    assert record["auth_key"] == f"ED25519 {fingerprint}"
    shown = box.run(["sessmgrctl", "show", str(record["id"])]).stdout
    assert "Authenticated by: publickey" in shown and fingerprint in shown
    held.close()
