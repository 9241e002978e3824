#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The walkthrough behind scripts/demo: boots a container, installs the build into it
as an administrator would, logs two users in over SSH and shows sessmgrctl."""

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from container import Container, ensure_rootfs  # noqa: E402
from sessmgr_install import install_sessmgr, stage_install  # noqa: E402


def step(text):
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def show(command, output):
    print(f"$ {command}")
    print(output.rstrip("\n"))


def main():
    open_shell = "--shell" in sys.argv[1:]

    step("preparing a Debian 12 root file system (debootstrap, first run only)")
    rootfs = ensure_rootfs()
    stage = stage_install()
    with Container(rootfs) as box:
        step(f"booted container {box.name}: systemd, logind and sshd are running")
        install_sessmgr(box, stage)
        show("grep -A1 pam_systemd /etc/pam.d/common-session",
             box.run("grep -A1 pam_systemd /etc/pam.d/common-session").stdout)

        step("alice logs in twice over SSH (one with a terminal), bob once")
        held = [box.ssh_background("alice", tty=True), box.ssh_background("alice"),
                box.ssh_background("bob")]
        box.wait_for_sessions("alice", 2)
        box.wait_for_sessions("bob", 1)
        show("loginctl list-sessions", box.run(["loginctl", "list-sessions"]).stdout)

        step("alice, from a third SSH login, lists her sessions")
        show("alice$ sessmgrctl", box.ssh("alice", "sessmgrctl").stdout)

        step("bob sees only his own")
        show("bob$ sessmgrctl", box.ssh("bob", "sessmgrctl").stdout)
        bob_id = box.run("sessmgrctl --user bob --json | python3 -c "
                         "'import json,sys; print(json.load(sys.stdin)[\"sessions\"][0][\"id\"])'").stdout.strip()
        result = box.ssh("alice", f"sessmgrctl show {bob_id}", check=False)
        show(f"alice$ sessmgrctl show {bob_id}     # bob's session", result.stderr)
        result = box.ssh("alice", "sessmgrctl list --user bob", check=False)
        show("alice$ sessmgrctl list --user bob", result.stderr)

        step("details and JSON")
        show(f"root# sessmgrctl show {bob_id}", box.run(["sessmgrctl", "show", bob_id]).stdout)
        show("bob$ sessmgrctl list --json", box.ssh("bob", "sessmgrctl list --json").stdout)

        step("alice lost the laptop with the terminal login: she logs it out from another login")
        lost = box.run("sessmgrctl --user alice --json | python3 -c \"import json,sys; "
                       "print([s['id'] for s in json.load(sys.stdin)['sessions']][0])\"").stdout.strip()
        show(f"alice$ sessmgrctl logout {lost} --yes", box.ssh("alice", f"sessmgrctl logout {lost} --yes").stdout)
        show("alice$ sessmgrctl history", box.ssh("alice", "sessmgrctl history").stdout)
        result = box.ssh("alice", f"sessmgrctl logout {bob_id} --yes", check=False)
        show(f"alice$ sessmgrctl logout {bob_id} --yes     # bob's session", result.stderr)

        step("root sees everyone")
        show("root# sessmgrctl --all", box.run(["sessmgrctl", "--all"]).stdout)

        step("logins never wait for sessmgr: stop the daemon, log in again")
        box.run(["systemctl", "stop", "sessmgrd.socket", "sessmgrd.service"])
        show("alice$ echo still logged in", box.ssh("alice", "echo still logged in").stdout)
        show("journalctl | grep 'sessmgrd is not running'",
             box.run("journalctl --no-pager -o cat | grep 'sessmgrd is not running' | tail -n 1").stdout)
        box.run(["systemctl", "start", "sessmgrd.socket"])

        if open_shell:
            step(f"root shell inside {box.name}: try 'ssh -i ~alice/.ssh/id_ed25519 alice@127.0.0.1', "
                 "'sessmgrctl --all'; exit to tear the container down")
            subprocess.run(box.command_line(["bash", "-l"]), check=False)

        for handle in held:
            handle.close()
        step("tearing the container down")
    shutil.rmtree(stage, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
