# SPDX-License-Identifier: LGPL-2.1-or-later
"""A user's floods against real logind and real cgroups: connections from the user's
subordinate uids (newuidmap) count as the user's, and a session with thousands of
processes listed over and over does not keep other logins from being recorded."""

import json
from pathlib import Path

from waiting import wait_until

HOSTILE = Path(__file__).resolve().parents[1] / "integration" / "hostile_client.py"

# Run inside a user namespace where alice is root and her subordinate uids are 1 and
# up (unshare, through newuidmap): uids 1..N each open per_uid connections, hold
# them, and report how many the daemon kept.
SUBUID_FLOOD = """#!/usr/bin/python3
import os, sys
sys.path.insert(0, "/usr/local/lib")
from hostile_client import hold

uids, per_uid, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
read_end, write_end = os.pipe()
for uid in range(1, uids + 1):
    if os.fork() == 0:
        os.setuid(uid)
        os.write(write_end, b"%d\\n" % hold("/run/sessmgr/socket", per_uid, seconds)["kept"])
        os._exit(0)
os.close(write_end)
print(sum(int(line) for line in os.fdopen(read_end).read().split()))
"""

COUNT_SESSIONS = """#!/usr/bin/python3
import sqlite3, sys
database = sqlite3.connect("file:/var/lib/sessmgr/sessions.db?mode=ro", uri=True)
print(database.execute("SELECT count(*) FROM sessions WHERE user = ?", (sys.argv[1],)).fetchone()[0])
"""


def recorded(box, user):
    return int(box.run(["count-sessions", user]).stdout)


def logins_recorded(box, user, count):
    """Logs user in count times over SSH; returns how many of them sessmgrd recorded
    (the PAM module fails open: an unanswered call is a login without a record)."""
    before = recorded(box, user)
    for _ in range(count):
        box.ssh(user, "true")
    return recorded(box, user) - before


def test_subordinate_uids_count_as_their_user(box):
    subuid = box.run(["grep", "^alice:", "/etc/subuid"]).stdout.split(":")
    assert len(subuid) == 3, "useradd gave alice no subordinate uids"
    first, count = subuid[1], int(subuid[2])
    box.write_file("/usr/local/bin/subuid-flood", SUBUID_FLOOD, mode=0o755)
    box.write_file("/usr/local/lib/hostile_client.py", HOSTILE.read_text(), mode=0o755)
    box.write_file("/usr/local/bin/count-sessions", COUNT_SESSIONS, mode=0o755)
    box.run(["systemctl", "start", "sessmgrd.service"])
    # 64 uids x 16 connections: more than systemd's default of 1024 open files.
    mapping = f"{first},1,{count}"
    flood = box.ssh_background("alice", f"unshare --user --map-root-user --map-users={mapping} "
                                        f"--map-groups={mapping} /usr/local/bin/subuid-flood 64 16 20 "
                                        "> /tmp/subuid-flood.out 2>&1")
    wait_until(lambda: int(box.run("pgrep -c -f subuid-flood", check=False).stdout or 0) > 64,
               timeout=30, what="the flood's 64 processes")
    box.run(["sleep", "3"])     # their connections made
    assert logins_recorded(box, "bob", 5) == 5
    kept = wait_until(lambda: box.run(["cat", "/tmp/subuid-flood.out"]).stdout.strip(), timeout=60,
                      what="the flood's count")
    flood.close()
    assert int(kept) == 16, kept
    journal = box.journal("sessmgrd.service")
    assert "cannot accept" not in journal
    assert "too many connections of this login's user" in journal


def test_subordinate_uids_outside_a_login_count_as_their_user(box):
    """As from a cron job: alice's processes in no login, her subordinate uids mapped."""
    first, count = box.run(["grep", "^alice:", "/etc/subuid"]).stdout.strip().split(":")[1:]
    box.write_file("/usr/local/bin/subuid-flood", SUBUID_FLOOD, mode=0o755)
    box.write_file("/usr/local/lib/hostile_client.py", HOSTILE.read_text(), mode=0o755)
    box.run(["systemctl", "start", "sessmgrd.service"])
    mapping = f"{first},1,{count}"
    kept = box.run(["unshare", "--user", "--map-root-user", f"--map-users={mapping}", f"--map-groups={mapping}",
                    "/usr/local/bin/subuid-flood", "64", "16", "3"], user="alice").stdout
    # Before: 16 for each of the 64 uids, as if they were 64 users.
    assert int(kept) == 16, kept


# Root's connections made from inside a user's login, as su run by that user and
# stopped mid-call would hold them: moves itself into the login's cgroup, opens N
# connections, holds them, and says how many the daemon kept.
ROOT_IN_A_LOGIN = """#!/usr/bin/python3
import os, sys
sys.path.insert(0, "/usr/local/lib")
from hostile_client import hold

uid, session, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for hierarchy in ("systemd", "unified"):
    procs = f"/sys/fs/cgroup/{hierarchy}/user.slice/user-{uid}.slice/session-{session}.scope/cgroup.procs"
    if os.path.exists(procs):
        with open(procs, "w") as file:
            file.write("0")
print(hold("/run/sessmgr/socket", count, 3)["kept"])
"""


def test_root_connections_from_a_users_login_are_capped(box):
    box.write_file("/usr/local/bin/root-in-a-login", ROOT_IN_A_LOGIN, mode=0o755)
    box.write_file("/usr/local/lib/hostile_client.py", HOSTILE.read_text(), mode=0o755)
    box.write_file("/usr/local/bin/count-sessions", COUNT_SESSIONS, mode=0o755)
    box.run(["systemctl", "start", "sessmgrd.service"])
    alice = box.ssh_background("alice")
    (session,) = box.wait_for_sessions("alice", 1)
    kept = box.run(["root-in-a-login", str(box.user_entry("alice")[0]), session, "100"]).stdout
    # Before: all 100, each a slot of root's reserve.
    assert int(kept) == 64, kept
    assert "too many connections of root from this user's logins" in box.journal("sessmgrd.service")
    assert logins_recorded(box, "bob", 3) == 3
    alice.close()


def test_root_logins_recorded_while_a_user_lists_a_big_session(box):
    """alice's login has 2,000 processes; 16 connections of hers keep a ListSessions in
    flight each; bob's logins (the module calls as root, 250 ms timeout) are recorded."""
    box.write_file("/usr/local/bin/count-sessions", COUNT_SESSIONS, mode=0o755)
    box.write_file("/usr/local/lib/hostile_client.py", HOSTILE.read_text(), mode=0o755)
    box.run(["systemctl", "start", "sessmgrd.service"])
    sleepers = box.ssh_background("alice", "for i in $(seq 2000); do sleep 600 & done; "
                                           "python3 /usr/local/lib/hostile_client.py /run/sessmgr/socket "
                                           "list-flood 40 > /tmp/list-flood.out 2>&1; wait")
    wait_until(lambda: int(box.run("pgrep -c -u alice sleep", check=False).stdout or 0) >= 2000,
               timeout=60, what="2,000 processes")
    box.run(["sleep", "2"])
    assert logins_recorded(box, "bob", 10) == 10
    flood = json.loads(wait_until(lambda: box.run(["cat", "/tmp/list-flood.out"]).stdout.strip(), timeout=60,
                                  what="the flood's count"))
    sleepers.close()
    assert flood["answered"] > 0 and "error" not in flood, flood
    assert "did not answer" not in box.journal()
