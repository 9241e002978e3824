# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hostile clients: many idle connections, slow drips, huge and deeply nested messages.
sessmgrd caps what one user may hold, closes connections that send nothing whole for
30 s, and keeps serving logins throughout."""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

HOSTILE = Path(__file__).resolve().parent / "hostile_client.py"
PER_USER = 16
IDLE_SECONDS = 30


def hostile(world, mode, number, user="alice"):
    result = subprocess.run(world.as_user(user) + [sys.executable, HOSTILE, str(world.socket), mode, str(number)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_logins_fast(world, count=5):
    for _ in range(count):
        result, seconds = world.pamtester("bob", "open_session", "close_session")
        assert result.returncode == 0 and seconds < 1
        assert "cannot record" not in result.stderr, result.stderr


def test_connections_per_user_are_capped(daemon):
    kept = hostile(daemon, "idle", 100)
    assert kept == {"opened": 100, "kept": PER_USER}
    # Another user and root are not affected.
    assert_logins_fast(daemon)
    assert daemon.ctl("list", user="bob").returncode == 0


def test_idle_and_dripping_connections_are_closed(daemon):
    """Both wait out the idle limit side by side (one 30 s wait for the two)."""
    results = {}
    threads = [threading.Thread(target=lambda m=m, n=n: results.__setitem__(m, hostile(daemon, m, n)))
               for m, n in (("idle-after-auth", IDLE_SECONDS + 15), ("slow-drip", IDLE_SECONDS + 15))]
    for thread in threads:
        thread.start()
    time.sleep(2)
    assert_logins_fast(daemon)          # served meanwhile
    for thread in threads:
        thread.join()
    for mode in ("idle-after-auth", "slow-drip"):
        closed = results[mode]["closed_after"]
        assert closed is not None and IDLE_SECONDS - 2 < closed < IDLE_SECONDS + 10, (mode, closed)


def test_huge_message_is_refused_and_others_served(daemon):
    done = []
    thread = threading.Thread(target=lambda: done.append(hostile(daemon, "huge", 64)))
    thread.start()
    assert_logins_fast(daemon)
    thread.join()
    assert done[0]["error"] == "org.freedesktop.DBus.Error.InvalidArgs"
    assert_logins_fast(daemon, 2)


def test_deeply_nested_and_wrong_typed(daemon):
    for depth in (1, 30, 63):
        assert hostile(daemon, "nested", depth)["error"] is not None
    assert_logins_fast(daemon, 2)
    error, _, _ = daemon.raw_call("GetSession", "s", "1", user="alice")
    assert error == "org.freedesktop.DBus.Error.InvalidArgs"
    error, _, _ = daemon.raw_call("ListSessions", "uu", 60001, 1, user="alice")
    assert error == "org.freedesktop.DBus.Error.InvalidArgs"
    error, _, _ = daemon.raw_call("DropDatabase", "", user="alice")
    assert error == "org.freedesktop.DBus.Error.UnknownMethod"
