# SPDX-License-Identifier: LGPL-2.1-or-later
"""A client that controls its host name, through the real path: /etc/hosts (as a
resolver's answer would) names 127.0.0.2 with escape sequences, C1 and bidi characters,
sshd with UseDNS yes puts that name in PAM_RHOST, pam_systemd hands it to logind. The
login is recorded by the module and by the import from logind, its owner sees it and
logs it out, and nothing printed lets the name drive a terminal."""

import base64
import json

from waiting import wait_until

CLIENT = "127.0.0.2"
# No whitespace (the /etc/hosts parser splits on it) and no capitals (sshd lowercases
# the name before it checks that it maps back to the address).
HOSTILE = "evil\x1b[1;31mred\u009b0m\u202eelpmaxe\u200d\x7f.example"
STORED = "evil\\x1b[1;31mred\\xc2\\x9b0m\\xe2\\x80\\xaeelpmaxe\\xe2\\x80\\x8d\\x7f.example"
DANGEROUS = [b"\x1b", b"\x9b", b"\xe2\x80\xae", b"\xe2\x80\x8d", b"\x7f"]


def name_the_client(box):
    box.write_file("/etc/hosts", f"127.0.0.1\tlocalhost\n{CLIENT}\t{HOSTILE}\n")
    # In sshd_config.d the first value of a keyword wins: change the harness's own.
    box.run(["sed", "-i", "s/^UseDNS no$/UseDNS yes/", "/etc/ssh/sshd_config.d/sessmgr-e2e.conf"])
    box.run(["systemctl", "restart", "ssh"])
    # glibc passes the name through both ways, as sshd's reverse and forward check need.
    assert box.run(["getent", "hosts", CLIENT]).stdout.split()[1] == HOSTILE
    # (Not "getent ahosts": its AI_ADDRCONFIG finds no address with loopback alone.)
    assert box.run(["getent", "hosts", HOSTILE]).stdout.split()[0] == CLIENT


def ctl_bytes(box, user, *arguments, locale="C.UTF-8"):
    """sessmgrctl's output as bytes (base64 through the text-only harness)."""
    command = "sessmgrctl \"$@\" | base64 -w0; exit ${PIPESTATUS[0]}"
    result = box.run(["bash", "-c", command, "bash", *arguments], user=user, environment={"LC_ALL": locale})
    return base64.b64decode(result.stdout)


def assert_harmless(output):
    for sequence in DANGEROUS:
        assert sequence not in output, (sequence, output)


def session_of(box, user, logind_session):
    sessions = json.loads(ctl_bytes(box, user, "list", "--json"))["sessions"]
    return next((s for s in sessions if s["logind_session"] == logind_session), None)


def assert_shown_safely(box, user, session):
    for locale in ("C.UTF-8", "C"):
        for arguments in (("list",), ("list", "--json"), ("show", str(session["id"])),
                          ("show", "--json", str(session["id"])), ("history",)):
            assert_harmless(ctl_bytes(box, user, *arguments, locale=locale))
    assert STORED.encode() in ctl_bytes(box, user, "show", str(session["id"]))


def test_usedns_name_with_control_characters_is_recorded(box):
    name_the_client(box)
    held = box.ssh_background("alice", options=["-o", f"BindAddress={CLIENT}"])
    logind_session = box.wait_for_sessions("alice", 1)[0]
    # What sshd and pam_systemd made of it: the name, unchanged, as logind's RemoteHost.
    assert box.session_properties(logind_session, "RemoteHost")["RemoteHost"] == HOSTILE

    # The module records it after pam_systemd made the logind session: wait for that.
    session = wait_until(lambda: session_of(box, "alice", logind_session), timeout=20,
                         what="the login with a hostile host name to be listed")
    assert session["origin"] == "pam"
    assert session["remote_address"] == CLIENT
    assert session["remote_host"] == STORED
    assert_shown_safely(box, "alice", session)

    # Its owner can end it, and what is printed on the way is safe too.
    logout = ctl_bytes(box, "alice", "logout", "--yes", str(session["id"]))
    assert_harmless(logout)
    wait_until(lambda: not box.sessions("alice"), what="the logind session to end")
    held.close()


def test_logind_import_records_a_hostile_remote_host(box):
    """Logins sessmgrd learns of from logind only (a PAM stack without the module)."""
    name_the_client(box)
    box.run(["sed", "-i", "/pam_sessmgr.so/d", "/etc/pam.d/common-session"])
    held = box.ssh_background("alice", options=["-o", f"BindAddress={CLIENT}"])
    logind_session = box.wait_for_sessions("alice", 1)[0]

    session = wait_until(lambda: session_of(box, "alice", logind_session), timeout=20,
                         what="the imported session to be listed")
    assert session["origin"] == "logind"
    assert session["remote_host"] == STORED
    assert_shown_safely(box, "alice", session)
    held.close()
