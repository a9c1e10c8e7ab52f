#!/bin/bash
# SPDX-License-Identifier: MIT
# README's first quick-start command (as root, Debian 12): installs the packages, builds mxtls,
# brings up the built-in test network (a network namespace with a DNSSEC-signed test root,
# MTA-STS policy hosts and real receiving SMTP servers; tests/net/README.md), and shows mail to a
# DANE domain, an MTA-STS domain and an unprotected domain, first on an honest network and then
# with a STARTTLS-stripping attacker on the path.  The network is torn down at the end.
#
# Environment: MXTLS_BUILD_DIR  the meson build directory to use (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${MXTLS_BUILD_DIR:-build}

# The package and build steps are quiet unless they fail: their output goes to a log that is
# printed on failure and removed on exit either way.
log=$(mktemp "${TMPDIR:-/tmp}/mxtls-demo-log.XXXXXX")
trap 'rm -f "$log"' EXIT
step() {
  local what=$1
  shift
  printf '%s\n' "$what"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    printf 'demo: failed: %s\n' "$*" >&2
    exit 1
  fi
}

step "[1/3] Checking the Debian packages (tools/install-deps.sh; installing takes minutes)..." \
  bash tools/install-deps.sh
setup_and_build() { meson setup "$builddir" && ninja -C "$builddir"; }
if [ ! -f "$builddir/build.ninja" ]; then
  step "[2/3] Building mxtls in $builddir/ (meson setup, ninja; about a minute the first time)..." \
    setup_and_build
else
  step "[2/3] Building mxtls in $builddir/ (ninja -C $builddir)..." ninja -C "$builddir"
fi
version=$("$builddir/cli/mxtls" --version | head -n 1 | awk '{print $NF}')
echo "[3/3] mxtls $version built; starting the test network (signed DNS, policy hosts, receivers)..."
# run-with-dns.sh creates the namespace, DNS, policy hosts and receivers, runs the demo inside,
# and removes everything on exit.
# Their progress lines on stderr are filtered out (fd 3 carries stdout past the filter).
{ MXTLS_TEST_NO_SKIP=1 bash tests/net/run-with-dns.sh --smtp \
    python3 tools/demo_network.py "$builddir/cli/mxtls" 2>&1 1>&3 3>&- |
    { grep -v ' up in netns \|^smtp-pki.sh:' || true; } >&2; } 3>&1
echo
echo "Test network removed."
