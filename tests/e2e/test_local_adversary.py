# SPDX-License-Identifier: LGPL-2.1-or-later
"""A local user against the records of others, with real sshd, journald, logind and
sessmgrd (issue: "no user can hide, forge or starve anyone's session records")."""

import json
import time

from remote_shell import RemoteShell
from waiting import wait_until


def records(box, *arguments):
    return json.loads(box.run(["sessmgrctl", "list", "--json", *(arguments or ["--all"])]).stdout)["sessions"]


def history(box, *arguments):
    return json.loads(box.run(["sessmgrctl", "history", "--json", *(arguments or ["--all"])]).stdout)["sessions"]


def give_root_a_key(box):
    box.run("mkdir -p -m 700 /root/.ssh && ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519 "
            "&& cp /root/.ssh/id_ed25519.pub /root/.ssh/authorized_keys")


def test_su_inside_a_login_ends_when_su_ends(box):
    give_root_a_key(box)
    shell = RemoteShell(box, "root")
    shell.run("su - bob -c true", check=True)

    # Ended with its PAM stack, although root's login (its logind session) lives on.
    ended = wait_until(lambda: [r for r in history(box, "--user", "bob") if r["service"] == "su-l"],
                       what="bob's su record to end")
    assert len(ended) == 1 and ended[0]["end_reason"] == "logout", ended
    assert records(box, "--user", "bob") == []
    assert shell.is_running() and [r["user"] for r in records(box)] == ["root"]
    shell.close()


def test_a_killed_su_ends_with_its_process(box):
    # su is setuid root, but its real uid is the caller's, who may kill it: its PAM stack
    # never closes the session then, and logind has none of its own to report.
    box.write_file("/etc/sessmgr/sessmgrd.conf", "[Activity]\nPollIntervalSec=1\n")
    box.run(["systemctl", "restart", "sessmgrd.service"])
    give_root_a_key(box)
    shell = RemoteShell(box, "root")
    shell.run("su - bob -c 'sleep 300' >/dev/null 2>&1 &", check=True)
    (switched,) = wait_until(lambda: records(box, "--user", "bob"), what="bob's su record")
    box.run(["pkill", "-KILL", "-x", "su"])

    ended = wait_until(lambda: [r for r in history(box, "--user", "bob") if r["id"] == switched["id"]],
                       what="the killed su's record to end")
    assert ended[0]["end_reason"] == "terminated", ended
    assert shell.is_running() and [r["user"] for r in records(box)] == ["root"]
    shell.close()


# Connects to sshd from a chosen source port, so that a forged journal line can name the
# very connection bob is about to make.
RELAY = """
import os, selectors, socket, sys
source_port, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
peer = socket.socket()
peer.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
peer.bind(("127.0.0.1", source_port))
peer.connect((host, port))
selector = selectors.DefaultSelector()
selector.register(0, selectors.EVENT_READ)
selector.register(peer, selectors.EVENT_READ)
while True:
    for key, _ in selector.select():
        if key.fileobj == 0:
            data = os.read(0, 65536)
            if not data:
                peer.shutdown(socket.SHUT_WR)
                selector.unregister(0)
            else:
                peer.sendall(data)
        else:
            data = peer.recv(65536)
            if not data:
                sys.exit(0)
            while data:
                data = data[os.write(1, data):]
"""


def test_a_forged_sshd_line_does_not_set_anyones_authentication(box):
    box.write_file("/usr/local/lib/relay.py", RELAY)
    # Anyone can log under the name sshd. A compromised service account (its lines go to
    # the system journal, which sessmgrd reads; those of uids from 1000 up go to files of
    # their own) announces bob's next login as a password one.
    box.run(["logger", "-t", "sshd", "Accepted password for bob from 127.0.0.1 port 40123 ssh2"], user="daemon")
    wait_until(lambda: "Accepted password for bob" in box.run(["journalctl", "-t", "sshd", "--no-pager"]).stdout,
               what="the forged line in the journal")
    time.sleep(1)       # sessmgrd reads the journal on its own time

    box.ssh("bob", "true", options=["-o", "ProxyCommand=python3 /usr/local/lib/relay.py 40123 %h %p"])

    (login,) = wait_until(lambda: [r for r in history(box, "--user", "bob") if r["remote_port"] == 40123],
                          what="bob's login from port 40123")
    # Before: "password", from the forged line; sshd's own line says publickey.
    assert login["auth_method"] == "publickey", login
    assert login["auth_key"].startswith("ED25519 SHA256:"), login


# Connects to sessmgrd, leaves the connection to a child and exits, so that its pid is
# free for another process; the child announces a logout of alice's own session when
# told to.
CONNECT_THEN_LEAVE = """
import os, sys
import dbus, dbus.connection
connection = dbus.connection.Connection("unix:path=/run/sessmgr/socket")
if os.fork() == 0:
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    with open("/tmp/pid-reuse/go") as go:
        go.read()
    try:
        connection.call_blocking(None, "/org/sessmgr1", "org.sessmgr.Manager1", "AnnounceLogout", "t",
                                 [int(sys.argv[1])], timeout=10)
        answer = "announced"
    except dbus.exceptions.DBusException as error:
        answer = error.get_dbus_name()
    with open("/tmp/pid-reuse/answer", "w") as file:
        file.write(answer)
    os._exit(0)
print(os.getpid(), flush=True)
os._exit(0)
"""

# Starts a process with the given pid (ns_last_pid) inside the given logind session.
TAKE_PID = """
import os, subprocess, sys
wanted, uid, session = int(sys.argv[1]), sys.argv[2], sys.argv[3]
subprocess.run(["mount", "-o", "remount,bind,rw", "/proc/sys"], check=True)
for attempt in range(100):
    with open("/proc/sys/kernel/ns_last_pid", "w") as file:
        file.write(str(wanted - 1))
    pid = os.fork()
    if pid == 0:
        if os.getpid() == wanted:
            for hierarchy in ("systemd", "unified"):
                path = f"/sys/fs/cgroup/{hierarchy}/user.slice/user-{uid}.slice/session-{session}.scope/cgroup.procs"
                if os.path.exists(path):
                    with open(path, "w") as file:
                        file.write("0")
            null = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execvp("sleep", ["sleep", "300"])
        os._exit(0)
    if pid == wanted:
        sys.exit(0)
    os.waitpid(pid, 0)
sys.exit("the pid was not free")
"""


def test_a_reused_pid_does_not_name_another_users_session(box):
    box.write_file("/usr/local/lib/connect_then_leave.py", CONNECT_THEN_LEAVE)
    box.write_file("/usr/local/lib/take_pid.py", TAKE_PID)
    box.run("mkdir -m 755 /tmp/pid-reuse && mkfifo -m 666 /tmp/pid-reuse/go && chmod 777 /tmp/pid-reuse")
    bob = box.ssh_background("bob")
    (bob_logind,) = box.wait_for_sessions("bob", 1)
    alice = box.ssh_background("alice")
    (alice_logind,) = box.wait_for_sessions("alice", 1)
    ids = wait_until(lambda: {r["user"]: r["id"] for r in records(box)} if len(records(box)) == 2 else None,
                     what="both logins recorded")

    leaver = int(box.run(["python3", "/usr/local/lib/connect_then_leave.py", str(ids["alice"])],
                         user="alice").stdout)
    box.run(["unshare", "-m", "python3", "/usr/local/lib/take_pid.py", str(leaver),
             str(box.user_entry("bob")[0]), bob_logind])
    assert f"session-{bob_logind}.scope" in box.read_file(f"/proc/{leaver}/cgroup")

    box.run("echo go > /tmp/pid-reuse/go")
    answer = wait_until(lambda: box.run(["cat", "/tmp/pid-reuse/answer"], check=False).stdout, what="the answer")
    assert answer == "announced"
    logged = [line for line in box.journal(unit="sessmgrd.service").splitlines()
              if f"session {ids['alice']} of alice: revoked by" in line]
    # Before: "revoked by session <bob's> from 127.0.0.1", bob's record found by the pid.
    assert len(logged) == 1 and logged[0].endswith("revoked by alice"), logged
    bob.close()
    alice.close()
