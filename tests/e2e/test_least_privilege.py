# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgrd without root: its own system user, no capability, groups tty and
systemd-journal; the idle logout allowed by polkit, not by a capability; a database
that an older sessmgrd wrote as root kept on upgrade. Real systemd, logind, polkitd,
sshd."""

import json

import pytest

from remote_shell import RemoteShell
from test_logout import records
from waiting import wait_until

DATABASE_DIRECTORY = "/var/lib/sessmgr"
DATABASE_FILES = ["sessions.db", "sessions.db-wal", "sessions.db-shm"]
POLKIT_RULE = "/usr/share/polkit-1/rules.d/sessmgr.rules"
OLD_UNIT_DROP_IN = "/etc/systemd/system/sessmgrd.service.d/as-root.conf"


def main_pid(box):
    pid = int(box.run(["systemctl", "show", "--property=MainPID", "--value", "sessmgrd.service"]).stdout)
    assert pid > 0, "sessmgrd is not running"
    return pid


def process_status(box, pid):
    fields = {}
    for line in box.read_file(f"/proc/{pid}/status").splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()
    return fields


def group_id(box, name):
    return box.run(["getent", "group", name]).stdout.split(":")[2]


def owners(box, directory, names):
    """{name: "user:group mode"} of the files that exist."""
    script = 'cd "$1" && shift && for f; do [ -e "$f" ] && stat -c "%n %U:%G %a" "$f"; done; true'
    output = box.run(["sh", "-c", script, "sh", directory, *names]).stdout
    return {line.split()[0]: " ".join(line.split()[1:]) for line in output.splitlines()}


def history(box):
    return json.loads(box.run(["sessmgrctl", "history", "--all", "--json"]).stdout)["sessions"]


def every_record(box):
    """Open and closed, by id."""
    return sorted(records(box) + history(box), key=lambda r: r["id"])


def test_sessmgrd_runs_as_its_user_with_no_capability(box):
    # Running before the login, so that the module records it (with its client port,
    # which matches sshd's line) rather than the import from logind.
    box.run(["systemctl", "start", "sessmgrd.service"])
    shell = RemoteShell(box, "alice")
    # The terminal comes from alice's /proc/PID/stat, the method from sshd's journal line.
    login = wait_until(lambda: [r for r in records(box, "--user", "alice")      # a fresh look
                                if r["logind_session"] == shell.logind_session and r["ttys"] and r["auth_method"]],
                       timeout=20, what="alice's terminal and authentication method")[0]
    assert login["auth_method"] == "publickey" and login["ttys"][0].startswith("pts/")

    status = process_status(box, main_pid(box))
    sessmgr_uid = box.run(["id", "-u", "sessmgr"]).stdout.strip()
    assert status["Uid"] == [sessmgr_uid] * 4 and status["Gid"] == [group_id(box, "sessmgr")] * 4
    assert sessmgr_uid != "0"
    assert set(status["Groups"]) == {group_id(box, "tty"), group_id(box, "systemd-journal"),
                                     group_id(box, "sessmgr")}
    for capabilities in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert status[capabilities] == ["0000000000000000"], (capabilities, status[capabilities])

    assert owners(box, "/var/lib", ["sessmgr"]) == {"sessmgr": "sessmgr:sessmgr 700"}
    files = owners(box, DATABASE_DIRECTORY, DATABASE_FILES)
    assert files["sessions.db"] == "sessmgr:sessmgr 600"
    assert set(files.values()) == {"sessmgr:sessmgr 600"}, files
    shell.handle.close()


def test_idle_logout_of_another_users_session_is_polkits_to_allow(box):
    box.run(["mv", POLKIT_RULE, "/root/sessmgr.rules"])
    idle = box.ssh_background("alice", "sleep 600")
    idle_id = box.wait_for_sessions("alice", 1)[0]

    # logind 252 names CAP_KILL for TerminateSession but cannot see a caller's
    # capabilities over the system bus: with it and without the rule, refused.
    sessmgr_uid = box.run(["id", "-u", "sessmgr"]).stdout.strip()
    refused = box.run(["setpriv", f"--reuid={sessmgr_uid}", f"--regid={sessmgr_uid}", "--clear-groups",
                       "--inh-caps=+kill", "--ambient-caps=+kill", "--",
                       "busctl", "call", "org.freedesktop.login1", "/org/freedesktop/login1",
                       "org.freedesktop.login1.Manager", "TerminateSession", "s", idle_id], check=False)
    assert refused.returncode != 0, refused
    assert "Interactive authentication required" in refused.stderr or "Access denied" in refused.stderr, refused
    assert any(s["id"] == idle_id for s in box.sessions())

    box.write_file("/etc/sessmgr/sessmgrd.conf",
                   "[Activity]\nPollIntervalSec=1\n[IdleLogout]\nIdleTimeoutSec=3\nWarnSec=0\n")
    box.run(["systemctl", "restart", "sessmgrd.service"])
    wait_until(lambda: "did not end an idle session" in box.journal(unit="sessmgrd.service"),
               timeout=30, what="logind to refuse sessmgrd without the polkit rule")
    assert idle.is_running()

    # The rule back: the next sessmgrd logs alice's session out through logind.
    box.run(["mv", "/root/sessmgr.rules", POLKIT_RULE])
    box.run(["systemctl", "restart", "polkit.service", "sessmgrd.service"])
    wait_until(lambda: not idle.is_running(), timeout=30, what="the idle session to be logged out")
    wait_until(lambda: not any(s["id"] == idle_id for s in box.sessions()), timeout=15,
               what="logind to remove the session")
    ended = [r for r in history(box) if r["logind_session"] == idle_id]
    assert [r["end_reason"] for r in ended] == ["idle"], ended


def run_as_root_like_older_versions(box):
    """sessmgrd as an older unit ran it: as root, leaving its database root's."""
    box.write_file(OLD_UNIT_DROP_IN, "[Service]\nUser=root\nGroup=root\nRestart=no\n")
    box.run(["systemctl", "daemon-reload"])
    box.run(["systemctl", "restart", "sessmgrd.service"])
    assert process_status(box, main_pid(box))["Uid"][0] == "0"


@pytest.mark.parametrize("upgrade", ["tmpfiles-first", "state-directory"])
def test_upgrade_keeps_a_root_owned_database(box, upgrade):
    run_as_root_like_older_versions(box)
    for _ in range(3):
        box.ssh("alice", "true")
    held = box.ssh_background("bob")
    held_id = box.wait_for_sessions("bob", 1)[0]
    wait_until(lambda: len(history(box)) == 3 and len(records(box)) == 1, timeout=20,
               what="three closed records and bob's open one")
    before = every_record(box)
    # Killed, as by a crash or a power cut: the -wal and -shm stay beside the database.
    box.run(["systemctl", "kill", "--signal=KILL", "sessmgrd.service"])
    wait_until(lambda: box.run(["systemctl", "is-active", "sessmgrd.service"], check=False).stdout.strip()
               != "active", what="sessmgrd to die")
    assert owners(box, DATABASE_DIRECTORY, DATABASE_FILES) == {name: "root:root 600" for name in DATABASE_FILES}

    box.run(["rm", OLD_UNIT_DROP_IN])
    box.run(["systemctl", "daemon-reload"])
    if upgrade == "tmpfiles-first":
        # What the package's postinst does before it restarts sessmgrd.
        box.run(["systemd-sysusers", "sessmgr.conf"])
        box.run(["systemd-tmpfiles", "--create", "sessmgr.conf"])
    box.run(["systemctl", "start", "sessmgrd.service"])

    assert process_status(box, main_pid(box))["Uid"][0] == box.run(["id", "-u", "sessmgr"]).stdout.strip()
    kept = every_record(box)
    assert [(r["id"], r["logind_session"], r["login_time_usec"], r["state"]) for r in before] == \
           [(r["id"], r["logind_session"], r["login_time_usec"], r["state"]) for r in kept]
    assert [r["logind_session"] for r in kept if r["state"] == "active"] == [held_id]
    # And it writes: a new login and the end of bob's.
    box.ssh("alice", "true")
    held.close()
    wait_until(lambda: len(history(box)) == 5 and not records(box),
               timeout=20, what="the new login and bob's logout recorded")
    files = owners(box, DATABASE_DIRECTORY, DATABASE_FILES)
    assert files["sessions.db"] == "sessmgr:sessmgr 600" and set(files.values()) == {"sessmgr:sessmgr 600"}
