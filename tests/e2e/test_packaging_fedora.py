# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the RPM ships for Fedora and its relatives besides the programs: the script
that makes the authselect custom profile, run against a stand-in for authselect
(which Debian does not have), and the SELinux policy module, compiled with the
reference policy's development files (selinux-policy-dev). See packaging/README.md.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_on_host(argv, what, **kwargs):
    result = subprocess.run([str(part) for part in argv], capture_output=True, text=True,
                            timeout=300, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
                    f"{result.stderr[-4000:]}", pytrace=False)
    return result


AUTHSELECT_STUB = """#!/bin/sh
# authselect as far as create-sessmgr-profile uses it: no profile selected, and
# create-profile copying a base whose session stack is given in $BASE_SESSION.
case $1 in
current) exit 2 ;;
create-profile)
        directory=$AUTHSELECT_CUSTOM_DIRECTORY/$2
        mkdir -p "$directory"
        for stack in system-auth password-auth smartcard-auth; do
                printf 'auth        required      pam_env.so\\n%s\\n' "$BASE_SESSION" > "$directory/$stack"
        done
        ln -s /usr/share/authselect/default/sssd/README "$directory/README"
        echo "$@" > "$directory/made-with" ;;
*) exit 1 ;;
esac
"""


def create_authselect_profile(tmp_path, base_session):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "authselect").write_text(AUTHSELECT_STUB)
    (stubs / "authselect").chmod(0o755)
    custom = tmp_path / "custom"
    environment = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}",
                   "AUTHSELECT_CUSTOM_DIRECTORY": str(custom), "BASE_SESSION": base_session}
    result = subprocess.run([REPO / "packaging/authselect/create-sessmgr-profile"],
                            capture_output=True, text=True, env=environment)
    return result, custom / "sessmgr"


def test_authselect_profile_puts_the_module_after_pam_systemd(tmp_path):
    """create-sessmgr-profile against a stand-in for authselect: the module line right
    after pam_systemd in system-auth and password-auth, nowhere else."""
    session = ("session     optional      pam_keyinit.so revoke\n"
               "-session    optional      pam_systemd.so\n"
               "session     required      pam_unix.so")
    result, profile = create_authselect_profile(tmp_path, session)
    assert result.returncode == 0, result.stderr
    assert (profile / "made-with").read_text().split() == [
        "create-profile", "sessmgr", "--base-on=sssd", "--symlink-meta", "--symlink-nsswitch",
        "--symlink-dconf"]
    for stack in ("system-auth", "password-auth"):
        lines = [line.split() for line in (profile / stack).read_text().splitlines()]
        modules = [fields[2] for fields in lines if fields[0].lstrip("-") == "session"]
        assert modules == ["pam_keyinit.so", "pam_systemd.so", "pam_sessmgr.so", "pam_unix.so"]
        assert lines[modules.index("pam_sessmgr.so") + 1][:2] == ["session", "optional"]
    assert "pam_sessmgr" not in (profile / "smartcard-auth").read_text()
    # Its own README, not a link to the base's.
    assert not (profile / "README").is_symlink()
    assert (profile / "README").read_text() == (REPO / "packaging/authselect/README").read_text()


def test_authselect_profile_refuses_a_base_without_pam_systemd(tmp_path):
    result, profile = create_authselect_profile(tmp_path, "session     required      pam_unix.so")
    assert result.returncode == 1
    assert "0 pam_systemd.so session lines" in result.stderr
    assert "pam_sessmgr" not in (profile / "system-auth").read_text()


def test_selinux_policy_module_compiles(tmp_path):
    """packaging/selinux against the reference policy's development headers
    (selinux-policy-dev: m4 interfaces, then checkmodule and semodule_package). This
    checks syntax and the interfaces; Fedora's own policy, which defines the
    client domains named in optional blocks, is not here to link against."""
    makefile = Path("/usr/share/selinux/devel/Makefile")
    if not makefile.exists():
        pytest.fail(f"no {makefile} (apt-get install selinux-policy-dev)", pytrace=False)
    for name in ("sessmgr.te", "sessmgr.if", "sessmgr.fc"):
        shutil.copy(REPO / "packaging/selinux" / name, tmp_path)
    run_on_host(["make", "-f", makefile, "sessmgr.pp"], "make sessmgr.pp", cwd=tmp_path)
    assert (tmp_path / "sessmgr.pp").stat().st_size > 0
    # What the m4 interfaces expanded to (the Makefile keeps it): every client domain
    # may search the directory, write the socket file and connectto sessmgrd_t.
    expanded = (tmp_path / "tmp/sessmgr.tmp").read_text()
    for client in ("sshd_t", "local_login_t", "xdm_t", "remote_login_t", "{ user_t staff_t }"):
        assert f"allow {client} sessmgrd_runtime_t:dir {{ getattr search open }};" in expanded
        assert f"allow {client} sessmgrd_runtime_t:sock_file {{ getattr write open append }};" in expanded
        assert f"allow {client} sessmgrd_t:unix_stream_socket connectto;" in expanded
    assert "\npermissive sessmgrd_t;\n" in expanded
