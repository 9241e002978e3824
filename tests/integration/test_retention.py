# SPDX-License-Identifier: LGPL-2.1-or-later
"""History retention and sessmgrd.conf: ended sessions older than RetentionDays= are
deleted, exactly those, in small steps; open sessions are never touched; a bad
configuration is refused with its line."""

import contextlib
import sqlite3
import subprocess
import time

from conftest import SESSMGRD

DAY = 86400 * 1000000


def add_rows(database, count, state, ended_days_ago, tag):
    now = int(time.time() * 1e6)
    end = now - int(ended_days_ago * DAY)
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.executemany("INSERT INTO sessions (uid, user, service, tty, login_time_usec, last_active_usec, state, "
                       "end_time_usec, boot_id) VALUES (60001, 'alice', 'sshd', ?, ?, ?, ?, ?, 'some-boot')",
                       [(tag, end - DAY, end - DAY, state, end if state == "closed" else 0, ) for _ in range(count)])


def start_with_history(world, retention_days, *rows):
    """sessmgrd started with RetentionDays= on a database it made, holding rows: (count,
    state, ended days ago, tty) each."""
    world.start_daemon()                    # creates the schema
    world.stop_daemon()
    for row in rows:
        add_rows(world.database, *row)
    config = world.directory / "sessmgrd.conf"
    config.write_text(f"[History]\nRetentionDays={retention_days}\n")
    world.start_daemon("--config", config)


def test_retention_deletes_exactly_the_old_history(world):
    start_with_history(world, 30,
                       (1203, "closed", 100, "old"),         # more than two steps of 500
                       (5, "closed", 29.9, "recent"),
                       (1, "closed", 0.01, "today"))
    deadline = time.monotonic() + 20
    while "deleted 1203 ended session(s) older than 30 days" not in world.daemon_log.read_text():
        assert time.monotonic() < deadline, world.daemon_log.read_text()
        time.sleep(0.1)
    world.stop_daemon()

    with sqlite3.connect(world.database) as db:
        left = dict(db.execute("SELECT tty, count(*) FROM sessions GROUP BY tty"))
    assert left == {"recent": 5, "today": 1}


def test_open_sessions_are_never_deleted(world):
    # An ancient ended session goes; the session open meanwhile stays, whatever its age.
    start_with_history(world, 30, (1, "closed", 400, "ancient"))
    world.login("alice", "open_session", items=["tty=pts/1"])
    time.sleep(2)
    with sqlite3.connect(world.database) as db:
        assert db.execute("SELECT state FROM sessions WHERE tty = 'pts/1'").fetchone() == ("active",)
        assert db.execute("SELECT count(*) FROM sessions WHERE tty = 'ancient'").fetchone() == (0,)


def test_keep_forever(world):
    start_with_history(world, 0, (3, "closed", 4000, "very-old"))
    time.sleep(2)
    with sqlite3.connect(world.database) as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (3,)


def test_bad_configuration_is_refused_with_its_line(world):
    config = world.directory / "sessmgrd.conf"
    config.write_text("[History]\nRetentionDays=30\n[IdleLogout]\nIdleTimeout=5\n")
    result = subprocess.run([SESSMGRD, "--socket", world.socket, "--db", world.database, "--config", config],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 1
    assert f"{config}:4: unknown setting IdleTimeout= in [IdleLogout]" in result.stderr
    assert not world.socket.exists()
