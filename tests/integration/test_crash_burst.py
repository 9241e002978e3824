# SPDX-License-Identifier: LGPL-2.1-or-later
"""No record lost: sessmgrd is killed with SIGKILL in the middle of a burst of 5,000
logins and logouts from 16 concurrent clients, and started again on the same listening
socket, as socket activation does (pending connections survive). Every login and
logout that was answered is in the database afterwards, none twice, and the database
passes SQLite's integrity check: the kill also lands in the middle of commits."""

import multiprocessing
import os
import signal
import socket
import sqlite3
import subprocess
import time

import dbus
import dbus.connection

from conftest import SESSMGRD

CLIENTS, PAIRS_EACH = 16, 313           # 5,008 logins and as many logouts


def client(path, index, results, progress):
    """Logs in and out PAIRS_EACH times; reports the ids whose open and close were answered."""
    opened, closed = [], []
    for attempt in range(PAIRS_EACH):
        tag = f"pts/{index * 1000 + attempt}"       # one tty per attempt: duplicates would show
        try:
            connection = dbus.connection.Connection(f"unix:path={path}")
            record = dbus.Dictionary({"uid": dbus.UInt32(60001, variant_level=1),
                                      "user": dbus.String("alice", variant_level=1),
                                      "service": dbus.String("burst", variant_level=1),
                                      "tty": dbus.String(tag, variant_level=1)}, signature="sv")
            session_id = int(connection.call_blocking(None, "/org/sessmgr1", "org.sessmgr.Manager1",
                                                      "OpenSession", "a{sv}", [record], timeout=20))
            connection.close()
            opened.append((session_id, tag))
            connection = dbus.connection.Connection(f"unix:path={path}")
            connection.call_blocking(None, "/org/sessmgr1", "org.sessmgr.Manager1", "CloseSession", "ts",
                                     [session_id, "logout"], timeout=20)
            connection.close()
            closed.append(session_id)
            with progress.get_lock():
                progress.value += 1
        except dbus.exceptions.DBusException:
            time.sleep(0.01)        # the daemon died under us: its fate is unknown, go on
    results.put((opened, closed))


def start(world, listener):
    """sessmgrd given the listening socket as systemd would (LISTEN_FDS)."""
    return subprocess.Popen(
        ["sh", "-c", f'LISTEN_PID=$$ LISTEN_FDS=1 exec {SESSMGRD} --db {world.database}'],
        pass_fds=(3,), preexec_fn=lambda: os.dup2(listener.fileno(), 3),
        env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent"),
        stderr=open(world.daemon_log, "ab"))


def test_sigkill_in_a_burst_loses_nothing(world):
    world.socket.parent.mkdir(parents=True, exist_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(world.socket))
    listener.listen(4096)
    daemon = start(world, listener)

    results, progress = multiprocessing.Queue(), multiprocessing.Value("i", 0)
    clients = [multiprocessing.Process(target=client, args=(str(world.socket), i, results, progress))
               for i in range(CLIENTS)]
    for process in clients:
        process.start()
    while progress.value < CLIENTS * PAIRS_EACH // 3:      # a third into the burst
        time.sleep(0.005)
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()
    time.sleep(0.2)                                 # connections pile up in the backlog meanwhile
    daemon = start(world, listener)
    outcomes = [results.get(timeout=300) for _ in clients]
    for process in clients:
        process.join()
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=30) == 0

    opened = {session_id: tag for answered, _ in outcomes for session_id, tag in answered}
    closed = {session_id for _, answered in outcomes for session_id in answered}
    assert len(opened) > CLIENTS * PAIRS_EACH * 0.9, "too few calls got through"

    with sqlite3.connect(world.database) as database:
        assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = {row[0]: row[1:] for row in database.execute(
            "SELECT id, tty, state, end_reason FROM sessions WHERE service = 'burst'")}
        tags = [row[0] for row in rows.values()]
    print(f"\nSIGKILL after {CLIENTS * PAIRS_EACH // 3} pairs: {len(opened)} logins and {len(closed)} logouts "
          f"answered, {len(rows)} records afterwards, {sum(r[1] == 'closed' for r in rows.values())} of them closed")

    missing_logins = [i for i in opened if i not in rows]
    missing_logouts = [i for i in closed if rows.get(i, (None, None))[1] != "closed"]
    assert missing_logins == [] and missing_logouts == []
    assert all(rows[i][0] == tag for i, tag in opened.items())
    assert len(tags) == len(set(tags)), "a login was recorded twice"
