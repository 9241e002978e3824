# SPDX-License-Identifier: LGPL-2.1-or-later
"""The structured journal events, read where journald would: sessmgrd runs in a private
mount namespace whose /run/systemd/journal/socket is a datagram socket of this test.
An event is sent only once what it reports is committed: a login the full disk refused
has none."""

import socket
import subprocess
import time

LOGIN = "5abcfe7cc2f44b76bab9609d24fd856c"
LOGOUT = "a7d81171488a4bff85de41be11c47acd"


class Journal:
    """Collects the entries sent with the journal's native protocol (KEY=value lines)."""

    def __init__(self, path):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(path))
        self.socket.settimeout(0.2)

    def entries(self, settle=1.0):
        """Everything that arrived, waiting until nothing more came for settle seconds."""
        entries, quiet_since = [], time.monotonic()
        while time.monotonic() - quiet_since < settle:
            try:
                datagram = self.socket.recv(65536)
            except TimeoutError:
                continue
            entries.append(dict(line.split("=", 1) for line in datagram.decode().splitlines() if "=" in line))
            quiet_since = time.monotonic()
        return entries

    def close(self):
        self.socket.close()


def start(world, journal_path, extra_setup=""):
    world.database.parent.mkdir(mode=0o700, exist_ok=True)
    world.start_daemon_in_namespace(
        "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && "
        f"touch /run/systemd/journal/socket && mount --bind {journal_path} /run/systemd/journal/socket"
        + extra_setup)
    world.wait_for_socket()


def test_login_and_logout_events_carry_the_session(world):
    journal = Journal(world.directory / "journal")
    try:
        start(world, world.directory / "journal")
        world.login("alice", "open_session", "close_session", items=["tty=pts/4"])
        entries = journal.entries()
    finally:
        journal.close()

    logins = [e for e in entries if e.get("MESSAGE_ID") == LOGIN]
    ends = [e for e in entries if e.get("MESSAGE_ID") == LOGOUT]
    assert len(logins) == 1 and len(ends) == 1, entries
    assert logins[0]["SESSMGR_USER"] == "alice" and logins[0]["PRIORITY"] == "6"
    assert logins[0]["SESSMGR_TTY"] == "pts/4"
    assert logins[0]["MESSAGE"].startswith("alice logged in from ")
    assert ends[0]["SESSMGR_SESSION"] == logins[0]["SESSMGR_SESSION"]
    assert ends[0]["SESSMGR_END_REASON"] == "logout"
    assert int(ends[0]["SESSMGR_DURATION_USEC"]) >= 0


def test_a_login_the_disk_refused_has_no_event(world):
    directory = world.database.parent
    journal = Journal(world.directory / "journal")
    try:
        # A 1 MiB database file system, filled up once the schema is in.
        start(world, world.directory / "journal",
              f" && mkdir -p {directory} && mount -t tmpfs -o size=1m tmpfs {directory}"
              f" && dd if=/dev/zero of={directory}/ballast bs=4k count=200 status=none")
        subprocess.run(["nsenter", "-t", str(world.daemon.pid), "-m", "sh", "-c",
                        f"dd if=/dev/zero of={directory}/filler bs=4k status=none || true"], check=True)
        journal.entries(settle=0.5)

        refused = 0
        for _ in range(20):
            result, _ = world.pamtester("alice", "open_session")
            assert result.returncode == 0
            refused += "could not be written" in result.stderr
        entries = journal.entries()
    finally:
        journal.close()

    assert refused > 0, "the disk never filled up"
    logins = [e for e in entries if e.get("MESSAGE_ID") == LOGIN]
    assert len(logins) == 20 - refused, f"{refused} refused, {len(logins)} login events"
