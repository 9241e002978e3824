# SPDX-License-Identifier: LGPL-2.1-or-later
"""How a login reaches the disk (sessmgrd(8), "DURABILITY"): the event loop answers once
the record is in the WAL and never waits for the disk; a thread of its own flushes it,
at once when the daemon is idle and at the latest FlushIntervalSec= after a write under
a steady stream of them. FlushIntervalSec=0 answers after the flush, as before.

strace watches which of sessmgrd's threads calls fsync/fdatasync: the main thread is
the one with the process's id. SQLite flushes the WAL's header when a commit starts the
WAL over, after a checkpoint (a few hundred logins apart): the first login of each test
does that before the watch begins."""

import re
import subprocess
import threading
import time

import dbus
import dbus.connection
import pytest

from conftest import VALGRIND

pytestmark = pytest.mark.skipif(bool(VALGRIND), reason="strace and valgrind cannot both trace sessmgrd")


class SyncWatch:
    """strace on a running sessmgrd, recording (seconds, thread id) of each flush."""

    def __init__(self, pid, log_path):
        self.pid, self.log_path = pid, log_path
        self.process = subprocess.Popen(["strace", "-f", "-qq", "-ttt", "-e", "trace=fsync,fdatasync",
                                         "-o", str(log_path), "-p", str(pid)], stderr=subprocess.PIPE)
        # strace prints nothing when it has attached to every thread: give it a moment.
        time.sleep(1.0)
        assert self.process.poll() is None, self.process.stderr.read()

    def stop(self):
        time.sleep(0.3)
        self.process.terminate()
        self.process.wait(timeout=10)
        syncs = []
        for line in self.log_path.read_text().splitlines():
            match = re.match(r"(\d+)\s+(\d+\.\d+) f(?:data)?sync\(", line)
            if match:   # a call split by another thread's shows its start once
                syncs.append((float(match.group(2)), int(match.group(1))))
        return syncs


def write_config(world, text):
    path = world.directory / "sessmgrd.conf"
    path.write_text(text)
    return path


def test_login_is_answered_before_the_flush_which_follows_on_its_own_thread(world):
    config = write_config(world, "[Database]\nFlushIntervalSec=1\n")
    daemon = world.start_daemon("--config", str(config))
    world.login("alice", "open_session", "close_session")
    watch = SyncWatch(daemon.pid, world.directory / "strace.log")
    for _ in range(5):
        world.login("alice", "open_session", "close_session")
    time.sleep(1.5)     # idle: flushed within milliseconds; the interval bounds it anyway
    syncs = watch.stop()

    on_the_login_path = [s for s in syncs if s[1] == daemon.pid]
    in_the_background = [s for s in syncs if s[1] != daemon.pid]
    assert on_the_login_path == [], f"the event loop flushed: {syncs}"
    assert in_the_background, "nothing was flushed to disk"
    # Flushes follow commits, they do not replace them one for one: at most one per commit.
    assert len(in_the_background) <= 10


def test_flush_interval_zero_flushes_before_answering(world):
    """The old contract, for those who want it, and proof that the test above can fail."""
    config = write_config(world, "[Database]\nFlushIntervalSec=0\n")
    daemon = world.start_daemon("--config", str(config))
    watch = SyncWatch(daemon.pid, world.directory / "strace.log")
    world.login("alice", "open_session", "close_session")
    syncs = watch.stop()
    assert [s for s in syncs if s[1] == daemon.pid], f"no flush in the event loop: {syncs}"


def test_a_steady_stream_of_logins_is_flushed_while_it_lasts(world):
    """Logins closer together than the idle pause (5 ms): the interval or the checkpoints
    (every few hundred logins) bring the flushes, each for many commits."""
    config = write_config(world, "[Database]\nFlushIntervalSec=1\n")
    daemon = world.start_daemon("--config", str(config))
    watch = SyncWatch(daemon.pid, world.directory / "strace.log")

    stop = threading.Event()
    calls = []

    def stream():
        connection = dbus.connection.Connection(f"unix:path={world.socket}")
        record = dbus.Dictionary({"uid": dbus.UInt32(60001, variant_level=1),
                                  "user": dbus.String("alice", variant_level=1),
                                  "service": dbus.String("stream", variant_level=1)}, signature="sv")
        while not stop.is_set():
            connection.call_blocking(None, "/org/sessmgr1", "org.sessmgr.Manager1", "OpenSession", "a{sv}",
                                     [record], timeout=20)
            calls.append(time.time())
        connection.close()

    streamer = threading.Thread(target=stream)
    streamer.start()
    time.sleep(4.5)
    stop.set()
    streamer.join()
    syncs = watch.stop()

    gaps = [b - a for a, b in zip(calls, calls[1:])]
    during = [s for s in syncs if calls[0] + 0.5 < s[0] < calls[-1] - 0.5 and s[1] != daemon.pid]
    # Only the WAL's header when a commit starts it over, once per checkpoint.
    in_the_event_loop = [s for s in syncs if s[1] == daemon.pid]
    assert len(in_the_event_loop) <= 2 * (len(calls) // 100 + 1), f"{len(in_the_event_loop)} for {len(calls)} logins"
    assert len(calls) > 200, "the stream was too slow to tell"
    assert during, f"no flush during {calls[-1] - calls[0]:.1f} s of logins (longest gap {max(gaps):.3f} s)"
    # Many commits share a flush: at most one per pause of the stream long enough to look
    # idle (a loaded machine makes many), one per interval, and the checkpoints' (a few
    # syncs every few hundred logins); never one per login.
    pauses = sum(gap > 0.004 for gap in gaps)
    seconds = calls[-1] - calls[0]
    bound = pauses + 2 * seconds + 2 * (len(calls) // 300) + 6
    assert len(during) <= bound, f"{len(during)} flushes for {len(calls)} logins, {pauses} pauses"
    assert len(during) < len(calls), f"{len(during)} flushes for {len(calls)} logins"


def test_flush_interval_out_of_range_is_refused(world):
    config = write_config(world, "[Database]\nFlushIntervalSec=61\n")
    daemon = world.start_daemon("--config", str(config), wait=False)
    assert daemon.wait(timeout=10) != 0
    world.daemon = None
    assert "FlushIntervalSec" in world.daemon_log.read_text()
