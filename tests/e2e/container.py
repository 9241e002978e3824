"""Throwaway Debian 12 containers for sessmgr end-to-end tests.

A container is a full systemd boot (logind, dbus, sshd) under systemd-nspawn,
so PAM, logind sessions and SSH logins behave as on a real machine.

    rootfs = ensure_rootfs()            # debootstrap once, cached on disk
    with Container(rootfs) as box:      # boots in about a second
        box.add_user("alice")
        print(box.ssh("alice", "id -un").stdout)

Everything here needs root on the host. Host PID 1 need not be systemd:
containers are started with --register=no --keep-unit, so neither machined
nor a host system bus is involved.
"""

import fcntl
import os
import secrets
import signal
import subprocess
import time
import uuid
from pathlib import Path

from plumbing import (BackgroundSsh, CommandFailed, find_container_init,
                      remove_container_directory, run_process, sweep_stale_containers)
from rootfs import ensure_rootfs, run_on_host

__all__ = ["Container", "BackgroundSsh", "CommandFailed", "ensure_rootfs"]

# A clean environment for commands inside the container: the host's (pyenv
# shims, CI variables, ...) means nothing in there.
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_ENVIRONMENT = {"PATH": CONTAINER_PATH, "LANG": "C.UTF-8", "TERM": "dumb"}

SSH_OPTIONS = [
    "-i", "~/.ssh/id_ed25519",
    "-o", "IdentitiesOnly=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "BatchMode=yes",
    "-o", "ConnectTimeout=10",
    # Hides "Permanently added ... to the list of known hosts" on stderr.
    "-o", "LogLevel=ERROR",
]

class Container:
    """A booted, throwaway copy-on-write view of a root file system.

    Use it as a context manager (or call start() and stop()). prepare is an
    optional callable(container) run after the file system exists and before
    boot; run(), write_file() and install_tree() work there too (through
    chroot instead of nsenter).
    """

    def __init__(self, rootfs=None, name=None, prepare=None, boot_timeout=60, loopback_address=None):
        self.rootfs = Path(rootfs or ensure_rootfs())
        # None: a network of its own, sshd on its 127.0.0.1. An address (127.X.Y.Z): the
        # host's network, shared with the host's services (a database a test started) and
        # other such containers, so sshd listens on that address alone.
        self.loopback_address = loopback_address
        self.ssh_address = loopback_address or "127.0.0.1"
        # Unique: nspawn keys its locks and /run/systemd/nspawn paths by name.
        self.name = name or f"sessmgr-e2e-{secrets.token_hex(4)}"
        self.prepare = prepare
        self.boot_timeout = boot_timeout
        self.runs_directory = self.rootfs.parent / "run"
        self.directory = self.runs_directory / self.name
        self.root = self.directory / "root"
        self.boot_log = self.directory / "boot.log"
        self.nspawn = None        # Popen of systemd-nspawn
        self.init_pid = None      # host PID of the container's systemd
        self.timings = {}
        self._lock_file = None
        self._background = []
        self._users = {}          # name -> (uid, gid, home, shell)

    # -- lifecycle --------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        try:
            sweep_stale_containers(self.runs_directory)
            started = time.monotonic()
            self._create_root()
            self.timings["filesystem"] = time.monotonic() - started
            if self.prepare:
                self.prepare(self)
            started = time.monotonic()
            self._boot()
            self.timings["boot"] = time.monotonic() - started
        except BaseException:
            self.stop()
            raise

    def _create_root(self):
        self.directory.mkdir(parents=True)
        # Held while we live: tells a later run's sweep_stale_containers that
        # this one is not a leftover.
        self._lock_file = open(self.directory / "lock", "w")
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        for sub in ("upper", "work", "root"):
            (self.directory / sub).mkdir()
        # An overlay is instant; copying the ~300 MB tree takes seconds.
        options = (f"lowerdir={self.rootfs},upperdir={self.directory / 'upper'},"
                   f"workdir={self.directory / 'work'}")
        mounted = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options,
                                  str(self.root)], capture_output=True)
        if mounted.returncode != 0:
            run_on_host(["cp", "-a", "--reflink=auto", f"{self.rootfs}/.", str(self.root)])
        if self.loopback_address:
            (self.root / "etc/ssh/sshd_config.d/sessmgr-e2e-address.conf").write_text(
                f"ListenAddress {self.loopback_address}\n")

    def _boot(self):
        command = [
            "systemd-nspawn", "--boot", "--directory", str(self.root), "--machine", self.name,
            # No machined and no host systemd needed (host PID 1 may be anything).
            "--register=no", "--keep-unit",
            # Own loopback only (sshd on 127.0.0.1:22 must not meet the host's), unless
            # the host's network is asked for.
            *([] if self.loopback_address else ["--private-network"]),
            # Keep the host's journal, resolv.conf and timezone out of it.
            "--link-journal=no", "--resolv-conf=off", "--timezone=off",
            "--console=read-only",
            # Seeds the empty /etc/machine-id: without it, all clones share one.
            f"--uuid={uuid.uuid4()}",
        ]
        with open(self.boot_log, "w") as log:
            self.nspawn = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        (self.directory / "nspawn.pid").write_text(str(self.nspawn.pid))
        deadline = time.monotonic() + self.boot_timeout
        while self.init_pid is None:
            self._fail_if_nspawn_exited()
            if time.monotonic() > deadline:
                self._boot_failed("the container's init never appeared")
            time.sleep(0.02)
            self.init_pid = find_container_init(self.nspawn.pid)
        # --wait blocks until boot is over, but fails while PID 1 is too young
        # to answer (state "offline" or empty): retry those.
        state = ""
        while time.monotonic() < deadline:
            self._fail_if_nspawn_exited()
            try:
                state = self.run(["systemctl", "is-system-running", "--wait"], check=False,
                                 timeout=deadline - time.monotonic()).stdout.strip()
            except subprocess.TimeoutExpired:
                break
            if state in ("running", "degraded"):
                return
            if state not in ("", "offline", "initializing", "starting"):
                break
            time.sleep(0.05)
        self._boot_failed(f"system state is {state or 'unknown'!r}")

    def _fail_if_nspawn_exited(self):
        if self.nspawn.poll() is not None:
            self._boot_failed(f"systemd-nspawn exited with {self.nspawn.returncode}")

    def _boot_failed(self, reason):
        failed_units = ""
        if self.init_pid and self.nspawn.poll() is None:
            failed_units = self.run(["systemctl", "--failed", "--no-pager"], check=False).stdout
        raise RuntimeError(f"container {self.name} did not boot: {reason}\n{failed_units}\n"
                           f"--- end of {self.boot_log} ---\n{self.boot_log_tail()}")

    def boot_log_tail(self, lines=40):
        try:
            text = self.boot_log.read_text(errors="replace")
        except OSError:
            return "(no boot log)"
        return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])

    def stop(self, timeout=10):
        """Power off, unmount and delete everything. Safe to call twice.

        Units get an orderly stop (so a daemon's shutdown path runs), but once
        PID 1 has become systemd-shutdown the container is killed: that last
        stage can wait many seconds for processes entered with nsenter, whose
        exit it is not told about (they are not its children).
        """
        started = time.monotonic()
        for session in self._background:
            session.drop()
        self._background.clear()
        if self.nspawn is not None and self.nspawn.poll() is None:
            # nspawn turns SIGTERM into an orderly shutdown of the container.
            self.nspawn.send_signal(signal.SIGTERM)
            self._wait_for_shutdown(timeout)
        self.init_pid = None
        if self.directory.exists():
            remove_container_directory(self.directory)
        if self._lock_file:
            self._lock_file.close()
            self._lock_file = None
        self.timings["teardown"] = time.monotonic() - started

    def _wait_for_shutdown(self, timeout):
        deadline = time.monotonic() + timeout
        final_stage_since = None
        while self.nspawn.poll() is None:
            now = time.monotonic()
            if final_stage_since is None and self._init_program().endswith(b"/systemd-shutdown"):
                final_stage_since = now
            if now > deadline or (final_stage_since and now - final_stage_since > 0.5):
                self._kill()
                return
            time.sleep(0.02)

    def _init_program(self):
        try:
            return Path(f"/proc/{self.init_pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            return b""

    def _kill(self):
        """SIGKILL the container's PID 1, which kills every process inside."""
        init_pid = find_container_init(self.nspawn.pid)
        try:
            os.kill(init_pid or self.nspawn.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.nspawn.wait(timeout=5)     # nspawn cleans up after its container
        except subprocess.TimeoutExpired:
            self.nspawn.kill()
            self.nspawn.wait()

    # -- running commands -------------------------------------------------

    def command_line(self, cmd, user=None, environment=None):
        """Host argv that runs cmd (str for sh -c, or a list) inside the container.

        Before boot this is a chroot into the tree. A user's command runs via
        setpriv, not runuser or su: no PAM stack runs, so no logind session
        and no pam_sessmgr call happen behind a test's back.
        """
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else [str(part) for part in cmd]
        variables = dict(BASE_ENVIRONMENT)
        if user:
            uid, gid, home, shell = self.user_entry(user)
            variables.update(HOME=home, USER=user, LOGNAME=user, SHELL=shell)
            argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--",
                    "sh", "-c", 'cd "$HOME" 2>/dev/null; exec "$@"', "sh", *argv]
        variables.update(environment or {})
        if self.init_pid:
            # --all: every namespace of the container's PID 1, plus its root and cwd.
            enter = ["nsenter", "--target", str(self.init_pid), "--all", "--"]
        else:
            enter = ["chroot", str(self.root)]
        return [*enter, "env", "-i", *(f"{key}={value}" for key, value in variables.items()),
                *argv]

    def user_entry(self, user):
        """(uid, gid, home, shell) of a user of the container."""
        if user not in self._users:
            entry = self.run(["getent", "passwd", user]).stdout.strip().split(":")
            self._users[user] = (int(entry[2]), int(entry[3]), entry[5], entry[6])
        return self._users[user]

    def run(self, cmd, user=None, check=True, input=None, timeout=60, environment=None):
        """Run cmd as root (or as user) inside the container; text output."""
        result = run_process(self.command_line(cmd, user, environment), input, timeout)
        if check and result.returncode != 0:
            raise CommandFailed(result.returncode, cmd, result.stdout, result.stderr)
        return result

    def write_file(self, path, content, mode=0o644, owner=None):
        """Create or replace a file inside the container (parents created)."""
        script = 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"'
        if owner:
            script += ' && chown "$3" "$1"'
        self.run(["sh", "-c", script, "sh", path, f"{mode:o}", owner or ""], input=content)

    def read_file(self, path):
        return self.run(["cat", path]).stdout

    def install_tree(self, stage):
        """Copy a `meson install --destdir=STAGE` tree over the container's root.

        tar unpacks inside the container, so absolute symlinks there (such as
        /var/run -> /run) resolve inside it, and merged-/usr links such as
        /lib -> usr/lib are kept rather than replaced by directories.
        """
        pack = subprocess.Popen(["tar", "-C", str(stage), "-cf", "-", "."],
                                stdout=subprocess.PIPE)
        unpack = subprocess.run(
            self.command_line(["tar", "-C", "/", "-xf", "-", "--keep-directory-symlink",
                               "--no-overwrite-dir"]),
            stdin=pack.stdout, capture_output=True, text=True)
        pack.stdout.close()
        if pack.wait() != 0 or unpack.returncode != 0:
            raise RuntimeError(f"installing {stage} failed: {unpack.stderr}")
        if self.init_pid:
            self.run(["systemctl", "daemon-reload"])

    def journal(self, unit=None, lines=None):
        """This boot's journal inside the container, as text (for failure messages)."""
        argv = ["journalctl", "--boot", "--no-pager", "--output=short-precise"]
        if unit:
            argv += ["--unit", unit]
        if lines:
            argv += ["--lines", str(lines)]
        return self.run(argv, check=False).stdout

    # -- users and SSH ----------------------------------------------------

    def add_user(self, name):
        """A user with a home and an ed25519 key that the container's sshd accepts."""
        self.run(["useradd", "--create-home", "--shell", "/bin/bash", name])
        # '*' rather than useradd's '!': no password, but not "locked" either.
        self.run(["usermod", "--password", "*", name])
        self.run("mkdir -m 700 -p ~/.ssh && ssh-keygen -q -t ed25519 -N '' -f ~/.ssh/id_ed25519"
                 " && cp ~/.ssh/id_ed25519.pub ~/.ssh/authorized_keys"
                 " && chmod 600 ~/.ssh/authorized_keys", user=name)

    def _ssh_command(self, user, remote_command, tty, options):
        argv = ["ssh", *SSH_OPTIONS, *options, "-tt" if tty else "-T",
                f"{user}@{self.ssh_address}", remote_command]
        return self.command_line(argv, user=user)

    def ssh(self, user, remote_command, tty=False, options=(), check=True, input=None,
            timeout=60):
        """Log in as user over SSH (from inside the container) and run a command."""
        argv = self._ssh_command(user, remote_command, tty, options)
        result = run_process(argv, input, timeout)
        if check and result.returncode != 0:
            raise CommandFailed(result.returncode, argv, result.stdout, result.stderr)
        return result

    def ssh_background(self, user, remote_command="sleep infinity", tty=False, options=()):
        """Start an SSH login that lasts until .close() (or container teardown).

        Without a tty nothing sends the remote command SIGHUP when the
        connection ends, and a lingering `sleep` would hold the logind session
        in state "closing"; so the command is wrapped to end with its input.
        """
        if not tty:
            # The watcher reads the channel (saved as fd 3: a background job's
            # stdin would be /dev/null) and kills the command at end of input.
            remote_command = ("exec 3<&0 </dev/null; "
                              f"( {remote_command} ) 3<&- & command=$!; "
                              "(cat <&3; kill $command) >/dev/null 2>&1 & "
                              "exec 3<&-; wait $command")
        log_path = self.directory / f"ssh-{user}-{secrets.token_hex(3)}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(self._ssh_command(user, remote_command, tty, options),
                                       stdin=subprocess.PIPE, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        session = BackgroundSsh(user, process, tty, log_path)
        self._background.append(session)
        return session

    # -- logind -----------------------------------------------------------

    def sessions(self, user=None):
        """logind's sessions (all, or one user's) as dicts with id, uid, user."""
        output = self.run(["loginctl", "list-sessions", "--no-legend"]).stdout
        found = []
        for line in output.splitlines():
            fields = line.split()
            if len(fields) >= 3 and user in (None, fields[2]):
                found.append({"id": fields[0], "uid": int(fields[1]), "user": fields[2]})
        return found

    def session_properties(self, session_id, *names):
        """`loginctl show-session` as a dict (only the named properties, if given)."""
        argv = ["loginctl", "show-session", session_id]
        for name in names:
            argv += ["--property", name]
        output = self.run(argv).stdout
        return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)

    def wait_for_sessions(self, user, count, timeout=10):
        """Poll logind until user has exactly count sessions; return their ids.

        A new session is listed while still in State=opening (its scope is
        being started); this waits until none of them is.
        """
        deadline = time.monotonic() + timeout
        while True:
            ids = [session["id"] for session in self.sessions(user)]
            if len(ids) == count and "opening" not in self._session_states(ids):
                return ids
            if time.monotonic() > deadline:
                raise TimeoutError(f"{user} has sessions {ids}, expected {count} within "
                                   f"{timeout}s\n--- journal ---\n{self.journal(lines=60)}")
            time.sleep(0.1)

    def _session_states(self, ids):
        if not ids:
            return []
        result = self.run(["loginctl", "show-session", "--property=State", "--value", *ids],
                          check=False)     # fails if a session vanished meanwhile
        return result.stdout.split() if result.returncode == 0 else ["opening"]
