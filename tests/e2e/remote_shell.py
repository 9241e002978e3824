# SPDX-License-Identifier: LGPL-2.1-or-later
"""A shell inside one particular SSH login, so a test can run commands *from* that
session (sessmgrctl marks it current, logind counts it as the caller's session)."""

import secrets
import subprocess
import time

from container import CommandFailed


class RemoteShell:
    """An SSH login with a terminal running a plain bash that reads commands from us.
    Each command's output and exit status land in files under /tmp, read as root."""

    def __init__(self, box, user, options=()):
        self.box = box
        self.user = user
        self.token = secrets.token_hex(4)
        self.count = 0
        self.handle = box.ssh_background(user, "exec bash --norc --noprofile", tty=True, options=options)
        self.logind_session = self.run("echo $XDG_SESSION_ID").stdout.strip()
        assert self.logind_session, "the login has no logind session"

    def run(self, command, timeout=30, check=False):
        """Runs command (stdin from /dev/null unless the command says otherwise);
        returns an object with returncode, stdout and stderr."""
        self.count += 1
        base = f"/tmp/remote-{self.token}-{self.count}"
        line = f"( {command} ) >{base}.out 2>{base}.err </dev/null; echo $? >{base}.rc\n"
        self.handle.process.stdin.write(line.encode())
        self.handle.process.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            done = self.box.run(["cat", f"{base}.rc"], check=False)
            if done.returncode == 0 and done.stdout.strip():
                break
            if not self.handle.is_running():
                raise RuntimeError(f"the SSH login of {self.user} ended while running: {command}\n"
                                   f"{self.handle.output()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{command} did not finish within {timeout}s")
            time.sleep(0.05)
        result = Result(int(done.stdout), self.box.read_file(f"{base}.out"), self.box.read_file(f"{base}.err"))
        if check and result.returncode != 0:
            raise CommandFailed(result.returncode, command, result.stdout, result.stderr)
        return result

    def is_running(self):
        return self.handle.is_running()

    def close(self, timeout=5):
        """Types exit, as the user would, and waits for the login to end; only if that
        lingers does the handle's close() interrupt (a Ctrl-C would also discard the typed
        exit) and at last kill the client."""
        if self.handle.is_running():
            try:
                self.handle.process.stdin.write(b"exit\n")
                self.handle.process.stdin.flush()
                self.handle.process.wait(timeout=timeout)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                pass
        self.handle.close()


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return f"Result(returncode={self.returncode}, stdout={self.stdout!r}, stderr={self.stderr!r})"
