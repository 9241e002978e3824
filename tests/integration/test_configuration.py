# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgrd.conf, its drop-ins and reloads, with the real daemon: the files are searched
under --config-root as they are under / (the package's directory, /run, /etc), and a
stand-in logind on a private bus shows what an idle logout asks for."""

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time

from conftest import SESSMGRD
from stock_bus import stock_bus
from test_logind_stand_in import wait_for_log

# As the build's defaults (meson_options.txt): the package's, the run time's, the admin's.
VENDOR = "usr/lib/sessmgr"
RUNTIME = "run/sessmgr"
ADMIN = "etc/sessmgr"


def write(root, path, text):
    """text None: a symbolic link to /dev/null, systemd's way to mask a file."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if text is None:
        target.symlink_to("/dev/null")
    else:
        target.write_text(text)
    return target


def sessmgrd(*arguments):
    return subprocess.run([SESSMGRD, *map(str, arguments)], capture_output=True, text=True, timeout=60)


def layered_root(world):
    root = world.directory / "root"
    write(root, f"{VENDOR}/sessmgrd.conf", "[History]\nRetentionDays=10\n")
    # The admin's main file wins over the package's: only one main file is read.
    write(root, f"{ADMIN}/sessmgrd.conf", "[History]\nRetentionDays=20\n[IdleLogout]\nExemptUsers=root\n")
    write(root, f"{VENDOR}/sessmgrd.conf.d/10-package.conf", "[IdleLogout]\nIdleTimeoutSec=3600\nWarnSec=600\n")
    # Replaced by the one of the same name in /run, which is read in its place.
    write(root, f"{VENDOR}/sessmgrd.conf.d/20-replaced.conf", "[IdleLogout]\nExemptUsers=never\n")
    write(root, f"{RUNTIME}/sessmgrd.conf.d/20-replaced.conf", "[IdleLogout]\nExemptUsers=bob\n")
    # Masked from /etc: not read at all, so its garbage does not stop the daemon.
    write(root, f"{VENDOR}/sessmgrd.conf.d/30-masked.conf", "this is not a setting\n")
    write(root, f"{ADMIN}/sessmgrd.conf.d/30-masked.conf", None)
    # Last by name, though in the package's directory: it has the last word.
    write(root, f"{ADMIN}/sessmgrd.conf.d/40-admin.conf", "[History]\nRetentionDays=40\n")
    write(root, f"{VENDOR}/sessmgrd.conf.d/50-package-last.conf", "[IdleLogout]\nExemptServices=login\n")
    write(root, f"{ADMIN}/sessmgrd.conf.d/README", "not a drop-in: no .conf\n")
    return root


def test_drop_ins_are_read_by_name_with_etc_masking_the_package(world):
    root = layered_root(world)

    listed = sessmgrd("--config-root", root, "--cat-config")
    assert listed.returncode == 0, listed.stderr
    headers = [line[2:] for line in listed.stdout.splitlines() if line.startswith(f"# {root}")]
    assert headers == [str(root / path) for path in (
        f"{ADMIN}/sessmgrd.conf",
        f"{VENDOR}/sessmgrd.conf.d/10-package.conf",
        f"{RUNTIME}/sessmgrd.conf.d/20-replaced.conf",
        f"{ADMIN}/sessmgrd.conf.d/40-admin.conf",
        f"{VENDOR}/sessmgrd.conf.d/50-package-last.conf")]
    assert "ExemptUsers=bob" in listed.stdout and "never" not in listed.stdout

    dumped = sessmgrd("--config-root", root, "--dump-config")
    assert dumped.returncode == 0, dumped.stderr
    assert dumped.stdout == ("[Database]\nFlushIntervalSec=1\n\n"
                             "[Activity]\nPollIntervalSec=30\n\n"
                             "[History]\nRetentionDays=40\n\n"
                             "[IdleLogout]\nIdleTimeoutSec=3600\nWarnSec=600\n"
                             "ExemptUsers=root bob\nExemptServices=login\nCountProcessActivity=no\n\n"
                             "[Fleet]\nAgentUser=\n")

    # The daemon reads the same files: the masked one would stop it.
    world.start_daemon("--config-root", str(root))
    assert world.stop_daemon() == 0
    log = world.daemon_log.read_text()
    assert "not a setting" not in log, log


def test_an_invalid_drop_in_stops_the_start_and_names_its_file_and_line(world):
    root = world.directory / "root"
    bad = write(root, f"{ADMIN}/sessmgrd.conf.d/60-typo.conf", "[IdleLogout]\n\nIdleTimeoutSec=30min\n")

    result = subprocess.run([SESSMGRD, "--socket", world.socket, "--db", world.database, "--config-root", root],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f'{bad}:3: [IdleLogout] IdleTimeoutSec=: invalid value "30min"' in result.stderr, result.stderr
    assert not world.database.exists()

    # Masking it from the package's directory does not help: /etc wins.
    write(root, f"{VENDOR}/sessmgrd.conf.d/60-typo.conf", None)
    assert sessmgrd("--config-root", root, "--dump-config").returncode == 1


def test_cat_and_dump_refuse_bad_usage(world):
    both = sessmgrd("--config", world.directory / "x.conf", "--config-root", world.directory, "--dump-config")
    assert both.returncode == 2 and "not both" in both.stderr
    relative = sessmgrd("--config-root", "root", "--cat-config")
    assert relative.returncode == 2 and "absolute path" in relative.stderr
    # Nothing to read: nothing printed, the defaults in effect.
    empty = sessmgrd("--config-root", world.directory / "empty", "--cat-config")
    assert empty.returncode == 0 and empty.stdout == ""


@contextlib.contextmanager
def notifications(monkeypatch, world):
    """The sd_notify() messages sessmgrd sends, as systemd would receive them."""
    path = world.directory / "notify"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.settimeout(30)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    try:
        yield lambda: receiver.recv(4096).decode()
    finally:
        receiver.close()


def idle_session_cgroup(world, uid, logind_session, procs=""):
    scope = world.directory / "cgroup" / "user.slice" / f"user-{uid}.slice" / f"session-{logind_session}.scope"
    scope.mkdir(parents=True)
    (scope / "cpu.stat").write_text("usage_usec 5\nuser_usec 3\nsystem_usec 2\n")
    (scope / "cgroup.procs").write_text(procs)
    return scope


def test_reload_applies_a_new_idle_timeout(world, monkeypatch):
    root = world.directory / "root"
    write(root, f"{ADMIN}/sessmgrd.conf", "[Activity]\nPollIntervalSec=1\n")
    idle_session_cgroup(world, 60000, "f0")

    # The bus first: dbus-daemon would tell the notification socket it is ready too.
    with stock_bus(world, 1) as (address, stand_in), notifications(monkeypatch, world) as receive:
        world.start_daemon("--config-root", str(root), "--cgroup-root", str(world.directory / "cgroup"),
                           system_bus=address)
        assert "READY=1" in receive()
        write(root, f"{ADMIN}/sessmgrd.conf.d/50-idle.conf", "[IdleLogout]\nIdleTimeoutSec=1\nWarnSec=0\n")
        world.daemon.send_signal(signal.SIGHUP)

        # Idle logout was off: the first request to end f0 follows the reload.
        assert stand_in.lines.get(timeout=30) == "terminate f0: done\n"
        reloading, ready = receive(), receive()
        assert "RELOADING=1" in reloading and "MONOTONIC_USEC=" in reloading, reloading
        assert "READY=1" in ready, ready

    log = world.daemon_log.read_text()
    assert '[IdleLogout] IdleTimeoutSec= changed from "0" to "1"' in log, log
    assert '[IdleLogout] WarnSec= changed from "300" to "0"' in log, log
    assert "configuration reloaded: 2 setting(s) changed" in log, log
    with sqlite3.connect(world.database) as db:
        assert db.execute("SELECT revoke_reason FROM sessions WHERE logind_session = 'f0'").fetchone()[0] == "idle"


def test_an_invalid_reload_keeps_the_configuration_in_use(world):
    root = world.directory / "root"
    write(root, f"{ADMIN}/sessmgrd.conf", "[Activity]\nPollIntervalSec=1\n[IdleLogout]\nIdleTimeoutSec=1\nWarnSec=0\n")
    idle_session_cgroup(world, 60000, "f0")

    # logind refuses every time, so sessmgrd asks again at every look while idle logout is on.
    with stock_bus(world, 1, refusals=1_000_000) as (address, stand_in):
        world.start_daemon("--config-root", str(root), "--cgroup-root", str(world.directory / "cgroup"),
                           system_bus=address)
        assert stand_in.lines.get(timeout=30) == "terminate f0: refused\n"

        # Valid lines that would turn idle logout off, in a file that is not valid as a whole.
        bad = write(root, f"{ADMIN}/sessmgrd.conf.d/50-off.conf",
                    "[IdleLogout]\nIdleTimeoutSec=0\nExemptUsers=user0\nWarnSec=soon\n")
        world.daemon.send_signal(signal.SIGHUP)
        wait_for_log(world, "configuration not reloaded, the one in use stays")
        while not stand_in.lines.empty():
            stand_in.lines.get()
        # The first line may have been on its way before the reload; the second is after it.
        assert [stand_in.lines.get(timeout=30) for _ in range(2)] == ["terminate f0: refused\n"] * 2

        # Fixed, the same reload turns it off.
        bad.write_text("[IdleLogout]\nIdleTimeoutSec=0\n")
        world.daemon.send_signal(signal.SIGHUP)
        wait_for_log(world, "configuration reloaded: 1 setting(s) changed")

    log = world.daemon_log.read_text()
    assert f'{bad}:4: [IdleLogout] WarnSec=: invalid value "soon": configuration not reloaded' in log, log
    assert 'IdleTimeoutSec= changed from "1" to "0"' in log, log


class Terminal:
    """A process whose controlling terminal is a new pty nobody types into, as the login
    shell of an SSH session with a terminal."""

    def __init__(self):
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(["setsid", "-c", "sleep", "600"], stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)

    def close(self):
        self.process.kill()
        self.process.wait()
        os.close(self.master)


def busy_and_idle_terminals(world, count_process_activity):
    """Sessions f0 (uid 60000) and f1 (uid 60001), each a shell on its own terminal that
    nobody types into; f0's processes keep using CPU (a build), f1's do not. Yields the
    stand-in logind and an Event that stops f0's work."""
    terminals = [Terminal(), Terminal()]
    busy = idle_session_cgroup(world, 60000, "f0", f"{terminals[0].process.pid}\n")
    idle_session_cgroup(world, 60001, "f1", f"{terminals[1].process.pid}\n")
    config = world.directory / "sessmgrd.conf"
    config.write_text("[Activity]\nPollIntervalSec=1\n[IdleLogout]\nIdleTimeoutSec=3\nWarnSec=0\n"
                      f"CountProcessActivity={count_process_activity}\n")
    stop = threading.Event()

    def work():
        usage = 5
        while not stop.wait(0.2):
            usage += 100_000        # 100 ms of CPU every 200 ms
            (busy / "cpu.stat").write_text(f"usage_usec {usage}\n")

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    return terminals, config, stop, worker


def next_request_for(stand_in, logind_session):
    """The next line of the stand-in about this session: it answers "done" without ending
    the session, so sessmgrd asks again about the others at each look."""
    while True:
        line = stand_in.lines.get(timeout=30)
        if line.startswith(f"terminate {logind_session}:"):
            return line


def wait_for_activity(world, logind_session, source, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        found = last_activity(world, logind_session)
        if found[0] == source or time.monotonic() > deadline:
            assert found[0] == source, found
            return found
        time.sleep(0.05)


def last_activity(world, logind_session):
    with sqlite3.connect(world.database) as db:
        return db.execute("SELECT last_active_source, ttys FROM sessions WHERE logind_session = ?",
                          (logind_session,)).fetchone()


def test_a_busy_terminal_session_is_not_idle_with_count_process_activity(world):
    terminals, config, stop, worker = busy_and_idle_terminals(world, "yes")
    try:
        with stock_bus(world, 2) as (address, stand_in):
            world.start_daemon("--config", str(config), "--cgroup-root", str(world.directory / "cgroup"),
                               system_bus=address)
            # The idle terminal goes, the busy one stays, and is in use by its processes.
            assert stand_in.lines.get(timeout=30) == "terminate f1: done\n"
            # The look that logged f1 out saw f0 busy; its record is written when that
            # loop turn commits, which may be just after the request to logind.
            source, ttys = wait_for_activity(world, "f0", "process-activity")
            assert ttys.startswith("pts/"), ttys

            # Its work done, it is idle like any other and logged out in its turn.
            stop.set()
            worker.join()
            asked_while_busy = []
            while not stand_in.lines.empty():
                asked_while_busy.append(stand_in.lines.get())
            assert not [line for line in asked_while_busy if "f0" in line], asked_while_busy
            assert next_request_for(stand_in, "f0") == "terminate f0: done\n"
    finally:
        stop.set()
        for terminal in terminals:
            terminal.close()


def test_by_default_only_typing_keeps_a_terminal_session(world):
    terminals, config, stop, worker = busy_and_idle_terminals(world, "no")
    try:
        with stock_bus(world, 2) as (address, stand_in):
            world.start_daemon("--config", str(config), "--cgroup-root", str(world.directory / "cgroup"),
                               system_bus=address)
            assert next_request_for(stand_in, "f0") == "terminate f0: done\n"
            source, ttys = last_activity(world, "f0")
            assert source == "tty-input" and ttys.startswith("pts/"), (source, ttys)
    finally:
        stop.set()
        worker.join()
        for terminal in terminals:
            terminal.close()
