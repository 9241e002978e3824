# SPDX-License-Identifier: LGPL-2.1-or-later
"""Floods by an ordinary user: replies never read, cheap calls that make the daemon read
/proc, connections from many uids, a daemon out of file descriptors. Root's logins (the
PAM module calls as root) are recorded throughout, and the daemon's memory, CPU time and
log stay small."""

import os
import resource
import subprocess
import sys
import threading
import time

from conftest import PRELOAD_FIRST
from test_hostile_clients import HOSTILE, hostile
from test_logind_stand_in import stand_in_logind, wait_for_log

FLOODER = 60000         # owns session f0 of the stand-in logind


def status_kib(world, field):
    for line in open(f"/proc/{world.daemon.pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/PID/status")


def cpu_seconds(world):
    fields = open(f"/proc/{world.daemon.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100     # utime + stime, in clock ticks


def root_logins(world, count):
    """How many of count root logins (open and close) the daemon answered in time."""
    answered = 0
    for _ in range(count):
        result, _ = world.pamtester("bob", "open_session", "close_session")
        assert result.returncode == 0, result.stderr
        answered += "did not answer" not in result.stderr and "cannot record" not in result.stderr
    return answered


def background(world, mode, number, user):
    command = (["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user else []) + \
        [sys.executable, HOSTILE, str(world.socket), mode, str(number)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_unread_replies_do_not_grow_memory(daemon):
    for _ in range(3):
        daemon.login("alice", "open_session")   # something to list: replies of some size
    before = status_kib(daemon, "VmRSS")
    sent = hostile(daemon, "unread-replies", 50000)["sent"]
    peak = status_kib(daemon, "VmHWM")
    # It stopped reading: the rest of the calls wait in the kernel, and the client blocks.
    assert sent < 20000, sent
    # 50,000 replies held would be hundreds of MB; a few per connection are nothing
    # (AddressSanitizer keeps freed memory in quarantine: no figure to check there).
    if not PRELOAD_FIRST:
        assert peak - before < 32 * 1024, (sent, before, peak)
    # A client that pipelines many calls and reads afterwards gets every answer.
    assert hostile(daemon, "pipelined", 200) == {"returns": 200}
    assert root_logins(daemon, 3) == 3


def test_root_logins_answered_while_a_user_floods_list_calls(world):
    """Session f0 of uid 60000 has 3,000 processes (one pid listed 3,000 times: the same
    /proc read each); 16 connections of that user keep a ListSessions in flight each."""
    scope = world.directory / "cgroup" / "user.slice" / f"user-{FLOODER}.slice" / "session-f0.scope"
    scope.mkdir(parents=True)
    (scope / "cpu.stat").write_text("usage_usec 5\n")
    (scope / "cgroup.procs").write_text(f"{os.getpid()}\n" * 3000)
    with stand_in_logind(world, 1) as (address, _):
        world.start_daemon("--cgroup-root", str(world.directory / "cgroup"), system_bus=address)
        wait_for_log(world, "reconciled with systemd-logind")
        flood = background(world, "list-flood", 25, FLOODER)
        time.sleep(2)
        answered = root_logins(world, 20)
        output, errors = flood.communicate(timeout=60)
    assert flood.returncode == 0, errors
    assert answered == 20
    assert '"error"' not in output, output      # the user was served too, only after root


def test_a_daemon_started_with_few_files_still_records(world):
    """Started by hand under a tight limit of open files: fewer connections, but logins
    are recorded (the caps once came out as 0 below 128 files, and refused everyone)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (100, hard))
    try:
        world.start_daemon()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    world.login("alice", "open_session", items=["tty=pts/7"])
    listed = world.ctl("list", "--all")
    assert listed.returncode == 0 and "pts/7" in listed.stdout, (listed, world.daemon_log.read_text())


def test_root_has_room_when_many_uids_fill_the_caps(world):
    """24 uids x 16 connections (a user's subordinate uids look like this where they run
    outside any login) against 256 open files: no accept4() fails, root logs in."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        world.start_daemon()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    holders = [background(world, "hold", 16, 70000 + i) for i in range(24)]
    time.sleep(2)
    cpu_before = cpu_seconds(world)
    answered = root_logins(world, 10)
    cpu_used = cpu_seconds(world) - cpu_before
    for holder in holders:
        holder.communicate(timeout=60)
    log = world.daemon_log.read_text()
    assert answered == 10, log[-2000:]
    assert "cannot accept" not in log
    assert len(log.splitlines()) < 50, log[-2000:]
    assert cpu_used < 2, cpu_used


def test_accepting_pauses_when_out_of_files(daemon):
    """The daemon's limit drops to 64 files under it, and root opens 150 connections:
    accept4() fails with EMFILE until they go; the daemon pauses and says so rarely."""
    resource.prlimit(daemon.daemon.pid, resource.RLIMIT_NOFILE, (64, 64))
    holder = background(daemon, "hold", 150, None)
    time.sleep(1)
    cpu_before = cpu_seconds(daemon)
    time.sleep(5)
    cpu_used = cpu_seconds(daemon) - cpu_before
    output, errors = holder.communicate(timeout=60)
    assert holder.returncode == 0, errors
    log = daemon.daemon_log.read_text()
    assert 1 <= log.count("cannot accept") <= 2, log[-2000:]
    assert cpu_used < 1, cpu_used
    # Once the connections are gone, accepting resumed.
    time.sleep(0.5)
    assert root_logins(daemon, 3) == 3
