#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pki-up.sh -- generate the test CAs and the MTA-STS policy hosts' certificates (certtool).
#
#   pki-up.sh WORKDIR [HOST...]       start from scratch: new CAs, every scenario
#                                     certificate, plus a valid one per extra HOST
#   pki-up.sh --add WORKDIR HOST...   issue valid certificates for more HOSTs from
#                                     the CA already in WORKDIR/pki (e.g. for MX hosts)
#   pki-up.sh --add-untrusted WORKDIR HOST...
#                                     the same from untrusted-ca.pem, as HOST-untrusted.pem
#                                     / .key (SAN HOST: right name, a root nobody trusts)
#
# Everything goes to WORKDIR/pki/ (ECDSA P-256 keys, PEM):
#   ca.pem, ca.key                    the test root CA -- the one file to trust
#                                     (mxtls --ca-file, curl --cacert)
#   untrusted-ca.pem, untrusted-ca.key  a second root that nobody trusts
#   HOST.pem, HOST.key                valid: SAN dNSName HOST, issued by ca.pem,
#                                     2020-06-01 .. 2049-12-31 (so a test that pins
#                                     the clock anywhere in that range still sees it valid)
#   wildcard.pem/.key                 valid: SAN *.wildcardcert.sts.test
#   wrongname.pem/.key                SAN www.wrongname.sts.test (served for mta-sts.wrongname...)
#   expired.pem/.key                  SAN mta-sts.expired.sts.test, valid 2020-01-01 .. 2020-02-01
#   untrusted.pem/.key                SAN mta-sts.untrusted.sts.test, issued by untrusted-ca.pem
#   cnonly.pem/.key                   CN mta-sts.cnonly.sts.test and no SAN at all
#   default.pem/.key                  SAN default.invalid (nginx's server for unknown SNI)
# Leaf files hold the leaf only (no chain: the CA is the issuer).  Needs certtool (gnutls-bin).
set -euo pipefail

prog=${0##*/}

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

usage() {
    printf 'usage: %s WORKDIR [HOST...]\n       %s --add|--add-untrusted WORKDIR HOST...\n' \
        "$prog" "$prog" >&2
    exit 2
}

add=0
if [[ ${1:-} == --add || ${1:-} == --add-untrusted ]]; then
    add=1
    [[ $1 == --add-untrusted ]] && add=2
    shift
    (($# >= 2)) || usage
fi
(($# >= 1)) || usage
mkdir -p "$1"
workdir=$(cd "$1" && pwd)
shift
command -v certtool >/dev/null || die "certtool not found (Debian package gnutls-bin)"

pki=$workdir/pki
VALID_FROM="2020-06-01 00:00:00"
VALID_UNTIL="2049-12-31 23:59:59"

# The policy hosts that get a valid certificate of their own (see dns/sts.test.zone).
SCENARIO_HOSTS=(
    enforce testing none redirect301 redirect302 notfound servererror html notype charset params
    crlf badsyntax large manymx oversized slowheaders slowbody wildcard delegated ipv6only tls10
    stsbadcert stsmismatch stsnotls danests danebad daneencsts stswild danepart
    tofu fetchfail nocache idchange idsame maxage stsredirect stscharset
)

check_host() {
    [[ $1 =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$ ]] ||
        die "bad host name: '$1'"
}

# certtool wrapper: its chatter goes to pki/certtool.log, shown only on failure.
ct() {
    certtool "$@" >>"$pki/certtool.log" 2>&1 || {
        tail -n 20 "$pki/certtool.log" >&2
        die "certtool $* failed"
    }
}

new_key() {
    ct --generate-privkey --key-type ecdsa --curve secp256r1 --no-text --outfile "$1"
}

# new_ca BASE CN: self-signed root BASE.pem / BASE.key
new_ca() {
    local base=$pki/$1
    cat >"$base.tmpl" <<EOF
cn = "$2"
organization = "mxtls tests"
ca
cert_signing_key
activation_date = "2020-01-01 00:00:00"
expiration_date = "$VALID_UNTIL"
EOF
    new_key "$base.key"
    ct --generate-self-signed --load-privkey "$base.key" --template "$base.tmpl" \
        --no-text --outfile "$base.pem"
    rm -f "$base.tmpl"
}

# leaf BASE CA-BASE FROM UNTIL CN [SAN...]: BASE.pem / BASE.key issued by CA-BASE
leaf() {
    local base=$pki/$1 ca=$pki/$2 from=$3 until=$4 cn=$5 san
    shift 5
    {
        printf 'cn = "%s"\n' "$cn"
        for san in "$@"; do
            printf 'dns_name = "%s"\n' "$san"
        done
        printf 'tls_www_server\nsigning_key\n'
        printf 'activation_date = "%s"\nexpiration_date = "%s"\n' "$from" "$until"
    } >"$base.tmpl"
    new_key "$base.key"
    ct --generate-certificate --load-privkey "$base.key" --load-ca-certificate "$ca.pem" \
        --load-ca-privkey "$ca.key" --template "$base.tmpl" --no-text --outfile "$base.pem"
    rm -f "$base.tmpl"
}

valid() {
    check_host "$1"
    leaf "$1" ca "$VALID_FROM" "$VALID_UNTIL" "$1" "$1"
}

if ((add)); then
    [[ -f $pki/ca.pem && -f $pki/ca.key ]] || die "no CA in $pki (run $prog $workdir first)"
    for h in "$@"; do
        if ((add == 2)); then
            check_host "$h"
            leaf "$h-untrusted" untrusted-ca "$VALID_FROM" "$VALID_UNTIL" "$h" "$h"
        else
            valid "$h"
        fi
    done
    exit 0
fi

for h in "$@"; do
    check_host "$h"
done
rm -rf "$pki"
mkdir -p "$pki"
: >"$pki/certtool.log"

new_ca ca "mxtls test root CA"
new_ca untrusted-ca "mxtls untrusted test CA"

for s in "${SCENARIO_HOSTS[@]}"; do
    valid "mta-sts.$s.sts.test"
done
for h in "$@"; do
    valid "$h"
done
leaf wildcard ca "$VALID_FROM" "$VALID_UNTIL" "*.wildcardcert.sts.test" "*.wildcardcert.sts.test"
leaf wrongname ca "$VALID_FROM" "$VALID_UNTIL" www.wrongname.sts.test www.wrongname.sts.test
leaf expired ca "2020-01-01 00:00:00" "2020-02-01 00:00:00" \
    mta-sts.expired.sts.test mta-sts.expired.sts.test
leaf untrusted untrusted-ca "$VALID_FROM" "$VALID_UNTIL" \
    mta-sts.untrusted.sts.test mta-sts.untrusted.sts.test
leaf cnonly ca "$VALID_FROM" "$VALID_UNTIL" mta-sts.cnonly.sts.test
leaf default ca "$VALID_FROM" "$VALID_UNTIL" default.invalid default.invalid

chmod 644 "$pki"/*.pem
chmod 600 "$pki"/*.key
