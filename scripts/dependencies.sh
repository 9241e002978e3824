# SPDX-License-Identifier: LGPL-2.1-or-later
# Debian 12 packages sessmgr needs, sourced by scripts/demo and scripts/test.

BUILD_PACKAGES="gcc meson ninja-build pkg-config scdoc systemd libsystemd-dev libpam0g-dev libsqlite3-dev libjson-c-dev libinih-dev libpq-dev"
TEST_PACKAGES="binutils dbus-daemon valgrind clang libclang-rt-14-dev libcmocka-dev libpam-wrapper libnss-wrapper pamtester strace util-linux python3 python3-pytest python3-dbus zsh fish"
# The fleet database tests start their own PostgreSQL server (tests/fleet/postgres.py).
FLEET_TEST_PACKAGES="postgresql python3-psycopg2"
# Building and checking the Debian and RPM packages (tests/e2e/test_packaging.py).
PACKAGING_PACKAGES="debhelper dpkg-dev lintian autopkgtest devscripts rpm selinux-policy-dev bash-completion git"
CONTAINER_PACKAGES="debootstrap systemd-container"

install_packages() {
        local missing=() package
        for package in "$@"; do
                dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
                        missing+=("$package")
        done
        if [ ${#missing[@]} -gt 0 ]; then
                echo "==> installing: ${missing[*]}"
                apt-get update -qq
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        fi
}

require_root() {
        if [ "$(id -u)" != 0 ]; then
                echo "$0: run this as root: it installs packages and boots a throwaway container" >&2
                exit 1
        fi
}

# Builds into $1 with the layout of a Debian system, so the same build can be
# installed into the test container.
build_sessmgr() {
        local build_dir=$1
        shift
        if [ ! -f "$build_dir/build.ninja" ]; then
                meson setup "$build_dir" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
                        --libdir=lib/x86_64-linux-gnu "$@" >/dev/null
        fi
        ninja -C "$build_dir"
}
