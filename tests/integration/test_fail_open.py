# SPDX-License-Identifier: LGPL-2.1-or-later
"""Whatever state sessmgrd is in, a login goes through, within the module's timeout,
with one line in the log."""

import os
import signal
import socket
import threading

import pytest

TIMEOUT_MS = 250
# pamtester itself, pam_wrapper's setup and the machine's load: generous but far below
# what a person would notice as a hung login.
MARGIN_S = 0.75


def assert_fast_success(result, seconds, limit):
    assert result.returncode == 0, result.stderr
    assert "successfully opened a session" in result.stdout + result.stderr
    assert seconds < limit, f"login took {seconds:.3f}s"


def warnings_of(result):
    return [line for line in result.stderr.splitlines() if "cannot record session" in line]


def test_daemon_not_running(world):
    result, seconds = world.pamtester("alice", "open_session", "close_session")
    assert_fast_success(result, seconds, 1.0)
    lines = warnings_of(result)
    assert len(lines) == 1 and "sessmgrd is not running" in lines[0]


def test_daemon_frozen(daemon):
    daemon.daemon.send_signal(signal.SIGSTOP)
    try:
        result, seconds = daemon.pamtester("alice", "open_session")
    finally:
        daemon.daemon.send_signal(signal.SIGCONT)
    assert_fast_success(result, seconds, TIMEOUT_MS / 1000 + MARGIN_S)
    assert seconds >= TIMEOUT_MS / 1000 * 0.9, "the module gave up before its timeout"
    lines = warnings_of(result)
    assert len(lines) == 1 and f"did not answer within {TIMEOUT_MS} ms" in lines[0]


def test_configured_timeout_is_used(daemon):
    daemon.configure_pam(module_arguments="timeout=100")
    daemon.daemon.send_signal(signal.SIGSTOP)
    try:
        result, seconds = daemon.pamtester("alice", "open_session")
    finally:
        daemon.daemon.send_signal(signal.SIGCONT)
    assert_fast_success(result, seconds, 0.1 + MARGIN_S)
    assert "did not answer within 100 ms" in result.stderr


class FakeServer:
    """A listener on the daemon's socket path that misbehaves in a chosen way."""

    def __init__(self, path, behaviour):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        os.chmod(path, 0o666)
        self.listener.listen(16)
        self.behaviour = behaviour
        self.connections = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)
            if self.behaviour == "garbage":
                connection.sendall(b"\x00garbage\r\nREJECTED nonsense\r\n" + os.urandom(4096))
            elif self.behaviour == "close":
                connection.close()
            # "silent": accept and never say anything

    def close(self):
        self.listener.close()
        for connection in self.connections:
            connection.close()


@pytest.mark.parametrize("behaviour", ["silent", "garbage", "close"])
def test_misbehaving_listener(world, behaviour):
    world.socket.parent.mkdir(parents=True, exist_ok=True)
    server = FakeServer(world.socket, behaviour)
    try:
        result, seconds = world.pamtester("alice", "open_session", "close_session")
    finally:
        server.close()
    assert_fast_success(result, seconds, TIMEOUT_MS / 1000 + MARGIN_S)
    assert len(warnings_of(result)) == 1


def test_socket_path_is_not_a_socket(world):
    world.socket.parent.mkdir(parents=True, exist_ok=True)
    world.socket.write_text("not a socket")
    result, seconds = world.pamtester("alice", "open_session")
    assert_fast_success(result, seconds, 1.0)
    assert len(warnings_of(result)) == 1
