#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_policyd's records (run-with-dns.sh --https --pre): 100 000 and more distinct domains
# d000001.bulk.sts.test ... that all resolve, for the cache-size and restart figures.
#
# One wildcard MX in the signed zone sts.test. (NSEC): every dNNNNNN.bulk.sts.test gets the
# secure MX 10 mx.bulk.sts.test (a wildcard expansion, validated with its NSEC proof).  The MX
# host has an address and a secure TLSA 3 1 1, so every domain's decision is DANE
# ("OK dane-only") and needs per-domain lookups: MX, _mta-sts TXT (secure NODATA from the same
# wildcard) and _smtp._tls TXT; the MX host's A/AAAA and TLSA are the same for all.
# The TTLs are those of the zone (300 s, negative answers 300 s); bench_policyd.sh runs policyd
# with --min-ttl 3600, so the answers stay cached for the whole run all the same.
#
# The TLSA digest is a placeholder (SHA-256 of "bench_policyd"): a decision only reads DNS,
# it never connects to mx.bulk.sts.test (127.0.10.250 is not used by any other scenario).
set -euo pipefail
mkdir -p "$1/zones.d"
cat >>"$1/zones.d/sts.test.zone" <<'ZONE'
; bench/bench_policyd_zones.sh: 100 000+ DANE domains from one wildcard
*.bulk                MX     10 mx.bulk.sts.test.
mx.bulk               A      127.0.10.250
_25._tcp.mx.bulk      TLSA   3 1 1 3d4b8b0a4fcbe6f6a5c5a6a9a4a0f8e8b6d5c4b3a29180706f5e4d3c2b1a0918
ZONE
