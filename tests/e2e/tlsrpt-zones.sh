#!/bin/bash
# SPDX-License-Identifier: MIT
# The _smtp._tls records of e2e-tlsrpt-send (RFC 8460 §3): run by run-with-dns.sh --pre before
# the zones are signed.  Each names destinations on the test network: the HTTPS collector
# (rpt.sts.test, tests/net/tlsrpt-collector.py; paths answer as WORKDIR/tlsrpt/control says)
# and mailboxes behind the SMTP receivers.  DANE results are reported under the TLSA base
# domain (the MX host), so those records sit at the hosts' names.
set -euo pipefail
d=$1/zones.d
mkdir -p "$d"
cat >>"$d/sts.test.zone" <<'ZONE'
; e2e-tlsrpt-send: MTA-STS domains
_smtp._tls.stsbadcert   TXT  "v=TLSRPTv1; rua=https://rpt.sts.test/ok"
_smtp._tls.stsmismatch  TXT  "v=TLSRPTv1;" " rua=https://rpt.sts.test/flaky"
_smtp._tls.stsnotls     TXT  "v=TLSRPTv1; rua=https://rpt.sts.test/gone"
ZONE
cat >>"$d/mail.test.zone" <<'ZONE'
; e2e-tlsrpt-send: DANE hosts (the TLSA base domain is the policy domain, RFC 8460 §1.1)
_smtp._tls.mx1.dane-ee        TXT  "v=TLSRPTv1; rua=mailto:tlsrpt@plain.test"
_smtp._tls.mx1.dane-mismatch  TXT  "v=TLSRPTv1; rua=ftp://rpt.sts.test/x, mailto:reports@dane-mismatch.mail.test"
_smtp._tls.mx1.dane-notls     TXT  "v=TLSRPTv1; rua=https://rpt.sts.test/ok"
_smtp._tls.mx1.dane-notls     TXT  "v=TLSRPTv1; rua=https://rpt.sts.test/created"
ZONE
cat >>"$d/plain.test.zone" <<'ZONE'
; e2e-tlsrpt-send: an unsigned zone (TLS-RPT does not need DNSSEC), two destinations
_smtp._tls.notls  TXT  "v=TLSRPTv1; rua=https://rpt.sts.test/created,mailto:tlsrpt@plain.test"
ZONE
