#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check.sh: re-derive every expected verdict in cases.txt with OpenSSL alone (an independent cross-check).
#
# Usage: vectors/dane/check.sh [-v]
#
# For each case this script recomputes which TLSA records are usable (parsing the hex and the
# DER with openssl, then applying digest agility), matches them against the presented
# certificates with openssl-computed digests, and for every DANE-TA match runs
#   openssl verify -partial_chain -trusted <anchor> -untrusted <chain> -attime <at>
#                  -verify_hostname <host|nexthop> <leaf>
# A 2 1 0 anchor whose certificate was not sent is stood in for by the certificate in certs/
# that carries that key.  The result is compared with "expect" and "usable".  Cases listed in
# KNOWN below are where OpenSSL's X509_verify_cert is known to differ from the mxtls rules;
# they are reported but do not make the script fail.  Exit status: 0 when every other case
# agrees, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
export TZ=UTC LC_ALL=C

verbose=0
[[ ${1:-} == -v ]] && verbose=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A KNOWN=(
    [date-anchor-intermediate-expired]="OpenSSL checks the validity dates of the trust anchor too"
    [date-anchor-root-expired]="OpenSSL checks the validity dates of the trust anchor too"
    [date-anchor-root-expired-bare-key]="OpenSSL needs a certificate as anchor; the stand-in expired root is date-checked"
    [date-at-not-after]="OpenSSL treats notAfter == time as expired (X509_cmp_time compares <=); RFC 5280 and GnuTLS are inclusive"
    [name-wildcard-partial-label]="OpenSSL accepts partial-label wildcards like mx*.example.test unless X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS"
)

hex() { od -An -v -tx1 | tr -d ' \n'; }
unhex() { perl -e 'local $/; my $h = <STDIN>; print pack("H*", $h)'; }

# certdata FILE SEL MT -> hex association data of a PEM certificate
certdata() {
    local f=$1
    {
        if [[ $2 == 0 ]]; then
            openssl x509 -in "$f" -outform DER
        else
            openssl x509 -in "$f" -noout -pubkey | openssl pkey -pubin -outform DER
        fi
    } | case $3 in
        0) hex ;;
        1) openssl dgst -sha256 -binary | hex ;;
        2) openssl dgst -sha512 -binary | hex ;;
    esac
}

# usable_rec "U S M HEX" -> status 0 when the record is usable by the mxtls rules
usable_rec() {
    local -a f
    read -r -a f <<<"$1"
    ((${#f[@]} == 4)) || return 1
    [[ ${f[0]} =~ ^[23]$ && ${f[1]} =~ ^[01]$ && ${f[2]} =~ ^[012]$ ]] || return 1
    local h=${f[3]}
    [[ $h =~ ^([0-9a-fA-F][0-9a-fA-F])+$ ]] || return 1
    case ${f[2]} in
        1) ((${#h} == 64)) || return 1 ;;
        2) ((${#h} == 128)) || return 1 ;;
        0)
            printf '%s' "$h" | unhex >"$tmp/rec.der"
            if [[ ${f[1]} == 0 ]]; then
                openssl x509 -inform DER -in "$tmp/rec.der" -outform DER -out "$tmp/rec.re" 2>/dev/null || return 1
            else
                openssl pkey -pubin -inform DER -in "$tmp/rec.der" -outform DER -out "$tmp/rec.re" 2>/dev/null || return 1
            fi
            cmp -s "$tmp/rec.der" "$tmp/rec.re" || return 1   # no trailing bytes, canonical DER
            ;;
    esac
    return 0
}

# ossl_verify ANCHOR CHAIN LEAF EPOCH NAME -> prints ok | certificate-expired | certificate-host-mismatch | certificate-not-trusted
ossl_verify() {
    local out code
    if out=$(openssl verify -partial_chain -trusted "$1" -untrusted "$2" -attime "$4" \
        -verify_hostname "$5" "$3" 2>&1); then
        echo ok
        return
    fi
    code=$(printf '%s\n' "$out" | sed -n 's/^error \([0-9]*\) at .*/\1/p' | head -n 1)
    ((verbose)) && printf '      openssl: %s\n' "$(printf '%s' "$out" | grep '^error [0-9]' | head -n 1)" >&2
    case $code in
        9 | 10 | 13 | 14) echo certificate-expired ;;
        62) echo certificate-host-mismatch ;;
        *) echo certificate-not-trusted ;;
    esac
}

# SPKI (hex) of every certificate in certs/, for bare-key anchors not sent by the server
declare -A KEYCERT=()
for f in certs/*.pem; do
    KEYCERT[$(certdata "$f" 1 0)]=$f
done

rank() {
    case $1 in
        ok) echo 4 ;;
        certificate-expired) echo 3 ;;
        certificate-host-mismatch) echo 2 ;;
        certificate-not-trusted) echo 1 ;;
        *) echo 0 ;;
    esac
}

fails=0 known=0 total=0

check_case() {
    local name=$1 chainf=$2 host=$3 nexthop=$4 at=$5 expect=$6 usable=$7
    shift 7
    local -a recs=("$@")
    local epoch n i s m r
    epoch=$(date -u -d "$at" +%s)

    # split the chain into c0.pem (leaf), c1.pem, ...
    rm -f "$tmp"/c*.pem
    awk -v dir="$tmp" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (dir "/c" (n - 1) ".pem") }' "$chainf"
    n=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$chainf")

    declare -A data=()
    for ((i = 0; i < n; i++)); do
        for s in 0 1; do
            for m in 0 1 2; do
                data[$i,$s,$m]=$(certdata "$tmp/c$i.pem" $s $m)
            done
        done
    done

    # usability, then digest agility per (usage, selector)
    local -a ok_recs=()
    declare -A best=()
    for r in "${recs[@]}"; do
        if usable_rec "$r"; then
            ok_recs+=("$r")
            read -r u s m _ <<<"$r"
            if ((m > 0 && m > ${best[$u,$s]:-0})); then best[$u,$s]=$m; fi
        fi
    done
    local -a kept=()
    for r in "${ok_recs[@]}"; do
        read -r u s m _ <<<"$r"
        if ((m == 0 || m == ${best[$u,$s]:-0})); then kept+=("$r"); fi
    done

    # match and verify
    local verdict=tlsa-invalid res u h anchor
    for r in "${kept[@]}"; do
        read -r u s m h <<<"$r"
        h=${h,,}
        if [[ $u == 3 ]]; then
            if [[ $h == "${data[0,$s,$m]}" ]]; then res=ok; else res=tlsa-invalid; fi
        else
            res=tlsa-invalid
            local -a anchors=()
            for ((i = 1; i < n; i++)); do
                [[ $h == "${data[$i,$s,$m]}" ]] && anchors+=("$tmp/c$i.pem")
            done
            if ((${#anchors[@]} == 0)) && [[ $s == 1 && $m == 0 && -n ${KEYCERT[$h]:-} ]]; then
                anchors+=("${KEYCERT[$h]}")
            fi
            for anchor in "${anchors[@]}"; do
                local one names nm
                names=("$host")
                [[ -n $nexthop ]] && names+=("$nexthop")
                one=""
                for nm in "${names[@]}"; do
                    local v
                    v=$(ossl_verify "$anchor" "$chainf" "$tmp/c0.pem" "$epoch" "$nm")
                    if [[ -z $one || $(rank "$v") -gt $(rank "$one") ]]; then one=$v; fi
                done
                if (($(rank "$one") > $(rank "$res"))); then res=$one; fi
            done
        fi
        ((verbose)) && printf '    %-26s -> %s\n' "${r:0:26}" "$res" >&2
        if (($(rank "$res") > $(rank "$verdict"))); then verdict=$res; fi
    done

    total=$((total + 1))
    if [[ $verdict == "$expect" && ${#kept[@]} == "$usable" ]]; then
        ((verbose)) && printf 'agree   %s: %s usable %s\n' "$name" "$verdict" "$usable"
        if [[ -n ${KNOWN[$name]:-} ]]; then
            printf 'NOTE    %s: listed as a known difference but OpenSSL agrees\n' "$name"
        fi
    elif [[ -n ${KNOWN[$name]:-} ]]; then
        known=$((known + 1))
        printf 'KNOWN   %s: expect %s usable %s, OpenSSL says %s usable %s (%s)\n' \
            "$name" "$expect" "$usable" "$verdict" "${#kept[@]}" "${KNOWN[$name]}"
    else
        fails=$((fails + 1))
        printf 'DIFFER  %s: expect %s usable %s, OpenSSL says %s usable %s\n' \
            "$name" "$expect" "$usable" "$verdict" "${#kept[@]}"
    fi
}

# parse cases.txt
name="" chainf="" host="" nexthop="" at="" expect="" usable=""
recs=()
while IFS= read -r line || [[ -n $line ]]; do
    [[ -z $line || $line == \#* ]] && continue
    key=${line%% *}
    val=""
    [[ $line == *" "* ]] && val=${line#* }
    case $key in
        case) name=$val chainf="" host="" nexthop="" at="" expect="" usable="" recs=() ;;
        chain) chainf=$val ;;
        host) host=$val ;;
        nexthop) nexthop=$val ;;
        at) at=$val ;;
        tlsa) recs+=("$val") ;;
        expect) expect=$val ;;
        usable) usable=$val ;;
        note) ;;
        end) check_case "$name" "$chainf" "$host" "$nexthop" "$at" "$expect" "$usable" ${recs[@]+"${recs[@]}"} ;;
        *) echo "check.sh: unknown line: $line" >&2; exit 2 ;;
    esac
done <cases.txt

echo "check.sh: $total cases, $((total - fails - known)) agree, $known known differences, $fails unexpected differences"
((fails == 0))
