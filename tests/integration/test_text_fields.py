# SPDX-License-Identifier: LGPL-2.1-or-later
"""A remote client chooses its own host name (sshd's UseDNS puts the resolver's answer in
PAM_RHOST): whatever it holds, the login is recorded and listed, and no output of
sessmgrctl lets it drive the terminal (sessmgrd(8), "Text in records")."""

import json
import os
import sqlite3
import subprocess

from conftest import SESSMGRCTL, VALGRIND

# ESC + "[2J" (clear the screen), CSI as U+009B, a right-to-left override, a zero-width
# joiner, DEL, and a byte that is not UTF-8 (0x9b alone: CSI on an 8-bit terminal).
HOSTILE_HOST = "evil\x1b[2J\u009b31m\u202egro.elpmaxe\u200d\x7f\udc9b.example"
STORED_HOST = "evil\\x1b[2J\\xc2\\x9b31m\\xe2\\x80\\xaegro.elpmaxe\\xe2\\x80\\x8d\\x7f\\x9b.example"

# What must never reach a terminal: ESC, CSI in both forms, bidi and format characters, DEL.
DANGEROUS = [b"\x1b", b"\x9b", b"\xc2\x9b", b"\xe2\x80\xae", b"\xe2\x80\x8d", b"\xe2\x81\xa6", b"\x7f"]


def ctl_bytes(world, *arguments, user="alice", locale="C.UTF-8"):
    """sessmgrctl's output as bytes: what a terminal would be sent."""
    environment = world.wrapper_environment(LC_ALL=locale)
    environment["LD_PRELOAD"] = environment["LD_PRELOAD"].replace("libpam_wrapper.so", "").strip()
    result = subprocess.run(world.as_user(user) + VALGRIND + [SESSMGRCTL, "--socket", world.socket, *arguments],
                            env=environment, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def assert_harmless(output):
    for sequence in DANGEROUS:
        assert sequence not in output, (sequence, output)


def sessions_of(world, user="alice"):
    return json.loads(ctl_bytes(world, "list", "--json", user=user))["sessions"]


def assert_every_output_is_safe(world, session_id, expected_from):
    for locale in ("C.UTF-8", "C"):
        table = ctl_bytes(world, "list", locale=locale)
        assert_harmless(table)
        assert expected_from.encode() in table
        details = ctl_bytes(world, "show", str(session_id), locale=locale)
        assert_harmless(details)
        assert b"            From: " + expected_from.encode() + b"\n" in details
        for arguments in (("list", "--json"), ("show", "--json", str(session_id))):
            assert_harmless(ctl_bytes(world, *arguments, locale=locale))


def test_hostile_host_name_is_recorded_and_shown_safely(daemon):
    daemon.login("alice", "open_session", items=["tty=ssh", f"rhost={HOSTILE_HOST}"])

    sessions = sessions_of(daemon)
    assert len(sessions) == 1, "a hostile host name kept the login out of the records"
    session = sessions[0]
    # Stored escaped as documented: \xHH per byte, the rest as it was.
    assert session["remote_host"] == STORED_HOST
    assert session["from"] == STORED_HOST
    assert_every_output_is_safe(daemon, session["id"], STORED_HOST)
    # Its owner can act on it: the login is no longer invisible.
    assert daemon.ctl("show", str(session["id"]), user="alice").returncode == 0


def test_ten_kilobyte_host_name_is_cut(daemon):
    daemon.login("alice", "open_session", items=["tty=ssh", "rhost=" + "h" * 10240])
    daemon.login("alice", "open_session", items=["tty=ssh", "rhost=" + "\x1b" * 10240])

    hosts = sorted(s["remote_host"] for s in sessions_of(daemon))
    assert len(hosts) == 2
    assert hosts[1] == "h" * 253 + "..."
    # Cut between escapes, never inside one, and within 256 bytes.
    assert hosts[0] == "\\x1b" * 63 + "..."


def test_every_text_field_from_the_module_is_made_safe(daemon):
    """The other fields the PAM stack hands over (user name aside: it names an account)."""
    daemon.configure_pam(ssh_connection="203.0.113.7 50022 10.0.0.1 22")
    daemon.login("alice", "open_session", items=["tty=pts/1\u009b\u2066", "rhost=ok.example"])

    session = sessions_of(daemon)[0]
    assert session["tty"] == "pts/1\\xc2\\x9b\\xe2\\x81\\xa6"
    assert_every_output_is_safe(daemon, session["id"], "203.0.113.7")


def test_raw_text_of_an_older_database_is_shown_safely(world):
    """Before, C1 and bidi characters were stored as they came: sessmgrctl must make
    them safe itself, whatever the database holds."""
    world.start_daemon()
    world.login("alice", "open_session", items=["tty=ssh", "rhost=placeholder"])
    session_id = sessions_of(world)[0]["id"]
    world.stop_daemon()
    with sqlite3.connect(world.database) as database:
        database.execute("UPDATE sessions SET remote_host = ?, service = ?, tty = ?",
                         ("old\u009b2J\u202eevil\x1b]0;x\x07", "sshd\u2066", "pts/4\x7f"))
    world.start_daemon()

    session = sessions_of(world)[0]
    assert session["remote_host"] == "old\u009b2J\u202eevil\x1b]0;x\x07"    # JSON: escaped, and exact
    assert_every_output_is_safe(world, session_id, "old\\xc2\\x9b2J\\xe2\\x80\\xaeevil\\x1b]0;x\\x07")
    raw_json = ctl_bytes(world, "list", "--json")
    assert b"old\\u009b2J\\u202eevil\\u001b]0;x\\u0007" in raw_json
