#!/bin/bash
# SPDX-License-Identifier: MIT
# README's first quick-start command (as root, Debian 12): installs the packages, builds mxtls,
# brings up the built-in test network (a network namespace with a DNSSEC-signed test root,
# MTA-STS policy hosts and real receiving SMTP servers; tests/net/README.md), and shows mail to a
# DANE domain, an MTA-STS domain and an unprotected domain, first on an honest network and then
# with a STARTTLS-stripping attacker on the path.  The network is torn down at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh >/dev/null
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
echo "mxtls $(build/cli/mxtls --version | head -n 1 | awk '{print $NF}') built; starting the test network..."
# run-with-dns.sh creates the namespace, DNS, policy hosts and receivers, runs the demo inside,
# and removes everything on exit.
MXTLS_TEST_NO_SKIP=1 bash tests/net/run-with-dns.sh --smtp \
  python3 tools/demo_network.py "$PWD/build/cli/mxtls" 2> >(grep -v ' up in netns \|^smtp-pki.sh:' >&2)
echo
echo "Test network removed."
