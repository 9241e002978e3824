# SPDX-License-Identifier: LGPL-2.1-or-later
"""Idle logout, journal events and the login notice, on a real system (sshd, logind,
sessmgrd with its hardened unit)."""

import json
import subprocess

from container import SSH_OPTIONS
from remote_shell import RemoteShell
from test_logout import record, records, wait_until
from sessmgr_install import PAM_LINE

EVENTS = {"login": "5abcfe7cc2f44b76bab9609d24fd856c", "logout": "a7d81171488a4bff85de41be11c47acd",
          "revoke": "4511915030ee4e729dbeea54bfa2e0ab", "idle": "dd5956174e2049febdd9fa049077f34e"}


def configure(box, text):
    box.write_file("/etc/sessmgr/sessmgrd.conf", text)
    box.run(["systemctl", "restart", "sessmgrd.service"])


def events(box, kind):
    output = box.run(["journalctl", "-o", "json", f"MESSAGE_ID={EVENTS[kind]}"], check=False).stdout
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_idle_sessions_are_logged_out_busy_and_exempt_ones_are_not(box):
    configure(box, "[Activity]\nPollIntervalSec=1\n"
                   "[IdleLogout]\nIdleTimeoutSec=6\nWarnSec=4\nExemptUsers=bob\n")
    idle = box.ssh_background("alice", "sleep 600")               # no terminal, nothing to do
    idle_id = box.wait_for_sessions("alice", 1)[0]
    busy = box.ssh_background("alice", "while :; do :; done")
    (busy_id,) = set(box.wait_for_sessions("alice", 2)) - {idle_id}
    exempt = box.ssh_background("bob", "sleep 600")
    box.wait_for_sessions("bob", 1)
    shell = RemoteShell(box, "alice")                              # a terminal, left alone

    wait_until(lambda: not idle.is_running(), timeout=30, what="the idle session to be logged out")
    ended = [r for r in json.loads(box.run(["sessmgrctl", "history", "--all", "--json"]).stdout)["sessions"]
             if r["logind_session"] == idle_id]
    assert ended and ended[0]["end_reason"] == "idle", ended

    # The terminal session was warned on its terminal, then logged out too.
    wait_until(lambda: not shell.is_running(), timeout=30, what="the idle terminal session to be logged out")
    assert "will be logged out in 1 minute unless it is used" in shell.handle.output()

    assert busy.is_running() and exempt.is_running()
    assert any(r["logind_session"] == busy_id for r in records(box))

    idle_events = [e for e in events(box, "idle") if e["SESSMGR_LOGIND_SESSION"] == idle_id]
    assert len(idle_events) == 1 and idle_events[0]["SESSMGR_END_REASON"] == "idle"
    busy.close()
    exempt.close()


def test_journal_events_for_login_logout_and_revoke(box):
    box.ssh("alice", "true")
    held = box.ssh_background("alice")
    held_id = box.wait_for_sessions("alice", 1)[0]
    session_id = wait_until(lambda: [r["id"] for r in records(box) if r["logind_session"] == held_id],
                            what="the record")[0]
    box.run(["sessmgrctl", "logout", str(session_id), "--yes"])
    wait_until(lambda: record(box, session_id)["state"] == "closed", what="the revoked session to close")

    logins = wait_until(lambda: [e for e in events(box, "login") if e["SESSMGR_USER"] == "alice"]
                        if len(events(box, "login")) >= 2 else None, what="two login events")
    assert {e["SESSMGR_SERVICE"] for e in logins} == {"sshd"}
    assert all(e["SESSMGR_FROM"] == "127.0.0.1" and e["SESSMGR_UID"] == "1000" for e in logins)
    logouts = wait_until(lambda: events(box, "logout"), what="a logout event")
    assert logouts[0]["SESSMGR_END_REASON"] == "logout" and int(logouts[0]["SESSMGR_DURATION_USEC"]) >= 0
    revokes = wait_until(lambda: events(box, "revoke"), what="a revoke event")
    assert revokes[0]["SESSMGR_SESSION"] == str(session_id)
    assert revokes[0]["SESSMGR_END_REASON"] == "revoked by root"
    held.drop()


def interactive_login(box, user):
    """An interactive SSH login (a shell, no command: sshd shows PAM messages only then),
    which types exit; returns what the user saw."""
    argv = box.command_line(["ssh", *SSH_OPTIONS, "-tt", f"{user}@127.0.0.1"], user=user)
    return subprocess.run(argv, input="exit\n", capture_output=True, text=True, timeout=60).stdout


def test_login_notice_over_ssh(box):
    box.run(["sed", "-i", f"s|^{PAM_LINE}$|{PAM_LINE} notify|", "/etc/pam.d/common-session"])
    first = interactive_login(box, "alice")
    assert "New login from 127.0.0.1 - not you? Run: sessmgrctl logout --others" in first, first
    held = box.ssh_background("alice")
    box.wait_for_sessions("alice", 1)
    again = interactive_login(box, "alice")
    assert "New login" not in again
    assert "You have 1 other active session: 127.0.0.1 (sshd)." in again, again
    # A command instead of a shell: sshd keeps the login quiet.
    assert "other active session" not in box.ssh("alice", "true", tty=True).stdout
    held.close()

    box.run(["systemctl", "stop", "sessmgrd.socket", "sessmgrd.service"])
    quiet = interactive_login(box, "bob")
    assert "logout" in quiet                    # the shell ran and exited
    assert "New login" not in quiet and "other active session" not in quiet
