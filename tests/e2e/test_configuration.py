# SPDX-License-Identifier: LGPL-2.1-or-later
"""sessmgrd's configuration on a real system: the package's file, an admin's drop-in,
`systemctl reload` through the unit's ExecReload=, and busy terminals kept by
CountProcessActivity=yes."""

from remote_shell import RemoteShell
from test_logout import records
from waiting import wait_until

DROP_IN = "/etc/sessmgr/sessmgrd.conf.d/60-test.conf"


def reloads_logged(box):
    return box.journal(unit="sessmgrd.service").count("configuration reloaded")


def reload(box):
    """systemctl reload, then the daemon's own word that it is done: with systemd 252 the
    reload job ends once kill(1) has sent the signal."""
    before = reloads_logged(box)
    box.run(["systemctl", "reload", "sessmgrd.service"])
    wait_until(lambda: reloads_logged(box) > before, timeout=30, what="sessmgrd to log the reload")


def test_systemctl_reload_applies_a_drop_in(box):
    # Installed by the package, every setting commented out, and the only file read.
    assert "#IdleTimeoutSec=0" in box.read_file("/usr/lib/sessmgr/sessmgrd.conf")
    box.run(["systemctl", "start", "sessmgrd.service"])
    assert box.run(["sessmgrd", "--cat-config"]).stdout.startswith("# /usr/lib/sessmgr/sessmgrd.conf\n")

    box.run(["mkdir", "-p", "/etc/sessmgr/sessmgrd.conf.d"])
    box.write_file(DROP_IN, "[History]\nRetentionDays=7\n")
    pid = box.run(["systemctl", "show", "-P", "MainPID", "sessmgrd.service"]).stdout.strip()
    reload(box)

    journal = box.journal(unit="sessmgrd.service")
    assert '[History] RetentionDays= changed from "90" to "7"' in journal, journal
    assert "configuration reloaded: 1 setting(s) changed" in journal
    # Reloaded, not restarted, and back to "active" after RELOADING=1/READY=1.
    assert box.run(["systemctl", "show", "-P", "MainPID", "sessmgrd.service"]).stdout.strip() == pid
    wait_until(lambda: box.run(["systemctl", "is-active", "sessmgrd.service"], check=False).stdout.strip()
               == "active", timeout=30, what="sessmgrd.service to be active again")
    assert "RetentionDays=7" in box.run(["sessmgrd", "--dump-config"]).stdout

    # An invalid drop-in: the reload is refused, the unit stays up with what it had.
    box.write_file(DROP_IN, "[History]\nRetentionDays=a week\n")
    box.run(["systemctl", "reload", "sessmgrd.service"])
    wait_until(lambda: "configuration not reloaded" in box.journal(unit="sessmgrd.service"), timeout=30,
               what="sessmgrd to refuse the reload")
    assert box.run(["systemctl", "show", "-P", "MainPID", "sessmgrd.service"]).stdout.strip() == pid
    assert box.run(["sessmgrd", "--dump-config"], check=False).returncode == 1


def test_busy_terminal_kept_with_count_process_activity_idle_one_logged_out(box):
    box.run(["mkdir", "-p", "/etc/sessmgr/sessmgrd.conf.d"])
    box.write_file(DROP_IN, "[Activity]\nPollIntervalSec=1\n"
                            "[IdleLogout]\nIdleTimeoutSec=8\nWarnSec=0\nCountProcessActivity=yes\n")
    box.run(["systemctl", "restart", "sessmgrd.service"])

    busy = RemoteShell(box, "alice")
    # A job in the terminal's session that nobody types into: it runs on, in the background.
    busy.run("nice -n 19 timeout 120 sh -c 'while :; do :; done' >/dev/null 2>&1 &", check=True)
    idle = RemoteShell(box, "alice")

    wait_until(lambda: not idle.is_running(), timeout=60, what="the idle terminal session to be logged out")
    assert busy.is_running()
    (record,) = [r for r in records(box) if r["logind_session"] == busy.logind_session]
    assert record["last_active_source"] == "process-activity", record
    assert record["ttys"], record

    # Without its job, it goes too.
    box.run(["pkill", "-u", "alice", "-f", "while :; do :; done"])
    wait_until(lambda: not busy.is_running(), timeout=60, what="the terminal session to be logged out once idle")
