#!/bin/bash
# SPDX-License-Identifier: MIT
# The policy domains of test-serve.sh (mxtls serve), added by run-with-dns.sh --pre before the
# zones are signed: srv1 and srv2.sts.test, whose policy host mta-sts.D is mxtls serve on
# 127.0.44.20 (nothing else listens there), and their certificates from the test CA.  srv1 gets
# two certificates, so that a reload can be seen to change the one served: WORKDIR/pki/
# serve-old/ holds the first, pki/mta-sts.srv1.sts.test.pem the renewal.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pki_up=$here/../net/pki-up.sh
"$pki_up" --add "$1" mta-sts.srv1.sts.test mta-sts.srv2.sts.test >/dev/null
mkdir -p "$1/pki/serve-old"
mv "$1/pki/mta-sts.srv1.sts.test.pem" "$1/pki/mta-sts.srv1.sts.test.key" "$1/pki/serve-old/"
"$pki_up" --add "$1" mta-sts.srv1.sts.test >/dev/null
mkdir -p "$1/zones.d"
cat >>"$1/zones.d/sts.test.zone" <<'ZONE'
; mxtls serve (tests/e2e/test-serve.sh): two policy domains served by one daemon
_mta-sts.srv1    TXT "v=STSv1; id=srv1a"
mta-sts.srv1     A   127.0.44.20
_mta-sts.srv2    TXT "v=STSv1; id=srv2a"
mta-sts.srv2     A   127.0.44.20
ZONE
cat >>"$1/zones.d/sts.test.zone" <<'ZONE'
; the report endpoint (mxtls serve --reports-path /tlsrpt): srv1's only MX is outside its
; enforce policy, so a probe records one validation-failure; its reports go to its own server
srv1             MX  10 mx9.srv1
mx9.srv1         A   127.0.44.21
_smtp._tls.srv1  TXT "v=TLSRPTv1; rua=https://mta-sts.srv1.sts.test/tlsrpt"
ZONE
