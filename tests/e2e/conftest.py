"""pytest fixtures for the container end-to-end tests.

Missing prerequisites make the fixtures FAIL, never skip: a silently skipped
end-to-end suite would look green in CI while testing nothing.
"""

import os
import shutil

import pytest

from container import Container, ensure_rootfs
from sessmgr_install import install_sessmgr, stage_install

HOST_TOOLS = ["systemd-nspawn", "debootstrap", "nsenter", "chroot", "mount", "tar"]


def _check_host():
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (debootstrap, mount and systemd-nspawn need it)")
    missing = [tool for tool in HOST_TOOLS if shutil.which(tool) is None]
    if missing:
        problems.append(f"missing host tools: {', '.join(missing)} "
                        "(apt-get install debootstrap systemd-container util-linux tar)")
    if problems:
        pytest.fail("e2e tests cannot run: " + "; ".join(problems), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Remember each phase's outcome on the test item, so fixtures can tell in
    # their teardown whether the test failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _test_failed(request):
    report = getattr(request.node, "report_call", None)
    return report is not None and report.failed


def _print_diagnostics(box):
    """Shown by pytest under "Captured stdout teardown" of a failed test."""
    if box.init_pid:
        print(f"--- journal of container {box.name} (last 150 lines) ---")
        print(box.journal(lines=150))
    print(f"--- end of {box.boot_log} ---\n{box.boot_log_tail()}")


@pytest.fixture(scope="session")
def rootfs():
    """Path of the cached Debian 12 tree (built by debootstrap on first use)."""
    _check_host()
    return ensure_rootfs()


@pytest.fixture
def container_factory(rootfs, request):
    """Boot containers on demand: factory(prepare=None, **options) -> Container.

    Every container it made is stopped and deleted after the test, whatever
    happened in it.
    """
    made = []

    def factory(**options):
        box = Container(rootfs, **options)
        made.append(box)
        box.start()
        return box

    try:
        yield factory
    finally:
        failed = _test_failed(request)
        for box in made:
            try:
                if failed:
                    _print_diagnostics(box)
            finally:
                box.stop()


@pytest.fixture
def container(container_factory):
    """A freshly booted container, thrown away after the test (boot ~0.5 s)."""
    return container_factory()


@pytest.fixture(scope="session")
def stage():
    """The build under test, as `meson install` lays it out (installed once per run)."""
    path = stage_install()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def box(container, stage):
    """A booted container with sessmgr installed and enabled, and users alice and bob."""
    install_sessmgr(container, stage)
    return container
