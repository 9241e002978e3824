# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fleet agent's account against other users' sessions, with real logind, polkit,
sshd, su and sessmgrd: a revocation it forwards ends a session only of the user it
names (sessmgrd(8), FLEET), whatever record it points at."""

import json
import time
from pathlib import Path

from remote_shell import RemoteShell
from waiting import wait_until

RAW_CALL = Path(__file__).resolve().parents[1] / "integration" / "raw_call.py"


def records(box, *arguments):
    return json.loads(box.run(["sessmgrctl", "list", "--json", *(arguments or ["--all"])]).stdout)["sessions"]


def start_with_agent(box, agent="fleetagent"):
    box.run(["useradd", "--system", "--no-create-home", agent])
    box.write_file("/etc/sessmgr/sessmgrd.conf", f"[Fleet]\nAgentUser={agent}\n")
    box.run(["systemctl", "restart", "sessmgrd.service"])
    box.write_file("/usr/local/bin/raw-call", RAW_CALL.read_text(), mode=0o755)


def apply_revocation(box, session_id, user, reason, agent="fleetagent"):
    result = box.run(["raw-call", "/run/sessmgr/socket", "ApplyRevocation", "tss",
                      json.dumps([session_id, user, reason])], user=agent)
    return json.loads(result.stdout)


def test_revoking_a_su_record_does_not_end_the_login_it_ran_in(box):
    # root logs in and runs su to bob: bob's record shares root's logind session. A
    # revocation for bob (bob may end his own sessions from another machine) must not
    # end root's login: `sessmgrctl logout` refuses such a record for the same reason.
    start_with_agent(box)
    box.run("mkdir -p -m 700 /root/.ssh && ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519 "
            "&& cp /root/.ssh/id_ed25519.pub /root/.ssh/authorized_keys")
    shell = RemoteShell(box, "root")
    shell.run("su - bob -c 'sleep 300' >/dev/null 2>&1 &", check=True)
    (switched,) = wait_until(lambda: records(box, "--user", "bob"), what="bob's su record")
    (outer,) = records(box, "--user", "root")
    assert switched["logind_session"] == outer["logind_session"], (switched, outer)

    answer = apply_revocation(box, switched["id"], "bob", "revoked by bob on b")
    time.sleep(1)
    assert shell.is_running(), f"root's login was ended for a revocation of bob's su: {answer}"
    assert answer.get("reply") == ["unsupported"], answer
    assert [r["user"] for r in records(box, "--user", "root")] == ["root"]
    shell.close()
