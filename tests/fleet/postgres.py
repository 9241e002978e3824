# SPDX-License-Identifier: LGPL-2.1-or-later
"""A throwaway PostgreSQL server for the fleet tests and benchmarks: Debian's postgresql
package, `initdb` + `pg_ctl` in a temporary folder, run as an unprivileged system user
(initdb refuses root), listening on a Unix socket in that folder and, when asked, on
127.0.0.1 at a free port with password (SCRAM) authentication, as machines of a fleet
would reach it. No system service is involved; stop() removes everything.

    with PostgresServer() as server:
        server.psql("-c", "SELECT 1")
        connection = server.connect(user="postgres")

Connections over the Unix socket are trusted (any role, no password): the tests speak as
each machine's role to test what the database refuses that role, not how it logs in.
Over TCP every role needs its password, as in the field."""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "fleet" / "sql"
SUPERUSER = "postgres"


def find_bindir():
    """The newest installed server's programs (/usr/lib/postgresql/N/bin)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0)
    if not candidates:
        raise RuntimeError("no PostgreSQL server found under /usr/lib/postgresql: apt-get install postgresql")
    return candidates[-1].parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_user():
    """The account the server runs as: Debian's postgres user, else nobody."""
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("neither a postgres nor a nobody user to run the server as")


class PostgresServer:
    def __init__(self, tcp=False, settings=None, directory=None):
        self.bindir = find_bindir()
        self.tcp = tcp
        self.port = free_port()
        self.settings = dict(settings or {})
        self.own_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="sessmgr-pg-"))
        self.data = self.directory / "data"
        self.socket_dir = self.directory
        self.log = self.directory / "server.log"
        self.user = server_user() if os.geteuid() == 0 else None
        self.running = False

    # --- running programs as the server's user -------------------------------------
    def _as_server_user(self, command, **kwargs):
        if self.user is not None:
            command = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}", "--clear-groups",
                       "--"] + [str(part) for part in command]
        environment = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        return subprocess.run(command, check=True, capture_output=True, text=True, env=environment,
                              cwd=self.directory, **kwargs)

    def start(self):
        if self.user is not None:
            os.chown(self.directory, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.directory, 0o755)
        self._as_server_user([self.bindir / "initdb", "-D", self.data, "--username", SUPERUSER, "--encoding", "UTF8",
                              "--locale", "C.UTF-8", "--auth-local", "trust", "--auth-host", "scram-sha-256",
                              "--no-sync"])
        settings = {
            "unix_socket_directories": str(self.socket_dir),
            "listen_addresses": "127.0.0.1" if self.tcp else "",
            "port": str(self.port),
            "max_connections": "200",
            "logging_collector": "off",
        }
        settings.update(self.settings)
        with open(self.data / "postgresql.conf", "a") as conf:
            for key, value in settings.items():
                conf.write(f"{key} = '{value}'\n")
        try:
            self._as_server_user([self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "120", "start"])
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"PostgreSQL did not start: {error.stderr}\n{self.log_text()}") from error
        self.running = True
        return self

    def stop(self, mode="fast"):
        if self.running:
            self._as_server_user([self.bindir / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"])
            self.running = False

    def restart(self):
        """Stops and starts the same cluster (its data stays): a database outage."""
        self.stop()
        self._as_server_user([self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "120", "start"])
        self.running = True

    def cleanup(self):
        try:
            self.stop()
        finally:
            if self.own_directory:
                shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exception):
        self.cleanup()

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    # --- clients ---------------------------------------------------------------------
    def dsn(self, database="postgres", user=SUPERUSER, password=None, tcp=False):
        """A libpq connection string: the Unix socket, or 127.0.0.1 with a password."""
        host = "127.0.0.1" if tcp else str(self.socket_dir)
        parts = [f"host={host}", f"port={self.port}", f"dbname={database}", f"user={user}"]
        if password is not None:
            parts.append(f"password={password}")
        return " ".join(parts)

    def connect(self, database="postgres", user=SUPERUSER, autocommit=True, **kwargs):
        import psycopg2         # python3-psycopg2: imported here so the module loads without it
        connection = psycopg2.connect(self.dsn(database, user, **kwargs))
        connection.autocommit = autocommit
        return connection

    def psql(self, *arguments, database="postgres", user=SUPERUSER, check=True):
        """Runs psql (the one beside the server) and returns the finished process."""
        command = [self.bindir / "psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(database, user)]
        return subprocess.run([str(part) for part in command] + list(arguments), capture_output=True, text=True,
                              check=check, env=dict(os.environ, PGCONNECT_TIMEOUT="10"))

    # --- a sessmgr fleet database ------------------------------------------------------
    def create_fleet_database(self, name="sessmgr", owner="sessmgr_owner"):
        """The DBA's set-up of docs/FLEET.md: an owner role with CREATEROLE (made once per
        server), a UTF8 database it owns and nobody else may enter, the shipped migrations
        run as that owner, then the machines' group let in."""
        self.psql("-c", f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{owner}') THEN "
                        f'CREATE ROLE "{owner}" LOGIN CREATEROLE; END IF; END $$',
                  "-c", f'CREATE DATABASE "{name}" OWNER "{owner}" ENCODING \'UTF8\' TEMPLATE template0',
                  "-c", f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')
        self.migrate(name, owner)
        self.psql("-c", f'GRANT CONNECT, TEMPORARY ON DATABASE "{name}" TO sessmgr_machine')
        return name

    def migrate(self, database="sessmgr", user="sessmgr_owner", check=True):
        """Runs fleet/sql/migrate.psql the way the DBA does."""
        return self.psql("-f", MIGRATIONS / "migrate.psql", database=database, user=user, check=check)

    def add_machine(self, machine_id, host_name, admin=False, password=None, database="sessmgr",
                    owner="sessmgr_owner"):
        """sessmgr.add_machine() as the DBA; returns the machine's role name."""
        with contextlib.closing(self.connect(database, owner)) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT sessmgr.add_machine(%s, %s, %s)", (machine_id, host_name, admin))
            role = cursor.fetchone()[0]
            if password is not None:
                cursor.execute(f'ALTER ROLE "{role}" PASSWORD %s', (password,))
        return role
