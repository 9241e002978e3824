# SPDX-License-Identifier: LGPL-2.1-or-later
"""What sessmgrd gives the fleet agent, and nobody else (sessmgrd(8), FLEET): the change
feed (GetChanges) and revocations from other machines (ApplyRevocation), for root and
the user of [Fleet] AgentUser= only; and the stable view sessions_v1 that other readers
(osquery, scripts) may read without sessmgrd, while it writes."""

import sqlite3
import threading

from conftest import USERS


def start_with_agent(world, agent="bob"):
    config = world.directory / "sessmgrd.conf"
    config.write_text(f"[Fleet]\nAgentUser={agent}\n" if agent else "")
    world.start_daemon("--config", str(config))


def changes(world, after=0, limit=1000, user="bob"):
    error, message, reply = world.raw_call("GetChanges", "tu", after, limit, user=user)
    assert error is None, message
    feed, cursor, records = reply
    return feed, cursor, records


def test_the_feed_gives_each_change_once_in_order(world):
    start_with_agent(world)
    world.login("alice", "open_session")
    feed, cursor, records = changes(world)
    assert [r["user"] for r in records] == ["alice"] and records[0]["state"] == "active"

    # Nothing new: nothing again, same cursor.
    assert changes(world, cursor) == (feed, cursor, [])

    world.login("alice", "open_session", "close_session")
    _, newer, records = changes(world, cursor)
    assert newer > cursor
    # The second login, opened and then closed: one record, as it is now.
    assert len(records) == 1 and records[0]["state"] == "closed"

    # A small limit pages through without losing any.
    world.login("alice", "open_session")
    world.login("alice", "open_session")
    seen, position = [], 0
    while True:
        _, next_position, page = changes(world, position, limit=1)
        if not page:
            break
        assert len(page) == 1 and next_position > position
        seen.append(page[0]["id"])
        position = next_position
    assert len(seen) == len(set(seen)) == 4


def test_only_root_and_the_agent_read_the_feed(world):
    start_with_agent(world)
    world.login("alice", "open_session")
    for method, signature, arguments in (("GetChanges", "tu", (0, 10)),
                                         ("ApplyRevocation", "tss", (1, "alice", "revoked by alice"))):
        error, _, _ = world.raw_call(method, signature, *arguments, user="alice")
        assert error == "org.freedesktop.DBus.Error.AccessDenied", method
    assert changes(world, user="root")[2], "root reads the feed too"


def test_without_an_agent_nobody_but_root_is_the_agent(world):
    start_with_agent(world, agent=None)
    world.login("alice", "open_session")
    error, _, _ = world.raw_call("GetChanges", "tu", 0, 10, user="bob")
    assert error == "org.freedesktop.DBus.Error.AccessDenied"


def test_turning_the_feed_on_ships_everything_under_a_new_identity(world):
    start_with_agent(world, agent=None)
    world.login("alice", "open_session")
    world.login("bob", "open_session")
    world.stop_daemon()

    start_with_agent(world)
    feed, _, records = changes(world)
    assert sorted(r["user"] for r in records) == ["alice", "bob"]
    world.stop_daemon()

    start_with_agent(world)                 # still on: the same numbering
    assert changes(world)[0] == feed
    world.stop_daemon()
    start_with_agent(world, agent=None)     # off, then on again: a new one
    world.stop_daemon()
    start_with_agent(world)
    assert changes(world)[0] != feed


def test_a_revocation_names_the_sessions_user(world):
    start_with_agent(world)
    world.login("alice", "open_session")
    _, _, records = changes(world)
    alice = records[0]["id"]

    error, _, reply = world.raw_call("ApplyRevocation", "tss", alice, "carol", "revoked by session 4 on b", user="bob")
    assert (error, reply) == (None, ["refused"])
    # Not in logind (these tests have none): nothing to end it through.
    error, _, reply = world.raw_call("ApplyRevocation", "tss", alice, "alice", "revoked by session 4 on b", user="bob")
    assert (error, reply) == (None, ["unsupported"])
    # No wildcard: even an administrator's request names the user.
    error, _, reply = world.raw_call("ApplyRevocation", "tss", alice, "", "revoked by root on b", user="bob")
    assert (error, reply) == (None, ["refused"])
    error, _, reply = world.raw_call("ApplyRevocation", "tss", 999, "alice", "x", user="bob")
    assert (error, reply) == (None, ["gone"])
    assert "belongs to alice, not to carol" in world.daemon_log.read_text()
    # The name is the agent's word: a newline in it cannot fake a line of the log.
    error, _, reply = world.raw_call("ApplyRevocation", "tss", alice, "carol\nsessmgrd: forged", "x", user="bob")
    assert (error, reply) == (None, ["refused"])
    log = world.daemon_log.read_text()
    assert "not to carol\\x0asessmgrd: forged" in log and "\nsessmgrd: forged" not in log


def test_the_stable_view_reads_while_sessmgrd_writes(world):
    start_with_agent(world, agent=None)
    world.login("alice", "open_session")
    errors, rows_seen = [], []
    stop = threading.Event()

    def read():
        reader = sqlite3.connect(f"file:{world.database}?mode=ro", uri=True, timeout=0.1)
        while not stop.is_set():
            try:
                rows_seen.append(reader.execute("SELECT count(*) FROM sessions_v1 WHERE user = 'alice'").fetchone()[0])
            except sqlite3.Error as error:
                errors.append(str(error))
        reader.close()

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(20):
        world.login("alice", "open_session", "close_session")
    stop.set()
    reader.join()
    assert errors == []
    assert rows_seen[0] >= 1 and rows_seen[-1] == 21 and rows_seen == sorted(rows_seen)

    columns = [row[1] for row in sqlite3.connect(world.database).execute("PRAGMA table_info(sessions_v1)")]
    assert columns[:5] == ["id", "user", "uid", "service", "tty"]
    assert "change_seq" not in columns and "revoke_reason" not in columns
    assert USERS["alice"] in [row[0] for row in sqlite3.connect(world.database).execute("SELECT uid FROM sessions_v1")]
