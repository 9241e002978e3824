# SPDX-License-Identifier: LGPL-2.1-or-later
"""The packages: the .debs built from this tree by packaging/build-deb, checked by
lintian, then installed, used, removed and purged in a container the way an
administrator would; their autopkgtests (DEP-8), checked by autopkgtest's own parser
and run against the installed packages in a container; the watch file, run by uscan;
and the meson dist tarball, from which the source package and the RPM spec build.

The .debs are built once per run (about 15 s); SESSMGR_DEBS=DIR uses prebuilt ones.
Host tools: dpkg-dev, debhelper, lintian, autopkgtest, devscripts, rpm and the build
dependencies (scripts/dependencies.sh, PACKAGING_PACKAGES).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("libpam-sessmgr", "sessmgr")
DEB_DIRECTORY = "/root/sessmgr-debs"     # where the .debs go inside the container
SOURCE_DIRECTORY = "/srv/sessmgr-source"  # the source tree (debian/ at its top) in it, world-readable
AUTOPKGTEST_LIBRARY = "/usr/share/autopkgtest/lib"   # Debian's autopkgtest package
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
                    "(apt-get install dpkg-dev debhelper lintian autopkgtest devscripts rpm)",
                    pytrace=False)


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


@pytest.fixture(scope="session")
def dist_packages(dist_tarball, tmp_path_factory):
    """The directory where packaging/build-deb put what it built from the dist tarball:
    the source package (.dsc, orig and debian tarballs), the .debs and the .changes."""
    require_tools("dpkg-buildpackage", "dh")
    directory = tmp_path_factory.mktemp("dist-packages")
    run_on_host([REPO / "packaging/build-deb", "--tarball", dist_tarball, directory],
                "packaging/build-deb --tarball")
    return directory


def debian_source_tree(directory):
    """A source tree as Debian's tools expect it, debian/ at the top: ours is in
    packaging/debian (see packaging/build-deb)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "debian").symlink_to(REPO / "packaging/debian")
    return directory


def autopkgtests(testbed_capabilities, tmp_path):
    """The tests of debian/tests/control as autopkgtest reads them for a testbed with
    these capabilities: (tests it would run, whether it would skip any)."""
    if not Path(AUTOPKGTEST_LIBRARY, "testdesc.py").exists():
        pytest.fail(f"no {AUTOPKGTEST_LIBRARY}/testdesc.py (apt-get install autopkgtest)",
                    pytrace=False)
    sys.path.insert(0, AUTOPKGTEST_LIBRARY)
    try:
        import testdesc
    finally:
        sys.path.remove(AUTOPKGTEST_LIBRARY)
    architecture = run_on_host(["dpkg", "--print-architecture"], "dpkg").stdout.strip()
    return testdesc.parse_debian_source(str(debian_source_tree(tmp_path / "source")),
                                        testbed_capabilities, architecture)


# -- on the host -----------------------------------------------------------------


def lintian_overrides():
    """{override line: the comment above it} from every lintian-overrides file."""
    found = {}
    for path in [*(REPO / "packaging/debian").glob("*.lintian-overrides"),
                 REPO / "packaging/debian/source/lintian-overrides"]:
        comment = []
        for line in path.read_text().splitlines():
            if line.startswith("#"):
                comment.append(line)
            elif line.strip():
                found[f"{path.name}: {line}"] = "\n".join(comment)
            else:
                comment = []
    return found


def test_lintian_finds_nothing_unexplained(dist_packages, tmp_path):
    """Source and binary packages, every tag lintian has: errors, warnings, info,
    pedantic and experimental ones. Each tag it reports must be overridden, and each
    override explained by a comment above it."""
    require_tools("lintian")
    (changes,) = dist_packages.glob("sessmgr_*.changes")
    # lintian leaves temporary files behind (mldbm-elf-*): not in the host's /tmp.
    result = subprocess.run(["lintian", "--display-info", "--display-experimental", "--pedantic",
                             "--show-overrides", "--tag-display-limit", "0", changes],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    # N: lines are notes (here the overrides' comments), every other letter a tag.
    tags = [line for line in result.stdout.splitlines()
            if re.match(r"[A-Z]: ", line) and not line.startswith("N: ")]
    # O: an overridden tag; any other letter (E, W, I, P, X, C) is one nobody explained.
    assert [tag for tag in tags if not tag.startswith("O: ")] == [], result.stdout
    # The source package was checked, not only the .debs.
    assert any(" source: " in tag for tag in tags), result.stdout
    assert result.returncode == 0, result.stderr
    unexplained = [line for line, comment in lintian_overrides().items() if not comment]
    assert unexplained == []


def test_autopkgtest_reads_the_tests_and_their_restrictions(tmp_path):
    """debian/tests/control through autopkgtest's own parser (testdesc.py): a container
    testbed where tests run as root runs both tests; a chroot without root (no
    capabilities) only the superficial one."""
    tests, skipped = autopkgtests(["isolation-container", "root-on-testbed"], tmp_path)
    assert not skipped
    by_name = {test.name: test for test in tests}
    assert set(by_name) == {"installed-files", "login"}
    assert by_name["installed-files"].restrictions == {"superficial"}
    assert by_name["login"].restrictions == {"needs-root", "isolation-container"}
    # The installed packages, never the build tree: no @builddeps@, no build-needed.
    for test in tests:
        assert {"sessmgr", "libpam-sessmgr"} <= set(test.depends), test.depends
        assert "build-needed" not in test.restrictions
        script = REPO / "packaging" / test.path
        assert script.is_file() and os.access(script, os.X_OK), script
        assert script.read_text().startswith("#!/bin/sh\n"), script

    tests, skipped = autopkgtests([], tmp_path / "chroot")
    assert skipped and [test.name for test in tests] == ["installed-files"]


def test_watch_file_finds_the_newest_release_tag(tmp_path):
    """uscan runs debian/watch against a repository with release tags; the watch file's
    URL is replaced by that repository's, all else (mode, tag pattern) is as shipped."""
    require_tools("uscan")
    upstream = tmp_path / "upstream"
    git = ["git", "-C", upstream, "-c", "user.name=test", "-c", "user.email=test@example.org"]
    run_on_host(["git", "init", "--quiet", upstream], "git init")
    (upstream / "README").write_text("sessmgr\n")
    run_on_host([*git, "add", "README"], "git add")
    for tag in ("v0.1.0", "v0.2.0", "not-a-release"):
        run_on_host([*git, "commit", "--quiet", "--allow-empty", "-m", tag], "git commit")
        run_on_host([*git, "tag", tag], "git tag")

    package = tmp_path / "package"
    (package / "debian/source").mkdir(parents=True)
    shutil.copy(REPO / "packaging/debian/changelog", package / "debian")
    # 3.0 (quilt) lets the orig tarball be .tar.xz, as upstream's are.
    shutil.copy(REPO / "packaging/debian/source/format", package / "debian/source")
    watch = (REPO / "packaging/debian/watch").read_text()
    homepage = re.search(r"^Homepage: (\S+)$", (REPO / "packaging/debian/control").read_text(),
                         re.MULTILINE).group(1)
    assert f"{homepage}.git" in watch
    (package / "debian/watch").write_text(watch.replace(f"{homepage}.git", f"file://{upstream}"))
    result = run_on_host(["uscan", "--destdir", tmp_path, "--download-current-version"],
                         "uscan", cwd=package)
    assert (tmp_path / "sessmgr_0.1.0.orig.tar.xz").exists(), result.stdout
    report = run_on_host(["uscan", "--report"], "uscan --report", cwd=package)
    assert "Newest version of sessmgr on remote site is 0.2.0, local version is 0.1.0" \
        in report.stdout, report.stdout + report.stderr


def test_upstream_address_is_the_same_everywhere():
    """One upstream address in every file that names it (packaging/README.md says where
    it is used): the watch file, DEP-12 metadata, copyright and control agree."""
    homepage = re.search(r"^Homepage: (\S+)$", (REPO / "packaging/debian/control").read_text(),
                         re.MULTILINE).group(1)
    metadata = (REPO / "packaging/debian/upstream/metadata").read_text()
    assert f"Repository: {homepage}.git\n" in metadata
    assert f"Repository-Browse: {homepage}\n" in metadata
    assert f"Source: {homepage}\n" in (REPO / "packaging/debian/copyright").read_text()
    assert f"URL:            {homepage}\n" in (REPO / "packaging/rpm/sessmgr.spec").read_text()


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


# Fedora's macros the spec uses that Debian's rpm lacks, as Fedora defines them
# (meson's macros.meson, systemd-rpm-macros' macros.systemd, redhat-rpm-config):
# given on rpmbuild's command line here, never in the spec. One line each (--define
# keeps the first line of a body only).
FEDORA_MACROS = {
    "_unitdir": "/usr/lib/systemd/system",
    "_tmpfilesdir": "/usr/lib/tmpfiles.d",
    "_journalcatalogdir": "/usr/lib/systemd/catalog",
    "_sysusersdir": "/usr/lib/sysusers.d",
    "_docdir_fmt": "%%{NAME}",
    "_vpath_srcdir": ".",
    "_vpath_builddir": "%{_vendor}-%{_target_os}-build",
    "meson": "%{set_build_flags}; meson setup --buildtype=plain --prefix=%{_prefix}"
             " --libdir=%{_libdir} --libexecdir=%{_libexecdir} --bindir=%{_bindir}"
             " --sbindir=%{_sbindir} --includedir=%{_includedir} --datadir=%{_datadir}"
             " --mandir=%{_mandir} --infodir=%{_infodir} --localedir=%{_datadir}/locale"
             " --sysconfdir=%{_sysconfdir} --localstatedir=%{_localstatedir}"
             " --sharedstatedir=%{_sharedstatedir} --wrap-mode=nodownload"
             " --auto-features=enabled %{_vpath_srcdir} %{_vpath_builddir}",
    "meson_build": "meson compile -C %{_vpath_builddir} -j %{_smp_build_ncpus}",
    "meson_install": "DESTDIR=%{buildroot} meson install -C %{_vpath_builddir} --no-rebuild",
    "meson_test": "meson test -C %{_vpath_builddir} --num-processes %{_smp_build_ncpus}"
                  " --print-errorlogs",
    "systemd_post()": "if [ $1 -eq 1 ]; then systemctl --no-reload preset %{?*} || :; fi",
    "systemd_preun()": "if [ $1 -eq 0 ]; then systemctl --no-reload disable --now %{?*} || :; fi",
    "systemd_postun_with_restart()": "if [ $1 -ge 1 ]; then systemctl try-restart %{?*} || :; fi",
    "tmpfiles_create()": "systemd-tmpfiles --create %{?*} || :",
}


@pytest.fixture(scope="session")
def rpm(dist_tarball, tmp_path_factory):
    """The binary RPM rpmbuild makes of the spec and the dist tarball, with Fedora's
    macros from FEDORA_MACROS; --nodeps: the BuildRequires are Fedora names."""
    require_tools("rpmbuild")
    top = tmp_path_factory.mktemp("rpmbuild")
    defines = [f"{name} {body}" for name, body in FEDORA_MACROS.items()]
    # Everything under top: a failed build leaves its scripts in _tmppath.
    defines += [f"_topdir {top}", f"_tmppath {top}", f"_sourcedir {dist_tarball.parent}"]
    run_on_host(["rpmbuild", "-bb", "--nodeps",
                 *(part for define in defines for part in ("--define", define)),
                 REPO / "packaging/rpm/sessmgr.spec"], "rpmbuild")
    (package,) = (top / "RPMS").glob("*/sessmgr-0*.rpm")
    return package


def rpm_files(package):
    """Paths of the files (not directories) the RPM installs, %ghost ones included."""
    listing = run_on_host(["rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\\n]", package],
                          "rpm -qp").stdout
    return {line.split(" ", 1)[1] for line in listing.splitlines() if not line.startswith("d")}


def deb_files(debs):
    files = set()
    for path in debs.values():
        listing = run_on_host(["dpkg-deb", "--contents", path], "dpkg-deb").stdout
        files |= {line.split()[5].lstrip(".") for line in listing.splitlines()
                  if not line.startswith("d")}
    return files


def test_rpm_spec_builds_with_fedoras_macros(rpm):
    files = rpm_files(rpm)
    for path in ("/usr/sbin/sessmgrd", "/usr/bin/sessmgrctl", "/usr/lib/systemd/system/sessmgrd.socket",
                 "/usr/share/bash-completion/completions/sessmgrctl", "/var/lib/sessmgr/sessions.db"):
        assert path in files
    scripts = run_on_host(["rpm", "-qp", "--scripts", rpm], "rpm --scripts").stdout
    assert "preset sessmgrd.socket" in scripts and "disable --now sessmgrd.socket" in scripts
    # The spec itself defines none of them: on Fedora, Fedora's own apply.
    spec = (REPO / "packaging/rpm/sessmgr.spec").read_text()
    for name in FEDORA_MACROS:
        assert not re.search(rf"%(define|global)\s+{re.escape(name.rstrip('()'))}\b", spec), name


def test_rpm_installs_the_same_files_as_the_debs(rpm, debs):
    """The same programs, module, units, man pages, catalog and completions, where each
    distribution puts them. The differences, as packaging/README.md lists them:"""
    multiarch = run_on_host(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"],
                            "dpkg-architecture").stdout.strip()
    libdir = run_on_host(["rpm", "--eval", "%{_libdir}"], "rpm --eval").stdout.strip()

    def from_deb(path):
        path = path.replace(f"/usr/lib/{multiarch}/", f"{libdir}/")   # multiarch vs lib64
        if path.startswith("/lib/"):                    # units in /lib on Debian 12
            path = "/usr" + path
        # Where each distribution's zsh looks for packaged completions.
        path = path.replace("/usr/share/zsh/vendor-completions/", "/usr/share/zsh/site-functions/")
        return uncompressed(path)

    def uncompressed(path):
        # Whether man pages and docs are gzipped is each packaging tool's choice
        # (dh_compress; Fedora's brp-compress, which Debian's rpm does not run on them).
        if path.startswith(("/usr/share/doc/", "/usr/share/man/")) and path.endswith(".gz"):
            return path[:-len(".gz")]
        return path

    deb = {from_deb(path) for path in deb_files(debs)}
    # rpm's build-id links of the binaries (Debian's are in the -dbgsym packages).
    rpm = {uncompressed(path) for path in rpm_files(rpm) if not path.startswith("/usr/lib/.build-id/")}
    rpm_only = rpm - deb
    deb_only = deb - rpm
    # Debian's: the pam-auth-update profile (authselect owns the PAM files on Fedora),
    # the changelog and copyright files, lintian overrides.
    assert deb_only == {"/usr/share/pam-configs/sessmgr",
                        "/usr/share/doc/sessmgr/changelog.Debian", "/usr/share/doc/sessmgr/copyright",
                        "/usr/share/doc/libpam-sessmgr/changelog.Debian",
                        "/usr/share/doc/libpam-sessmgr/copyright",
                        "/usr/share/lintian/overrides/sessmgr",
                        "/usr/share/lintian/overrides/libpam-sessmgr"}, deb_only
    # The RPM's: the licence file where Fedora wants it, the database as %ghost (so that
    # erasing removes it; Debian's postrm does that on purge), and the authselect
    # profile and SELinux policy sources, which only Fedora and its relatives use.
    unexplained = {path for path in rpm_only
                   if not path.startswith(("/var/lib/sessmgr/sessions.db",
                                           "/usr/share/doc/sessmgr/authselect/",
                                           "/usr/share/doc/sessmgr/selinux/"))}
    assert unexplained == {"/usr/share/licenses/sessmgr/COPYING"}, unexplained
    assert {"/usr/share/doc/sessmgr/authselect/create-sessmgr-profile",
            "/usr/share/doc/sessmgr/selinux/sessmgr.te"} <= rpm_only


def test_deb_builds_from_the_dist_tarball(dist_packages):
    assert {path.name.split("_")[0] for path in dist_packages.glob("*.deb")} >= set(PACKAGES)
    # The source package, with the tarball as its upstream one.
    assert len(list(dist_packages.glob("sessmgr_*.dsc"))) == 1
    assert len(list(dist_packages.glob("sessmgr_*.orig.tar.xz"))) == 1


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


def test_autopkgtests_pass_against_the_installed_packages(container, debs, tmp_path):
    """debian/tests as autopkgtest runs them on a container testbed: after installing the
    packages and each test's Depends, from the top of the source tree, as root only with
    needs-root (else as an ordinary user), with AUTOPKGTEST_TMP; failing on a non-zero
    exit, and on output to stderr unless allow-stderr."""
    box = container
    tests, skipped = autopkgtests(["isolation-container", "root-on-testbed"], tmp_path)
    assert tests and not skipped
    stage = tmp_path / "source-stage"
    shutil.copytree(REPO / "packaging/debian", stage / SOURCE_DIRECTORY.lstrip("/") / "debian")
    box.install_tree(stage)
    install_debs(box, debs, tmp_path)
    box.run(["useradd", "--create-home", "autopkgtest-user"])

    for test in tests:
        # The container has no network: the Depends beyond ours are in its tree already.
        for package in test.depends:
            status = box.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package], check=False)
            assert status.stdout.strip() == "ii", f"{test.name} needs {package}"
        user = None if "needs-root" in test.restrictions else "autopkgtest-user"
        scratch = box.run(["mktemp", "-d"], user=user).stdout.strip()
        result = box.run(["sh", "-c", f'cd {SOURCE_DIRECTORY} && exec "$0"', test.path],
                         user=user, check=False, timeout=300,
                         environment={"AUTOPKGTEST_TMP": scratch})
        report = f"{test.name}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        assert result.returncode == 0, report
        if "allow-stderr" not in test.restrictions:
            assert result.stderr == "", report
        assert f"{test.name}: ok" in result.stdout, report
