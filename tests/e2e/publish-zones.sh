#!/bin/bash
# SPDX-License-Identifier: MIT
# Extra records for e2e-publish (test_publish.py): run by run-with-dns.sh --pre before the zones
# are signed.  An MX record that names an address, not a host (RFC 5321 §5.1).
set -euo pipefail
d=$1/zones.d
mkdir -p "$d"
cat >>"$d/secure.test.zone" <<ZONE
literal        MX     10 127.0.10.1.
ZONE
# One MX host on two addresses whose servers present different keys (the receivers of
# mx1 and mx2.dane-fallback.mail.test): publish must contact both and print a TLSA for each.
cat >>"$d/mail.test.zone" <<ZONE
twoaddr.mail.test.       MX   10 mx.twoaddr.mail.test.
mx.twoaddr.mail.test.    A    127.0.25.5
mx.twoaddr.mail.test.    A    127.0.25.6
ZONE
