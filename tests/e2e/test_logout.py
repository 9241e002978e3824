# SPDX-License-Identifier: LGPL-2.1-or-later
"""Logging sessions out through logind, and sessmgrd following logind (issue: "I lost
my laptop, log that session out from here"). Real sshd, PAM, logind, sessmgrd."""

import json
import subprocess
import time
from pathlib import Path

from remote_shell import RemoteShell
from waiting import wait_until

RAW_CALL = Path(__file__).resolve().parents[1] / "integration" / "raw_call.py"


def records(box, *arguments):
    """sessmgrctl list --json as root (default: everyone's)."""
    return json.loads(box.run(["sessmgrctl", "list", "--json", *(arguments or ["--all"])]).stdout)["sessions"]


def record(box, session_id):
    return json.loads(box.run(["sessmgrctl", "show", str(session_id), "--json"]).stdout)


def by_logind(box, logind_session):
    """The sessmgr id of the open record of a logind session (pam_sessmgr records it a
    moment after logind lists it)."""
    found = wait_until(lambda: [r for r in records(box) if r["logind_session"] == logind_session],
                       what=f"the record of logind session {logind_session}")
    assert len(found) == 1, (logind_session, found)
    return found[0]["id"]


def new_session(box, user, known):
    """The logind id of the one login of user that is not in known."""
    ids = box.wait_for_sessions(user, len(known) + 1)
    (new,) = set(ids) - set(known)
    return new


def logind_has(box, logind_session):
    return any(s["id"] == logind_session for s in box.sessions())


def test_logout_one_others_all(box):
    shell = RemoteShell(box, "alice")                        # session 1: we type here
    # One at a time, so that each client's logind session is known for sure.
    second = box.ssh_background("alice")
    second_logind = new_session(box, "alice", {shell.logind_session})
    third = box.ssh_background("alice")
    third_logind = new_session(box, "alice", {shell.logind_session, second_logind})
    bob = box.ssh_background("bob")
    bob_logind = box.wait_for_sessions("bob", 1)[0]

    listed = json.loads(shell.run("sessmgrctl list --json", check=True).stdout)["sessions"]
    assert len(listed) == 3
    assert [r["logind_session"] for r in listed if r["current"]] == [shell.logind_session]
    ids = {r["logind_session"]: r["id"] for r in listed}
    one, two, three = ids[shell.logind_session], ids[second_logind], ids[third_logind]

    # One session by id: its SSH client is disconnected, logind drops it, the rest stay.
    result = shell.run(f"sessmgrctl logout {two} --yes")
    assert result.returncode == 0, result
    assert f"Logged out session {two}" in result.stdout
    wait_until(lambda: not second.is_running(), what="the second SSH client to be disconnected")
    wait_until(lambda: not logind_has(box, second_logind), what="logind to drop the session")
    assert third.is_running() and shell.is_running() and bob.is_running()

    # Never the current one that way.
    result = shell.run(f"sessmgrctl logout {one} --yes")
    assert result.returncode == 1
    assert "the session you are using" in result.stderr
    assert "--all" in result.stderr and "exit" in result.stderr
    assert shell.is_running() and third.is_running()

    # All the others: only the third.
    result = shell.run("sessmgrctl logout --others --yes")
    assert result.returncode == 0, result
    assert f"Logged out session {three}" in result.stdout
    assert f"session {one}" not in result.stdout and f"session {two}" not in result.stdout
    wait_until(lambda: not third.is_running(), what="the third SSH client to be disconnected")
    assert shell.is_running() and bob.is_running()

    # All, this one last: the shell we type into goes away too.
    shell.handle.process.stdin.write(b"sessmgrctl logout --all --yes >/tmp/all.out 2>&1\n")
    shell.handle.process.stdin.flush()
    wait_until(lambda: not shell.is_running(), what="the current session to end")
    wait_until(lambda: not logind_has(box, shell.logind_session), what="logind to drop the current session")
    assert f"Logging out this session ({one}" in box.read_file("/tmp/all.out")
    assert bob.is_running() and logind_has(box, bob_logind)

    # The history says who ended what (alice reads her own, in a new login).
    for session_id in (one, two, three):
        wait_until(lambda: record(box, session_id)["state"] == "closed", what=f"session {session_id} to be closed")
    ended = json.loads(box.ssh("alice", "sessmgrctl history --json").stdout)["sessions"]
    assert {s["id"]: s["end_reason"] for s in ended} == {
        session_id: f"revoked by session {one} from 127.0.0.1" for session_id in (one, two, three)}
    assert [r["logind_session"] for r in records(box) if r["user"] == "bob"] == [bob_logind]
    bob.close()


def test_confirmation(box):
    shell = RemoteShell(box, "alice")
    other = box.ssh_background("alice")
    box.wait_for_sessions("alice", 2)
    other_id = [r["id"] for r in records(box) if r["logind_session"] != shell.logind_session][0]

    # No terminal and no --yes: refuse instead of hanging.
    result = shell.run(f"sessmgrctl logout {other_id}")
    assert result.returncode == 1
    assert "standard input is not a terminal" in result.stderr and "--yes" in result.stderr

    # On a terminal: it shows what it will end and asks; "n" ends nothing.
    result = shell.run(f"echo n | script -qec 'sessmgrctl logout {other_id}' /dev/null")
    assert "Log out 1 session? [y/N]" in result.stdout
    assert "127.0.0.1" in result.stdout
    assert "Nothing was logged out." in result.stdout
    assert other.is_running()

    result = shell.run(f"echo y | script -qec 'sessmgrctl logout {other_id}' /dev/null")
    assert f"Logged out session {other_id}" in result.stdout, result
    wait_until(lambda: not other.is_running(), what="the session to end")
    shell.close()


def test_nobody_can_end_another_users_session(box):
    bob = box.ssh_background("bob")
    bob_logind = box.wait_for_sessions("bob", 1)[0]
    bob_id = by_logind(box, bob_logind)
    box.write_file("/usr/local/bin/raw-call", RAW_CALL.read_text(), mode=0o755)
    shell = RemoteShell(box, "alice")

    for command in (f"sessmgrctl show {bob_id}", f"sessmgrctl logout {bob_id} --yes"):
        result = shell.run(command)
        assert result.returncode == 1 and result.stderr == f"sessmgrctl: No session {bob_id}.\n", result
    result = shell.run("sessmgrctl list --user bob")
    assert result.returncode == 1 and "only list your own" in result.stderr
    result = shell.run("sessmgrctl logout --user bob --all --yes")
    assert result.returncode == 1 and "Only root may log out another user's sessions" in result.stderr

    # Straight to sessmgrd: not even the announcement is accepted.
    answer = json.loads(shell.run(f"raw-call /run/sessmgr/socket AnnounceLogout t '[{bob_id}]'").stdout)
    assert answer["error"] == "org.sessmgr.Error.NoSuchSession"
    # Straight to logind: it refuses too (polkit asks for an administrator's password,
    # which a call without an agent cannot give).
    result = shell.run(f"busctl call org.freedesktop.login1 /org/freedesktop/login1 "
                       f"org.freedesktop.login1.Manager TerminateSession s {bob_logind}")
    assert result.returncode != 0, result
    assert "Access denied" in result.stderr or "Interactive authentication required" in result.stderr, result

    time.sleep(1)
    assert bob.is_running() and logind_has(box, bob_logind)
    assert record(box, bob_id)["state"] == "active"

    # root may: with --user.
    result = box.run(["sessmgrctl", "logout", "--user", "bob", "--all", "--yes"])
    assert f"Logged out session {bob_id}" in result.stdout
    wait_until(lambda: not bob.is_running(), what="bob's session to end")
    ended = wait_until(lambda: record(box, bob_id)["state"] == "closed" and record(box, bob_id),
                       what="bob's record to close")
    assert ended["end_reason"] == "revoked by root"
    shell.close()


def test_session_killed_without_pam_close_is_terminated(box):
    held = box.ssh_background("alice")
    logind_id = box.wait_for_sessions("alice", 1)[0]
    session_id = by_logind(box, logind_id)
    # sshd dies without running its PAM close: only logind can tell us.
    box.run(["pkill", "-KILL", "-f", "sshd: alice"])
    ended = wait_until(lambda: record(box, session_id)["state"] == "closed" and record(box, session_id),
                       what="the killed session to be closed")
    assert ended["end_reason"] == "terminated"
    held.drop()


def test_lingering_processes_show_closing(box):
    box.ssh("alice", "nohup sleep 300 >/dev/null 2>&1 & echo started")
    lingering = wait_until(lambda: [r for r in records(box) if r["user"] == "alice"], what="the record")
    assert len(lingering) == 1
    state = wait_until(lambda: record(box, lingering[0]["id"])["state"] == "closing",
                       what="the session to show as closing")
    assert state
    shown = record(box, lingering[0]["id"])
    assert shown["end_reason"] == "logout" and shown["end_time"] is not None
    table = box.run(["sessmgrctl", "--user", "alice"]).stdout
    assert "closing" in table
    # Ending the stragglers ends the session for good.
    box.run(["pkill", "-u", "alice", "sleep"])
    wait_until(lambda: record(box, lingering[0]["id"])["state"] == "closed", what="the session to close")


def test_daemon_down_while_users_come_and_go(box):
    leaving = box.ssh_background("bob")
    bob_logind = box.wait_for_sessions("bob", 1)[0]
    bob_id = by_logind(box, bob_logind)

    box.run(["systemctl", "stop", "sessmgrd.socket", "sessmgrd.service"])
    arriving = box.ssh_background("alice")
    alice_logind = box.wait_for_sessions("alice", 1)[0]
    leaving.close()
    wait_until(lambda: not logind_has(box, bob_logind), what="bob's logout")
    box.run(["systemctl", "start", "sessmgrd.socket"])

    # The daemon starts on the first request and reconciles with logind.
    imported = wait_until(lambda: [r for r in records(box) if r["logind_session"] == alice_logind],
                          what="alice's login to be imported")[0]
    assert imported["user"] == "alice" and imported["service"] == "sshd"
    assert imported["remote_host"] == "127.0.0.1" and imported["from"] == "127.0.0.1"
    ended = wait_until(lambda: record(box, bob_id)["state"] == "closed" and record(box, bob_id),
                       what="bob's record to close")
    assert ended["end_reason"] == "terminated"
    assert [r["user"] for r in records(box)] == ["alice"]
    arriving.close()


def test_console_login_and_su_are_recorded(box):
    # login(1) on a terminal, as getty would run it.
    console = subprocess.Popen(box.command_line(["script", "-qfc", "login -f alice", "/dev/null"]),
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    login = wait_until(lambda: [r for r in records(box) if r["service"] == "login"], what="the console login")[0]
    assert login["user"] == "alice"
    assert login["tty"].replace("/dev/", "").startswith("pts/"), login
    assert login["device"] == f"login {login['tty'].replace('/dev/', '')}"
    assert login["logind_session"] and login["from"] == "local"

    # su -l inside an SSH login, with a terminal.
    box.run("mkdir -p -m 700 /root/.ssh && ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519 "
            "&& cp /root/.ssh/id_ed25519.pub /root/.ssh/authorized_keys")
    su = box.ssh_background("root", "su -l bob -c 'sleep infinity'", tty=True)
    switched = wait_until(lambda: [r for r in records(box) if r["service"] == "su-l"], what="the su login")[0]
    assert switched["user"] == "bob"
    assert switched["tty"].replace("/dev/", "").startswith("pts/"), switched
    ssh_root = [r for r in records(box) if r["user"] == "root"]
    assert len(ssh_root) == 1 and switched["logind_session"] == ssh_root[0]["logind_session"]
    # Started from root's SSH login, and says so.
    assert switched["parent_id"] == ssh_root[0]["id"]
    assert switched["device"].endswith(f"(from session {ssh_root[0]['id']})"), switched
    su.close()
    box.run(["pkill", "-KILL", "-f", "login -f alice"], check=False)
    console.stdin.close()
    console.wait(timeout=10)


def test_logind_restart_is_followed(box):
    held = box.ssh_background("alice")
    logind_id = box.wait_for_sessions("alice", 1)[0]
    session_id = by_logind(box, logind_id)
    # logind crashes; systemd brings it back (Restart=always), under a new bus name owner.
    box.run(["systemctl", "kill", "--signal=SIGKILL", "systemd-logind.service"])
    # Once at start, once more when the new logind took its name on the bus.
    wait_until(lambda: box.journal(unit="sessmgrd.service").count("following systemd-logind") >= 2,
               what="sessmgrd to read logind's list again")
    box.run(["pkill", "-KILL", "-f", "sshd: alice"])
    ended = wait_until(lambda: record(box, session_id)["state"] == "closed" and record(box, session_id),
                       what="the killed session to be closed")
    assert ended["end_reason"] == "terminated"
    held.drop()


def test_logout_json_for_scripts(box):
    """What configuration management reads: a result per session, nothing else on stdout,
    and an exit status that says whether every session went."""
    shell = RemoteShell(box, "alice")
    other = box.ssh_background("alice")
    other_logind = new_session(box, "alice", {shell.logind_session})
    ids = {r["logind_session"]: r["id"] for r in json.loads(shell.run("sessmgrctl list -j", check=True).stdout)["sessions"]}
    one, two = ids[shell.logind_session], ids[other_logind]

    # A program cannot answer the question: it must say --yes, or nothing happens.
    result = shell.run("sessmgrctl logout --others --json")
    assert result.returncode == 2 and "add --yes" in result.stderr and result.stdout == "", result
    assert other.is_running()

    result = shell.run("sessmgrctl logout --others --yes --json=short")
    assert result.returncode == 0, result
    answer = json.loads(result.stdout)
    assert len(result.stdout.splitlines()) == 1
    ended, kept = answer["sessions"]
    assert ended["id"] == two and ended["logind_session"] == other_logind and ended["current"] is False
    # logind may still be stopping its processes when sessmgrctl looks.
    assert ended["result"] == "logged-out" and ended["message"] in (None, "its processes are still exiting"), ended
    assert kept == {"id": one, "logind_session": shell.logind_session, "current": True,
                    "result": "skipped", "message": "it is the session sessmgrctl runs in"}
    wait_until(lambda: not other.is_running(), what="the other SSH client to be disconnected")
    wait_until(lambda: record(box, two)["state"] == "closed", what=f"session {two} to be closed")

    # Naming it again, with a typo: both fail, nothing else is touched.
    result = shell.run(f"sessmgrctl logout {two} 999 --yes --json")
    assert result.returncode == 1, result
    assert json.loads(result.stdout)["sessions"] == [
        {"id": two, "logind_session": other_logind, "current": False, "result": "refused",
         "message": f"Session {two} cannot be logged out: it has already ended."},
        {"id": 999, "logind_session": None, "current": False, "result": "not-found", "message": "No session 999."}]
    assert "No session 999." in result.stderr

    # --all: the document is whole before this session goes, and says so.
    shell.handle.process.stdin.write(b"sessmgrctl logout --all --yes --json >/tmp/all.json 2>/tmp/all.err\n")
    shell.handle.process.stdin.flush()
    wait_until(lambda: not shell.is_running(), what="the current session to end")
    wait_until(lambda: not logind_has(box, shell.logind_session), what="logind to drop the current session")
    assert json.loads(box.read_file("/tmp/all.json")) == {"sessions": [
        {"id": one, "logind_session": shell.logind_session, "current": True, "result": "logging-out", "message": None}]}
    ended = wait_until(lambda: record(box, one)["state"] == "closed" and record(box, one), what="the record to close")
    assert ended["end_reason"] == f"revoked by session {one} from 127.0.0.1"
