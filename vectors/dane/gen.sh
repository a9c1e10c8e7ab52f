#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gen.sh: regenerate the DANE test vectors (keys/, certs/, chains/, cases.txt) with certtool and openssl.
#
# Usage: vectors/dane/gen.sh            (from anywhere; output goes next to this script)
#
# Every run makes new keys, so every certificate and every TLSA value changes; cases.txt is
# rewritten from the new files, so the verdicts stay the same.  Certificate validity dates are
# fixed in the templates below, never "now + N days", so no verdict depends on the day the
# vectors were made.  check.sh re-derives the verdicts with OpenSSL alone.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
export TZ=UTC LC_ALL=C

for tool in certtool openssl od; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "gen.sh: '$tool' not found (certtool is in the Debian package gnutls-bin)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -rf keys certs chains
mkdir keys certs chains

# ---------------------------------------------------------------------------------------------
# Validity periods (all UTC).  The default validation time of the cases is AT (2026-12-01).

STD_FROM="2026-01-01 00:00:00"      # normal certificates
STD_TO="2030-01-01 00:00:00"
OLD_FROM="2024-01-01 00:00:00"      # expired leaf
OLD_TO="2025-06-01 00:00:00"
FUT_FROM="2027-06-01 00:00:00"      # not yet valid at AT
SHORT_FROM="2026-09-01 00:00:00"    # boundary tests: exact notBefore / notAfter
SHORT_TO="2027-03-01 00:00:00"
OLDCA_FROM="2023-01-01 00:00:00"    # expired intermediate
OLDCA_TO="2025-01-01 00:00:00"
OLDROOT_FROM="2020-01-01 00:00:00"  # expired root
OLDROOT_TO="2025-01-01 00:00:00"

AT="2026-12-01T00:00:00Z"
HOST="mx.example.test"
NEXTHOP="example.test"
ORG="mxtls test vectors"

# ---------------------------------------------------------------------------------------------
# Keys and certificates

newkey() {   # newkey NAME -> keys/NAME.key (EC P-256, SEC1 PEM)
    certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --no-text \
        --outfile "keys/$1.key" 2>/dev/null
}

serial=0

# mkcert NAME ISSUER SIGNKEY FROM TO TEMPLATE-LINE...
#   Subject key is keys/NAME.key.  ISSUER is "self" or the name of a certificate in certs/;
#   SIGNKEY is the key that actually signs (normally the issuer's own key).
mkcert() {
    local name=$1 issuer=$2 signkey=$3 from=$4 to=$5
    shift 5
    serial=$((serial + 1))
    {
        printf 'organization = "%s"\n' "$ORG"
        printf 'serial = %d\n' "$serial"
        printf 'activation_date = "%s UTC"\n' "$from"
        printf 'expiration_date = "%s UTC"\n' "$to"
        printf '%s\n' "$@"
    } >"$tmp/$name.tmpl"
    if [[ $issuer == self ]]; then
        certtool --generate-self-signed --load-privkey "keys/$name.key" \
            --template "$tmp/$name.tmpl" --no-text --outfile "certs/$name.pem" 2>/dev/null
    else
        certtool --generate-certificate --load-privkey "keys/$name.key" \
            --load-ca-certificate "certs/$issuer.pem" --load-ca-privkey "keys/$signkey.key" \
            --template "$tmp/$name.tmpl" --no-text --outfile "certs/$name.pem" 2>/dev/null
    fi
}

# ca NAME ISSUER FROM TO CN            (CA:TRUE, keyCertSign)
ca() {
    local name=$1 issuer=$2
    newkey "$name"
    mkcert "$name" "$issuer" "$issuer" "$3" "$4" "cn = \"$5\"" "ca" "cert_signing_key" "crl_signing_key"
}

# leaf NAME ISSUER FROM TO CN [DNSNAME...]   (CA:FALSE, digitalSignature, serverAuth)
leaf() {
    local name=$1 issuer=$2 from=$3 to=$4 cn=$5
    shift 5
    local -a lines=("cn = \"$cn\"" "signing_key" "tls_www_server")
    local d
    for d in "$@"; do
        if [[ $d == ip:* ]]; then
            lines+=("ip_address = \"${d#ip:}\"")
        else
            lines+=("dns_name = \"$d\"")
        fi
    done
    newkey "$name"
    mkcert "$name" "$issuer" "$issuer" "$from" "$to" "${lines[@]}"
}

# Standard hierarchy: root <- int <- leaf
ca   root          self          "$STD_FROM" "$STD_TO" "mxtls Test Root CA"
ca   int           root          "$STD_FROM" "$STD_TO" "mxtls Test Intermediate CA"
leaf leaf          int           "$STD_FROM" "$STD_TO" "$HOST" "$HOST"

# Deep hierarchy: root <- int-a <- int-b <- int-c <- leaf-deep
ca   int-a         root          "$STD_FROM" "$STD_TO" "mxtls Test Intermediate A"
ca   int-b         int-a         "$STD_FROM" "$STD_TO" "mxtls Test Intermediate B"
ca   int-c         int-b         "$STD_FROM" "$STD_TO" "mxtls Test Intermediate C"
leaf leaf-deep     int-c         "$STD_FROM" "$STD_TO" "$HOST" "$HOST"

# Leaves under int that differ only in their names
leaf leaf-nexthop      int "$STD_FROM" "$STD_TO" "$NEXTHOP" "$NEXTHOP"
leaf leaf-wild         int "$STD_FROM" "$STD_TO" "wildcard leaf" "*.example.test"
leaf leaf-partialwild  int "$STD_FROM" "$STD_TO" "partial wildcard leaf" "mx*.example.test"
leaf leaf-cnonly       int "$STD_FROM" "$STD_TO" "$HOST"
leaf leaf-cnip         int "$STD_FROM" "$STD_TO" "$HOST" "ip:192.0.2.25"
leaf leaf-sanother     int "$STD_FROM" "$STD_TO" "$HOST" "other.example.test"
leaf leaf-mixedcase    int "$STD_FROM" "$STD_TO" "MX.Example.TEST" "MX.Example.TEST"
leaf leaf-unrelated    int "$STD_FROM" "$STD_TO" "unrelated.invalid" "unrelated.invalid"

# Leaves under int that differ only in their dates
leaf leaf-expired      int "$OLD_FROM"   "$OLD_TO"   "$HOST" "$HOST"
leaf leaf-future       int "$FUT_FROM"   "$STD_TO"   "$HOST" "$HOST"
leaf leaf-short        int "$SHORT_FROM" "$SHORT_TO" "$HOST" "$HOST"

# A leaf that names int as its issuer (issuer DN and authority key id are int's) but is
# signed with an unrelated key: its signature does not verify with int's key.
newkey imposter
newkey leaf-wrongkey
mkcert leaf-wrongkey int imposter "$STD_FROM" "$STD_TO" \
    "cn = \"$HOST\"" "dns_name = \"$HOST\"" "signing_key" "tls_www_server"

# An "intermediate" without CA:TRUE (basicConstraints CA:FALSE) that signs a leaf anyway
newkey int-noca
mkcert int-noca root root "$STD_FROM" "$STD_TO" \
    "cn = \"mxtls Test Intermediate without CA flag\"" "cert_signing_key"
leaf leaf-noca         int-noca "$STD_FROM" "$STD_TO" "$HOST" "$HOST"

# An expired intermediate under root, with a currently valid leaf below it
ca   int-expired   root          "$OLDCA_FROM" "$OLDCA_TO" "mxtls Test Expired Intermediate"
leaf leaf-intexp   int-expired   "$STD_FROM"   "$STD_TO"   "$HOST" "$HOST"

# An expired self-signed root, with a valid intermediate and leaf below it
ca   root-expired  self          "$OLDROOT_FROM" "$OLDROOT_TO" "mxtls Test Expired Root CA"
ca   int-rexp      root-expired  "$STD_FROM"     "$STD_TO"     "mxtls Test Intermediate under Expired Root"
leaf leaf-rexp     int-rexp      "$STD_FROM"     "$STD_TO"     "$HOST" "$HOST"

# A self-signed leaf (the usual DANE-EE deployment) with names unrelated to HOST
newkey selfsigned
mkcert selfsigned self self "$STD_FROM" "$STD_TO" \
    "cn = \"self-signed.unrelated.invalid\"" "dns_name = \"self-signed.unrelated.invalid\"" \
    "signing_key" "tls_www_server"

# ---------------------------------------------------------------------------------------------
# Chains, in the order a server sends them (leaf first) unless the name says otherwise

chain() {   # chain NAME CERT...
    local name=$1 c
    shift
    : >"chains/$name.pem"
    for c in "$@"; do cat "certs/$c.pem" >>"chains/$name.pem"; done
}

chain std                leaf int
chain std-root           leaf int root
chain missing-int        leaf root
chain wrong-order        int leaf
chain extra-cert         leaf int selfsigned
chain deep               leaf-deep int-c int-b int-a
chain deep-root          leaf-deep int-c int-b int-a root
chain deep-shuffled      leaf-deep int-a int-c int-b
chain deep-gap           leaf-deep int-c int-a
chain nexthop            leaf-nexthop int
chain wild               leaf-wild int
chain partialwild        leaf-partialwild int
chain cnonly             leaf-cnonly int
chain cnip               leaf-cnip int
chain sanother           leaf-sanother int
chain mixedcase          leaf-mixedcase int
chain unrelated          leaf-unrelated int
chain expired            leaf-expired int
chain future             leaf-future int
chain short              leaf-short int
chain wrongkey           leaf-wrongkey int
chain noca               leaf-noca int-noca root
chain intexp             leaf-intexp int-expired root
chain rootexp            leaf-rexp int-rexp root-expired
chain rootexp-noroot     leaf-rexp int-rexp
chain selfsigned         selfsigned

# ---------------------------------------------------------------------------------------------
# TLSA association data, computed from the files just written

hex() { od -An -v -tx1 | tr -d ' \n'; }
der() { openssl x509 -in "certs/$1.pem" -outform DER; }
spki() { openssl x509 -in "certs/$1.pem" -noout -pubkey | openssl pkey -pubin -outform DER; }

# assoc CERT SELECTOR MTYPE -> hex of the association data
assoc() {
    local sel
    case $2 in
        0) sel=der ;;
        1) sel=spki ;;
        *) echo "assoc: bad selector $2" >&2; exit 1 ;;
    esac
    case $3 in
        0) "$sel" "$1" | hex ;;
        1) "$sel" "$1" | openssl dgst -sha256 -binary | hex ;;
        2) "$sel" "$1" | openssl dgst -sha512 -binary | hex ;;
        *) echo "assoc: bad matching type $3" >&2; exit 1 ;;
    esac
}

rec() { printf '%s %s %s %s' "$1" "$2" "$3" "$(assoc "$4" "$2" "$3")"; }   # rec U S M CERT

# bogus N MTYPE -> a well-formed digest that matches nothing
bogus() {
    case $2 in
        1) printf 'mxtls vector bogus %s' "$1" | openssl dgst -sha256 -binary | hex ;;
        2) printf 'mxtls vector bogus %s' "$1" | openssl dgst -sha512 -binary | hex ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# The case file

out="$tmp/cases.txt"
declare -A seen=()

# kase NAME CHAIN HOST NEXTHOP AT EXPECT USABLE NOTE TLSA...
kase() {
    local name=$1 ch=$2 host=$3 nh=$4 at=$5 expect=$6 usable=$7 note=$8 r
    shift 8
    if [[ ! $name =~ ^[a-z0-9-]+$ || -n ${seen[$name]:-} ]]; then
        echo "gen.sh: bad or duplicate case name '$name'" >&2
        exit 1
    fi
    seen[$name]=1
    [[ -f chains/$ch.pem ]] || { echo "gen.sh: case $name: no chain $ch" >&2; exit 1; }
    {
        printf 'case %s\n' "$name"
        printf 'chain chains/%s.pem\n' "$ch"
        printf 'host %s\n' "$host"
        if [[ -n $nh ]]; then printf 'nexthop %s\n' "$nh"; fi
        printf 'at %s\n' "$at"
        for r in "$@"; do printf 'tlsa %s\n' "$r"; done
        printf 'expect %s\n' "$expect"
        printf 'usable %s\n' "$usable"
        printf 'note %s\n' "$note"
        printf 'end\n\n'
    } >>"$out"
}

section() { { printf '# %s\n' "$@"; printf '\n'; } >>"$out"; }

cat >"$out" <<EOF
# SPDX-License-Identifier: MIT
# DANE (RFC 7672/7671/6698) test cases for mxtls.  GENERATED by gen.sh: do not edit by hand,
# edit gen.sh and run it again.  Format and verdict rules: README.md in this directory.
# Default validation time $AT, TLSA base domain $HOST, next-hop domain $NEXTHOP.

EOF

H=$HOST
N=$NEXTHOP

# --- usage x selector x matching type ------------------------------------------------------
section "Every usage x selector x matching type.  DANE-EE(3) records name the leaf, DANE-TA(2)" \
        "records the intermediate; PKIX-TA(0) records name the root, PKIX-EE(1) the leaf."
mname=(full sha256 sha512)
sname=(cert spki)
for s in 0 1; do
    for m in 0 1 2; do
        kase "ee-${sname[s]}-${mname[m]}" std "$H" "" "$AT" ok 1 \
            "DANE-EE(3) $s $m record of the leaf authenticates the leaf (RFC 7672 3.1.1; RFC 6698 2.1.2-2.1.3)" \
            "$(rec 3 $s $m leaf)"
    done
done
for s in 0 1; do
    for m in 0 1 2; do
        kase "ta-${sname[s]}-${mname[m]}" std "$H" "" "$AT" ok 1 \
            "DANE-TA(2) $s $m record of the intermediate; leaf chains to it and names $H (RFC 7672 3.1.2, 3.2.2)" \
            "$(rec 2 $s $m int)"
    done
done
for s in 0 1; do
    for m in 0 1 2; do
        kase "pkix-ta-${sname[s]}-${mname[m]}" std-root "$H" "" "$AT" tlsa-invalid 0 \
            "PKIX-TA(0) $s $m matches the presented root but usages 0 and 1 are unusable for SMTP (RFC 7672 3.1.3)" \
            "$(rec 0 $s $m root)"
    done
done
for s in 0 1; do
    for m in 0 1 2; do
        kase "pkix-ee-${sname[s]}-${mname[m]}" std "$H" "" "$AT" tlsa-invalid 0 \
            "PKIX-EE(1) $s $m matches the leaf but usages 0 and 1 are unusable for SMTP (RFC 7672 3.1.3)" \
            "$(rec 1 $s $m leaf)"
    done
done
kase pkix-ee-beside-dane-ee std "$H" "" "$AT" ok 1 \
    "PKIX-EE(1) is skipped and only the DANE-EE(3) record counts as usable (RFC 7672 3.1.3, 3.1.1)" \
    "$(rec 1 1 1 leaf)" "$(rec 3 1 1 leaf)"
kase hex-uppercase std "$H" "" "$AT" ok 1 \
    "upper-case hex association data is valid presentation format and matches (RFC 6698 2.2)" \
    "$(rec 3 1 1 leaf | tr a-f A-F)"

# --- trust anchor depth ----------------------------------------------------------------------
section "DANE-TA at different depths; root presented or omitted; bare-key anchors"
kase ta-root-presented std-root "$H" "" "$AT" ok 1 \
    "TA is the self-signed root sent by the server at depth 2 (RFC 7672 3.1.2)" \
    "$(rec 2 0 1 root)"
kase ta-intermediate-root-also-presented std-root "$H" "" "$AT" ok 1 \
    "TA is the intermediate at depth 1; the extra root above it is ignored (RFC 7672 3.1.2)" \
    "$(rec 2 0 1 int)"
kase ta-root-cert-digest-root-omitted std "$H" "" "$AT" tlsa-invalid 1 \
    "2 0 1 of a root the server does not send: no presented certificate matches (RFC 7671 5.2.2; RFC 7672 3.1.2)" \
    "$(rec 2 0 1 root)"
kase ta-bare-key-root-omitted std "$H" "" "$AT" ok 1 \
    "2 1 0 carries the root public key itself, so the root certificate need not be sent (RFC 7671 5.2.3)" \
    "$(rec 2 1 0 root)"
kase ta-key-sha256-root-omitted std "$H" "" "$AT" tlsa-invalid 1 \
    "2 1 1 of the root key with the root not sent: a digest cannot supply the key; OpenSSL DANE behaves the same (RFC 7671 5.2.2)" \
    "$(rec 2 1 1 root)"
kase ta-key-sha512-root-omitted std "$H" "" "$AT" tlsa-invalid 1 \
    "2 1 2 of the root key with the root not sent: a digest cannot supply the key; OpenSSL DANE behaves the same (RFC 7671 5.2.2)" \
    "$(rec 2 1 2 root)"
kase ta-key-sha256-root-presented std-root "$H" "" "$AT" ok 1 \
    "2 1 1 of the root key matches the root certificate the server sends (RFC 7671 5.2.2)" \
    "$(rec 2 1 1 root)"
kase ta-matches-leaf-only std "$H" "" "$AT" tlsa-invalid 1 \
    "a DANE-TA(2) record matching only the leaf does not make the leaf its own anchor (mxtls rule; as OpenSSL DANE; RFC 7672 3.1.2)" \
    "$(rec 2 0 1 leaf)"
kase ta-self-signed-leaf selfsigned "$H" "" "$AT" tlsa-invalid 1 \
    "DANE-TA(2) record of a self-signed leaf sent alone: the anchor must be a certificate other than the leaf (mxtls rule; RFC 7672 3.1.2)" \
    "$(rec 2 0 1 selfsigned)"
kase deep-ta-top-intermediate deep "$H" "" "$AT" ok 1 \
    "three intermediates, TA is the topmost one at depth 3, root not sent (RFC 7672 3.1.2)" \
    "$(rec 2 0 1 int-a)"
kase deep-ta-middle-intermediate deep "$H" "" "$AT" ok 1 \
    "three intermediates, TA is the middle one at depth 2; the one above it is ignored (RFC 7672 3.1.2)" \
    "$(rec 2 1 1 int-b)"
kase deep-ta-root-presented deep-root "$H" "" "$AT" ok 1 \
    "three intermediates plus the self-signed root, TA is the root at depth 4 (RFC 7672 3.1.2)" \
    "$(rec 2 0 2 root)"
kase deep-ta-bare-key-root-omitted deep "$H" "" "$AT" ok 1 \
    "three intermediates, the root key itself (2 1 0) is the anchor, root not sent (RFC 7671 5.2.3)" \
    "$(rec 2 1 0 root)"
kase deep-shuffled-intermediates deep-shuffled "$H" "" "$AT" ok 1 \
    "leaf first, intermediates out of order: the chain is built by searching the presented certificates (RFC 8446 4.4.2 allows clients to reorder; RFC 7672 3.1.2)" \
    "$(rec 2 0 1 int-a)"
kase deep-missing-middle deep-gap "$H" "" "$AT" certificate-not-trusted 1 \
    "the anchor int-a is presented but int-b between int-c and int-a is missing: no path (RFC 5280 6.1)" \
    "$(rec 2 0 1 int-a)"

# --- names under DANE-TA -------------------------------------------------------------------
section "Name checks under DANE-TA (TA record: 2 0 1 of the intermediate)"
TAINT=$(rec 2 0 1 int)
kase name-host-with-nexthop std "$H" "$N" "$AT" ok 1 \
    "leaf names the TLSA base domain; the next-hop domain is an additional reference identifier (RFC 7672 3.2.2)" \
    "$TAINT"
kase name-nexthop-only-with-nexthop nexthop "$H" "$N" "$AT" ok 1 \
    "leaf names only the next-hop domain, which counts because the MX lookup was secure (RFC 7672 3.2.2)" \
    "$TAINT"
kase name-nexthop-only-without-nexthop nexthop "$H" "" "$AT" certificate-host-mismatch 1 \
    "leaf names only $N; without a secure next-hop the only reference identifier is $H (RFC 7672 3.2.2)" \
    "$TAINT"
kase name-neither-with-nexthop unrelated "$H" "$N" "$AT" certificate-host-mismatch 1 \
    "leaf names neither the TLSA base domain nor the next-hop domain (RFC 7672 3.2.2)" \
    "$TAINT"
kase name-wildcard-one-label wild "$H" "" "$AT" ok 1 \
    "*.example.test matches mx.example.test: wildcard is the whole left-most label and stands for one label (RFC 7672 3.2.3)" \
    "$TAINT"
kase name-wildcard-two-labels wild "a.mx.example.test" "" "$AT" certificate-host-mismatch 1 \
    "*.example.test does not match a.mx.example.test: a wildcard matches exactly one label (RFC 7672 3.2.3)" \
    "$TAINT"
kase name-wildcard-bare-parent wild "example.test" "" "$AT" certificate-host-mismatch 1 \
    "*.example.test does not match example.test itself (RFC 7672 3.2.3)" \
    "$TAINT"
kase name-wildcard-partial-label partialwild "mx1.example.test" "" "$AT" certificate-host-mismatch 1 \
    "mx*.example.test is not a wildcard (star must be the complete left-most label), so no match; OpenSSL's default allows it (RFC 7672 3.2.3)" \
    "$TAINT"
kase name-cn-only cnonly "$H" "" "$AT" ok 1 \
    "leaf without subjectAltName: the subject CN $H is matched (RFC 7672 3.2.3)" \
    "$TAINT"
kase name-cn-only-mismatch cnonly "other.example.test" "" "$AT" certificate-host-mismatch 1 \
    "leaf without subjectAltName whose CN is $H, but the reference identifier is other.example.test (RFC 7672 3.2.3)" \
    "$TAINT"
kase name-cn-with-ip-san cnip "$H" "" "$AT" ok 1 \
    "subjectAltName holds only an iPAddress, no dNSName, so the CN is matched (RFC 7672 3.2.3)" \
    "$TAINT"
kase name-san-mismatch-cn-match sanother "$H" "" "$AT" certificate-host-mismatch 1 \
    "SAN dNSName other.example.test present, so the CN $H is ignored (RFC 7672 3.2.3; RFC 6125 6.4.4)" \
    "$TAINT"
kase name-mixed-case-certificate mixedcase "$H" "" "$AT" ok 1 \
    "SAN MX.Example.TEST matches mx.example.test: DNS names compare case-insensitively (RFC 7672 3.2.3; RFC 4343)" \
    "$TAINT"
kase name-mixed-case-host std "Mx.EXAMPLE.test" "" "$AT" ok 1 \
    "reference identifier Mx.EXAMPLE.test matches SAN mx.example.test case-insensitively (RFC 7672 3.2.3; RFC 4343)" \
    "$TAINT"
kase name-unrelated-under-ta unrelated "$H" "" "$AT" certificate-host-mismatch 1 \
    "under DANE-TA the leaf must carry a reference identifier; unrelated.invalid is not one (RFC 7672 3.2.2)" \
    "$TAINT"

# --- DANE-EE ignores names and dates -------------------------------------------------------
section "DANE-EE: no name check, no date check, leaf only"
kase ee-unrelated-names unrelated "$H" "$N" "$AT" ok 1 \
    "DANE-EE(3): names in the leaf are not checked (RFC 7672 3.2.1)" \
    "$(rec 3 1 1 leaf-unrelated)"
kase ee-expired-leaf expired "$H" "" "$AT" ok 1 \
    "DANE-EE(3): the leaf expired in 2025 but its expiry is ignored (RFC 7672 3.1.1)" \
    "$(rec 3 0 1 leaf-expired)"
kase ee-not-yet-valid-leaf future "$H" "" "$AT" ok 1 \
    "DANE-EE(3): the leaf is valid only from 2027-06-01 but dates are ignored (RFC 7672 3.1.1)" \
    "$(rec 3 1 2 leaf-future)"
kase ee-self-signed-leaf selfsigned "$H" "" "$AT" ok 1 \
    "DANE-EE(3) of a self-signed leaf with unrelated names, sent alone (RFC 7672 3.1.1, 3.2.1)" \
    "$(rec 3 1 1 selfsigned)"
kase ee-record-for-intermediate std "$H" "" "$AT" tlsa-invalid 1 \
    "DANE-EE(3) is compared with the leaf only; a record of the intermediate key matches nothing (RFC 7672 3.1.1)" \
    "$(rec 3 1 1 int)"

# --- dates under DANE-TA -------------------------------------------------------------------
section "Validity dates under DANE-TA"
kase date-leaf-expired expired "$H" "" "$AT" certificate-expired 1 \
    "DANE-TA(2): leaf notAfter 2025-06-01 is before the validation time (RFC 7672 3.1.2; RFC 5280 6.1.3)" \
    "$TAINT"
kase date-leaf-not-yet-valid future "$H" "" "$AT" certificate-expired 1 \
    "DANE-TA(2): leaf notBefore 2027-06-01 is after the validation time; RFC 8460 has no separate type (RFC 5280 6.1.3; RFC 8460 4.3.1)" \
    "$TAINT"
kase date-intermediate-expired intexp "$H" "" "$AT" certificate-expired 1 \
    "DANE-TA(2) on the root: the intermediate below the anchor expired 2025-01-01 (RFC 5280 6.1.3)" \
    "$(rec 2 0 1 root)"
kase date-anchor-intermediate-expired intexp "$H" "" "$AT" ok 1 \
    "the expired intermediate is itself the anchor, whose dates are not checked; OpenSSL checks them and disagrees (RFC 5280 6.1.1 d)" \
    "$(rec 2 0 1 int-expired)"
kase date-anchor-root-expired rootexp "$H" "" "$AT" ok 1 \
    "the anchor is a root that expired 2025-01-01, sent in the chain; anchor dates are not checked; OpenSSL disagrees (RFC 5280 6.1.1 d)" \
    "$(rec 2 0 1 root-expired)"
kase date-anchor-root-expired-bare-key rootexp-noroot "$H" "" "$AT" ok 1 \
    "the anchor is the bare key (2 1 0) of the expired root, which has no dates at all (RFC 7671 5.2.3)" \
    "$(rec 2 1 0 root-expired)"
kase date-at-not-before short "$H" "" "2026-09-01T00:00:00Z" ok 1 \
    "validation time equals leaf notBefore: the validity period is inclusive (RFC 5280 4.1.2.5)" \
    "$TAINT"
kase date-before-not-before short "$H" "" "2026-08-31T23:59:59Z" certificate-expired 1 \
    "validation time one second before leaf notBefore (RFC 5280 4.1.2.5)" \
    "$TAINT"
kase date-at-not-after short "$H" "" "2027-03-01T00:00:00Z" ok 1 \
    "validation time equals leaf notAfter, inclusive per RFC 5280 4.1.2.5 and GnuTLS; OpenSSL counts this instant as expired" \
    "$TAINT"
kase date-after-not-after short "$H" "" "2027-03-01T00:00:01Z" certificate-expired 1 \
    "validation time one second after leaf notAfter (RFC 5280 4.1.2.5)" \
    "$TAINT"
kase date-valid-in-2027 std "$H" "" "2027-07-15T12:00:00Z" ok 1 \
    "ordinary chain at a second validation time inside all validity periods (RFC 5280 6.1.3)" \
    "$(rec 2 1 0 root)"

# --- chain problems under DANE-TA ----------------------------------------------------------
section "Chain construction problems under DANE-TA"
kase chain-intermediate-not-ca noca "$H" "" "$AT" certificate-not-trusted 1 \
    "the certificate between leaf and root anchor has basicConstraints CA:FALSE (RFC 5280 6.1.4 k, 4.2.1.9)" \
    "$(rec 2 0 1 root)"
kase chain-wrong-signing-key wrongkey "$H" "" "$AT" certificate-not-trusted 1 \
    "leaf names the intermediate as issuer (DN and key id) but was signed by another key: bad signature (RFC 5280 6.1.3 a)" \
    "$TAINT"
kase chain-missing-intermediate missing-int "$H" "" "$AT" certificate-not-trusted 1 \
    "root anchor is sent but the intermediate that links the leaf to it is not (RFC 5280 6.1)" \
    "$(rec 2 0 1 root)"
kase chain-extra-unrelated-cert extra-cert "$H" "" "$AT" ok 1 \
    "an unrelated self-signed certificate after the real chain is ignored (RFC 7672 3.1.2)" \
    "$TAINT"
kase chain-ta-on-unrelated-cert extra-cert "$H" "" "$AT" certificate-not-trusted 1 \
    "the TA record matches a presented certificate that did not issue anything in the leaf's path (RFC 7672 3.1.2; RFC 5280 6.1)" \
    "$(rec 2 0 1 selfsigned)"
kase chain-wrong-order-ee wrong-order "$H" "" "$AT" tlsa-invalid 1 \
    "intermediate sent first: the first certificate is the leaf by definition, and the EE record of the real leaf does not match it (RFC 7672 3.1.1)" \
    "$(rec 3 1 1 leaf)"
kase chain-wrong-order-ta-first-cert wrong-order "$H" "" "$AT" tlsa-invalid 1 \
    "intermediate sent first: a TA record matching it matches only the leaf position, which cannot be the anchor (RFC 7672 3.1.2)" \
    "$TAINT"
kase chain-wrong-order-ta-root-key wrong-order "$H" "" "$AT" certificate-host-mismatch 1 \
    "intermediate sent first is treated as the leaf: it chains to the root key but its CN is no host name (RFC 7672 3.2.2)" \
    "$(rec 2 1 0 root)"

# --- malformed and unusable records ----------------------------------------------------------
section "Malformed or unusable records are skipped, not fatal"
EE11=$(assoc leaf 1 1)
EE12=$(assoc leaf 1 2)
EE01=$(rec 3 0 1 leaf)
LEAFDER=$(assoc leaf 0 0)
LEAFSPKI=$(assoc leaf 1 0)
INTDER=$(assoc int 0 0)
M_ODD="3 1 1 ${EE11:0:63}"
M_NONHEX="3 1 1 zz${EE11:2}"
M_SHORT="3 1 1 ${EE11:0:62}"
M_LONG="3 1 1 ${EE11}00"
M_512LEN="3 1 2 ${EE11}"
M_USAGE4="4 1 1 ${EE11}"
M_SEL2="3 2 1 ${EE11}"
M_MT3="3 1 3 ${EE11}"
M_EMPTY="3 1 0"
M_CERTTRUNC="3 0 0 ${LEAFDER:0:$((${#LEAFDER} - 16))}"
M_SPKITRUNC="3 1 0 ${LEAFSPKI:0:$((${#LEAFSPKI} - 16))}"
M_SPKIISCERT="3 1 0 ${LEAFDER}"
M_CERTISSPKI="3 0 0 ${LEAFSPKI}"
kase malformed-odd-length-hex std "$H" "" "$AT" ok 1 \
    "a record with an odd number of hex digits is unusable and skipped; the 3 0 1 record decides (RFC 6698 2.2; RFC 7672 3.1)" \
    "$M_ODD" "$EE01"
kase malformed-non-hex std "$H" "" "$AT" ok 1 \
    "a record with non-hex digits is unusable and skipped (RFC 6698 2.2)" \
    "$M_NONHEX" "$EE01"
kase malformed-sha256-truncated std "$H" "" "$AT" ok 1 \
    "a 3 1 1 record of 31 bytes (a prefix of the right digest) is unusable, not a prefix match (RFC 6698 2.1.3)" \
    "$M_SHORT" "$EE01"
kase malformed-sha256-extended std "$H" "" "$AT" ok 1 \
    "a 3 1 1 record of 33 bytes (the right digest plus 00) is unusable (RFC 6698 2.1.3)" \
    "$M_LONG" "$EE01"
kase malformed-sha512-wrong-length-no-agility std "$H" "" "$AT" ok 1 \
    "a 3 1 2 record of 32 bytes is unusable, so it does not displace the matching 3 1 1 by digest agility (RFC 7671 9)" \
    "$M_512LEN" "$(rec 3 1 1 leaf)"
kase malformed-usage-4 std "$H" "" "$AT" ok 1 \
    "usage 4 is unassigned: unusable even though the data is the right SPKI digest (RFC 6698 2.1.1; RFC 7672 3.1)" \
    "$M_USAGE4" "$EE01"
kase malformed-selector-2 std "$H" "" "$AT" ok 1 \
    "selector 2 is unassigned: unusable (RFC 6698 2.1.2)" \
    "$M_SEL2" "$EE01"
kase malformed-mtype-3 std "$H" "" "$AT" ok 1 \
    "matching type 3 is unassigned: unusable (RFC 6698 2.1.3)" \
    "$M_MT3" "$EE01"
kase malformed-empty-data std "$H" "" "$AT" ok 1 \
    "3 1 0 with no association data at all (three fields) is unusable, never an empty match (RFC 6698 2.2)" \
    "$M_EMPTY" "$EE01"
kase malformed-cert-not-der std "$H" "" "$AT" ok 1 \
    "3 0 0 whose data is the leaf DER with 8 bytes cut off is not a certificate: unusable (RFC 6698 2.1.2)" \
    "$M_CERTTRUNC" "$EE01"
kase malformed-spki-not-der std "$H" "" "$AT" ok 1 \
    "3 1 0 whose data is the leaf SPKI with 8 bytes cut off is not a SubjectPublicKeyInfo: unusable (RFC 6698 2.1.2)" \
    "$M_SPKITRUNC" "$EE01"
kase malformed-spki-is-cert std "$H" "" "$AT" ok 1 \
    "3 1 0 whose data is a whole certificate, not a SubjectPublicKeyInfo: unusable (RFC 6698 2.1.2)" \
    "$M_SPKIISCERT" "$EE01"
kase malformed-cert-is-spki std "$H" "" "$AT" ok 1 \
    "3 0 0 whose data is a SubjectPublicKeyInfo, not a certificate: unusable (RFC 6698 2.1.2)" \
    "$M_CERTISSPKI" "$EE01"
kase malformed-ta-cert-not-der std "$H" "" "$AT" ok 1 \
    "2 0 0 whose data is the intermediate DER truncated: unusable; the 2 0 1 record decides (RFC 6698 2.1.2)" \
    "2 0 0 ${INTDER:0:$((${#INTDER} - 16))}" "$TAINT"
kase malformed-all-without-good std "$H" "" "$AT" tlsa-invalid 0 \
    "only malformed or unassigned records: none is usable (RFC 7672 3.1; RFC 8460 4.3.2.1)" \
    "$M_ODD" "$M_NONHEX" "$M_SHORT" "$M_LONG" "$M_512LEN" "$M_USAGE4" "$M_SEL2" "$M_MT3" \
    "$M_EMPTY" "$M_CERTTRUNC" "$M_SPKITRUNC" "$M_SPKIISCERT" "$M_CERTISSPKI"
kase malformed-all-with-good std "$H" "" "$AT" ok 1 \
    "all the malformed records plus one good 3 1 1: exactly one usable record, and it matches (RFC 7672 3.1)" \
    "$M_ODD" "$M_NONHEX" "$M_SHORT" "$M_LONG" "$M_512LEN" "$M_USAGE4" "$M_SEL2" "$M_MT3" \
    "$M_EMPTY" "$M_CERTTRUNC" "$M_SPKITRUNC" "$M_SPKIISCERT" "$M_CERTISSPKI" "$(rec 3 1 1 leaf)"

# --- digest agility --------------------------------------------------------------------------
section "Digest algorithm agility (RFC 7671 9): per (usage, selector) keep Full plus the strongest digest"
kase agility-sha256-match-sha512-mismatch std "$H" "" "$AT" tlsa-invalid 1 \
    "3 1 2 present, so the matching 3 1 1 is ignored and the non-matching 3 1 2 decides (RFC 7671 9; RFC 7672 5)" \
    "3 1 1 $EE11" "3 1 2 $(bogus 1 2)"
kase agility-sha256-mismatch-sha512-match std "$H" "" "$AT" ok 1 \
    "the non-matching 3 1 1 is ignored in favour of the matching 3 1 2 (RFC 7671 9)" \
    "3 1 1 $(bogus 2 1)" "3 1 2 $EE12"
kase agility-full-kept std "$H" "" "$AT" ok 2 \
    "Full (matching type 0) records are always kept: 3 1 0 matches beside a non-matching 3 1 2 (RFC 7671 9)" \
    "$(rec 3 1 0 leaf)" "3 1 2 $(bogus 3 2)"
kase agility-per-usage std "$H" "" "$AT" ok 2 \
    "agility is per (usage, selector): a 3 1 2 record does not displace 2 0 1 (RFC 7671 9)" \
    "$TAINT" "3 1 2 $(bogus 4 2)"
kase agility-per-selector std "$H" "" "$AT" ok 2 \
    "agility is per (usage, selector): a 3 1 2 record does not displace 3 0 1 (RFC 7671 9)" \
    "$EE01" "3 1 2 $(bogus 5 2)"
kase agility-ta-sha512-mismatch std "$H" "" "$AT" tlsa-invalid 1 \
    "DANE-TA: the matching 2 1 1 of the intermediate is displaced by a non-matching 2 1 2 (RFC 7671 9)" \
    "$(rec 2 1 1 int)" "2 1 2 $(bogus 6 2)"
kase agility-two-sha512-one-match std "$H" "" "$AT" ok 2 \
    "two 3 1 2 records (one matching) displace the 3 1 1; two records remain usable (RFC 7671 9)" \
    "3 1 1 $(bogus 7 1)" "3 1 2 $(bogus 8 2)" "3 1 2 $EE12"

# --- several records, result priority ------------------------------------------------------
section "Several records; which failure is reported"
kase multi-one-of-four-matches std "$H" "" "$AT" ok 4 \
    "four usable SHA2-256 records, only the 2 1 1 of the intermediate matches (RFC 6698 2.1; RFC 7672 3.1)" \
    "3 1 1 $(bogus 9 1)" "3 0 1 $(bogus 10 1)" "2 0 1 $(bogus 11 1)" "$(rec 2 1 1 int)"
kase multi-none-match std "$H" "" "$AT" tlsa-invalid 4 \
    "four usable records, none matches a presented certificate (the 2 1 1 names the root, not sent) (RFC 8460 4.3.2.1)" \
    "3 1 1 $(bogus 9 1)" "3 0 1 $(bogus 10 1)" "2 0 1 $(bogus 11 1)" "$(rec 2 1 1 root)"
kase prio-expired-over-tlsa-invalid expired "$H" "" "$AT" certificate-expired 2 \
    "EE record matches nothing, TA record matches but the leaf is expired: the TA failure is reported (RFC 8460 4.3.1)" \
    "3 1 1 $(bogus 12 1)" "$TAINT"
kase prio-host-mismatch-over-tlsa-invalid unrelated "$H" "" "$AT" certificate-host-mismatch 2 \
    "EE record matches nothing, TA record matches but the leaf names another host: the TA failure is reported (RFC 8460 4.3.1)" \
    "3 1 1 $(bogus 13 1)" "$TAINT"
kase prio-not-trusted-over-tlsa-invalid noca "$H" "" "$AT" certificate-not-trusted 2 \
    "EE record matches nothing, TA record matches but the path has a non-CA intermediate: the TA failure is reported (RFC 8460 4.3.1)" \
    "3 1 1 $(bogus 14 1)" "$(rec 2 0 1 root)"
kase ee-match-beside-failing-ta expired "$H" "" "$AT" ok 2 \
    "the TA path fails (expired leaf) but a DANE-EE record matches the leaf, so the result is ok (RFC 7672 3.1.1)" \
    "$TAINT" "$(rec 3 1 1 leaf-expired)"

mv "$out" cases.txt
ncerts=(certs/*.pem)
nchains=(chains/*.pem)
echo "gen.sh: $(grep -c '^case ' cases.txt) cases, ${#ncerts[@]} certificates, ${#nchains[@]} chains"
