# SPDX-License-Identifier: LGPL-2.1-or-later
"""A fleet for the container tests: one PostgreSQL on the host, started by the tests
(tests/fleet/postgres.py: initdb + pg_ctl in a temporary folder, on 127.0.0.1 with a
password per role), and machines that are booted containers on the host's network, each
with sshd on a loopback address of its own, its own machine id, sessmgr installed as
sessmgr_install.py installs it, its own database role (sessmgr.add_machine) and the fleet
agent running as sessmgr-fleet through its real unit, set up as docs/FLEET.md tells an
administrator: [Fleet] AgentUser= for sessmgrd, /etc/sessmgr/fleet.conf, and the
password file handed over by systemd (LoadCredential=). Users ask through the real
`sessmgrctl --fleet` inside their SSH logins (FleetMachine.shell), which reaches the
agent's socket, /run/sessmgr-fleet/socket (the unit's RuntimeDirectory=)."""

import contextlib
import json
import random
import secrets
import sys
from pathlib import Path

from container import Container
from remote_shell import RemoteShell
from sessmgr_install import install_sessmgr
from waiting import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fleet"))
from postgres import PostgresServer  # noqa: E402

# Generous: these wait for work done on a loaded machine; they measure nothing.
WAIT_SECONDS = 90
AGENT_UNIT = "sessmgr-fleet.service"
AGENT_SOCKET = "/run/sessmgr-fleet/socket"
# How long `logout --fleet` waits for the machines' answers: a machine that answers is
# reported in well under a second, but the host may be loaded; one that is cut off is
# reported pending after all of it.
LOGOUT_WAIT_SECONDS = 10
PASSFILE = "/etc/sessmgr/fleet/passfile"
CREDENTIAL_DROP_IN = f"""\
[Service]
LoadCredential=passfile:{PASSFILE}
"""
# What the read-only view of the local store and the database's rows have in common.
LOCAL_ROWS = ("SELECT id, user, state, coalesce(end_reason, ''), coalesce(logind_session, '') "
              "FROM sessions_v1")
DATABASE_ROWS = ("SELECT session_id, user_name, state, coalesce(end_reason, ''), coalesce(logind_session, '') "
                 "FROM sessmgr.sessions WHERE machine_id = %s")
READ_LOCAL_ROWS = f"""
import json, sqlite3
database = sqlite3.connect("file:/var/lib/sessmgr/sessions.db?mode=ro", uri=True)
print(json.dumps(database.execute({LOCAL_ROWS!r}).fetchall()))
"""


def loopback_address():
    """A random address of 127.0.0.0/8 but 127.0.0.1: another run's machines on this
    host (the network is shared) are unlikely to have it."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


class Login:
    """An SSH login kept open: its client, logind's id and sessmgr's id of it."""

    def __init__(self, handle, logind_session, session_id):
        self.handle, self.logind_session, self.session_id = handle, logind_session, session_id

    def close(self):
        self.handle.close()


class FleetMachine:
    def __init__(self, fleet, name, box):
        self.fleet = fleet
        self.name = name
        self.box = box
        self.machine_id = box.read_file("/etc/machine-id").strip()
        self.host_name = f"machine-{name.lower()}.fleet.test"
        self.password = secrets.token_hex(16)
        self.role = fleet.server.add_machine(self.machine_id, self.host_name, password=self.password,
                                             database=fleet.database)

    def install_agent(self):
        box, server = self.box, self.fleet.server
        box.run(["systemd-sysusers", "sessmgr-fleet.conf"])
        box.write_file("/etc/sessmgr/sessmgrd.conf.d/50-fleet.conf", "[Fleet]\nAgentUser=sessmgr-fleet\n")
        box.run(["systemctl", "restart", "sessmgrd.service"])
        # The password stays root's: systemd hands the agent a copy of its own.
        box.write_file(PASSFILE, f"127.0.0.1:{server.port}:{self.fleet.database}:{self.role}:{self.password}\n",
                       mode=0o600)
        box.write_file(f"/etc/systemd/system/{AGENT_UNIT}.d/credential.conf", CREDENTIAL_DROP_IN)
        # Short intervals: the tests wait for the agent, not for its timers. Revocations
        # come by NOTIFY, or at the agent's look when it (re)connects: never by polling.
        box.write_file("/etc/sessmgr/fleet.conf",
                       f"[Database]\nConnection=host=127.0.0.1 port={server.port} dbname={self.fleet.database}\n"
                       f"Connection=user={self.role} passfile=/run/credentials/{AGENT_UNIT}/passfile\n"
                       "RetryMaxSec=1\n[Sync]\nIntervalSec=1\n"
                       f"[Revocations]\nPollIntervalSec=3600\nWaitSec={LOGOUT_WAIT_SECONDS}\n",
                       mode=0o640, owner="root:sessmgr-fleet")
        box.run(["systemctl", "daemon-reload"])
        box.run(["systemctl", "enable", "--now", AGENT_UNIT])

    def agent(self, action):
        self.box.run(["systemctl", action, AGENT_UNIT])

    # --- sessions ------------------------------------------------------------------------
    def login(self, user):
        """Logs user in over SSH and leaves the login open; waits until logind and
        sessmgrd both have it."""
        known = {session["id"] for session in self.box.sessions(user)}
        handle = self.box.ssh_background(user)
        ids = self.box.wait_for_sessions(user, len(known) + 1, timeout=WAIT_SECONDS)
        (logind_session,) = set(ids) - known
        session_id = wait_until(lambda: self.open_record(logind_session), timeout=WAIT_SECONDS,
                                what=f"sessmgrd's record of {user}'s login {logind_session} on {self.name}")
        return Login(handle, logind_session, session_id)

    def shell(self, user):
        """An SSH login of user with a shell the test types into: sessmgrctl run there
        runs in that session, as the user would run it. .session_id is sessmgrd's id.
        Its client address is the machine's own, so that "from ADDRESS" names it."""
        shell = RemoteShell(self.box, user, options=("-b", self.box.ssh_address))
        shell.session_id = wait_until(lambda: self.open_record(shell.logind_session), timeout=WAIT_SECONDS,
                                      what=f"sessmgrd's record of {user}'s shell on {self.name}")
        return shell

    def ctl(self, *arguments):
        """sessmgrctl as root, outside any login (as from a root cron job or a console)."""
        return self.box.run(["sessmgrctl", *arguments], check=False)

    def open_record(self, logind_session):
        return next((row[0] for row in self.local_rows().values()
                     if row[4] == logind_session and row[2] != "closed"), None)

    def logind_has(self, logind_session):
        return any(session["id"] == logind_session for session in self.box.sessions())

    def history(self, user):
        """sessmgrctl history --json, as the user asks it (no login needed to ask)."""
        return {record["id"]: record for record in
                json.loads(self.box.run(["sessmgrctl", "history", "--json"], user=user).stdout)["sessions"]}

    # --- the local store and the database ------------------------------------------------
    def local_rows(self):
        """{id: (id, user, state, end_reason, logind_session)}: every record, from the
        stable view sessions_v1, read-only, as any reader without sessmgrd reads it."""
        rows = json.loads(self.box.run(["python3", "-c", READ_LOCAL_ROWS]).stdout)
        return {row[0]: tuple(row) for row in rows}

    def database_rows(self):
        """This machine's rows in PostgreSQL, in the same shape; a session twice fails."""
        rows = self.fleet.query(DATABASE_ROWS, self.machine_id)
        by_id = {row[0]: tuple(row) for row in rows}
        assert len(by_id) == len(rows), f"a session of {self.name} is in the database twice: {rows}"
        return by_id

    def database_row(self, session_id):
        return self.database_rows().get(session_id)

    def wait_in_sync(self):
        """Until PostgreSQL holds every local record, each as it is, and nothing else."""
        def in_sync():
            local = self.local_rows()
            return local == self.database_rows() and local
        try:
            return wait_until(in_sync, timeout=WAIT_SECONDS, what=f"{self.name}'s records in PostgreSQL")
        except AssertionError:
            raise AssertionError(f"{self.name} not in sync:\nlocal: {self.local_rows()}\n"
                                 f"database: {self.database_rows()}\n{self.agent_journal()}") from None

    def agent_journal(self):
        return self.box.journal(unit=AGENT_UNIT, lines=60)


class Fleet:
    """The database and the machines; a context manager that stops everything."""

    def __init__(self, rootfs, stage):
        self.rootfs, self.stage = rootfs, stage
        self.server = PostgresServer(tcp=True)
        self.database = None
        self.machines = {}
        self._owner = None

    def __enter__(self):
        try:
            self.server.start()
            self.database = self.server.create_fleet_database()
        except BaseException:
            self.server.cleanup()
            raise
        return self

    def __exit__(self, *exception):
        for machine in self.machines.values():
            machine.box.stop()
        if self._owner is not None:
            self._owner.close()
        self.server.cleanup()

    def add(self, name):
        box = Container(self.rootfs, loopback_address=loopback_address())
        box.start()
        try:
            install_sessmgr(box, self.stage)
            machine = FleetMachine(self, name, box)
            machine.install_agent()
        except BaseException:
            box.stop()
            raise
        self.machines[name] = machine
        return machine

    def query(self, sql, *parameters):
        """As the DBA (the schema's owner, whom row-level security does not limit)."""
        import psycopg2
        for attempt in (1, 2):
            if self._owner is None or self._owner.closed:
                self._owner = self.server.connect(self.database, "sessmgr_owner")
            try:
                with self._owner.cursor() as cursor:
                    cursor.execute(sql, parameters)
                    return cursor.fetchall() if cursor.description else None
            except psycopg2.OperationalError:
                # This connection did not survive a restart of the server.
                self._owner.close()
                if attempt == 2:
                    raise

    @contextlib.contextmanager
    def connect_as(self, machine):
        """A connection as the machine's role, over TCP with its password, as its agent
        logs in."""
        import psycopg2
        connection = psycopg2.connect(self.server.dsn(self.database, machine.role, password=machine.password,
                                                      tcp=True))
        connection.autocommit = True
        try:
            yield connection
        finally:
            connection.close()

    def requests(self, target):
        """{session id: (state, outcome, requester's user name)} of the requests made for
        target's sessions, as the DBA sees them."""
        rows = self.query("SELECT target_session_id, state, outcome, requester_user_name FROM sessmgr.revocations "
                          "WHERE target_machine_id = %s", target.machine_id)
        return {row[0]: tuple(row[1:]) for row in rows}

    def diagnostics(self):
        """Printed under a failed test: each machine's agent and sessmgrd, the server's log."""
        for machine in self.machines.values():
            if machine.box.init_pid:
                print(f"--- {machine.name} ({machine.box.name}): sessmgr-fleet and sessmgrd ---")
                print(machine.box.run(["journalctl", "--boot", "--no-pager", "--lines=80", "--unit", AGENT_UNIT,
                                       "--unit", "sessmgrd.service"], check=False).stdout)
        print(f"--- PostgreSQL's log ---\n{self.server.log_text()[-4000:]}")
