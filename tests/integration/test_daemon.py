# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgrd's own behaviour: file modes, refusing bad databases, clean shutdown."""

import hashlib
import signal
import sqlite3
import stat
import subprocess

from conftest import SESSMGRD


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_database_is_private_and_socket_is_public(daemon):
    daemon.login("alice", "open_session")
    assert mode(daemon.database.parent) == 0o700
    assert mode(daemon.database) == 0o600
    for suffix in ("-wal", "-shm"):
        path = daemon.database.with_name(daemon.database.name + suffix)
        if path.exists():
            assert mode(path) == 0o600
    assert stat.S_ISSOCK(daemon.socket.stat().st_mode)
    assert mode(daemon.socket) == 0o666
    assert mode(daemon.socket.parent) == 0o755
    with sqlite3.connect(daemon.database) as database:
        assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sigterm_stops_cleanly_and_removes_the_socket(daemon):
    daemon.daemon.send_signal(signal.SIGTERM)
    assert daemon.daemon.wait(timeout=10) == 0
    assert not daemon.socket.exists()


def start_expecting_failure(world):
    result = subprocess.run([SESSMGRD, "--socket", world.socket, "--db", world.database],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 1
    assert not world.socket.exists()
    return result.stderr


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corrupt_database_is_refused_untouched(world):
    world.database.parent.mkdir(mode=0o700)
    world.database.write_bytes(bytes(range(256)) * 64)
    before = digest(world.database)
    message = start_expecting_failure(world)
    assert str(world.database) in message
    assert "corrupt or not a database" in message
    assert digest(world.database) == before


def test_newer_schema_is_refused_untouched(world):
    world.database.parent.mkdir(mode=0o700)
    with sqlite3.connect(world.database) as database:
        database.execute("CREATE TABLE sessions (id INTEGER)")
        database.execute("PRAGMA user_version = 77")
    before = digest(world.database)
    message = start_expecting_failure(world)
    assert "schema version 77 is newer" in message
    assert digest(world.database) == before


def test_usage_errors(world):
    for arguments in (["--frobnicate"], ["--db", "relative.db"], ["extra"]):
        result = subprocess.run([SESSMGRD, *arguments], capture_output=True, text=True, timeout=10)
        assert result.returncode == 2, arguments
    result = subprocess.run([SESSMGRD, "--help"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0 and "Usage: sessmgrd" in result.stdout


def test_existing_socket_path_that_is_not_a_socket(world):
    world.socket.parent.mkdir()
    world.socket.write_text("precious")
    result = subprocess.run([SESSMGRD, "--socket", world.socket, "--db", world.database],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 1
    assert "exists and is not a socket" in result.stderr
    assert world.socket.read_text() == "precious"


def test_second_daemon_does_not_steal_the_socket(daemon):
    result = subprocess.run([SESSMGRD, "--socket", daemon.socket, "--db", daemon.database.with_name("other.db")],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 1
    assert "another sessmgrd is already listening" in result.stderr
    daemon.login("alice", "open_session")       # the first one still answers
    assert daemon.ctl("list", user="alice").returncode == 0


def test_stale_socket_is_replaced(world):
    world.start_daemon()
    world.daemon.kill()
    world.daemon.wait()
    assert world.socket.exists()                # left behind by the crash
    world.start_daemon()
    world.login("alice", "open_session")
