# SPDX-License-Identifier: LGPL-2.1-or-later
"""One machine of a fleet on this host, for the agent's tests: a real sessmgrd started as
tests/integration's World starts it (temporary socket and database, PAM module through
pam_wrapper and pamtester, users through nss_wrapper), with [Fleet] AgentUser= naming a
test user of its own, and the real sessmgr-fleet run as that user (setpriv), connected to
the tests' private PostgreSQL (tests/fleet/postgres.py) as the machine's role."""

import importlib.util
import json
import os
import sys
import signal
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# tests/integration/conftest.py, under a name of its own (this folder has a conftest too).
_spec = importlib.util.spec_from_file_location("integration_world", ROOT / "tests" / "integration" / "conftest.py")
integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(integration)

BUILD = integration.BUILD
AGENT = BUILD / "fleet" / "sessmgr-fleet"
SESSMGRCTL = integration.SESSMGRCTL
FLEET_CALL = HERE / "fleet_call.py"
AGENT_USER, AGENT_UID = "fleetagent", 60010
# Generous: these wait for work to be done on a loaded machine, they measure nothing.
WAIT_SECONDS = 60


def wait_until(predicate, what, timeout=WAIT_SECONDS, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


class Machine:
    """A World with an agent user, a fleet.conf for machine NAME of the fleet fixture, and
    helpers to run and stop the agent."""

    def __init__(self, fleet, name, settings=""):
        self.fleet = fleet
        self.server = fleet.server
        self.name = name
        self.machine_id = fleet.machines[name]
        self.role = fleet.roles[name]
        directory = Path(tempfile.mkdtemp(prefix="sessmgr-fleet-test-"))
        directory.chmod(0o755)
        self.world = integration.World(directory)
        with open(self.world.passwd, "a") as passwd:
            passwd.write(f"{AGENT_USER}:x:{AGENT_UID}:{AGENT_UID}:fleet agent:/nonexistent:/bin/false\n")
        with open(self.world.group, "a") as group:
            group.write(f"{AGENT_USER}:x:{AGENT_UID}:\n")
        self.directory = directory
        self.config = directory / "fleet.conf"
        # The agent's own socket, in a folder it may write (as /run/sessmgr-fleet is).
        self.agent_run = directory / "agent-run"
        self.agent_run.mkdir()
        os.chown(self.agent_run, AGENT_UID, AGENT_UID)
        self.agent_socket = self.agent_run / "socket"
        self.agent_log = directory / "agent.log"
        self.agent = None
        self.owner = None
        self.write_config(settings)

    # --- configuration ---------------------------------------------------------------
    def connection(self, role=None):
        return self.server.dsn(self.fleet.database, role or self.role)

    def write_config(self, settings="", role=None):
        """Short intervals: the tests wait for the agent, not for its timers. The connection
        string in two lines, as a long one is written (they are joined)."""
        host, rest = self.connection(role).split(" ", 1)
        self.config.write_text(f"[Database]\nConnection={host}\nConnection={rest}\nRetryMaxSec=1\n"
                               "[Sync]\nIntervalSec=1\n[Revocations]\nPollIntervalSec=3600\n" + settings)
        # Root and the agent's user only, as in the field.
        os.chown(self.config, 0, AGENT_UID)
        self.config.chmod(0o640)

    # --- sessmgrd ---------------------------------------------------------------------
    def start_daemon(self, agent_user=AGENT_USER):
        daemon_config = self.directory / "sessmgrd.conf"
        daemon_config.write_text(f"[Fleet]\nAgentUser={agent_user}\n" if agent_user else "")
        self.world.start_daemon("--config", str(daemon_config))

    def stop_daemon(self):
        return self.world.stop_daemon()

    def login(self, user="alice", *operations):
        return self.world.login(user, *(operations or ("open_session",)))

    def local_records(self):
        """Every record of the local store, from the change feed (root may read it)."""
        records, after = [], 0
        while True:
            error, message, reply = self.world.raw_call("GetChanges", "tu", after, 1000, user="root")
            assert error is None, message
            feed, cursor, page = reply
            records += page
            if len(page) < 1000:
                return feed, cursor, records
            after = cursor

    # --- the agent --------------------------------------------------------------------
    def agent_command(self, *arguments, as_agent=True, wrapper=()):
        """The agent's command line; wrapper (valgrind) runs the agent itself, after setpriv."""
        prefix = (["setpriv", f"--reuid={AGENT_UID}", f"--regid={AGENT_UID}", "--clear-groups"]
                  if as_agent else [])
        return prefix + list(wrapper) + [str(AGENT), "--config", str(self.config), "--socket", str(self.world.socket),
                         "--machine-id", self.machine_id, "--listen", str(self.agent_socket), *arguments]

    def agent_environment(self):
        """The test users through nss_wrapper: the agent names its callers by their uid."""
        environment = self.world.wrapper_environment()
        environment["LD_PRELOAD"] = f"{integration.PRELOAD_FIRST} libnss_wrapper.so".strip()
        return environment

    def start_agent(self, *arguments, wrapper=()):
        assert self.agent is None or self.agent.poll() is not None
        self.agent = subprocess.Popen(self.agent_command("--debug", *arguments, wrapper=wrapper),
                                      stdout=subprocess.DEVNULL, stderr=open(self.agent_log, "ab"),
                                      env=self.agent_environment())
        return self.agent

    def run_agent(self, *arguments, as_agent=True, wrapper=(), timeout=120):
        return subprocess.run(self.agent_command(*arguments, as_agent=as_agent, wrapper=wrapper),
                              capture_output=True, text=True, timeout=timeout, env=self.agent_environment())

    def wait_agent_listening(self):
        return wait_until(lambda: self.agent_socket.exists(), "the agent's socket")

    # --- the agent's socket ------------------------------------------------------------
    def ctl(self, *arguments, user=None):
        """sessmgrctl on this machine, talking to this machine's agent and sessmgrd."""
        command = self.world.as_user(user) + integration.VALGRIND + [
            str(SESSMGRCTL), "--socket", str(self.world.socket), "--fleet-socket", str(self.agent_socket), *arguments]
        environment = self.world.wrapper_environment()
        environment["LD_PRELOAD"] = f"{integration.PRELOAD_FIRST} libnss_wrapper.so".strip()
        return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)

    def fleet_call(self, method, signature="", *arguments, user=None):
        """A method of the agent's socket called directly, as the user: (error, message, reply)."""
        result = subprocess.run(self.world.as_user(user) + [sys.executable, str(FLEET_CALL), str(self.agent_socket),
                                method, signature, json.dumps(list(arguments))],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        return answer.get("error"), answer.get("message"), answer.get("reply")

    def hold_connections(self, count, seconds, user):
        result = subprocess.run(self.world.as_user(user) + [sys.executable, str(FLEET_CALL), str(self.agent_socket),
                                "hold", str(count), str(seconds)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def stop_agent(self, sig=signal.SIGTERM):
        if self.agent is None:
            return None
        if self.agent.poll() is None:
            self.agent.send_signal(sig)
        returncode = self.agent.wait(timeout=30)
        self.agent = None
        return returncode

    def log(self):
        return self.agent_log.read_text(errors="replace") if self.agent_log.exists() else ""

    def cleanup(self):
        try:
            if self.agent is not None and self.agent.poll() is None:
                self.agent.kill()
                self.agent.wait()
            self.world.stop_daemon()
        finally:
            subprocess.run(["rm", "-rf", str(self.directory)], check=False)

    # --- what the database holds ------------------------------------------------------
    def query(self, sql, *parameters):
        """As the DBA (the schema's owner, whom row-level security does not limit)."""
        import psycopg2
        for attempt in (1, 2):
            if self.owner is None or self.owner.closed:
                self.owner = self.fleet.owner()
            try:
                with self.owner.cursor() as cursor:
                    cursor.execute(sql, parameters)
                    return cursor.fetchall() if cursor.description else None
            except psycopg2.OperationalError:
                # The tests' own connection did not survive a restart of the server.
                self.owner.close()
                if attempt == 2:
                    raise

    def rows(self):
        """This machine's rows: {session_id: (state, user_name, change_cursor)}, checking
        that no session is there twice."""
        rows = self.query("SELECT session_id, state, user_name, change_cursor FROM sessmgr.sessions "
                          "WHERE machine_id = %s", self.machine_id)
        by_id = {row[0]: row[1:] for row in rows}
        assert len(by_id) == len(rows), "a session twice in the database"
        return by_id

    def report(self):
        return self.query("SELECT synced_cursor, synced_feed, last_sync FROM sessmgr.machines "
                          "WHERE machine_id = %s", self.machine_id)[0]

    def wait_in_sync(self, what="the database to hold every local record as it is"):
        """Until the database holds exactly the local records, each in its local state, and
        the machine's cursor is the feed's: nothing lost, nothing doubled."""
        def in_sync():
            feed, cursor, records = self.local_records()
            local = {record["id"]: (record["state"], record["user"]) for record in records}
            remote = {session: (state, user) for session, (state, user, _) in self.rows().items()}
            synced_cursor, synced_feed, _ = self.report()
            return local == remote and (synced_cursor, synced_feed) == (cursor, feed)
        try:
            return wait_until(in_sync, what)
        except AssertionError as error:
            raise AssertionError(f"{error}; the agent's log:\n{self.log()}") from None
