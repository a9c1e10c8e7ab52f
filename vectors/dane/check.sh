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
# agrees, 1 otherwise (2 when the script itself failed).
#
# Each certificate file is split and digested once (its six association data values), not once
# per case; the files and then the cases run in parallel, "nproc" at a time (MXTLS_JOBS
# overrides), and each case's output is printed in cases.txt order, as a serial run prints it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
export TZ=UTC LC_ALL=C

verbose=0
[[ ${1:-} == -v ]] && verbose=1

jobs_max=${MXTLS_JOBS:-$(nproc 2>/dev/null || echo 2)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-dane-check.XXXXXX")
# On an early exit the workers still running are stopped before their directory is removed.
# shellcheck disable=SC2046  # one PID per word
trap 'kill $(jobs -p) 2>/dev/null || true; wait || true; rm -rf "$tmp"' EXIT

declare -A KNOWN=(
    [date-anchor-intermediate-expired]="OpenSSL checks the validity dates of the trust anchor too"
    [date-anchor-root-expired]="OpenSSL checks the validity dates of the trust anchor too"
    [date-anchor-root-expired-bare-key]="OpenSSL needs a certificate as anchor; the stand-in expired root is date-checked"
    [date-at-not-after]="OpenSSL treats notAfter == time as expired (X509_cmp_time compares <=); RFC 5280 and GnuTLS are inclusive"
    [name-wildcard-partial-label]="OpenSSL accepts partial-label wildcards like mx*.example.test unless X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS"
)

hex() { od -An -v -tx1 | tr -d ' \n'; }
unhex() { perl -e 'local $/; my $h = <STDIN>; print pack("H*", $h)'; }

# certinfo FILE DIR: split the PEM certificates of FILE into DIR/c0.pem (the first), c1.pem, ...
# and write DIR/data, one line "I S M HEX" per certificate I, selector S (0 the certificate's
# DER, 1 its SubjectPublicKeyInfo's DER) and matching type M (0 the DER in hex, 1 its SHA-256,
# 2 its SHA-512), then DIR/done.
certinfo() {
    local f=$1 d=$2 n i s line
    mkdir -p "$d"
    awk -v dir="$d" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (dir "/c" (n - 1) ".pem") }' "$f"
    n=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$f" || true)
    local -a der=()
    for ((i = 0; i < n; i++)); do
        openssl x509 -in "$d/c$i.pem" -outform DER -out "$d/c$i.s0.der"
        openssl x509 -in "$d/c$i.pem" -noout -pubkey | openssl pkey -pubin -outform DER -out "$d/c$i.s1.der"
        der+=("$d/c$i.s0.der" "$d/c$i.s1.der")
    done
    {
        for ((i = 0; i < n; i++)); do
            for s in 0 1; do
                printf '%s %s 0 %s\n' "$i" "$s" "$(hex <"$d/c$i.s$s.der")"
            done
        done
        if ((n > 0)); then
            # "HEX *DIR/cI.sS.der" -> "I S M HEX"
            openssl dgst -sha256 -r "${der[@]}" | while read -r h line; do
                line=${line##*/c}
                printf '%s %s 1 %s\n' "${line%%.*}" "${line:${#line}-5:1}" "$h"
            done
            openssl dgst -sha512 -r "${der[@]}" | while read -r h line; do
                line=${line##*/c}
                printf '%s %s 2 %s\n' "${line%%.*}" "${line:${#line}-5:1}" "$h"
            done
        fi
    } >"$d/data"
    : >"$d/done"
}

# pool_wait: wait until fewer than jobs_max workers run (a worker's own status is looked at
# through the files it leaves, not here)
pool_wait() {
    while (($(jobs -pr | wc -l) >= jobs_max)); do wait -n || true; done
}

# Every certificate file once: the chains that cases.txt names and certs/*.pem.
declare -A CDIR=() NCERT=() DATA=()
nfile=0
while read -r f; do
    pool_wait
    nfile=$((nfile + 1))
    CDIR[$f]=$tmp/f$nfile
    certinfo "$f" "$tmp/f$nfile" &
done < <({ sed -n 's/^chain //p' cases.txt; printf '%s\n' certs/*.pem; } | sort -u)
wait
for f in "${!CDIR[@]}"; do
    [[ -e ${CDIR[$f]}/done ]] || { echo "check.sh: could not read the certificates of $f" >&2; exit 2; }
    NCERT[$f]=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$f" || true)
    while read -r i s m h; do
        DATA[$f,$i,$s,$m]=$h
    done <"${CDIR[$f]}/data"
done

# certdata FILE SEL MT -> hex association data of the first PEM certificate of FILE
certdata() {
    printf '%s' "${DATA[$1,0,$2,$3]}"
}

# usable_rec "U S M HEX" -> status 0 when the record is usable by the mxtls rules (scratch files
# in $scratch, the case's own directory)
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
            printf '%s' "$h" | unhex >"$scratch/rec.der"
            if [[ ${f[1]} == 0 ]]; then
                openssl x509 -inform DER -in "$scratch/rec.der" -outform DER -out "$scratch/rec.re" 2>/dev/null || return 1
            else
                openssl pkey -pubin -inform DER -in "$scratch/rec.der" -outform DER -out "$scratch/rec.re" 2>/dev/null || return 1
            fi
            cmp -s "$scratch/rec.der" "$scratch/rec.re" || return 1   # no trailing bytes, canonical DER
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

declare -A RANK=([ok]=4 [certificate-expired]=3 [certificate-host-mismatch]=2 [certificate-not-trusted]=1)
rank() {
    echo "${RANK[$1]:-0}"
}

fails=0 known=0 total=0 ncase=0

check_case() {
    local name=$1 chainf=$2 host=$3 nexthop=$4 at=$5 expect=$6 usable=$7
    shift 7
    local -a recs=("$@")
    local epoch n i s m r
    epoch=$(date -u -d "$at" +%s)

    # the chain's certificates, split once by certinfo: c0.pem (leaf), c1.pem, ...
    local cdir=${CDIR[$chainf]}
    n=${NCERT[$chainf]}
    declare -A data=()
    for ((i = 0; i < n; i++)); do
        for s in 0 1; do
            for m in 0 1 2; do
                data[$i,$s,$m]=${DATA[$chainf,$i,$s,$m]}
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
                [[ $h == "${data[$i,$s,$m]}" ]] && anchors+=("$cdir/c$i.pem")
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
                    v=$(ossl_verify "$anchor" "$chainf" "$cdir/c0.pem" "$epoch" "$nm")
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
        end)
            # one worker per case, in its own directory (usable_rec's scratch files); it
            # leaves K.out, K.err and, when it got to the end, K.st "TOTAL FAILS KNOWN"
            pool_wait
            ncase=$((ncase + 1))
            (
                scratch=$tmp/case$ncase
                mkdir "$scratch"
                check_case "$name" "$chainf" "$host" "$nexthop" "$at" "$expect" "$usable" ${recs[@]+"${recs[@]}"}
                echo "$total $fails $known" >"$scratch.st"
            ) >"$tmp/case$ncase.out" 2>"$tmp/case$ncase.err" &
            ;;
        *) echo "check.sh: unknown line: $line" >&2; exit 2 ;;
    esac
done <cases.txt
wait

# the cases' output in cases.txt order
for ((k = 1; k <= ncase; k++)); do
    cat "$tmp/case$k.err" >&2
    cat "$tmp/case$k.out"
    if ! read -r t f kn <"$tmp/case$k.st"; then
        echo "check.sh: case $k of cases.txt did not complete" >&2
        exit 2
    fi
    total=$((total + t)) fails=$((fails + f)) known=$((known + kn))
done

echo "check.sh: $total cases, $((total - fails - known)) agree, $known known differences, $fails unexpected differences"
((fails == 0))
