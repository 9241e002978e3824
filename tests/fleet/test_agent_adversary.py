# SPDX-License-Identifier: LGPL-2.1-or-later
"""The agent's socket against its adversaries: a local user (alice, with as many uids as
her 65,536 subordinate ones) and a compromised other machine of the fleet (C: any SQL its
own role may send). Real sessmgrd, real sessmgr-fleet as its own user, real PostgreSQL."""

import contextlib
import json
import os
import subprocess
import sys

import pytest

from agent import Machine, wait_until

# The agent's unit (fleet/sessmgr-fleet.service.in): what the kernel kills it beyond.
UNIT_MEMORY_MAX = 64 * 1024 * 1024
TEXT_COLUMNS = ("logind_session", "service", "tty", "seat", "remote_host", "remote_address", "last_active_source",
                "end_reason", "origin", "ttys", "auth_method", "auth_key", "display", "desktop")


@pytest.fixture
def machines(fleet):
    started = {}

    def start(name, settings="[Revocations]\nWaitSec=3\n"):
        machine = Machine(fleet, name, settings)
        started[name] = machine
        machine.start_daemon()
        machine.start_agent()
        machine.wait_agent_listening()
        return machine
    yield start
    for machine in started.values():
        machine.cleanup()


def peak_memory(process):
    """The agent's peak resident memory (VmHWM), in bytes."""
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def compromised_rows(fleet, machine, user, count, state="active", text_length=1024, end_time="now()"):
    """Machine MACHINE's role writes COUNT sessions of USER, every text TEXT_LENGTH bytes
    (1,024: as long as the database takes; nothing a terminal would act on)."""
    with contextlib.closing(fleet.connect(machine)) as connection, connection, connection.cursor() as cursor:
        texts = ", ".join(TEXT_COLUMNS)
        values = ", ".join(f"repeat('x', {int(text_length)})" for _ in TEXT_COLUMNS)
        cursor.execute(
            f"INSERT INTO sessmgr.sessions (machine_id, boot_id, session_id, change_cursor, uid, user_name, state, "
            f"login_time, end_time, {texts}) SELECT %s, %s, n, n, 60001, %s, %s, now() - n * interval '1 second', "
            f"CASE WHEN %s = 'closed' THEN {end_time} END, {values} FROM generate_series(1, %s) n",
            (fleet.machines[machine], os.urandom(16).hex(), user, state, state, count))


def test_a_compromised_machine_cannot_grow_the_agent_past_its_memory_cap(machines, fleet):
    """C writes 10,000 sessions of alice with every text 1,024 bytes long (the database's
    limit); her list --fleet then made the agent hold all of them at once: the rows from
    libpq and the reply (about 150 MB each), beyond MemoryMax=64M, and beyond sd-bus's
    limit of a message, so the list failed all the same. The agent must stay under its cap
    and alice must get an answer."""
    a = machines("A")
    compromised_rows(fleet, "C", "alice", 10000)
    result = a.ctl("list", "--fleet", "--json", user="alice")
    assert a.agent.poll() is None, a.log()
    assert peak_memory(a.agent) < UNIT_MEMORY_MAX, f"{peak_memory(a.agent) >> 20} MiB"
    assert result.returncode == 0, result.stderr
    print(f"list --fleet of 10,000 sessions of 14 KiB each: {len(json.loads(result.stdout)['sessions'])} listed, "
          f"agent peak {peak_memory(a.agent) >> 20} MiB")
    compromised_rows(fleet, "C", "bob", 10000, state="closed")
    result = a.ctl("history", "--fleet", "--json", user="bob")
    assert a.agent.poll() is None, a.log()
    assert peak_memory(a.agent) < UNIT_MEMORY_MAX, f"{peak_memory(a.agent) >> 20} MiB"
    assert result.returncode == 0, result.stderr


def test_a_compromised_machine_cannot_crowd_out_the_users_sessions_elsewhere(machines, fleet):
    """B writes 10,000 sessions of alice (it may say anything of its own sessions). Her
    list --fleet is cut at 10,000 rows by host, then login: B's host name sorts before C's,
    so her real session on C was not listed, and logout --fleet --all did not end it (what
    she runs when her password is stolen). Her history likewise, with ends in the future."""
    a, c = machines("A"), machines("C")
    login(c, "alice")
    real = max(c.rows())
    compromised_rows(fleet, "B", "alice", 10000, text_length=1)
    sessions = json.loads(a.ctl("list", "--fleet", "--json", user="alice").stdout)["sessions"]
    assert (c.machine_id, real) in {(s["machine_id"], s["id"]) for s in sessions}
    result = a.ctl("logout", "--fleet", "--all", "--yes", "--json", user="alice")
    assert (c.machine_id, real) in {(s["machine_id"], s["id"]) for s in json.loads(result.stdout)["sessions"]}, \
        result.stderr

    c.login("alice", "open_session", "close_session")
    c.wait_in_sync()
    ended = max(c.rows())
    compromised_rows(fleet, "B", "alice", 10000, state="closed", text_length=1, end_time="now() + interval '9 years'")
    # (Its ends in the future do come first: --limit 50 would show only B's. A machine may
    # say anything of its own sessions; it may not take the others' room.)
    history = json.loads(a.ctl("history", "--fleet", "--limit", "0", "--json", user="alice").stdout)["sessions"]
    assert (c.machine_id, ended) in {(s["machine_id"], s["id"]) for s in history}


HUGE_CALL = r"""
import socket, struct, sys, time
path, size = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(b"\0AUTH EXTERNAL\r\n")
s.recv(4096)
s.sendall(b"BEGIN\r\n")
# A method call whose header announces a body of SIZE bytes (sd-bus takes up to 128 MiB),
# sent in full but never more: the agent reads it all before it can look at it.
fields = b""
def field(code, signature, value):
    global fields
    fields += b"\0" * (-len(fields) % 8)
    if signature == b"o" or signature == b"s":
        fields += struct.pack("<B1sB", code, b"\x01", signature[0]) + b"\0" + struct.pack("<I", len(value)) + value + b"\0"
    else:
        fields += struct.pack("<B1sB", code, b"\x01", ord("g")) + b"\0" + bytes([len(value)]) + value + b"\0"
field(1, b"o", b"/org/sessmgr1/fleet")
field(3, b"s", b"ListSessions")
field(8, b"g", b"ay")
header = struct.pack("<cBBBIII", b"l", 1, 0, 1, size, 1, len(fields)) + fields
header += b"\0" * (-len(header) % 8)
s.sendall(header)
body = struct.pack("<I", size - 4) + b"\0" * (size - 4)
sent = 0
s.settimeout(30)
try:
    while sent < len(body):
        sent += s.send(body[sent:sent + (1 << 20)])
except OSError:
    pass
print(sent, flush=True)
time.sleep(float(sys.argv[3]))
"""


# A known limit, not yet fixed, so not in the suite's count (scripts/test deselects it):
# run it with `pytest -m known_limit tests/fleet/test_agent_adversary.py`. sd-bus reads a
# whole message (up to 128 MiB) before the agent sees it, and has no setting for a
# smaller limit; the fix is for the agent to check each message's header itself before
# sd-bus reads it. sessmgrd has the same limit (docs/HARDENING.md).
@pytest.mark.known_limit
def test_a_huge_message_does_not_grow_the_agent_past_its_memory_cap(machines):
    """sd-bus takes a message of up to 128 MiB and reads all of it into memory before the
    agent sees it; the agent has no limit of its own, and its unit's MemoryMax is 64M: one
    call from alice is enough to have it killed (and then every 5 s again)."""
    a = machines("A")
    size = 100 * 1024 * 1024
    caller = subprocess.Popen(a.world.as_user("alice") + [sys.executable, "-c", HUGE_CALL, str(a.agent_socket),
                              str(size), "2"], stdout=subprocess.PIPE, text=True)
    sent = int(caller.stdout.readline())
    caller.wait(timeout=60)
    assert a.agent.poll() is None, a.log()
    assert peak_memory(a.agent) < UNIT_MEMORY_MAX, f"sent {sent >> 20} MiB, agent {peak_memory(a.agent) >> 20} MiB"


LOGOUT_FLOOD = r"""
import socket, struct, sys, threading, time
path, connections, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

def pad(data, n):
    return data + b"\0" * (-len(data) % n)

def string(value):
    return struct.pack("<I", len(value)) + value + b"\0"

def field(code, signature, value):
    return pad(struct.pack("<B", code) + bytes([1]) + signature + b"\0" + value, 1)

def call(serial):
    # RequestLogout(a(st)t): 1,000 sessions that do not exist, each one a lookup.
    items = b""
    for i in range(1000):
        items = pad(items, 8) + string(b"no-such-host-%d" % i)
        items = pad(items, 8) + struct.pack("<Q", i + 1)
    body = pad(struct.pack("<I", len(items)), 8) + items
    body = pad(body, 8) + struct.pack("<Q", 0)
    fields = b""
    for code, signature, value in ((1, b"o", string(b"/org/sessmgr1/fleet")), (3, b"s", string(b"RequestLogout")),
                                   (8, b"g", bytes([6]) + b"a(st)t\0")):
        fields = pad(fields, 8) + struct.pack("<B", code) + bytes([1]) + signature + b"\0" + value
    header = struct.pack("<cBBBIII", b"l", 1, 0, 1, len(body), serial, len(fields)) + fields
    return pad(header, 8) + body

message = [call(serial) for serial in range(1, 9)]
def flood():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b"\0AUTH EXTERNAL\r\n")
    s.recv(4096)
    s.sendall(b"BEGIN\r\n")
    threading.Thread(target=lambda: [s.recv(1 << 20) for _ in iter(int, 1)], daemon=True).start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.sendall(b"".join(message))
for _ in range(connections):
    threading.Thread(target=flood, daemon=True).start()
print("flooding", flush=True)
time.sleep(seconds)
"""


def test_a_flood_of_big_logouts_by_alice_does_not_hold_bob_back(machines):
    """Alice pipelines RequestLogouts of 1,000 sessions that do not exist on 8 connections;
    bob's list --fleet meanwhile must be answered within sessmgrctl's own 15 s (an
    answer takes a few milliseconds; one of alice's calls about 0.5 s)."""
    a = machines("A")
    login(a, "bob")
    flood = subprocess.Popen(a.world.as_user("alice") + [sys.executable, "-c", LOGOUT_FLOOD, str(a.agent_socket), "8",
                             "90"], stdout=subprocess.PIPE, text=True)
    try:
        assert flood.stdout.readline().strip() == "flooding"
        # Until the agent has taken alice's 8 connections (beside its listener, sessmgrd
        # and its two database connections).
        wait_until(lambda: open_sockets(a.agent) >= 12, "alice's connections")
        for _ in range(3):
            result = a.ctl("list", "--fleet", "--json", user="bob")
            assert result.returncode == 0, result.stderr
    finally:
        flood.kill()
        flood.wait()


HOLD_AS_MANY_UIDS = r"""
import os, socket, sys, time
path, first, uids, each, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
read, write = os.pipe()
children = []
for uid in range(first, first + uids):
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.setgroups([]); os.setgid(uid); os.setuid(uid)
        held = []
        for _ in range(each):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                c.connect(path)
            except OSError:
                break
            held.append(c)
        os.write(write, b".")
        time.sleep(seconds)
        os._exit(0)
    children.append(pid)
os.close(write)
got = 0
while got < uids:
    got += len(os.read(read, 4096))
print("ready", flush=True)
for pid in children:
    os.waitpid(pid, 0)
"""


def test_subordinate_uids_count_as_their_owner(machines):
    """Alice's 65,536 subordinate uids (newuidmap gives her processes those ids) are as
    many users to the agent: 32 of them x 8 connections take all 256, and bob is refused
    (sessmgrd counts a subordinate uid as the user whose it is)."""
    a = machines("A")
    login(a, "bob")
    with open("/etc/subuid") as existing:
        saved = existing.read()
    first = 1_300_000
    try:
        with open("/etc/subuid", "a") as subuid:
            subuid.write(f"alice:{first}:65536\n")
        holder = subprocess.Popen([sys.executable, "-c", HOLD_AS_MANY_UIDS, str(a.agent_socket), str(first), "40", "8",
                                   "20"], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "ready"
            # Until the agent's loop has taken every one from its backlog (16 a turn),
            # kept or refused.
            wait_until(lambda: backlog(a.agent_socket) == 0, "the agent to take alice's connections")
            print(f"alice's 40 uids x 8 connections: the agent holds {open_sockets(a.agent)} sockets")
            result = a.ctl("list", "--fleet", "--json", user="bob")
            assert result.returncode == 0, result.stderr
            assert len(json.loads(result.stdout)["sessions"]) == 1
        finally:
            holder.kill()
            holder.wait()
    finally:
        with open("/etc/subuid", "w") as subuid:
            subuid.write(saved)


def backlog(path):
    """Connections waiting in the listening socket's queue (ss: Recv-Q)."""
    lines = subprocess.run(["ss", "-xlnH", "src", str(path)], capture_output=True, text=True, check=True).stdout
    return int(lines.split()[2])


def open_sockets(process):
    return sum(os.readlink(f"/proc/{process.pid}/fd/{fd}").startswith("socket:")
               for fd in os.listdir(f"/proc/{process.pid}/fd"))


def login(machine, user):
    machine.login(user)
    machine.wait_in_sync()
