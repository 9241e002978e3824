# SPDX-License-Identifier: LGPL-2.1-or-later
"""Any user may send a signal on the system bus, addressed to sessmgrd alone, that claims
to come from logind or from the bus itself (Debian's stock policy allows it; sd-bus does
not check the sender of a match on a well-known name). sessmgrd must act only on what
login1's current owner broadcasts, close a session only once logind confirms it is gone,
and not grow with what it is sent. Real dbus-daemon with the stock policy, the stand-in
logind (tests/bench/fake-logind.c) as root, alice (60001) forging, bob (60002) the victim."""

import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import PRELOAD_FIRST, SERVICE, USERS
from stock_bus import stock_bus

FORGE = Path(__file__).resolve().parent / "forge_signal.py"
MANAGER = ("/org/freedesktop/login1", "org.freedesktop.login1.Manager")
SESSION_PATH = "/org/freedesktop/login1/session/"
BUS = ("/org/freedesktop/DBus", "org.freedesktop.DBus")


def wait_until(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def records(world, **where):
    """(state, end_reason) of the records matching where, e.g. user="bob"."""
    clause = " AND ".join(f"{column} = ?" for column in where)
    with sqlite3.connect(world.database) as db:
        return db.execute(f"SELECT state, end_reason FROM sessions WHERE {clause} ORDER BY id",
                          tuple(where.values())).fetchall()


def start(world, address):
    world.start_daemon("--debug", system_bus=address)
    wait_until(lambda: "reconciled with systemd-logind" in world.daemon_log.read_text(), "the reconcile")


# The logind session as pam_systemd leaves it where the process could not be moved into
# it: XDG_SESSION_ID, and logind's record of the session naming its user, here in a
# mount namespace of pamtester's own.
IN_LOGIND_SESSION = ["unshare", "-m", "sh", "-c",
                     'mount -t tmpfs tmpfs /run/systemd/sessions && printf "UID=%s\\n" "$1" >/run/systemd/sessions/$0 '
                     '&& shift && exec "$@"']


def bob_logs_in(world, logind_session, *operations, service="sshd"):
    """bob through the PAM module, with the logind session pam_systemd would have set.
    Through "sshd", as the stand-in names its sessions' service: the login takes the
    place of the record imported from logind, as a real SSH login does, instead of being
    a su-like child of it (which ends with its process, pamtester)."""
    world.pam_env.write_text(f"XDG_SESSION_ID DEFAULT={logind_session}\n")
    Path("/run/systemd/sessions").mkdir(parents=True, exist_ok=True)
    (world.pam_dir / service).write_text((world.pam_dir / SERVICE).read_text())
    result, _ = world.pamtester("bob", *(operations or ("open_session",)), service=service,
                                wrapper=IN_LOGIND_SESSION + [logind_session, str(USERS["bob"])])
    assert result.returncode == 0, result.stderr


def forge(world, address, *signals):
    """alice sends the signals to sessmgrd's connection alone; returns her unique name."""
    result = subprocess.run(world.as_user("alice") + [sys.executable, FORGE, address, str(world.daemon.pid),
                                                      json.dumps(signals)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["sender"]


def barrier(world, stand_in, logind_session, state="closed"):
    """The stand-in logind really changes a session and sessmgrd follows: what alice sent
    before was handled before it, since her signals were queued to sessmgrd first and
    removals wait the same grace period."""
    stand_in.command("remove" if state == "closed" else "closing", logind_session)
    wait_until(lambda: records(world, logind_session=logind_session)[0][0] == state,
               f"sessmgrd to see {logind_session} {state}")


def ignored(world, sender, member):
    """How many times sessmgrd logged (at debug level) that it ignored member from sender:
    proof that the bus delivered the forged signal to it."""
    return len(re.findall(rf"ignored [\w.]+\.{member} from {re.escape(sender)}:", world.daemon_log.read_text()))


def session_removed(logind_session):
    return [*MANAGER, "SessionRemoved", "so", [logind_session, SESSION_PATH + logind_session]]


def test_forged_removal_and_closing_leave_a_live_session_open(world):
    with stock_bus(world, 4) as (address, stand_in):
        start(world, address)
        bob_logs_in(world, "f2")
        assert records(world, user="bob") == [("active", None)]

        alice = forge(world, address, session_removed("f2"),
                      [SESSION_PATH + "f2", "org.freedesktop.DBus.Properties", "PropertiesChanged", "sa{sv}as",
                       ["org.freedesktop.login1.Session", {"State": "closing"}, []]])
        barrier(world, stand_in, "f0")

        assert records(world, user="bob") == [("active", None)], "a forged signal changed bob's session"
        listed = world.ctl("list", user="bob")
        assert listed.returncode == 0 and "sshd" in listed.stdout, listed
        assert ignored(world, alice, "SessionRemoved") == 1
        assert ignored(world, alice, "PropertiesChanged") == 1

        # logind's own word still counts: closing, then gone.
        barrier(world, stand_in, "f2", state="closing")
        assert records(world, user="bob") == [("closing", None)]
        stand_in.command("remove", "f2")
        wait_until(lambda: records(world, user="bob")[0][0] == "closed", "bob's session to close")
        assert records(world, user="bob")[0][1] == "terminated"


def test_forged_owner_changes_do_not_stop_or_take_over_following(world):
    with stock_bus(world, 4) as (address, stand_in):
        start(world, address)
        alice = forge(world, address, [*BUS, "NameOwnerChanged", "sss", ["org.freedesktop.login1", ":1.1", ""]])
        barrier(world, stand_in, "f0")

        # Still following: logind has f2, so bob's logout leaves it "closing", not "closed".
        bob_logs_in(world, "f2", "open_session", "close_session")
        [(state, reason)] = records(world, user="bob")
        assert state == "closing" and reason is not None, "sessmgrd stopped following logind"
        assert ignored(world, alice, "NameOwnerChanged") == 1

        # alice claims login1 for herself, then speaks for it.
        alice = forge(world, address, [*BUS, "NameOwnerChanged", "sss", ["org.freedesktop.login1", "", "$self"]],
                      session_removed("f2"))
        barrier(world, stand_in, "f1")
        assert records(world, user="bob") == [(state, reason)], "alice's word closed bob's session"
        assert ignored(world, alice, "NameOwnerChanged") == 1
        assert ignored(world, alice, "SessionRemoved") == 1

        stand_in.command("remove", "f2")
        wait_until(lambda: records(world, user="bob")[0][0] == "closed", "bob's session to close")


def rss_kib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1))


FLOOD = 20
ID_BYTES = 4 << 20


def test_a_flood_of_huge_forged_session_ids_is_not_kept(world):
    with stock_bus(world, 4) as (address, stand_in):
        start(world, address)
        before = rss_kib(world.daemon.pid)
        alice = forge(world, address, *[[*MANAGER, "SessionNew", "so", [{"big": ID_BYTES, "tag": f"x{i}"}, "/x"]]
                                        for i in range(FLOOD)])
        barrier(world, stand_in, "f3", state="closing")
        after = rss_kib(world.daemon.pid)
        print(f"sessmgrd VmRSS before {before} KiB, after {FLOOD} forged SessionNew of {ID_BYTES} bytes: {after} KiB")

        # Each id is sent once: keeping it once (set) or twice (set and queue) shows.
        # Not under the sanitizers: ASan's quarantine keeps freed memory on purpose.
        if not PRELOAD_FIRST:
            assert after - before < ID_BYTES * 4 // 1024, (before, after)
        assert ignored(world, alice, "SessionNew") >= 1
        # And sessmgrd still follows logind.
        barrier(world, stand_in, "f2")
