# SPDX-License-Identifier: LGPL-2.1-or-later
"""A dbus-daemon with Debian's stock system bus policy (/usr/share/dbus-1/system.conf and
its system.d, which lets only root own org.freedesktop.login1), listening in a test's
directory, with the stand-in logind (tests/bench/fake-logind.c) on it as root."""

import contextlib
import queue
import re
import subprocess
import threading
import time
from pathlib import Path

from conftest import BUILD

FAKE_LOGIND = BUILD / "tests" / "bench" / "bench-fake-logind"
STOCK_CONFIG = Path("/usr/share/dbus-1/system.conf")


def stock_config(address):
    """The stock file with its own socket, and without what needs the real system's
    services: the messagebus user, the pid file, syslog, service activation."""
    text = STOCK_CONFIG.read_text()
    for element in ("user", "pidfile", "servicehelper"):
        text, count = re.subn(rf"<{element}>[^<]*</{element}>", "", text)
        assert count == 1, element
    for element in ("fork", "syslog", "standard_system_servicedirs"):
        text, count = re.subn(rf"<{element}/>", "", text)
        assert count == 1, element
    text, count = re.subn(r"<listen>[^<]*</listen>", f"<listen>{address}</listen>", text)
    assert count == 1
    # Relative to the file's own directory, which is no longer /usr/share/dbus-1.
    text, count = re.subn(r"<includedir>system.d</includedir>",
                          f"<includedir>{STOCK_CONFIG.parent / 'system.d'}</includedir>", text)
    assert count == 1
    assert (STOCK_CONFIG.parent / "system.d" / "org.freedesktop.login1.conf").exists()
    return text


class StandIn:
    def __init__(self, process):
        self.process = process
        self.lines = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in process.stdout], daemon=True).start()

    def command(self, verb, logind_session):
        """Has the stand-in logind change a session as logind would ("closing", "remove")."""
        self.process.stdin.write(f"{verb} {logind_session}\n")
        self.process.stdin.flush()
        answer = self.lines.get(timeout=20)
        assert answer == f"ok {logind_session}\n", answer


@contextlib.contextmanager
def stock_bus(world, sessions, refusals=0):
    """Yields the bus address and the stand-in logind (StandIn) with sessions f0..fN-1,
    which refuses the first `refusals` TerminateSession calls."""
    config = world.directory / "system.conf"
    address = f"unix:path={world.directory}/system_bus_socket"
    config.write_text(stock_config(address))
    # The bus looks up each client's user and groups for its policy: the test users are
    # in nss_wrapper's files, as they would be in /etc/passwd.
    environment = world.wrapper_environment()
    environment["LD_PRELOAD"] = "libnss_wrapper.so"
    bus = subprocess.Popen(["dbus-daemon", "--nofork", "--nopidfile", f"--config-file={config}"], env=environment,
                           stderr=open(world.directory / "dbus-daemon.log", "ab"))
    logind = None
    try:
        deadline = time.monotonic() + 10
        while not (world.directory / "system_bus_socket").exists():
            assert time.monotonic() < deadline, "dbus-daemon did not start"
            time.sleep(0.01)
        logind = subprocess.Popen([FAKE_LOGIND, str(sessions), str(refusals)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, env={"DBUS_SYSTEM_BUS_ADDRESS": address})
        assert logind.stdout.readline() == "ready\n", "the stand-in logind did not start"
        yield address, StandIn(logind)
        # sessmgrd first, before logind goes away under it; a crash at shutdown fails.
        returncode = world.stop_daemon()
        assert returncode in (None, 0), f"sessmgrd exited with {returncode}: {world.daemon_log.read_text()}"
    finally:
        world.stop_daemon()
        if logind:
            logind.terminate()
            logind.wait()
        bus.terminate()
        bus.wait()
