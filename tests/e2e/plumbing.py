"""Host-side plumbing for container.py: process groups (commands and SSH
clients run through nsenter), the container's PID 1, and removing container
directories (including those a killed test run left).
"""

import fcntl
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path


class CommandFailed(subprocess.CalledProcessError):
    """A non-zero exit whose message shows the output (pytest prints it)."""

    def __str__(self):
        command = self.cmd if isinstance(self.cmd, str) else shlex.join(map(str, self.cmd))
        return (f"{command} exited with {self.returncode}\n"
                f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}")


def kill_group(process, grace_seconds):
    """End a process group started with start_new_session=True.

    Its leader is nsenter, which does not forward signals. Killing it first
    would orphan the command it runs inside the container to the *host's*
    PID 1 (Linux picks the new parent in the dead parent's PID namespace),
    whose lazily reaped zombie then stalls the container's shutdown. So the
    other members get SIGTERM first, and nsenter exits once it reaped them.
    """
    members = [pid for pid in _group_members(process.pid) if pid != process.pid]
    for pid in members or [process.pid]:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def _group_members(group_id):
    members = []
    for entry in Path("/proc").iterdir():
        try:
            # Fields after the ")" that ends the command name: state, ppid, pgrp.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[2] == str(group_id):
            members.append(int(entry.name))
    return members


def run_process(argv, input=None, timeout=60):
    """subprocess.run with text output, but a timeout kills the whole group.

    nsenter forks: killing only nsenter would leave the command running
    inside the container.
    """
    process = subprocess.Popen(
        argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        stdout, stderr = process.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process, grace_seconds=2)
        stdout, stderr = process.communicate()
        raise subprocess.TimeoutExpired(argv, timeout, stdout, stderr) from None
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


# Ctrl-C typed into a remote terminal: ends its foreground command.
INTERRUPT = b"\x03"


class BackgroundSsh:
    """A long-lived SSH login started by Container.ssh_background()."""

    def __init__(self, user, process, tty, log_path):
        self.user = user
        self.process = process      # Popen of nsenter ... ssh (own process group)
        self.tty = tty
        self.log_path = log_path

    def is_running(self):
        return self.process.poll() is None

    def output(self):
        """What the ssh client printed so far (stdout and stderr)."""
        return Path(self.log_path).read_text(errors="replace")

    def close(self, timeout=5):
        """End the remote command, as the user would; drop() if it lingers."""
        if not self.is_running():
            return
        try:
            if self.tty:
                self.process.stdin.write(INTERRUPT)
            # Without a tty, ssh_background's wrapper exits on end of input.
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.drop()

    def drop(self):
        """Kill the ssh client: sshd sees the connection vanish."""
        if self.is_running():
            kill_group(self.process, grace_seconds=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def find_container_init(nspawn_pid):
    """Host PID of the container's PID 1 (systemd), or None if not there yet.

    nspawn makes itself a child subreaper, so the container's init is one of
    its direct children, and is PID 1 in its own PID namespace.
    """
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if (fields.get("PPid", "").strip() == str(nspawn_pid)
                and fields.get("NSpid", "").split()[-1:] == ["1"]):
            return int(entry.name)
    return None


# nspawn's per-machine directories on the host. nspawn does not always remove
# them: not when killed, and it refuses to when /run is on disk (as on some CI
# hosts); with a new machine name per container they would pile up.
NSPAWN_RUNTIME_DIRECTORIES = ["/run/systemd/nspawn/propagate",
                              "/run/systemd/nspawn/unix-export"]


def remove_tree(directory):
    """Unmount whatever is mounted below directory, then delete it."""
    directory = os.path.realpath(directory)
    with open("/proc/self/mounts") as mounts:
        # Octal escapes (\040 for a space) are left alone: our paths have none.
        points = [line.split()[1] for line in mounts]
    for point in sorted(points, reverse=True):      # deepest first
        if point == directory or point.startswith(directory + "/"):
            if subprocess.run(["umount", point], capture_output=True).returncode != 0:
                subprocess.run(["umount", "--lazy", point], check=True)
    # --one-file-system: never descend into anything still mounted.
    subprocess.run(["rm", "-rf", "--one-file-system", directory], check=True)


def remove_container_directory(directory):
    """Delete a container's directory (unmounting its overlay) and nspawn's
    runtime directories for the machine, which is named like the directory."""
    for parent in NSPAWN_RUNTIME_DIRECTORIES:
        subprocess.run(["rm", "-rf", "--one-file-system", f"{parent}/{Path(directory).name}"])
    remove_tree(directory)


def sweep_stale_containers(run_directory):
    """Remove containers left by a killed test run.

    A live container's owner holds an exclusive lock on its "lock" file; a
    free lock means the owner died, possibly leaving nspawn running. Young
    directories are left alone: their owner may not have taken the lock yet.
    """
    if not run_directory.is_dir():
        return
    for directory in run_directory.iterdir():
        try:
            _sweep_if_stale(directory)
        except (OSError, subprocess.CalledProcessError):
            pass    # e.g. a concurrent run swept it first; never fail a test for this


def _sweep_if_stale(directory):
    if time.time() - directory.stat().st_mtime < 60:
        return
    try:
        lock_file = open(directory / "lock")
    except OSError:
        lock_file = None     # its owner died before taking the lock
    try:
        if lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return       # alive, owned by a concurrent test run
        _kill_stale_nspawn(directory)
        remove_container_directory(directory)
    finally:
        if lock_file:
            lock_file.close()


def _kill_stale_nspawn(directory):
    try:
        pid = int((directory / "nspawn.pid").read_text())
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"systemd-nspawn" not in command_line or str(directory).encode() not in command_line:
        return   # that PID now belongs to something else
    # Killing the namespace's PID 1 kills every process in the container.
    for target in filter(None, (find_container_init(pid), pid)):
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while _is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _is_alive(pid):
    """True while pid runs (a zombie, waiting for its reaper, counts as gone)."""
    try:
        return bool(Path(f"/proc/{pid}/cmdline").read_bytes())
    except OSError:
        return False
