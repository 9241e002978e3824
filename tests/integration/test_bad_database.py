# SPDX-License-Identifier: LGPL-2.1-or-later
"""A bad database never blocks a login and is never overwritten: a read-only file, a
full disk. (Corrupt files and schemas from the future: test_daemon.py.) Each runs
sessmgrd in a private mount namespace, where its database directory is a read-only
bind mount or a tiny tmpfs."""

import hashlib
import signal
import subprocess


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_database(world, sessions):
    """A good database with some history, made by sessmgrd itself."""
    world.start_daemon()
    for _ in range(sessions):
        world.login("alice", "open_session", "close_session")
    world.stop_daemon()


def test_read_only_database_is_refused_and_logins_go_on(world):
    make_database(world, 3)
    before = digest(world.database)
    directory = world.database.parent
    daemon = world.start_daemon_in_namespace(f"mount --bind {directory} {directory} && mount -o remount,bind,ro {directory}")
    assert daemon.wait(timeout=10) == 1
    assert "read-only" in world.daemon_log.read_text()
    world.daemon = None

    result, seconds = world.pamtester("alice", "open_session", "close_session")
    assert result.returncode == 0 and seconds < 1
    assert digest(world.database) == before


def test_full_disk(world):
    directory = world.database.parent
    directory.mkdir(mode=0o700)
    # A 1 MiB file system: room for the schema and a few sessions, not for a ballast file.
    setup = (f"mount -t tmpfs -o size=1m tmpfs {directory} && "
             f"dd if=/dev/zero of={directory}/ballast bs=4k count=200 status=none")
    world.start_daemon_in_namespace(setup)
    world.wait_for_socket()

    # Fill what is left; then every login must still go through, within the timeout.
    subprocess.run(["nsenter", "-t", str(world.daemon.pid), "-m", "sh", "-c",
                    f"dd if=/dev/zero of={directory}/filler bs=4k status=none || true"], check=True)
    failures = 0
    for _ in range(20):
        result, seconds = world.pamtester("alice", "open_session", "close_session", items=["tty=pts/7"])
        assert result.returncode == 0 and seconds < 1
        failures += "could not be written" in result.stderr
    assert failures > 0, "the disk never filled up"
    assert "full" in world.daemon_log.read_text()

    # Free the space: sessmgrd records again, and nothing recorded before is gone.
    subprocess.run(["nsenter", "-t", str(world.daemon.pid), "-m", "rm", f"{directory}/filler"], check=True)
    world.login("bob", "open_session")
    listed = world.ctl("list", "--all", "--json")
    assert listed.returncode == 0 and '"bob"' in listed.stdout
    database = subprocess.run(["nsenter", "-t", str(world.daemon.pid), "-m", "cat", str(world.database)],
                              capture_output=True, check=True).stdout
    assert database.startswith(b"SQLite format 3")
    world.daemon.send_signal(signal.SIGTERM)
    assert world.daemon.wait(timeout=10) == 0
    world.daemon = None
