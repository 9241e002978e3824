"""Build (once) and cache the Debian 12 root file system the containers boot.

The cache key is a hash of everything that shapes the tree (suite, package
list, RECIPE_VERSION), so changing any of them builds a fresh tree beside the
old one. A tree is built in a temporary directory and renamed into place only
when complete: an interrupted debootstrap is never reused.
"""

import fcntl
import hashlib
import os
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

from plumbing import remove_tree

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_CACHE = "/var/tmp/sessmgr-e2e"

PACKAGES = [
    # A booting systemd with logind on the system bus, and SSH logins.
    "systemd", "systemd-sysv", "dbus", "libpam-systemd",
    "openssh-server", "openssh-client",
    # Tools the tests use inside the container.
    "procps", "iproute2", "sudo", "login", "util-linux", "python3", "python3-dbus",
    # newuidmap: a user's subordinate uids (tests of the per-user connection cap).
    "uidmap",
    # polkit: sessmgrd, not root, ends idle sessions through logind by its rule.
    "polkitd",
    # Runtime libraries the sessmgr binaries link against (libpq: the fleet agent).
    "libsqlite3-0", "libjson-c5", "libinih1", "libpq5",
]

# Bump whenever customize() changes, so cached trees are rebuilt.
RECIPE_VERSION = 3

SSHD_DROP_IN = """\
# sessmgr e2e: key logins through PAM (so pam_systemd and pam_sessmgr run).
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
"""

# Units with nothing to do in a throwaway container (and noise in its journal).
MASKED_UNITS = [
    "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer",
    "e2scrub_all.timer", "e2scrub_reap.service", "fstrim.timer", "systemd-pstore.service",
]


def run_on_host(argv, **kwargs):
    """subprocess.run with check=True whose error shows the command's output."""
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(map(str, argv))} exited with {result.returncode}\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def cache_directory():
    return Path(os.environ.get("SESSMGR_E2E_CACHE", DEFAULT_CACHE))


def rootfs_key():
    recipe = f"{SUITE}\n{RECIPE_VERSION}\n" + "\n".join(sorted(PACKAGES))
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def ensure_rootfs():
    """Path of a complete cached root file system, building it if needed.

    Takes ~1 minute the first time (network), nothing afterwards. A file lock
    makes concurrent callers wait for one build instead of racing.
    """
    cache = cache_directory()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"rootfs-{rootfs_key()}"
    if target.is_dir():
        return target
    with open(cache / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_dir():        # built by someone else while we waited
            return target
        for partial in cache.glob("building-*"):
            remove_tree(partial)      # left by a killed build; none is live
        building = Path(tempfile.mkdtemp(prefix="building-", dir=cache))
        try:
            started = time.monotonic()
            _debootstrap(building, lock)
            customize(building)
            building.rename(target)
            print(f"built {target} in {time.monotonic() - started:.0f}s")
        except BaseException:
            remove_tree(building)
            raise
        _remove_unused_trees(cache, keep=target)
    return target


def _remove_unused_trees(cache, keep):
    """Delete trees of older recipes, unless a running container overlays one."""
    mounts = Path("/proc/self/mounts").read_text()
    for tree in cache.glob("rootfs-*"):
        if tree != keep and f"lowerdir={tree}," not in mounts:
            remove_tree(tree)


def _debootstrap(directory, lock):
    mirror = os.environ.get("SESSMGR_E2E_MIRROR", DEFAULT_MIRROR)
    log = directory.parent / "debootstrap.log"
    with open(log, "w") as output:
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
             SUITE, str(directory), mirror],
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            # debootstrap holds the build lock too: if this process is killed,
            # the next build waits for the orphaned debootstrap to end.
            pass_fds=[lock.fileno()])
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"debootstrap failed (full log: {log}):\n{tail}")


def customize(root):
    """One-time changes to the fresh tree, shared by every container."""
    def chroot(*argv):
        return run_on_host(["chroot", str(root), *argv])

    # Host keys are normally made by openssh-server's postinst; make sure.
    chroot("ssh-keygen", "-A")
    (root / "etc/ssh/sshd_config.d/sessmgr-e2e.conf").write_text(SSHD_DROP_IN)
    chroot("systemctl", "mask", *MASKED_UNITS)
    # Without the file, systemd keeps the hostname nspawn sets (the unique
    # machine name): handy in logs.
    (root / "etc/hostname").unlink(missing_ok=True)
    # Empty machine-id, and no D-Bus copy of it (systemd would prefer that):
    # each container then gets the id nspawn's --uuid gives it.
    (root / "etc/machine-id").write_text("")
    dbus_machine_id = root / "var/lib/dbus/machine-id"
    dbus_machine_id.unlink(missing_ok=True)
    dbus_machine_id.symlink_to("/etc/machine-id")
    # The tree is shared read-only by all containers: no stray apt cache.
    chroot("apt-get", "clean")
