#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# smtp-pki.sh WORKDIR -- certificates of the receiving SMTP servers and the TLSA records for them.
#
# Reads tests/net/smtp-hosts.conf (HOST ADDR BEHAVIOUR CERT TLSA) and
#   1. generates, in WORKDIR/pki/ (ECDSA P-256, certtool):
#        dane-ca.pem, dane-ca.key   "mxtls DANE test CA", a root that no one trusts as a web CA
#        smtp/HOST.pem, smtp/HOST.key  what HOST presents: the leaf first, then (for CERT
#                                   "dane") the dane-ca certificate
#        smtp/other.key             a key that no server uses (for mismatching TLSA records)
#        smtp/attacker-untrusted.pem, .key  the on-path attacker's certificate: every HOST
#                                   below as a name, issued by untrusted-ca (pki-up.sh)
#        smtp/attacker-labca.pem, .key      the attacker's certificate from the test CA,
#                                   for attacker.test (a name no MX host has)
#      Certificates of kind "web" come from the test CA (pki-up.sh --add, so
#      WORKDIR/pki/NAME.pem exists too); pki-up.sh WORKDIR runs first if there is no CA yet.
#   2. appends the TLSA records to WORKDIR/zones.d/<zone>.zone (the zone is the nearest
#      enclosing one that has a template in dns/), with absolute owner names, so that
#      dns-up.sh signs them with the zone.  Existing zones.d files are appended to.
# Run it before dns-up.sh (run-with-dns.sh --smtp does).  Needs certtool (gnutls-bin).
# Environment: MXTLS_TEST_SMTP_HOSTS replaces tests/net/smtp-hosts.conf.
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hosts_conf=${MXTLS_TEST_SMTP_HOSTS:-$here/smtp-hosts.conf}
tmpl_dir=${MXTLS_TEST_DNS_TEMPLATES:-$here/dns}

VALID_FROM="2020-06-01 00:00:00"
VALID_UNTIL="2049-12-31 23:59:59"

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

(($# == 1)) || {
    printf 'usage: %s WORKDIR\n' "$prog" >&2
    exit 2
}
mkdir -p "$1"
workdir=$(cd "$1" && pwd)
command -v certtool >/dev/null || die "certtool not found (Debian package gnutls-bin)"
command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"
[[ -r $hosts_conf ]] || die "cannot read $hosts_conf"

pki=$workdir/pki
[[ -f $pki/ca.pem && -f $pki/ca.key ]] || bash "$here/pki-up.sh" "$workdir"
out=$pki/smtp
rm -rf "$out"
mkdir -p "$out"
log=$out/certtool.log
: >"$log"

# certtool wrapper: its chatter goes to pki/smtp/certtool.log, shown only on failure.
ct() {
    certtool "$@" >>"$log" 2>&1 || {
        tail -n 20 "$log" >&2
        die "certtool $* failed"
    }
}

new_key() {
    ct --generate-privkey --key-type ecdsa --curve secp256r1 --no-text --outfile "$1"
}

# template FILE CN FROM UNTIL [SAN...]: a server certificate template
template() {
    local file=$1 cn=$2 from=$3 until=$4 san
    shift 4
    {
        printf 'cn = "%s"\n' "$cn"
        for san in "$@"; do
            printf 'dns_name = "%s"\n' "$san"
        done
        printf 'tls_www_server\nsigning_key\n'
        printf 'activation_date = "%s"\nexpiration_date = "%s"\n' "$from" "$until"
    } >"$file"
}

# self_signed HOST FROM UNTIL: smtp/HOST.pem, smtp/HOST.key
self_signed() {
    local base=$out/$1
    template "$base.tmpl" "$1" "$2" "$3" "$1"
    new_key "$base.key"
    ct --generate-self-signed --load-privkey "$base.key" --template "$base.tmpl" \
        --no-text --outfile "$base.pem"
    rm -f "$base.tmpl"
}

# dane_leaf HOST SAN: smtp/HOST.pem (leaf issued by dane-ca, then dane-ca), smtp/HOST.key
dane_leaf() {
    local base=$out/$1
    template "$base.tmpl" "$2" "$VALID_FROM" "$VALID_UNTIL" "$2"
    new_key "$base.key"
    ct --generate-certificate --load-privkey "$base.key" --load-ca-certificate "$pki/dane-ca.pem" \
        --load-ca-privkey "$pki/dane-ca.key" --template "$base.tmpl" --no-text \
        --outfile "$base.leaf"
    cat "$base.leaf" "$pki/dane-ca.pem" >"$base.pem"
    rm -f "$base.tmpl" "$base.leaf"
}

# sha256 < DATA: lowercase hex digest
sha256() {
    local d
    d=$(sha256sum) || die "sha256sum failed"
    printf '%s' "${d%% *}"
}

# spki_sha256 KEYFILE: SHA-256 of the DER SubjectPublicKeyInfo of the key
spki_sha256() {
    certtool --pubkey-info --load-privkey "$1" --outder 2>>"$log" | sha256
}

# cert_sha256 CERTFILE: SHA-256 of the DER encoding of the (first) certificate in the file
cert_sha256() {
    certtool --certificate-info --infile "$1" --outder 2>>"$log" | sha256
}

# zone_of HOST: the nearest enclosing zone that has a template (mail.test, plain.test, ...)
zone_of() {
    local n=$1
    while [[ $n == *.* ]]; do
        n=${n#*.}
        if [[ -f $tmpl_dir/$n.zone ]]; then
            printf '%s' "$n"
            return 0
        fi
    done
    return 1
}

# ---------------------------------------------------------------- manifest
rows=()
declare -A seen=()
while read -r host addr behaviour cert tlsa extra; do
    [[ -z ${host:-} || $host == \#* ]] && continue
    [[ -n ${tlsa:-} && -z ${extra:-} ]] || die "$hosts_conf: want 5 fields: $host ${addr:-} ..."
    [[ $host =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] || die "$hosts_conf: bad host name '$host'"
    [[ -z ${seen[$host]:-} ]] || die "$hosts_conf: $host listed twice"
    seen[$host]=1
    case $behaviour in
    starttls | starttls454) [[ $cert != - ]] || die "$hosts_conf: $host: $behaviour needs a certificate" ;;
    notls) ;;
    *) die "$hosts_conf: $host: unknown behaviour '$behaviour'" ;;
    esac
    case $cert in
    self | self-expired | web | web:?* | dane | dane:?* | -) ;;
    *) die "$hosts_conf: $host: unknown certificate kind '$cert'" ;;
    esac
    case $tlsa in
    311 | 111) [[ $cert != - ]] || die "$hosts_conf: $host: TLSA $tlsa needs a certificate" ;;
    311-other | 201-ca | -) ;;
    *) die "$hosts_conf: $host: unknown TLSA kind '$tlsa'" ;;
    esac
    if [[ $tlsa != - ]]; then
        zone_of "$host" >/dev/null || die "$hosts_conf: $host: no zone template encloses it"
    fi
    rows+=("$host $cert $tlsa")
done <"$hosts_conf"

# ---------------------------------------------------------------- certificates
cat >"$out/dane-ca.tmpl" <<EOF
cn = "mxtls DANE test CA"
organization = "mxtls tests"
ca
cert_signing_key
activation_date = "2020-01-01 00:00:00"
expiration_date = "$VALID_UNTIL"
EOF
new_key "$pki/dane-ca.key"
ct --generate-self-signed --load-privkey "$pki/dane-ca.key" --template "$out/dane-ca.tmpl" \
    --no-text --outfile "$pki/dane-ca.pem"
rm -f "$out/dane-ca.tmpl"
new_key "$out/other.key"

# The hosts are independent: generate them in parallel (certtool is the whole cost).
web_names=()
pids=()
for row in "${rows[@]}"; do
    read -r host cert _ <<<"$row"
    case $cert in
    self) self_signed "$host" "$VALID_FROM" "$VALID_UNTIL" & pids+=($!) ;;
    self-expired) self_signed "$host" "2020-01-01 00:00:00" "2020-02-01 00:00:00" & pids+=($!) ;;
    dane) dane_leaf "$host" "$host" & pids+=($!) ;;
    dane:*) dane_leaf "$host" "${cert#dane:}" & pids+=($!) ;;
    web) web_names+=("$host") ;;
    web:*) web_names+=("${cert#web:}") ;;
    esac
done
# The on-path attacker's certificates (smtp-attack.sh intercept, intercept-labca): one for
# every host name above from the untrusted CA (WORKDIR/pki/untrusted-ca.pem: right names,
# a root nobody trusts), and one from the test CA for another name, attacker.test.
attacker_untrusted() {
    local base=$out/attacker-untrusted row
    local names=()
    for row in "${rows[@]}"; do
        names+=("${row%% *}")
    done
    template "$base.tmpl" "mxtls lab attacker" "$VALID_FROM" "$VALID_UNTIL" "${names[@]}"
    new_key "$base.key"
    ct --generate-certificate --load-privkey "$base.key" \
        --load-ca-certificate "$pki/untrusted-ca.pem" --load-ca-privkey "$pki/untrusted-ca.key" \
        --template "$base.tmpl" --no-text --outfile "$base.pem"
    rm -f "$base.tmpl"
}
attacker_untrusted & pids+=($!)
web_names+=(attacker.test)
if ((${#web_names[@]})); then
    mapfile -t web_names < <(printf '%s\n' "${web_names[@]}" | sort -u)
    bash "$here/pki-up.sh" --add "$workdir" "${web_names[@]}" & pids+=($!)
fi
failed=0
for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
done
((failed == 0)) || die "certificate generation failed (see $log)"

for row in "${rows[@]}"; do
    read -r host cert _ <<<"$row"
    case $cert in
    web | web:*)
        name=$host
        [[ $cert == web:* ]] && name=${cert#web:}
        cp "$pki/$name.pem" "$out/$host.pem"
        cp "$pki/$name.key" "$out/$host.key"
        ;;
    esac
done
cp "$pki/attacker.test.pem" "$out/attacker-labca.pem"
cp "$pki/attacker.test.key" "$out/attacker-labca.key"
chmod 644 "$pki/dane-ca.pem" "$out"/*.pem
chmod 600 "$pki/dane-ca.key" "$out"/*.key

# ---------------------------------------------------------------- TLSA records
mkdir -p "$workdir/zones.d"
declare -A header_done=()
for row in "${rows[@]}"; do
    read -r host cert tlsa <<<"$row"
    case $tlsa in
    -) continue ;;
    311) rr="3 1 1 $(spki_sha256 "$out/$host.key")" ;;
    111) rr="1 1 1 $(spki_sha256 "$out/$host.key")" ;;
    311-other) rr="3 1 1 $(spki_sha256 "$out/other.key")" ;;
    201-ca) rr="2 0 1 $(cert_sha256 "$pki/dane-ca.pem")" ;;
    esac
    [[ $rr =~ [0-9a-f]{64}$ ]] || die "$host: could not compute the TLSA digest"
    zone=$(zone_of "$host")
    zfile=$workdir/zones.d/$zone.zone
    if [[ -z ${header_done[$zone]:-} ]]; then
        printf '\n; ---- TLSA records of the SMTP receivers (tests/net/smtp-pki.sh)\n' >>"$zfile"
        header_done[$zone]=1
    fi
    printf '_25._tcp.%s. 300 IN TLSA %s\n' "$host" "$rr" >>"$zfile"
done

printf '%s: %d SMTP server certificates in %s, TLSA records in %s\n' \
    "$prog" "${#rows[@]}" "$out" "$workdir/zones.d" >&2
