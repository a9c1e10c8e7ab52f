#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_fleet's records (run-with-dns.sh --https --pre): any number of MTA-STS domains
# d000001.fleet.sts.test ... from one wildcard, each with a policy host of its own name.
#
# One wildcard in the signed zone sts.test. (NSEC) gives every name below fleet.sts.test, at
# any depth, the same three records (each answer a wildcard expansion with its NSEC proof):
#   dNNNNNN.fleet.sts.test            MX 10 mx1.fleet.sts.test.
#   _mta-sts.dNNNNNN.fleet.sts.test   TXT "v=STSv1; id=fleet20261206" (RFC 8461 §3.1)
#   mta-sts.dNNNNNN.fleet.sts.test    A 127.0.44.7: bench_fleet.sh's own nginx, which serves
#                                     the policy "mode: enforce, mx: mx1.fleet.sts.test" for
#                                     every such host (RFC 8461 §3.3) with certificates of
#                                     100 names each (a wildcard *.fleet.sts.test cannot
#                                     cover mta-sts.dNNNNNN.fleet.sts.test: one label only)
# (each name also gets the two other types: harmless, the TXT is not a TLS-RPT record).
# The MX host mx1.fleet.sts.test has an address and no TLSA record (a secure NXDOMAIN for
# _25._tcp.mx1.fleet.sts.test), so every decision is MTA-STS and needs the policy.  A decision
# never connects to the MX host (127.0.10.251 is not used by any other scenario).
set -euo pipefail
mkdir -p "$1/zones.d"
cat >>"$1/zones.d/sts.test.zone" <<'ZONE'
; bench/bench_fleet_zones.sh: MTA-STS domains with policy hosts, from one wildcard
*.fleet               MX     10 mx1.fleet.sts.test.
*.fleet               TXT    "v=STSv1; id=fleet20261206"
*.fleet               A      127.0.44.7
mx1.fleet             A      127.0.10.251
ZONE
