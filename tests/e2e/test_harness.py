"""Tests of the container harness itself: boot, logind, SSH logins, teardown.

If these fail, the sessmgr end-to-end tests built on the harness mean nothing.
"""

import os
import subprocess
import time
from pathlib import Path

import pytest

from container import CommandFailed, Container

# How quickly logind must drop a session once its SSH connection ended.
SESSION_GONE_SECONDS = 5


def test_boots_with_logind_answering(container):
    state = container.run(["systemctl", "is-system-running"], check=False).stdout.strip()
    assert state in ("running", "degraded"), container.run(["systemctl", "--failed"]).stdout
    assert container.run(["loginctl", "list-sessions"]).returncode == 0
    assert container.run(["hostname"]).stdout.strip() == container.name


def test_network_is_private(container):
    # Only a loopback: sshd inside cannot clash with the host's.
    links = container.run(["ip", "-brief", "link"]).stdout.splitlines()
    assert [line.split()[0] for line in links] == ["lo"]


def test_commands_as_user_get_the_users_environment(container):
    container.add_user("alice")
    result = container.run('id -un; echo "$HOME"; pwd', user="alice")
    assert result.stdout.split() == ["alice", "/home/alice", "/home/alice"]
    # setpriv runs no PAM stack, so it must not have made a logind session.
    assert container.sessions() == []


def test_run_reports_failures_with_output(container):
    with pytest.raises(CommandFailed) as failure:
        container.run("echo to-stdout; echo to-stderr >&2; exit 3")
    assert failure.value.returncode == 3
    assert "to-stdout" in str(failure.value) and "to-stderr" in str(failure.value)
    assert container.run("exit 4", check=False).returncode == 4


def test_run_timeout_kills_the_command_inside(container):
    with pytest.raises(subprocess.TimeoutExpired):
        container.run(["sleep", "300"], timeout=1)
    assert "sleep 300" not in container.run(["ps", "-eo", "args"]).stdout


def test_write_file(container):
    container.add_user("alice")
    container.write_file("/etc/sessmgr-e2e/a/b.conf", "key=value\n", mode=0o600, owner="alice")
    assert container.read_file("/etc/sessmgr-e2e/a/b.conf") == "key=value\n"
    listing = container.run(["stat", "-c", "%a %U", "/etc/sessmgr-e2e/a/b.conf"]).stdout
    assert listing.split() == ["600", "alice"]


def test_ssh_login_makes_a_logind_session(container):
    container.add_user("alice")
    # pam_systemd (via common-session in /etc/pam.d/sshd) registers the
    # session and exports its id.
    result = container.ssh(
        "alice", 'id -un; loginctl show-session "$XDG_SESSION_ID" -p Service -p Remote')
    assert sorted(result.stdout.split()) == ["Remote=yes", "Service=sshd", "alice"]


def test_ssh_exit_status_is_the_remote_commands(container):
    container.add_user("alice")
    assert container.ssh("alice", "exit 7", check=False).returncode == 7


def test_background_logins_are_visible_in_logind(container):
    for user in ("alice", "bob"):
        container.add_user(user)
    alice = container.ssh_background("alice")
    bob = container.ssh_background("bob")
    (alice_id,) = container.wait_for_sessions("alice", 1)
    (bob_id,) = container.wait_for_sessions("bob", 1)

    sessions = {session["id"]: session["user"] for session in container.sessions()}
    assert sessions == {alice_id: "alice", bob_id: "bob"}
    for user, session_id in (("alice", alice_id), ("bob", bob_id)):
        properties = container.session_properties(
            session_id, "Name", "Remote", "RemoteHost", "Service", "State")
        assert properties == {"Name": user, "Remote": "yes", "RemoteHost": "127.0.0.1",
                              "Service": "sshd", "State": "active"}

    alice.close()
    assert not alice.is_running()
    container.wait_for_sessions("alice", 0, timeout=SESSION_GONE_SECONDS)
    assert container.wait_for_sessions("bob", 1) == [bob_id]
    bob.close()
    container.wait_for_sessions("bob", 0, timeout=SESSION_GONE_SECONDS)


def test_tty_login(container):
    container.add_user("alice")
    login = container.ssh_background("alice", "tty; sleep infinity", tty=True)
    (session_id,) = container.wait_for_sessions("alice", 1)
    # logind learns the terminal a moment after the session appeared.
    deadline = time.monotonic() + 5
    while not container.session_properties(session_id, "TTY")["TTY"]:
        assert time.monotonic() < deadline, "logind never learned the session's TTY"
        time.sleep(0.1)
    tty = container.session_properties(session_id, "TTY")["TTY"]
    assert tty.startswith("pts/")
    assert login.output().strip() == f"/dev/{tty}"
    login.close()
    container.wait_for_sessions("alice", 0, timeout=SESSION_GONE_SECONDS)


@pytest.mark.parametrize("tty", [False, True])
def test_dropped_connection_ends_the_session(container, tty):
    container.add_user("alice")
    login = container.ssh_background("alice", tty=tty)
    container.wait_for_sessions("alice", 1)
    login.drop()
    container.wait_for_sessions("alice", 0, timeout=SESSION_GONE_SECONDS)


def test_background_command_may_end_by_itself(container):
    container.add_user("alice")
    login = container.ssh_background("alice", "echo started; sleep 1; exit 3")
    container.wait_for_sessions("alice", 1)
    assert login.process.wait(timeout=10) == 3
    assert "started" in login.output()
    container.wait_for_sessions("alice", 0, timeout=SESSION_GONE_SECONDS)


def test_install_tree_keeps_merged_usr_links(container, tmp_path):
    stage = tmp_path / "stage"
    # meson may install PAM modules under /lib; in bookworm /lib -> usr/lib.
    (stage / "lib/sessmgr-e2e").mkdir(parents=True)
    (stage / "lib/sessmgr-e2e/marker").write_text("installed\n")
    units = stage / "usr/lib/systemd/system"
    units.mkdir(parents=True)
    (units / "sessmgr-e2e-probe.service").write_text(
        "[Service]\nType=oneshot\nExecStart=/bin/touch /run/probe-ran\n")

    container.install_tree(stage)
    assert container.run(["readlink", "/lib"]).stdout.strip() == "usr/lib"
    assert container.read_file("/usr/lib/sessmgr-e2e/marker") == "installed\n"
    # install_tree reloaded systemd, so the new unit is known.
    container.run(["systemctl", "start", "sessmgr-e2e-probe.service"])
    container.run(["test", "-e", "/run/probe-ran"])


def test_prepare_runs_before_boot(container_factory):
    def prepare(box):
        assert box.init_pid is None          # not booted: commands go through chroot
        box.write_file("/etc/sessmgr-e2e-prepared", "yes\n")

    box = container_factory(prepare=prepare)
    assert box.read_file("/etc/sessmgr-e2e-prepared") == "yes\n"


def test_two_containers_run_side_by_side(container_factory):
    first, second = container_factory(), container_factory()
    assert first.name != second.name
    assert first.read_file("/etc/machine-id") != second.read_file("/etc/machine-id")
    for box in (first, second):
        box.add_user("alice")
        # Each has its own sshd on its own 127.0.0.1.
        assert box.ssh("alice", "hostname").stdout.strip() == box.name


def test_stop_leaves_nothing_behind(rootfs):
    box = Container(rootfs)
    with box:
        box.add_user("alice")
        box.ssh_background("alice")       # left open on purpose
        box.wait_for_sessions("alice", 1)
        nspawn_pid = box.nspawn.pid
    assert not box.directory.exists()
    assert str(box.root) not in Path("/proc/mounts").read_text()
    assert not Path(f"/proc/{nspawn_pid}").exists()
    assert not Path(f"/run/systemd/nspawn/propagate/{box.name}").exists()
    assert box.timings["teardown"] < 5, box.timings


def test_journal_is_readable(container):
    assert "ssh" in container.journal(unit="ssh.service").lower()
    assert os.path.isfile(container.boot_log)
