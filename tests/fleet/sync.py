# SPDX-License-Identifier: LGPL-2.1-or-later
"""The statements the fleet agent sends to push session changes, in the two batch shapes
docs/FLEET.md describes, for the tests and the benchmark (the agent in C sends the same
SQL). A change is a session record as the local change feed gives it: the session's key,
the feed's cursor, and every field of common/record.h, times in microseconds.

Both shapes are idempotent: a row is written only when the change is newer than what the
row holds (change_cursor), so a batch sent twice, or a change arriving after a newer one,
changes nothing. Each batch commits together with the machine's synced_cursor, so after a
crash the agent resumes from the last batch that committed: nothing lost, nothing doubled.
One INSERT may not touch a row twice: a batch carries the latest change of each session."""

import io

KEY = ("machine_id", "boot_id", "session_id")
TEXT_FIELDS = ("logind_session", "user_name", "service", "tty", "seat", "remote_host", "remote_address",
               "last_active_source", "state", "end_reason", "origin", "ttys", "auth_method", "auth_key", "display",
               "desktop")
NUMBER_FIELDS = ("uid", "vt", "remote_port", "leader_pid", "parent_id")
TIME_FIELDS = ("login_time", "last_active", "end_time")
COLUMNS = KEY + ("change_cursor",) + TEXT_FIELDS + NUMBER_FIELDS + TIME_FIELDS
UPDATED = [column for column in COLUMNS if column not in KEY]

ON_CONFLICT = (
    "ON CONFLICT (machine_id, boot_id, session_id) DO UPDATE SET "
    + ", ".join(f"{column} = EXCLUDED.{column}" for column in UPDATED)
    + ", synced_at = now() WHERE sessions.change_cursor < EXCLUDED.change_cursor")

# Times travel as microseconds (0 for unknown), as the local store keeps them.
ROW_TEMPLATE = "(" + ", ".join("sessmgr.from_usec(%s)" if column in TIME_FIELDS else "%s" for column in COLUMNS) + ")"
INSERT_VALUES = f"INSERT INTO sessmgr.sessions ({', '.join(COLUMNS)}) VALUES %s {ON_CONFLICT}"

MARK_SYNCED = "UPDATE sessmgr.machines SET synced_cursor = %s WHERE machine_id = sessmgr.my_machine_id()"

# The COPY shape: a temporary table of the raw changes (created once per connection,
# emptied at each commit), filled with COPY, merged with one INSERT ... SELECT.
CREATE_INCOMING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS sessions_incoming ("
    + ", ".join(f"{column} {'bigint' if column in NUMBER_FIELDS + TIME_FIELDS + ('session_id', 'change_cursor') else 'text'}"
                for column in COLUMNS)
    + ") ON COMMIT DELETE ROWS")
MERGE_INCOMING = (
    f"INSERT INTO sessmgr.sessions ({', '.join(COLUMNS)}) "
    "SELECT DISTINCT ON (machine_id, boot_id, session_id) "
    + ", ".join(f"sessmgr.from_usec({column})" if column in TIME_FIELDS else column for column in COLUMNS)
    + " FROM sessions_incoming ORDER BY machine_id, boot_id, session_id, change_cursor DESC "
    + ON_CONFLICT)


def change(machine_id, session_id, cursor, user_name="alice", uid=60001, boot_id="b" * 32, state="active",
           login_time=1_700_000_000_000_000, **fields):
    """A change as a dict of every column, defaults for what is not given."""
    row = dict.fromkeys(COLUMNS)
    row.update(machine_id=machine_id, boot_id=boot_id, session_id=session_id, change_cursor=cursor,
               user_name=user_name, uid=uid, state=state, service="sshd", tty="ssh", remote_host="203.0.113.7",
               remote_address="203.0.113.7", remote_port=50022, vt=0, leader_pid=1000 + session_id, parent_id=0,
               origin="pam", last_active_source="login", login_time=login_time, last_active=login_time, end_time=0)
    row.update(fields)
    return row


def push_values(connection, changes, page_size=1000):
    """Multi-row INSERT ... ON CONFLICT, and the cursor, in one transaction."""
    from psycopg2.extras import execute_values
    with connection, connection.cursor() as cursor:
        execute_values(cursor, INSERT_VALUES, [tuple(row[column] for column in COLUMNS) for row in changes],
                       template=ROW_TEMPLATE, page_size=page_size)
        cursor.execute(MARK_SYNCED, (max(row["change_cursor"] for row in changes),))


def _copy_field(value):
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def push_copy(connection, changes):
    """COPY into the temporary table, one merge, and the cursor, in one transaction."""
    buffer = io.StringIO()
    for row in changes:
        buffer.write("\t".join(_copy_field(row[column]) for column in COLUMNS) + "\n")
    buffer.seek(0)
    with connection, connection.cursor() as cursor:
        cursor.execute(CREATE_INCOMING)
        cursor.copy_expert(f"COPY sessions_incoming ({', '.join(COLUMNS)}) FROM STDIN", buffer)
        cursor.execute(MERGE_INCOMING)
        cursor.execute(MARK_SYNCED, (max(row["change_cursor"] for row in changes),))


# What `sessmgrctl list --fleet` asks: one user's open sessions on every machine, with the
# machine's host name and whether it has reported recently enough to trust the row.
LIST_FLEET = """
SELECT m.host_name, s.machine_id, s.boot_id, s.session_id, s.service, s.tty, s.ttys, s.remote_host,
       s.remote_address, s.seat, s.login_time, s.last_active, s.last_active_source, s.state,
       m.last_sync, m.last_sync IS NULL OR m.last_sync < now() - %(stale_after)s::interval AS stale
FROM sessmgr.sessions s JOIN sessmgr.machines m USING (machine_id)
WHERE s.user_name = %(user_name)s AND s.state <> 'closed'
ORDER BY m.host_name, s.login_time
"""
