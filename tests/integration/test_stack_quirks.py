# SPDX-License-Identifier: LGPL-2.1-or-later
"""PAM stacks as administrators and users can shape them: the module listed twice, and
an XDG_SESSION_ID in the PAM environment that the user wrote themselves."""

import json

from conftest import PAM_MODULE, SERVICE, VALGRIND_TIMEOUT


def all_records(world):
    result = world.ctl("list", "--json", "--all")
    assert result.returncode == 0, result.stderr
    history = world.ctl("history", "--json", "--all")
    assert history.returncode == 0, history.stderr
    return json.loads(result.stdout)["sessions"], json.loads(history.stdout)["sessions"]


def test_module_listed_twice_makes_one_record_that_ends(daemon):
    module = f"session optional {PAM_MODULE} socket={daemon.socket} {VALGRIND_TIMEOUT}\n"
    (daemon.pam_dir / SERVICE).write_text(
        "auth required pam_permit.so\naccount required pam_permit.so\n"
        "session required pam_permit.so\n" + module + module)

    daemon.login("alice", "open_session", "close_session", items=["tty=pts/4"])

    open_records, ended = all_records(daemon)
    # Before: two records, the second never closed (both shared one PAM data key).
    assert open_records == [], open_records
    assert len(ended) == 1 and ended[0]["end_reason"] == "logout", ended


def test_forged_xdg_session_id_is_not_believed(daemon):
    # pam_env with user_readenv is how a user's own file reaches the PAM environment;
    # here the service's own file stands in for it. The forged id names a session the
    # process is not in.
    daemon.pam_env.write_text('XDG_SESSION_ID DEFAULT="forged-4242"\n')
    daemon.login("alice", "open_session", items=["tty=pts/5"])

    open_records, _ = all_records(daemon)
    assert len(open_records) == 1
    assert open_records[0]["logind_session"] != "forged-4242", open_records[0]
