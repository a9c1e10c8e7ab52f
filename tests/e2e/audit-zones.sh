#!/bin/bash
# SPDX-License-Identifier: MIT
# The scenario domains of e2e-audit (test_audit.py, `mxtls audit DOMAIN`): run by
# run-with-dns.sh --pre (after pki-up.sh and smtp-pki.sh, before the zones are signed).
#
# Each domain carries exactly one planted problem (or none: audok).  Apart from that problem
# every domain is complete: an enforce policy (max_age >= 1 week) naming every MX host,
# Web-valid MX certificates, and an _smtp._tls record whose rua is the test collector
# https://rpt.sts.test/ok (run-with-dns.sh --tlsrpt).  The DANE domains of mail.test reuse
# the receivers of tests/net/smtp-hosts.conf and get only an _smtp._tls record here.
#
# What is made here, besides the records in WORKDIR/zones.d/:
#   WORKDIR/audit/receivers.conf   extra SMTP listeners (smtp-receiver.py format) that
#                                  test_audit.py starts as a second receiver process:
#                                  127.0.10.201-207 and fd00:25::3 (the test adds that
#                                  address to lo inside the namespace)
#   WORKDIR/audit/policy-hosts.conf  "HOST CERT KEY" per policy host that test_audit.py
#                                  serves on 127.0.44.30:443 (its own HTTPS server, by SNI)
#   WORKDIR/audit/www/HOST/mta-sts.txt  the policy bodies (read at every request)
#   WORKDIR/audit/certs/            the certificates (leaf from the test CA; the audok ones
#                                  with the CA appended, so that 2 1 1 of the CA can match)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pki_up=$here/../net/pki-up.sh
w=$(cd "$1" && pwd)
pki=$w/pki
a=$w/audit
rm -rf "$a"
mkdir -p "$a/certs" "$a/www" "$w/zones.d"

POLICY_ADDR=127.0.44.30
V6=fd00:25::3

# ------------------------------------------------------------------ certificates
policy_hosts=(audok audnotcov audselfsigned audtxtmulti audidsame audv6 audrptmissing
    audrptinvalid audrpttwo audrpt404 audrptnomail audtlsabogus audpub)
mx_hosts=(mx1.audok.sts.test mx2.audok.sts.test mx1.audv6.sts.test mx1.audtlsabogus.sts.test
    mx1.audpub.sts.test mx1.audinsec.plain.test)
names=()
for s in "${policy_hosts[@]}"; do names+=("mta-sts.$s.sts.test"); done
names+=(mta-sts.audinsec.plain.test "${mx_hosts[@]}")
"$pki_up" --add "$w" "${names[@]}" >/dev/null
for n in "${names[@]}"; do
    mv "$pki/$n.pem" "$pki/$n.key" "$a/certs/"
done
# The IPv6 listener of mx1.audv6: another Web-valid certificate for the same name (other key).
"$pki_up" --add "$w" mx1.audv6.sts.test >/dev/null
mv "$pki/mx1.audv6.sts.test.pem" "$a/certs/mx1.audv6.sts.test-v6.pem"
mv "$pki/mx1.audv6.sts.test.key" "$a/certs/mx1.audv6.sts.test-v6.key"
for h in mx1.audok.sts.test mx2.audok.sts.test; do
    cat "$a/certs/$h.pem" "$pki/ca.pem" >"$a/certs/$h.chain.pem"
done

# spki FILE: SHA-256 of the SubjectPublicKeyInfo of the (first) certificate (selector 1)
spki() {
    openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum |
        cut -d' ' -f1
}
# certsha FILE: SHA-256 of the DER certificate (selector 0)
certsha() {
    openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

# ------------------------------------------------------------------ listeners, policy hosts
c=$a/certs
cat >"$a/receivers.conf" <<EOF
# ADDR PORT HOSTNAME BEHAVIOUR CERTFILE KEYFILE (tests/e2e/audit-zones.sh)
127.0.10.201 25 mx1.audok.sts.test starttls $c/mx1.audok.sts.test.chain.pem $c/mx1.audok.sts.test.key
127.0.10.202 25 mx2.audok.sts.test starttls $c/mx2.audok.sts.test.chain.pem $c/mx2.audok.sts.test.key
127.0.10.203 25 mx1.audv6.sts.test starttls $c/mx1.audv6.sts.test.pem $c/mx1.audv6.sts.test.key
$V6 25 mx1.audv6.sts.test starttls $c/mx1.audv6.sts.test-v6.pem $c/mx1.audv6.sts.test-v6.key
127.0.10.205 25 mx1.audtlsabogus.sts.test starttls $c/mx1.audtlsabogus.sts.test.pem $c/mx1.audtlsabogus.sts.test.key
127.0.10.206 25 mx1.audpub.sts.test starttls $c/mx1.audpub.sts.test.pem $c/mx1.audpub.sts.test.key
127.0.10.207 25 mx1.audinsec.plain.test starttls $c/mx1.audinsec.plain.test.pem $c/mx1.audinsec.plain.test.key
EOF

: >"$a/policy-hosts.conf"
# policy HOST MX...: an enforce policy (CRLF, max_age two weeks) for policy host HOST
policy() {
    local host=$1 mx
    shift
    mkdir -p "$a/www/$host"
    {
        printf 'version: STSv1\r\nmode: enforce\r\n'
        for mx in "$@"; do printf 'mx: %s\r\n' "$mx"; done
        printf 'max_age: 1209600\r\n'
    } >"$a/www/$host/mta-sts.txt"
}
for s in "${policy_hosts[@]}"; do
    printf 'mta-sts.%s.sts.test %s/mta-sts.%s.sts.test.pem %s/mta-sts.%s.sts.test.key\n' \
        "$s" "$c" "$s" "$c" "$s" >>"$a/policy-hosts.conf"
done
printf 'mta-sts.audinsec.plain.test %s/mta-sts.audinsec.plain.test.pem %s/mta-sts.audinsec.plain.test.key\n' \
    "$c" "$c" >>"$a/policy-hosts.conf"
# audpolcert: the certificate of another name (pki-up.sh's wrongname: www.wrongname.sts.test)
printf 'mta-sts.audpolcert.sts.test %s/wrongname.pem %s/wrongname.key\n' "$pki" "$pki" \
    >>"$a/policy-hosts.conf"

policy mta-sts.audok.sts.test mx1.audok.sts.test mx2.audok.sts.test
policy mta-sts.audpolcert.sts.test mx1.enforce.sts.test
policy mta-sts.audnotcov.sts.test mx1.enforce.sts.test
policy mta-sts.audselfsigned.sts.test mx1.stsbadcert.sts.test
policy mta-sts.audtxtmulti.sts.test mx1.enforce.sts.test
policy mta-sts.audidsame.sts.test mx1.enforce.sts.test
policy mta-sts.audv6.sts.test mx1.audv6.sts.test
policy mta-sts.audrptmissing.sts.test mx1.enforce.sts.test
policy mta-sts.audrptinvalid.sts.test mx1.enforce.sts.test
policy mta-sts.audrpttwo.sts.test mx1.enforce.sts.test
policy mta-sts.audrpt404.sts.test mx1.enforce.sts.test
policy mta-sts.audrptnomail.sts.test mx1.enforce.sts.test
policy mta-sts.audtlsabogus.sts.test mx1.audtlsabogus.sts.test
policy mta-sts.audinsec.plain.test mx1.audinsec.plain.test
# audpub: nothing yet; test_audit.py serves what mxtls publish writes

# ------------------------------------------------------------------ zones
ok_rpt='"v=TLSRPTv1; rua=https://rpt.sts.test/ok"'
# sts NAME: _mta-sts TXT, policy host, _smtp._tls of NAME.sts.test
sts() {
    cat <<EOF
_mta-sts.$1.sts.test.    TXT  "v=STSv1; id=${1}1"
mta-sts.$1.sts.test.     A    $POLICY_ADDR
EOF
}
rpt() {
    printf '_smtp._tls.%s.   TXT  %s\n' "$1" "$ok_rpt"
}
{
    printf '\n; ---- e2e-audit (tests/e2e/audit-zones.sh)\n'
    printf '; audok: correct deployment (STS enforce, DANE 3 1 1 + 2 1 1 of the issuer, TLS-RPT)\n'
    sts audok
    rpt audok.sts.test
    cat <<EOF
audok.sts.test.                MX   10 mx1.audok.sts.test.
audok.sts.test.                MX   20 mx2.audok.sts.test.
mx1.audok.sts.test.            A    127.0.10.201
mx2.audok.sts.test.            A    127.0.10.202
_25._tcp.mx1.audok.sts.test.   TLSA 3 1 1 $(spki "$c/mx1.audok.sts.test.pem")
_25._tcp.mx1.audok.sts.test.   TLSA 2 1 1 $(spki "$pki/ca.pem")
_25._tcp.mx2.audok.sts.test.   TLSA 3 1 1 $(spki "$c/mx2.audok.sts.test.pem")
_25._tcp.mx2.audok.sts.test.   TLSA 2 1 1 $(spki "$pki/ca.pem")
EOF
    printf '; audpolcert: the policy host presents a certificate for www.wrongname.sts.test\n'
    sts audpolcert
    rpt audpolcert.sts.test
    printf 'audpolcert.sts.test.           MX   10 mx1.enforce.sts.test.\n'
    printf '; audnotcov: mx2.enforce is not in the enforce policy\n'
    sts audnotcov
    rpt audnotcov.sts.test
    printf 'audnotcov.sts.test.            MX   10 mx1.enforce.sts.test.\n'
    printf 'audnotcov.sts.test.            MX   20 mx2.enforce.sts.test.\n'
    printf '; audselfsigned: the MX host (mx1.stsbadcert) presents a self-signed certificate\n'
    sts audselfsigned
    rpt audselfsigned.sts.test
    printf 'audselfsigned.sts.test.        MX   10 mx1.stsbadcert.sts.test.\n'
    printf '; audtxtmulti: two v=STSv1 records\n'
    sts audtxtmulti
    printf '_mta-sts.audtxtmulti.sts.test. TXT  "v=STSv1; id=audtxtmulti2"\n'
    rpt audtxtmulti.sts.test
    printf 'audtxtmulti.sts.test.          MX   10 mx1.enforce.sts.test.\n'
    printf '; audidsame: the test edits the policy body and keeps the id\n'
    sts audidsame
    rpt audidsame.sts.test
    printf 'audidsame.sts.test.            MX   10 mx1.enforce.sts.test.\n'
    printf '; audv6: mx1 on 127.0.10.203 and %s; the IPv6 server has another key (TLSA: the IPv4 one)\n' "$V6"
    sts audv6
    rpt audv6.sts.test
    cat <<EOF
audv6.sts.test.                MX   10 mx1.audv6.sts.test.
mx1.audv6.sts.test.            A    127.0.10.203
mx1.audv6.sts.test.            AAAA $V6
_25._tcp.mx1.audv6.sts.test.   TLSA 3 1 1 $(spki "$c/mx1.audv6.sts.test.pem")
EOF
    printf '; audrpt*: TLS-RPT missing, invalid (ftp: rua), two records, endpoint 404\n'
    sts audrptmissing
    printf 'audrptmissing.sts.test.        MX   10 mx1.enforce.sts.test.\n'
    sts audrptinvalid
    printf '_smtp._tls.audrptinvalid.sts.test. TXT "v=TLSRPTv1; rua=ftp://rpt.sts.test/x"\n'
    printf 'audrptinvalid.sts.test.        MX   10 mx1.enforce.sts.test.\n'
    sts audrpttwo
    rpt audrpttwo.sts.test
    printf '_smtp._tls.audrpttwo.sts.test. TXT "v=TLSRPTv1; rua=https://rpt.sts.test/created"\n'
    printf 'audrpttwo.sts.test.            MX   10 mx1.enforce.sts.test.\n'
    sts audrpt404
    printf '_smtp._tls.audrpt404.sts.test. TXT "v=TLSRPTv1; rua=https://rpt.sts.test/gone"\n'
    printf 'audrpt404.sts.test.            MX   10 mx1.enforce.sts.test.\n'
    printf '; audrptnomail: a mailto rua whose domain publishes a null MX\n'
    sts audrptnomail
    printf '_smtp._tls.audrptnomail.sts.test. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@nullmx.test"\n'
    printf 'audrptnomail.sts.test.         MX   10 mx1.enforce.sts.test.\n'
    printf '; audtlsabogus: the TLSA name is a secure CNAME into bogus.test (TLSA lookup bogus)\n'
    sts audtlsabogus
    rpt audtlsabogus.sts.test
    cat <<EOF
audtlsabogus.sts.test.         MX   10 mx1.audtlsabogus.sts.test.
mx1.audtlsabogus.sts.test.     A    127.0.10.205
_25._tcp.mx1.audtlsabogus.sts.test. CNAME _25._tcp.mx1.bogus.test.
EOF
    printf '; audpub: Web-valid MX, nothing published (test_audit.py adds what mxtls publish writes)\n'
    cat <<EOF
mta-sts.audpub.sts.test.       A    $POLICY_ADDR
audpub.sts.test.               MX   10 mx1.audpub.sts.test.
mx1.audpub.sts.test.           A    127.0.10.206
EOF
} >>"$w/zones.d/sts.test.zone"

{
    printf '\n; ---- e2e-audit (tests/e2e/audit-zones.sh): an unsigned zone with TLSA\n'
    cat <<EOF
_mta-sts.audinsec.plain.test.  TXT  "v=STSv1; id=audinsec1"
mta-sts.audinsec.plain.test.   A    $POLICY_ADDR
EOF
    rpt audinsec.plain.test
    cat <<EOF
audinsec.plain.test.           MX   10 mx1.audinsec.plain.test.
mx1.audinsec.plain.test.       A    127.0.10.207
_25._tcp.mx1.audinsec.plain.test. TLSA 3 1 1 $(spki "$c/mx1.audinsec.plain.test.pem")
EOF
} >>"$w/zones.d/plain.test.zone"

{
    printf '\n; ---- e2e-audit (tests/e2e/audit-zones.sh): DANE domains (receivers of smtp-hosts.conf)\n'
    for d in dane-ee dane-mismatch dane-notls dane-encrypt dane-454 audrollover; do
        rpt "$d.mail.test"
    done
    printf '; audrollover: only 3 0 1 (the certificate itself) for the dane-ee receiver\n'
    cat <<EOF
audrollover.mail.test.         MX   10 mx1.audrollover.mail.test.
mx1.audrollover.mail.test.     A    127.0.25.1
_25._tcp.mx1.audrollover.mail.test. TLSA 3 0 1 $(certsha "$pki/smtp/mx1.dane-ee.mail.test.pem")
EOF
} >>"$w/zones.d/mail.test.zone"
