#!/bin/bash
# SPDX-License-Identifier: MIT
# The DNS of e2e-tlsrpt-read: run by run-with-dns.sh --pre before the zones are signed.  DKIM keys
# of the report submitters under sts.test (a signed zone, so mxtls's validating resolver finds
# them secure), made here with certtool (RSA) and python3-nacl (ed25519), kept in
# WORKDIR/tlsrpt-read/ for test_tlsrpt_read.py:
#   rsa._domainkey.reporter.sts.test      k=rsa, s=tlsrpt          (good)
#   email._domainkey.reporter.sts.test    the same key, s=email     (not for TLS reports)
#   ed._domainkey.reporter.sts.test       k=ed25519, no s=          (RFC 8463, any service)
#   revoked._domainkey.reporter.sts.test  k=rsa, s=tlsrpt, p=       (revoked)
#   rsa._domainkey.other.sts.test         the RSA key, s=tlsrpt     (a domain that is not the
#                                                                    submitter)
#   s1._domainkey.sender.sts.test         the RSA key, s=tlsrpt     (mxtls's own sender)
# and _smtp._tls.stsbadcert.sts.test, a mailto: at the plain.test receiver, for the reports
# that `mxtls tlsrpt send` mails through the queue.
set -euo pipefail
w=$1
k=$w/tlsrpt-read
mkdir -p "$k" "$w/zones.d"
certtool --generate-privkey --outfile "$k/rsa.pem" --key-type=rsa --bits=2048 \
	>"$k/certtool.log" 2>&1
rsa=$(openssl pkey -in "$k/rsa.pem" -pubout -outform DER | base64 -w0)
/usr/bin/python3 - "$k" <<'PY'
import base64, os, sys
import nacl.signing
key = nacl.signing.SigningKey.generate()
d = sys.argv[1]
with open(os.path.join(d, "ed25519.key"), "wb") as f:   # dkimpy's form: the seed, base64
    f.write(base64.b64encode(bytes(key)))
with open(os.path.join(d, "ed25519.pub"), "wb") as f:   # RFC 8463 p=: the raw 32 bytes
    f.write(base64.b64encode(bytes(key.verify_key)))
PY
ed=$(cat "$k/ed25519.pub")

# A TXT record of strings of at most 200 characters (RFC 1035 caps one at 255).
txt() {
	local s=$1 out=""
	while [ -n "$s" ]; do
		out+=" \"${s:0:200}\""
		s=${s:200}
	done
	printf '%s\n' "$out"
}
{
	echo "; e2e-tlsrpt-read: DKIM keys of report submitters"
	echo "rsa._domainkey.reporter      TXT $(txt "v=DKIM1; k=rsa; s=tlsrpt; p=$rsa")"
	echo "email._domainkey.reporter    TXT $(txt "v=DKIM1; k=rsa; s=email; p=$rsa")"
	echo "ed._domainkey.reporter       TXT $(txt "v=DKIM1; k=ed25519; p=$ed")"
	echo "revoked._domainkey.reporter  TXT \"v=DKIM1; k=rsa; s=tlsrpt; p=\""
	echo "rsa._domainkey.other         TXT $(txt "v=DKIM1; k=rsa; s=tlsrpt; p=$rsa")"
	echo "s1._domainkey.sender         TXT $(txt "v=DKIM1; k=rsa; s=tlsrpt; p=$rsa")"
	echo "_smtp._tls.stsbadcert        TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@plain.test\""
} >>"$w/zones.d/sts.test.zone"
printf 'v=DKIM1; k=rsa; s=tlsrpt; p=%s' "$rsa" >"$k/rsa.txt"
printf 'v=DKIM1; k=ed25519; p=%s' "$ed" >"$k/ed25519.txt"
