#!/bin/bash
# SPDX-License-Identifier: MIT
# README's first quick-start command: installs the packages (as root), builds mxtls, and shows
# what this build does: the command's help, then offline DANE authentication (RFC 7672) of
# certificate chains from vectors/dane/ - one that passes, one a man in the middle would
# present, one DANE-TA chain whose leaf names the wrong host - and MTA-STS policy and TXT
# checks (RFC 8461) with the sender's rules.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh >/dev/null
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
mxtls() { build/cli/mxtls --config /dev/null "$@"; }
say() { printf '\n$ mxtls'; printf ' %q' "$@"; printf '\n'; }
show() { say "$@"; mxtls "$@" || echo "(exit status $?)"; }

show --help
vec=vectors/dane
chain=$vec/chains/std.pem
record=$(mxtls dane tlsa --cert "$chain")
printf '\n# The TLSA record an MX operator publishes at _25._tcp.mx.example.test:\n'
show dane tlsa --cert "$chain"
printf '\n# The server presents that chain: authenticated (exit 0).\n'
show dane verify --chain "$chain" --host mx.example.test --tlsa "$record" --at 2026-12-01T00:00:00Z
printf '\n# An attacker presents another certificate: not authenticated (exit 1), tlsa-invalid.\n'
show dane verify --chain "$vec/chains/selfsigned.pem" --host mx.example.test --tlsa "$record" \
  --at 2026-12-01T00:00:00Z
ta=$(mxtls dane tlsa --cert "$vec/certs/int.pem" --usage 2 --selector 0 --mtype 1)
printf '\n# DANE-TA: the intermediate CA is pinned; this leaf names another host (JSON output).\n'
show --json dane verify --chain "$vec/chains/unrelated.pem" --host mx.example.test --tlsa "$ta" \
  --at 2026-12-01T00:00:00Z

sts=vectors/sts/policy
printf '\n# MTA-STS: the policy of RFC 8461 section 3.2, checked with the rules a sender applies;\n'
printf '# --mx says which pattern covers an MX host (a wildcard covers exactly one label).\n'
show sts lint --mx mail.example.com --mx a.b.example.net "$sts/rfc-example-lf.txt"
printf '\n# A policy a sender must ignore: a U-label in an mx pattern (exit 1, with the line).\n'
show sts lint "$sts/mx-ulabel.txt"
printf '\n# The _mta-sts TXT record (JSON output).\n'
show --json sts lint --txt 'v=STSv1; id=20240601T000000;'
