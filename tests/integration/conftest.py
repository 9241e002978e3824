# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for tests that run the real sessmgrd, the real PAM module (through
pam_wrapper and pamtester) and the real sessmgrctl against a temporary socket and
database. Test users exist only for the processes started here, through nss_wrapper."""

import os
import sys
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

BUILD = Path(os.environ.get("SESSMGR_BUILD", Path(__file__).resolve().parents[2] / "build"))
SESSMGRD = BUILD / "sessmgrd" / "sessmgrd"
SESSMGRCTL = BUILD / "sessmgrctl" / "sessmgrctl"
PAM_MODULE = BUILD / "pam_sessmgr" / "pam_sessmgr.so"
RAW_CALL = Path(__file__).resolve().parent / "raw_call.py"

# Sanitizer runtimes must come first when the module under test is built with them.
PRELOAD_FIRST = os.environ.get("SESSMGR_TEST_PRELOAD", "")
# SESSMGR_TEST_VALGRIND=1 runs sessmgrd, pamtester (with the module) and sessmgrctl under
# valgrind: any leak or memory error makes the command, and so the test, fail.
VALGRIND = (["valgrind", "-q", "--leak-check=full", "--error-exitcode=99", "--trace-children=no"]
            if os.environ.get("SESSMGR_TEST_VALGRIND") else [])
# Under valgrind everything runs tens of times slower: the module's 250 ms would expire.
VALGRIND_TIMEOUT = "timeout=20000" if VALGRIND else ""

USERS = {"alice": 60001, "bob": 60002}
SERVICE = "sessmgr-test"


class World:
    """A temporary directory with a PAM service, fake users, a socket path and a database."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.socket = directory / "run" / "socket"
        self.database = directory / "lib" / "sessions.db"
        self.pam_dir = directory / "pam.d"
        self.pam_env = directory / "pam_env.conf"
        self.passwd = directory / "passwd"
        self.group = directory / "group"
        self.daemon = None
        self.daemon_log = directory / "sessmgrd.log"

        self.pam_dir.mkdir()
        self.passwd.write_text("root:x:0:0:root:/root:/bin/sh\n" + "".join(
            f"{name}:x:{uid}:{uid}:{name}:/nonexistent:/bin/sh\n" for name, uid in USERS.items()))
        self.group.write_text("root:x:0:\n" + "".join(f"{name}:x:{uid}:\n" for name, uid in USERS.items()))
        (self.pam_dir / "other").write_text("session required pam_deny.so\n")
        self.configure_pam()

    def configure_pam(self, module_arguments="", ssh_connection=None):
        """Writes the test service: pam_env can put SSH_CONNECTION into the PAM
        environment as sshd does, then our module runs."""
        self.pam_env.write_text(f'SSH_CONNECTION DEFAULT="{ssh_connection}"\n' if ssh_connection else "")
        (self.pam_dir / SERVICE).write_text(
            "auth     required pam_permit.so\n"
            "account  required pam_permit.so\n"
            "session  required pam_permit.so\n"
            f"session  required pam_env.so readenv=0 user_readenv=0 conffile={self.pam_env}\n"
            f"session  optional {PAM_MODULE} socket={self.socket} {VALGRIND_TIMEOUT} {module_arguments}\n")

    def wrapper_environment(self, **extra):
        environment = dict(os.environ)
        environment.update({
            "LD_PRELOAD": f"{PRELOAD_FIRST} libpam_wrapper.so libnss_wrapper.so".strip(),
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": str(self.pam_dir),
            "PAM_WRAPPER_DEBUGLEVEL": "1",      # module log lines go to stderr
            "NSS_WRAPPER_PASSWD": str(self.passwd),
            "NSS_WRAPPER_GROUP": str(self.group),
        })
        environment.update(extra)
        return environment

    # --- sessmgrd ---------------------------------------------------------

    def start_daemon(self, *extra_arguments, wait=True, system_bus=None):
        # These tests run beside whatever logind the host has, if any: keep it out, or
        # give the daemon a private bus with a stand-in logind on it.
        # The daemon sees the test users too (it names the user who revoked a session).
        environment = self.wrapper_environment(
            DBUS_SYSTEM_BUS_ADDRESS=system_bus or f"unix:path={self.directory}/no-system-bus")
        environment["LD_PRELOAD"] = f"{PRELOAD_FIRST} libnss_wrapper.so".strip()
        self.daemon = subprocess.Popen(
            VALGRIND + [SESSMGRD, "--socket", self.socket, "--db", self.database, *extra_arguments],
            stdout=subprocess.DEVNULL, stderr=open(self.daemon_log, "ab"), env=environment)
        if wait:
            self.wait_for_socket()
        return self.daemon

    def start_daemon_in_namespace(self, setup):
        """sessmgrd in a private mount namespace prepared by the shell commands in setup
        (a read-only or tiny database directory, a journal socket of the test's own)."""
        self.daemon = subprocess.Popen(
            ["unshare", "-m", "sh", "-c", f"{setup} && exec {SESSMGRD} --socket {self.socket} --db {self.database}"],
            stdout=subprocess.DEVNULL, stderr=open(self.daemon_log, "ab"),
            env=self.wrapper_environment(LD_PRELOAD="", DBUS_SYSTEM_BUS_ADDRESS="unix:path=/none"))
        return self.daemon

    def wait_for_socket(self, timeout=60 if VALGRIND else 10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise AssertionError(f"sessmgrd exited with {self.daemon.returncode}: {self.daemon_log.read_text()}")
            try:
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.connect(str(self.socket))
                return
            except OSError:
                time.sleep(0.02)
        raise AssertionError("sessmgrd did not start listening")

    def stop_daemon(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGCONT)
            self.daemon.terminate()
            returncode = self.daemon.wait(timeout=10)
            self.daemon = None
            return returncode
        self.daemon = None
        return None

    # --- logins -----------------------------------------------------------

    def pamtester(self, user, *operations, items=(), timeout=30, environment=None, silent=False, wrapper=(),
                  service=SERVICE):
        """Runs pamtester as root (as sshd would), after the wrapper command if one is
        given; returns (CompletedProcess, seconds)."""
        arguments = list(wrapper) + VALGRIND + ["pamtester", "-v"]
        for item in items:
            arguments += ["-I", item]
        # pamtester passes flags with the operation: open_session(PAM_SILENT)
        arguments += [service, user, *(f"{o}(PAM_SILENT)" if silent else o for o in operations)]
        started = time.monotonic()
        result = subprocess.run(arguments, env=self.wrapper_environment(**(environment or {})), capture_output=True,
                                text=True, timeout=timeout)
        return result, time.monotonic() - started

    def login(self, user, *operations, **kwargs):
        result, _ = self.pamtester(user, *operations, **kwargs)
        assert result.returncode == 0, result.stderr
        return result

    # --- clients ----------------------------------------------------------

    def as_user(self, user):
        """setpriv prefix that runs a command with the user's uid and no groups."""
        if user in (None, "root"):
            return []
        uid = USERS[user]
        return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]

    def ctl(self, *arguments, user=None, socket_path=None):
        command = self.as_user(user) + VALGRIND + [SESSMGRCTL, "--socket", socket_path or self.socket, *arguments]
        environment = self.wrapper_environment()
        environment["LD_PRELOAD"] = f"{PRELOAD_FIRST} libnss_wrapper.so".strip()
        return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=30)

    def raw_call(self, method, signature="", *arguments, user=None):
        """Calls a method on the socket directly, without sessmgrctl; returns
        (error name or None, reply values)."""
        import json
        command = self.as_user(user) + [sys.executable, RAW_CALL, str(self.socket), method, signature,
                                        json.dumps(list(arguments))]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        return answer.get("error"), answer.get("message"), answer.get("reply")


@pytest.fixture
def world():
    directory = Path(tempfile.mkdtemp(prefix="sessmgr-test-"))
    # Other test users must be able to reach the socket below it.
    directory.chmod(0o755)
    world = World(directory)
    try:
        yield world
        # A daemon still running must stop cleanly: this catches crashes at shutdown
        # and, in sanitizer builds, leaks.
        returncode = world.stop_daemon()
        assert returncode in (None, 0), f"sessmgrd exited with {returncode}: {world.daemon_log.read_text()}"
    finally:
        world.stop_daemon()
        subprocess.run(["rm", "-rf", str(directory)], check=False)


@pytest.fixture
def daemon(world):
    world.start_daemon()
    return world


def pytest_configure(config):
    for path in (SESSMGRD, SESSMGRCTL, PAM_MODULE):
        if not path.exists():
            raise pytest.UsageError(f"{path} is missing: build first, or set SESSMGR_BUILD")
    if os.geteuid() != 0:
        raise pytest.UsageError("these tests run pamtester as root and clients as other uids: run them as root")
