# SPDX-License-Identifier: LGPL-2.1-or-later
"""Puts the sessmgr under test into a container the way an administrator would:
the files `meson install` produces, its system user made, the socket unit enabled,
the PAM module in the session stack right after pam_systemd."""

import json
import os
import subprocess
import tempfile
from pathlib import Path

BUILD = Path(os.environ.get("SESSMGR_BUILD", Path(__file__).resolve().parents[2] / "build"))

PAM_LINE = "session optional pam_sessmgr.so debug"


def build_prefix():
    options = json.loads(subprocess.run(["meson", "introspect", "--buildoptions", str(BUILD)],
                                        check=True, capture_output=True, text=True).stdout)
    return {option["name"]: option["value"] for option in options}


def stage_install():
    """`meson install` of the build into a fresh directory; returns its path."""
    options = build_prefix()
    if options["prefix"] != "/usr":
        raise RuntimeError(f"{BUILD} was configured with prefix {options['prefix']}; the container "
                           "tests need a system layout (scripts/test configures one)")
    stage = Path(tempfile.mkdtemp(prefix="sessmgr-stage-"))
    subprocess.run(["meson", "install", "-C", str(BUILD), "--no-rebuild", "--quiet", "--destdir", str(stage)],
                   check=True, capture_output=True)
    return stage


def install_sessmgr(box, stage, users=("alice", "bob")):
    box.install_tree(stage)
    # As the packages' postinst does: the user first, then its database directory.
    box.run(["systemd-sysusers", "sessmgr.conf"])
    box.run(["systemd-tmpfiles", "--create", "sessmgr.conf"])
    box.run(["systemctl", "enable", "--now", "sessmgrd.socket"])
    # After pam_systemd: the logind session the module records must exist already.
    box.run(["sed", "-i", f"/pam_systemd.so/a {PAM_LINE}", "/etc/pam.d/common-session"])
    stack = box.read_file("/etc/pam.d/common-session").splitlines()
    systemd_line = next(i for i, line in enumerate(stack) if "pam_systemd.so" in line)
    assert stack[systemd_line + 1] == PAM_LINE, stack
    for user in users:
        box.add_user(user)
