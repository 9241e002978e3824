# SPDX-License-Identifier: LGPL-2.1-or-later
"""The reconcile at start against a stand-in logind on a private bus whose dbus-daemon
keeps the system bus's stock limits: it answers at most 128 calls in flight per
connection and refuses the rest, so sessmgrd must not ask for every session at once."""

import sqlite3
import subprocess
import time

import pytest

from conftest import BUILD

FAKE_LOGIND = BUILD / "tests" / "bench" / "bench-fake-logind"     # built with the tests
SESSIONS = 1000


@pytest.fixture
def private_bus(world):
    config = world.directory / "bus.conf"
    address = f"unix:path={world.directory}/bus"
    # No <limit> elements: dbus-daemon's defaults, as on a stock system bus.
    config.write_text(f"""<busconfig><type>system</type><listen>{address}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>""")
    bus = subprocess.Popen(["dbus-daemon", "--nofork", f"--config-file={config}"])
    logind = None
    try:
        deadline = time.monotonic() + 10
        while not (world.directory / "bus").exists():
            assert time.monotonic() < deadline, "dbus-daemon did not start"
            time.sleep(0.01)
        logind = subprocess.Popen([FAKE_LOGIND, str(SESSIONS)], stdout=subprocess.PIPE, text=True,
                                  env={"DBUS_SYSTEM_BUS_ADDRESS": address})
        assert logind.stdout.readline(), "the stand-in logind did not start"
        yield address
    finally:
        if logind:
            logind.terminate()
            logind.wait()
        bus.terminate()
        bus.wait()


def wait_for_log(world, text, times=1, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if world.daemon_log.read_text().count(text) >= times:
            return
        time.sleep(0.05)
    raise AssertionError(f"sessmgrd never logged {text!r}: {world.daemon_log.read_text()}")


def test_reconcile_imports_every_session_within_the_bus_limits(world, private_bus):
    world.start_daemon(system_bus=private_bus)
    wait_for_log(world, "reconciled with systemd-logind")
    world.stop_daemon()

    log = world.daemon_log.read_text()
    assert f"{SESSIONS} session(s), {SESSIONS} imported" in log, log
    assert "cannot read the properties" not in log
    with sqlite3.connect(world.database) as db:
        imported = db.execute("SELECT count(DISTINCT logind_session) FROM sessions "
                              "WHERE origin = 'logind' AND state = 'active'").fetchone()[0]
    assert imported == SESSIONS


def test_a_second_start_imports_nothing_twice(world, private_bus):
    for start in (1, 2):
        world.start_daemon(system_bus=private_bus)
        wait_for_log(world, "reconciled with systemd-logind", times=start)
        world.stop_daemon()
    log = world.daemon_log.read_text()
    assert f"{SESSIONS} session(s), 0 imported" in log, log
    with sqlite3.connect(world.database) as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == SESSIONS
