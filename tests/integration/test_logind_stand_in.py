# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgrd beside a stand-in logind (tests/bench/fake-logind.c) on a private dbus-daemon
with Debian's stock system bus configuration, limits included: at most 128 calls in
flight per connection, the rest refused. For what the container cannot show: thousands of
sessions, and a logind that says no."""

import contextlib
import sqlite3
import time

from stock_bus import stock_bus


@contextlib.contextmanager
def stand_in_logind(world, sessions, refusals=0):
    """Yields the bus address and a queue of the lines the stand-in prints."""
    with stock_bus(world, sessions, refusals) as (address, stand_in):
        yield address, stand_in.lines


def wait_for_log(world, text, times=1, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if world.daemon_log.read_text().count(text) >= times:
            return
        time.sleep(0.05)
    raise AssertionError(f"sessmgrd never logged {text!r}: {world.daemon_log.read_text()}")


def test_reconcile_imports_every_session_within_the_bus_limits(world):
    with stand_in_logind(world, 1000) as (address, _):
        world.start_daemon(system_bus=address)
        wait_for_log(world, "reconciled with systemd-logind")

    log = world.daemon_log.read_text()
    assert "1000 session(s), 1000 imported" in log, log
    assert "cannot read the properties" not in log
    with sqlite3.connect(world.database) as db:
        imported = db.execute("SELECT count(DISTINCT logind_session) FROM sessions "
                              "WHERE origin = 'logind' AND state = 'active'").fetchone()[0]
    assert imported == 1000


def test_a_second_start_imports_nothing_twice(world):
    with stand_in_logind(world, 1000) as (address, _):
        for start in (1, 2):
            world.start_daemon(system_bus=address)
            wait_for_log(world, "reconciled with systemd-logind", times=start)
            world.stop_daemon()
    log = world.daemon_log.read_text()
    assert "1000 session(s), 0 imported" in log, log
    with sqlite3.connect(world.database) as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1000


def test_an_idle_logout_logind_refused_is_asked_for_again(world):
    # Session f0 of uid 60000, its cgroup as the poller reads it; it never gets busier.
    scope = world.directory / "cgroup" / "user.slice" / "user-60000.slice" / "session-f0.scope"
    scope.mkdir(parents=True)
    (scope / "cpu.stat").write_text("usage_usec 5\nuser_usec 3\nsystem_usec 2\n")
    (scope / "cgroup.procs").write_text("")
    config = world.directory / "sessmgrd.conf"
    config.write_text("[IdleLogout]\nIdleTimeoutSec=1\nWarnSec=0\n")

    with stand_in_logind(world, 1, refusals=1) as (address, lines):
        world.start_daemon("--config", str(config), "--poll-interval", "1",
                           "--cgroup-root", str(world.directory / "cgroup"), system_bus=address)
        asked = [lines.get(timeout=20) for _ in range(2)]

    assert asked == ["terminate f0: refused\n", "terminate f0: done\n"]
    log = world.daemon_log.read_text()
    assert log.count("systemd-logind did not end an idle session: Not now.") == 1, log
    with sqlite3.connect(world.database) as db:
        assert db.execute("SELECT revoke_reason FROM sessions WHERE logind_session = 'f0'").fetchone()[0] == "idle"
