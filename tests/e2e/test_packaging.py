# SPDX-License-Identifier: LGPL-2.1-or-later
"""The packages: the .debs built from this tree by packaging/build-deb, checked by
lintian, then installed, used, removed and purged in a container the way an
administrator would; and the meson dist tarball, from which the RPM spec builds.

The .debs are built once per run (about 15 s); SESSMGR_DEBS=DIR uses prebuilt ones.
Host tools: dpkg-dev, debhelper, lintian, rpm and the build dependencies.
"""

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("libpam-sessmgr", "sessmgr")
DEB_DIRECTORY = "/root/sessmgr-debs"     # where the .debs go inside the container
APT = {"DEBIAN_FRONTEND": "noninteractive"}
PAM_FILES = "/etc/pam.d"


def run_on_host(argv, what, timeout=600, **kwargs):
    result = subprocess.run([str(part) for part in argv], capture_output=True, text=True,
                            timeout=timeout, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
                    f"{result.stderr[-4000:]}", pytrace=False)
    return result


def require_tools(*tools):
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing host tools: {', '.join(missing)} "
                    "(apt-get install dpkg-dev debhelper lintian rpm)", pytrace=False)


@pytest.fixture(scope="session")
def debs(tmp_path_factory):
    """{package name: path of its .deb}, built from the working tree unless SESSMGR_DEBS
    names a directory of prebuilt ones."""
    if os.environ.get("SESSMGR_DEBS"):
        directory = Path(os.environ["SESSMGR_DEBS"])
    else:
        require_tools("dpkg-buildpackage", "dh")
        directory = tmp_path_factory.mktemp("debs")
        run_on_host([REPO / "packaging/build-deb", directory], "packaging/build-deb")
    found = {}
    for package in PACKAGES:
        matches = sorted(directory.glob(f"{package}_*.deb"))
        if len(matches) != 1:
            pytest.fail(f"expected one {package}_*.deb in {directory}, found {matches}",
                        pytrace=False)
        found[package] = matches[0]
    return found


def source_files():
    """The tree's files as a commit would hold them: git's view of the working tree
    (new files in; ignored and deleted ones out), or, in an unpacked tarball, every
    file outside meson build directories."""
    if (REPO / ".git").exists():
        listed = run_on_host(["git", "-C", REPO, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], "git ls-files").stdout.split("\0")
        return [name for name in listed
                if name and ((REPO / name).exists() or (REPO / name).is_symlink())]
    found = []
    for directory, subdirectories, files in os.walk(REPO):
        subdirectories[:] = [d for d in subdirectories if d != "__pycache__"
                             and not (Path(directory, d) / "meson-private").exists()]
        found += [str(Path(directory, name).relative_to(REPO)) for name in files]
    return found


@pytest.fixture(scope="session")
def dist_tarball(tmp_path_factory):
    """The tarball `meson dist` makes of this tree; meson dist also unpacks it, builds it
    and runs its tests (the meson test suite), so a tarball missing a file fails here.

    meson dist packs the files of the last commit; so that uncommitted work is
    checked too, the tree is committed afresh in a scratch repository.
    """
    scratch = tmp_path_factory.mktemp("dist")
    tree = scratch / "sessmgr"
    for name in source_files():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, tree / name, follow_symlinks=False)
    git = ["git", "-C", tree, "-c", "user.name=test", "-c", "user.email=test@example.org"]
    run_on_host([*git, "init", "--quiet"], "git init")
    run_on_host([*git, "add", "--all"], "git add")
    run_on_host([*git, "commit", "--quiet", "-m", "snapshot"], "git commit")
    run_on_host(["meson", "setup", scratch / "build", tree], "meson setup")
    run_on_host(["meson", "dist", "-C", scratch / "build", "--formats", "xztar"], "meson dist")
    (tarball,) = (scratch / "build/meson-dist").glob("sessmgr-*.tar.xz")
    return tarball


# -- on the host -----------------------------------------------------------------


def test_lintian_reports_no_errors(debs, tmp_path):
    require_tools("lintian")
    # lintian leaves temporary files behind (mldbm-elf-*): not in the host's /tmp.
    result = subprocess.run(["lintian", *map(str, debs.values())], capture_output=True,
                            text=True, timeout=300, env={**os.environ, "TMPDIR": str(tmp_path)})
    errors = [line for line in result.stdout.splitlines() if line.startswith("E:")]
    assert errors == [], result.stdout
    # Warnings are allowed; any other failure is lintian's own.
    assert result.returncode == 0, result.stderr


def test_packages_are_split_between_module_and_daemon(debs):
    def contents(package):
        listing = run_on_host(["dpkg-deb", "--contents", debs[package]], "dpkg-deb").stdout
        return {line.split()[5].lstrip(".") for line in listing.splitlines()}

    module, daemon = contents("libpam-sessmgr"), contents("sessmgr")
    multiarch = run_on_host(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], "dpkg-architecture")
    assert f"/usr/lib/{multiarch.stdout.strip()}/security/pam_sessmgr.so" in module
    assert "/usr/share/pam-configs/sessmgr" in module
    assert {"/usr/sbin/sessmgrd", "/usr/bin/sessmgrctl", "/usr/lib/tmpfiles.d/sessmgr.conf",
            "/usr/share/bash-completion/completions/sessmgrctl",
            "/usr/share/man/man1/sessmgrctl.1.gz", "/usr/share/man/man8/sessmgrd.8.gz"} <= daemon
    unit_directory = run_on_host(["pkg-config", "--variable=systemdsystemunitdir", "systemd"],
                                 "pkg-config").stdout.strip()
    assert f"{unit_directory}/sessmgrd.socket" in daemon
    assert not any("/etc/pam.d" in path for path in module | daemon)


def test_dist_tarball_holds_what_building_testing_and_packaging_need(dist_tarball):
    with tarfile.open(dist_tarball) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in ("meson.build", "meson_options.txt", "scripts/test", "scripts/dependencies.sh",
                   "man/sessmgrctl.1.scd", "tests/e2e/conftest.py", "tests/unit/test-store.c",
                   "completion/meson.build", "completion/sessmgrctl.bash",
                   "packaging/build-deb", "packaging/debian/control",
                   "packaging/debian/pam-configs/sessmgr", "packaging/rpm/sessmgr.spec",
                   "sessmgrd/units/sessmgrd.socket.in"):
        assert needed in names, f"{needed} is missing from {dist_tarball.name}"


def test_rpm_spec_builds_from_the_dist_tarball(dist_tarball, tmp_path):
    require_tools("rpmbuild")
    # Everything under tmp_path: a failed build leaves its scripts in _tmppath.
    run_on_host(["rpmbuild", "-bb", "--nodeps", "--define", f"_topdir {tmp_path}",
                 "--define", f"_tmppath {tmp_path}", "--define", f"_sourcedir {dist_tarball.parent}",
                 REPO / "packaging/rpm/sessmgr.spec"], "rpmbuild")
    (rpm,) = (tmp_path / "RPMS").glob("*/sessmgr-*.rpm")
    files = run_on_host(["rpm", "-qlp", rpm], "rpm -qlp").stdout.split()
    for path in ("/usr/sbin/sessmgrd", "/usr/bin/sessmgrctl", "/usr/lib/systemd/system/sessmgrd.socket",
                 "/usr/share/bash-completion/completions/sessmgrctl", "/var/lib/sessmgr/sessions.db"):
        assert path in files
    scripts = run_on_host(["rpm", "-qp", "--scripts", rpm], "rpm --scripts").stdout
    assert "sessmgrd.socket" in scripts


def test_deb_builds_from_the_dist_tarball(dist_tarball, tmp_path):
    require_tools("dpkg-buildpackage", "dh")
    run_on_host([REPO / "packaging/build-deb", "--tarball", dist_tarball, tmp_path],
                "packaging/build-deb --tarball")
    assert {path.name.split("_")[0] for path in tmp_path.glob("*.deb")} >= set(PACKAGES)


# -- in a container ----------------------------------------------------------------


def install_debs(box, debs, tmp_path):
    stage = tmp_path / "stage"
    (stage / DEB_DIRECTORY.lstrip("/")).mkdir(parents=True)
    for path in debs.values():
        shutil.copy(path, stage / DEB_DIRECTORY.lstrip("/"))
    box.install_tree(stage)
    box.run(["apt", "install", "-y", *(f"{DEB_DIRECTORY}/{path.name}" for path in debs.values())],
            environment=APT, timeout=300)


def pam_lines(box, name):
    return [line.split() for line in box.read_file(f"{PAM_FILES}/{name}").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def module_position(lines, module):
    positions = [i for i, fields in enumerate(lines) if module in " ".join(fields)]
    assert len(positions) <= 1, lines
    return positions[0] if positions else None


def assert_not_in_pam_stack(box):
    found = box.run(["grep", "-rl", "pam_sessmgr", PAM_FILES, "/var/lib/pam"], check=False)
    assert found.stdout == "", f"pam_sessmgr left in {found.stdout}"


def look_from_inside(box, user):
    """Logs in over SSH; returns the logind id of that session, the ids bash
    completion offers for `sessmgrctl show`, and sessmgrctl's list."""
    result = box.ssh(user, 'echo "$XDG_SESSION_ID";'
                     " . /usr/share/bash-completion/completions/sessmgrctl;"
                     ' COMP_WORDS=(sessmgrctl show ""); COMP_CWORD=2; _sessmgrctl;'
                     ' echo "${COMPREPLY[*]}"; sessmgrctl list --json')
    session_id, offered, listing = result.stdout.split("\n", 2)
    return session_id, offered.split(), json.loads(listing)["sessions"]


def test_install_records_logins_and_purge_removes_everything(container, debs, tmp_path):
    box = container
    install_debs(box, debs, tmp_path)
    # As an administrator would, although the profile is on by default.
    box.run(["pam-auth-update", "--enable", "sessmgr"], environment=APT)

    # After pam_systemd, so that the logind session the module records exists;
    # only in the interactive stack, where pam_systemd is.
    session = pam_lines(box, "common-session")
    systemd, sessmgr = module_position(session, "pam_systemd.so"), module_position(session, "pam_sessmgr.so")
    assert systemd is not None and sessmgr is not None and systemd < sessmgr, session
    assert session[sessmgr][:2] == ["session", "optional"], session[sessmgr]
    assert module_position(pam_lines(box, "common-session-noninteractive"), "pam_sessmgr.so") is None

    assert box.run(["systemctl", "is-enabled", "sessmgrd.socket"]).stdout.strip() == "enabled"
    assert box.run(["systemctl", "is-active", "sessmgrd.socket"]).stdout.strip() == "active"
    # The postinst made sessmgrd's user, which owns the database.
    assert box.run(["stat", "-c", "%a %U", "/var/lib/sessmgr"]).stdout.split() == ["700", "sessmgr"]

    box.add_user("alice")
    session_id, offered, sessions = look_from_inside(box, "alice")
    current = [s for s in sessions if s["current"]]
    assert len(current) == 1 and current[0]["logind_session"] == session_id, sessions
    assert current[0]["user"] == "alice" and current[0]["service"] == "sshd"
    assert str(current[0]["id"]) in offered
    # systemd's dpkg trigger put the catalog in its database: journalctl -x explains the login.
    explained = box.run(["journalctl", "-x", "--no-pager", "MESSAGE_ID=5abcfe7cc2f44b76bab9609d24fd856c"]).stdout
    assert "treat the account as compromised" in explained, explained

    installed = box.run(["dpkg", "-L", *PACKAGES]).stdout.splitlines()
    box.run(["apt", "purge", "-y", *PACKAGES], environment=APT, timeout=300)
    box.run(["rm", "-rf", DEB_DIRECTORY])

    for package in PACKAGES:
        status = box.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package], check=False)
        assert status.stdout.strip() in ("", "un"), f"{package}: {status.stdout}"
    assert_not_in_pam_stack(box)
    # The packages' own files, and directories nothing else uses.
    leftovers = box.run(["sh", "-c", 'for path; do [ -e "$path" ] || continue;'
                         ' [ -d "$path" ] && [ -n "$(ls -A "$path")" ] && continue;'
                         ' echo "$path"; done', "sh", *installed]).stdout
    assert leftovers == ""
    # Anything else by name: the database, unit symlinks, dpkg and systemd state
    # (sessmgr-e2e* are the harness's own).
    named = box.run("find / /run -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune"
                    " -o -name '*sessmgr*' ! -name 'sessmgr-e2e*' -print").stdout
    assert named == ""
    assert box.ssh("alice", "echo still here").stdout.strip() == "still here"


def test_remove_keeps_history_and_respects_the_administrators_choice(container, debs, tmp_path):
    box = container
    install_debs(box, debs, tmp_path)
    box.add_user("alice")
    box.ssh("alice", "true")

    box.run(["apt", "remove", "-y", *PACKAGES], environment=APT, timeout=300)
    assert_not_in_pam_stack(box)
    assert box.run(["test", "-s", "/var/lib/sessmgr/sessions.db"], check=False).returncode == 0
    assert box.run(["test", "-e", "/run/sessmgr"], check=False).returncode != 0
    assert box.ssh("alice", "echo still here").stdout.strip() == "still here"

    # Installed again: on by default again, and the earlier login is still known.
    box.run(["apt", "install", "-y", *(f"{DEB_DIRECTORY}/{p.name}" for p in debs.values())],
            environment=APT, timeout=300)
    assert module_position(pam_lines(box, "common-session"), "pam_sessmgr.so") is not None
    history = json.loads(box.ssh("alice", "sessmgrctl history --json").stdout)["sessions"]
    assert len(history) >= 1 and {s["user"] for s in history} == {"alice"}

    # Turned off by the administrator: a reinstall (or an upgrade) leaves it off.
    box.run(["pam-auth-update", "--disable", "sessmgr"], environment=APT)
    assert_not_in_pam_stack(box)
    box.run(["apt", "install", "-y", "--reinstall", f"{DEB_DIRECTORY}/{debs['libpam-sessmgr'].name}"],
            environment=APT, timeout=300)
    assert_not_in_pam_stack(box)
