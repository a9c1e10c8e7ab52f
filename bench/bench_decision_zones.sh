#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_decision's records (run-with-dns.sh --https --pre): DANE plus MTA-STS on two domains.
#
# enforce.sts.test gets a secure TLSA for its mx1, so it has both DANE (mx1) and an MTA-STS
# enforce policy (served by the test network's nginx): a decision for it needs every lookup
# the library makes: MX, A/AAAA and TLSA per host, _mta-sts TXT, the policy host's A/AAAA and
# the HTTPS fetch, and _smtp._tls TXT.
#
# rtt.sts.test is the same shape, but its policy host mta-sts.rtt.sts.test is 127.0.44.9,
# where bench_decision runs policy_delay_server.py (a policy host one round trip of D away),
# with a certificate issued here from the test CA.
#
# The TLSA digests are placeholders (SHA-256 of "bench_decision"): a decision only reads DNS,
# it never connects to the MX hosts (127.0.10.201-202 are not used by any other scenario).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$here/../tests/net/pki-up.sh" --add "$1" mta-sts.rtt.sts.test
mkdir -p "$1/zones.d"
cat >>"$1/zones.d/sts.test.zone" <<'ZONE'
; bench/bench_decision_zones.sh: DANE for the MTA-STS enforce domain's first MX host
_25._tcp.mx1.enforce  TLSA  3 1 1 6f55c6051b4b01b6e8ac63b15f3a4eb7e5c1e9d3da13b91a9f1e58ec0493d1d2
; bench/bench_decision_zones.sh: the same shape, policy host delayed by bench_decision
_mta-sts.rtt          TXT   "v=STSv1; id=20260101T000000;"
mta-sts.rtt           A     127.0.44.9
rtt                   MX    10 mx1.rtt.sts.test.
rtt                   MX    20 mx2.rtt.sts.test.
mx1.rtt               A     127.0.10.201
mx2.rtt               A     127.0.10.202
_25._tcp.mx1.rtt      TLSA  3 1 1 6f55c6051b4b01b6e8ac63b15f3a4eb7e5c1e9d3da13b91a9f1e58ec0493d1d2
ZONE
