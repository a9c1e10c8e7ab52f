#!/bin/bash
# SPDX-License-Identifier: MIT
# Extra _mta-sts records for test_sts_fetch.c (RFC 8461 §3.1 selection), added by
# run-with-dns.sh --pre before the zones are signed.
set -euo pipefail
mkdir -p "$1/zones.d"
cat >>"$1/zones.d/sts.test.zone" <<'ZONE'
; STS-05: two v=STSv1 records: no policy is discovered
_mta-sts.multi   TXT "v=STSv1; id=a1"
_mta-sts.multi   TXT "v=STSv1; id=b2"
; STS-06: an id with a hyphen: the record is invalid
_mta-sts.badtxt  TXT "v=STSv1; id=2024-06-01"
ZONE
