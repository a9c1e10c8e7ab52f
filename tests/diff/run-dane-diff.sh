#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-dane-diff.sh: differential test of mxtls's DANE verdicts (RFC 7672) against OpenSSL's DANE
# API and GnuTLS's libdane, over every case of vectors/dane/cases.txt.
#
# Usage: tests/diff/run-dane-diff.sh [options] [BUILD-DIR]
#   BUILD-DIR          where the two peer drivers are compiled (default: a temporary directory)
#   --tap              TAP output: one ok/not ok line per case (mxtls against "expect"),
#                      peer verdicts in the description, summaries as "# " comments
#   --mxtls PATH       the mxtls binary (default: $MXTLS or <repo>/build/cli/mxtls)
#   --cases FILE       the case file (default: <repo>/vectors/dane/cases.txt); chain paths are
#                      relative to its directory
#   --no-peers         run mxtls only
#   --strict-peers     also fail when a peer disagrees with mxtls on a case that is not listed
#                      in KNOWN below (an unexplained difference)
#   -v, --verbose      print every peer's detail line, not only for disagreements
#
# Exit status: 0 when mxtls gives the expected verdict (result type and usable-record count) on
# every case; 1 when it does not (or, with --strict-peers, on an unexplained peer difference);
# 2 on a set-up error.  A peer that disagrees with mxtls never fails the test by itself: the
# peers implement other rules by design (see README.md in this directory).
# Needs: bash, cc, pkg-config, libssl-dev, libgnutls28-dev (a peer whose library is missing is
# reported as "n/a" and skipped).
set -uo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

tap=0 peers=1 strict=0 verbose=0
mxtls=${MXTLS:-$root/build/cli/mxtls}
cases=$root/vectors/dane/cases.txt
builddir=""

die() { printf 'run-dane-diff: %s\n' "$*" >&2; exit 2; }

while (($#)); do
    case $1 in
        --tap) tap=1 ;;
        --mxtls) [[ $# -ge 2 ]] || die "--mxtls needs a path"; mxtls=$2; shift ;;
        --cases) [[ $# -ge 2 ]] || die "--cases needs a path"; cases=$2; shift ;;
        --no-peers) peers=0 ;;
        --strict-peers) strict=1 ;;
        -v | --verbose) verbose=1 ;;
        -h | --help) sed -n '3,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) [[ -z $builddir ]] || die "only one BUILD-DIR"; builddir=$1 ;;
    esac
    shift
done

[[ -x $mxtls ]] || die "mxtls binary not found at $mxtls (build it: ninja -C build, or pass --mxtls)"
[[ -r $cases ]] || die "cannot read $cases"
vecdir=$(cd "$(dirname "$cases")" && pwd)
cases=$vecdir/$(basename "$cases")

if [[ -z $builddir ]]; then
    builddir=$(mktemp -d "${TMPDIR:-/tmp}/dane-diff.XXXXXX") || die "mktemp failed"
    trap 'rm -rf "$builddir"' EXIT
else
    mkdir -p "$builddir" || die "cannot create $builddir"
    builddir=$(cd "$builddir" && pwd)
fi
conf=$builddir/empty.conf
: >"$conf" || die "cannot write $conf"

# Work on a snapshot of the vectors directory, so that mxtls and both peers see the same files
# even if gen.sh rewrites them meanwhile.
snap=$builddir/vectors
if ! { rm -rf "$snap" && mkdir -p "$snap" && cp -R "$vecdir/." "$snap/"; }; then
    die "cannot copy $vecdir"
fi
cases=$snap/$(basename "$cases")
vecdir=$snap

# ---------------------------------------------------------------------------------------------
# Known, explained disagreements between a peer and mxtls: "<peer>:<case>" -> "<class>: <why>".
# Class R = documented rule difference (the peer implements another rule; the RFC section
# named decides for SMTP); class B = suspected mxtls bug (none at the time of writing).
# Keep in step with the table in README.md.
declare -A KNOWN=(
    # OpenSSL (DANE API, empty trust store)
    [openssl:name-wildcard-partial-label]="R: OpenSSL matches partial-label wildcards (mx*) unless X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS; RFC 7672 3.2.3 / RFC 6125 6.4.3"
    [openssl:date-anchor-root-expired]="R: OpenSSL checks the dates of a self-signed TA certificate at the top of the chain; RFC 5280 6.1.1(d), RFC 7671 5.2.1"
    [openssl:date-at-not-after]="R: OpenSSL treats time == notAfter as expired; RFC 5280 4.1.2.5 says the period is inclusive"
    # GnuTLS libdane
    [libdane:pkix-ta-cert-full]="R: libdane treats PKIX-TA(0) like DANE-TA and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ta-cert-sha256]="R: libdane treats PKIX-TA(0) like DANE-TA and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ta-cert-sha512]="R: libdane treats PKIX-TA(0) like DANE-TA and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ta-spki-full]="R: libdane treats PKIX-TA(0) like DANE-TA and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ta-spki-sha256]="R: libdane treats PKIX-TA(0) like DANE-TA and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ta-spki-sha512]="R: libdane treats PKIX-TA(0) like DANE-TA and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ee-cert-full]="R: libdane treats PKIX-EE(1) like DANE-EE and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ee-cert-sha256]="R: libdane treats PKIX-EE(1) like DANE-EE and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ee-cert-sha512]="R: libdane treats PKIX-EE(1) like DANE-EE and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ee-spki-full]="R: libdane treats PKIX-EE(1) like DANE-EE and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ee-spki-sha256]="R: libdane treats PKIX-EE(1) like DANE-EE and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:pkix-ee-spki-sha512]="R: libdane treats PKIX-EE(1) like DANE-EE and leaves PKIX to the caller; RFC 7672 3.1.3 makes 0/1 unusable"
    [libdane:ta-bare-key-root-omitted]="R: libdane matches DANE-TA only against presented certificates, so a 2 1 0 key of an unsent root never matches; RFC 7671 5.2.3"
    [libdane:deep-ta-bare-key-root-omitted]="R: libdane matches DANE-TA only against presented certificates, so a 2 1 0 key of an unsent root never matches; RFC 7671 5.2.3"
    [libdane:date-anchor-root-expired-bare-key]="R: libdane matches DANE-TA only against presented certificates, so a 2 1 0 key of an unsent root never matches; RFC 7671 5.2.3"
    [libdane:date-valid-in-2027]="R: libdane matches DANE-TA only against presented certificates, so a 2 1 0 key of an unsent root never matches; RFC 7671 5.2.3"
    [libdane:deep-missing-middle]="R: libdane checks only leaf <- direct issuer, never the path up to the matched TA; RFC 7672 3.1.2, RFC 5280 6.1"
    [libdane:chain-ta-on-unrelated-cert]="R: libdane checks only leaf <- direct issuer, never the path up to the matched TA; RFC 7672 3.1.2, RFC 5280 6.1"
    [libdane:date-anchor-intermediate-expired]="R: libdane date-checks the leaf's direct issuer even when it is the TA itself; RFC 5280 6.1.1(d), RFC 7671 5.2.1"
    [libdane:name-nexthop-only-without-nexthop]="R: libdane does no name checks at all; RFC 7672 3.2.2 requires them under DANE-TA"
    [libdane:name-neither-with-nexthop]="R: libdane does no name checks at all; RFC 7672 3.2.2 requires them under DANE-TA"
    [libdane:name-wildcard-two-labels]="R: libdane does no name checks at all; RFC 7672 3.2.2 requires them under DANE-TA"
    [libdane:name-wildcard-bare-parent]="R: libdane does no name checks at all; RFC 7672 3.2.2 requires them under DANE-TA"
    [libdane:name-wildcard-partial-label]="R: libdane does no name checks at all; RFC 7672 3.2.2 requires them under DANE-TA"
    [libdane:name-cn-only-mismatch]="R: libdane does no name checks at all; RFC 7672 3.2.2 requires them under DANE-TA"
    [libdane:name-san-mismatch-cn-match]="R: libdane does no name checks at all; RFC 7672 3.2.2 requires them under DANE-TA"
    [libdane:name-unrelated-under-ta]="R: libdane does no name checks at all; RFC 7672 3.2.2 requires them under DANE-TA"
    [libdane:prio-host-mismatch-over-tlsa-invalid]="R: libdane does no name checks at all; RFC 7672 3.2.2 requires them under DANE-TA"
    [libdane:agility-sha256-match-sha512-mismatch]="R: libdane has no digest algorithm agility, any matching record wins; RFC 7671 9, RFC 7672 5"
    [libdane:agility-ta-sha512-mismatch]="R: libdane has no digest algorithm agility, any matching record wins; RFC 7671 9, RFC 7672 5"

    # Probe cases written by gen-probes.sh (not in the default run)
    [openssl:probe-pathlen-below-ta]="B1: mxtls ignores pathLenConstraint below the TA; OpenSSL is right (RFC 5280 6.1.4 l-m)"
    [openssl:probe-nameconstraints-below-ta]="B2: mxtls ignores nameConstraints below the TA; OpenSSL is right (RFC 5280 6.1.3 b-c, 6.1.4 g)"
    [libdane:probe-nameconstraints-below-ta]="B2: mxtls ignores nameConstraints below the TA; GnuTLS is right (RFC 5280 6.1.3 b-c, 6.1.4 g)"
    [openssl:probe-unknown-critical-ext-ta]="B3: mxtls accepts an unrecognised critical extension under DANE-TA; OpenSSL is right (RFC 5280 4.2)"
    [libdane:probe-unknown-critical-ext-ta]="B3: mxtls accepts an unrecognised critical extension under DANE-TA; GnuTLS is right (RFC 5280 4.2)"
    [openssl:probe-pathlen-on-ta]="R: OpenSSL applies the TA certificate's own pathLenConstraint; RFC 5280 6.1.1(d) makes TA constraints optional (RFC 5937)"
    [openssl:probe-nameconstraints-on-ta]="R: OpenSSL applies the TA certificate's own nameConstraints; RFC 5280 6.1.1(d) makes TA constraints optional (RFC 5937)"
    [libdane:probe-nameconstraints-on-ta]="R: GnuTLS applies the TA certificate's own nameConstraints; RFC 5280 6.1.1(d) makes TA constraints optional (RFC 5937)"
    [openssl:probe-ta-is-non-ca]="R: OpenSSL requires CA:TRUE of the TA certificate too; RFC 5280 6.1.4(k) covers certificates below the TA"
    [libdane:probe-ta-is-non-ca]="R: GnuTLS requires the leaf's signer to be a CA; RFC 5280 6.1.4(k) covers certificates below the TA"
    [openssl:probe-ta-is-non-ca-key]="R: OpenSSL requires CA:TRUE of the TA certificate too; RFC 5280 6.1.4(k) covers certificates below the TA"
    [libdane:probe-ta-is-non-ca-key]="R: GnuTLS requires the leaf's signer to be a CA; RFC 5280 6.1.4(k) covers certificates below the TA"
    [openssl:probe-eku-client-only-ta]="R: OpenSSL's ssl_server purpose rejects a leaf whose EKU lacks serverAuth; RFC 7672 requires no EKU check"
    [openssl:probe-tld-wildcard]="R: OpenSSL refuses wildcards directly over a single-label parent (*.test); RFC 7672 3.2.3 has no such rule"
    [openssl:probe-host-trailing-dot]="R: OpenSSL compares the reference identifier with its trailing dot; mxtls treats mx.example.test. as absolute"
    [openssl:probe-san-trailing-dot]="R: OpenSSL does not match a SAN with a trailing dot; RFC 5280 4.2.1.6 preferred name syntax has none"
)

# ---------------------------------------------------------------------------------------------
# Build and run the peers
declare -A PV=() PD=() # "<peer>:<case>" -> ok|fail, detail
peer_list=()
CC=${CC:-cc}
cflags=(-std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra)

build_peer() { # name source pkg-config-modules...
    local peer=$1 src=$2
    shift 2
    local pc
    if ! pc=$(pkg-config --cflags --libs "$@" 2>/dev/null); then
        printf 'run-dane-diff: %s skipped: pkg-config cannot find %s\n' "$peer" "$*" >&2
        return 1
    fi
    # shellcheck disable=SC2086  # pkg-config output is a word list
    if ! "$CC" "${cflags[@]}" -o "$builddir/dane_$peer" "$here/$src" $pc 2>"$builddir/$peer.cc.log"; then
        printf 'run-dane-diff: %s skipped: compiling %s failed:\n' "$peer" "$src" >&2
        cat "$builddir/$peer.cc.log" >&2
        return 1
    fi
    return 0
}

run_peer() { # name
    local peer=$1 name verdict detail
    if ! "$builddir/dane_$peer" "$cases" "$vecdir" >"$builddir/$peer.out" 2>"$builddir/$peer.err"; then
        printf 'run-dane-diff: the %s driver failed:\n' "$peer" >&2
        cat "$builddir/$peer.err" >&2
        return 1
    fi
    while IFS=$'\t' read -r name verdict detail; do
        PV[$peer:$name]=$verdict
        PD[$peer:$name]=$detail
    done <"$builddir/$peer.out"
    peer_version[$peer]=$(sed -n 's/^# dane_[a-z]*: [0-9]* cases, //p' "$builddir/$peer.err")
    return 0
}

declare -A peer_version=()
if ((peers)); then
    if build_peer openssl dane_openssl.c libssl libcrypto && run_peer openssl; then
        peer_list+=(openssl)
    fi
    if build_peer libdane dane_libdane.c gnutls-dane gnutls && run_peer libdane; then
        peer_list+=(libdane)
    fi
fi
has_peer() { [[ " ${peer_list[*]} " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------------------------
# Run mxtls on every case
names=()
declare -A EXP=() EXPU=() MV=() MU=() MR=() MOK=() NOTE=() MREC=()

json_field() { # key json -> raw value (string without quotes, number, true/false/null)
    local v
    v=$(printf '%s' "$2" | grep -o "\"$1\":\\(null\\|true\\|false\\|[0-9][0-9]*\\|\"\\([^\"\\\\]\\|\\\\.\\)*\"\\)" | head -n 1)
    v=${v#\""$1"\":}
    v=${v#\"}
    v=${v%\"}
    printf '%s' "$v"
}

run_mxtls() {
    local name=$1 chainf=$2 host=$3 nexthop=$4 at=$5
    shift 5
    local -a args=(--config "$conf" dane verify --chain "$vecdir/$chainf" --host "$host")
    [[ -n $nexthop ]] && args+=(--nexthop "$nexthop")
    local r
    for r in "$@"; do args+=(--tlsa "$r"); done
    args+=(--at "$at" --json)
    local out rc auth rtype usable
    out=$("$mxtls" "${args[@]}" 2>"$builddir/mxtls.err")
    rc=$?
    auth=$(json_field authenticated "$out")
    rtype=$(json_field result_type "$out")
    usable=$(json_field usable "$out")
    MR[$name]=$(json_field reason "$out")
    if [[ $rc == 0 && $auth == true ]]; then
        MV[$name]=ok
    elif [[ $rc == 1 && $auth == false ]]; then
        MV[$name]=${rtype:-fail}
        [[ $rtype == null ]] && MV[$name]=fail
    else
        MV[$name]="error(exit $rc)"
        MR[$name]="exit $rc, authenticated=${auth:-?}: $(head -c 300 "$builddir/mxtls.err" | tr '\n' ' ')"
    fi
    MU[$name]=${usable:-?}
    # one character per record, in input order: + usable, a = set aside only by digest agility,
    # p = set aside only because usages 0/1 are unusable for SMTP, 0 = unusable (malformed)
    local recs="" rec
    while IFS= read -r rec; do
        case $rec in
            *'"usable":true'*) recs+="+" ;;
            *'stronger digest'*) recs+="a" ;;
            *'PKIX usages'*) recs+="p" ;;
            ?*) recs+="0" ;;
        esac
    done < <(printf '%s' "$out" | grep -oE '"usable":(true|false),"problem":(null|"([^"\\]|\\.)*")')
    MREC[$name]=$recs
}

name="" chainf="" host="" nexthop="" at="" expect="" usable="" note=""
recs=()
lineno=0
while IFS= read -r line || [[ -n $line ]]; do
    lineno=$((lineno + 1))
    line=${line%$'\r'}
    [[ -z $line || $line == \#* ]] && continue
    key=${line%% *}
    val=""
    [[ $line == *" "* ]] && val=${line#* }
    case $key in
        case) name=$val chainf="" host="" nexthop="" at="" expect="" usable="" note="" recs=() ;;
        chain) chainf=$val ;;
        host) host=$val ;;
        nexthop) nexthop=$val ;;
        at) at=$val ;;
        tlsa) recs+=("$val") ;;
        expect) expect=$val ;;
        usable) usable=$val ;;
        note) note=$val ;;
        end)
            [[ -n $name && -n $chainf && -n $host && -n $at && -n $expect ]] ||
                die "$cases:$lineno: incomplete case '$name'"
            [[ -z ${EXP[$name]+x} ]] || die "$cases:$lineno: duplicate case name '$name'"
            names+=("$name")
            EXP[$name]=$expect
            EXPU[$name]=$usable
            NOTE[$name]=$note
            run_mxtls "$name" "$chainf" "$host" "$nexthop" "$at" ${recs[@]+"${recs[@]}"}
            ;;
        *) die "$cases:$lineno: unknown keyword '$key'" ;;
    esac
done <"$cases"

total=${#names[@]}
((total > 0)) || die "no cases in $cases"

# ---------------------------------------------------------------------------------------------
# Compare

# OpenSSL's verdict as an RFC 8460 result type (for the finer, informational comparison):
# no usable record at all -> tlsa-invalid; X509_V_ERR_CERT_NOT_YET_VALID (9), _HAS_EXPIRED (10)
# and the bad-time-field errors (13, 14) -> certificate-expired; _HOSTNAME_MISMATCH (62) ->
# certificate-host-mismatch; _DANE_NO_MATCH (65) -> tlsa-invalid; anything else ->
# certificate-not-trusted.
ossl_type() {
    local v=${PV[openssl:$1]:-missing} d=${PD[openssl:$1]:-} e
    [[ $v == ok || $v == missing ]] && { printf '%s' "$v"; return; }
    if [[ $d == *"records added 0,"* ]]; then
        printf 'tlsa-invalid'
        return
    fi
    e=${d#err=}
    e=${e%% *}
    case $e in
        9 | 10 | 13 | 14) printf 'certificate-expired' ;;
        62) printf 'certificate-host-mismatch' ;;
        65) printf 'tlsa-invalid' ;;
        *) printf 'certificate-not-trusted' ;;
    esac
}
mx_fail=0 unexplained=0
declare -A agree=() diffs=()
for p in "${peer_list[@]}"; do agree[$p]=0; diffs[$p]=0; done

mx_auth() { [[ ${MV[$1]} == ok ]] && echo ok || echo fail; }

for n in "${names[@]}"; do
    if [[ ${MV[$n]} == "${EXP[$n]}" && (-z ${EXPU[$n]} || ${MU[$n]} == "${EXPU[$n]}") ]]; then
        MOK[$n]=1
    else
        MOK[$n]=0
        mx_fail=$((mx_fail + 1))
    fi
done

# note for case n: which peers differ from mxtls, and why
case_note() {
    local n=$1 p parts=() mv
    mv=$(mx_auth "$n")
    if ((MOK[$n] == 0)); then
        parts+=("MXTLS WRONG: expected ${EXP[$n]} usable ${EXPU[$n]}, got ${MV[$n]} usable ${MU[$n]}")
    fi
    for p in "${peer_list[@]}"; do
        local pv=${PV[$p:$n]:-missing}
        if [[ $pv == "$mv" ]]; then
            if [[ $p == openssl && $pv == fail && $(ossl_type "$n") != "${MV[$n]}" ]]; then
                parts+=("openssl rejects too, as $(ossl_type "$n") (info)")
            fi
            if [[ $p == openssl && -n ${ORECDIFF[$n]:-} ]]; then
                parts+=("openssl RECORDS DIFFER: ${ORECDIFF[$n]}")
            fi
            continue
        fi
        local k=${KNOWN[$p:$n]:-}
        if [[ -n $k ]]; then
            parts+=("$p ${k%%:*}")
        else
            parts+=("$p UNEXPLAINED")
        fi
    done
    if ((${#parts[@]} == 0)); then
        printf 'all agree'
    else
        local IFS=';'
        printf '%s' "${parts[*]}" | sed 's/;/; /g'
    fi
}

for n in "${names[@]}"; do
    mv=$(mx_auth "$n")
    for p in "${peer_list[@]}"; do
        if [[ ${PV[$p:$n]:-missing} == "$mv" ]]; then
            agree[$p]=$((agree[$p] + 1))
        else
            diffs[$p]=$((diffs[$p] + 1))
            [[ -z ${KNOWN[$p:$n]:-} ]] && unexplained=$((unexplained + 1))
        fi
    done
done

# record-level: does OpenSSL accept (SSL_dane_tlsa_add > 0) exactly the records that mxtls
# considers well-formed and assigned (usable, or set aside only by agility or by the SMTP ban on
# usages 0/1)?
declare -A ORECDIFF=()
rec_total=0 rec_agree=0 type_both=0 type_same=0
if has_peer openssl; then
    for n in "${names[@]}"; do
        orec=${PD[openssl:$n]##*recs=}
        mrec=${MREC[$n]}
        [[ ${PD[openssl:$n]:-} == *recs=* ]] || orec=""
        ((${#orec} == ${#mrec})) || { ORECDIFF[$n]="count differs (mxtls ${#mrec}, openssl ${#orec})"; continue; }
        bad=""
        for ((k = 0; k < ${#mrec}; k++)); do
            rec_total=$((rec_total + 1))
            mc=${mrec:k:1} oc=${orec:k:1}
            if [[ ($mc != 0 && $oc == +) || ($mc == 0 && $oc != +) ]]; then
                rec_agree=$((rec_agree + 1))
            else
                bad+="${bad:+, }rec$((k + 1)) mxtls:$mc openssl:$oc"
            fi
        done
        [[ -n $bad ]] && ORECDIFF[$n]=$bad
        if [[ ${MV[$n]} != ok && ${PV[openssl:$n]:-} == fail ]]; then
            type_both=$((type_both + 1))
            [[ $(ossl_type "$n") == "${MV[$n]}" ]] && type_same=$((type_same + 1))
        fi
    done
fi

pcol() {
    if ! has_peer "$1"; then
        printf 'n/a'
    elif [[ $1 == openssl ]]; then
        ossl_type "$2"
    else
        printf '%s' "${PV[$1:$2]:-missing}"
    fi
}

if ((tap)); then
    printf 'TAP version 13\n1..%d\n' "$total"
    i=0
    for n in "${names[@]}"; do
        i=$((i + 1))
        st=ok
        ((MOK[$n])) || st="not ok"
        desc="$n: expect ${EXP[$n]}, mxtls ${MV[$n]} (usable ${MU[$n]}); openssl $(pcol openssl "$n"), libdane $(pcol libdane "$n"); $(case_note "$n")"
        printf '%s %d - %s\n' "$st" "$i" "${desc//#/}"
        if ((MOK[$n] == 0)); then
            printf '  ---\n  expected: "%s usable %s"\n  got: "%s usable %s"\n  reason: "%s"\n  note: "%s"\n  ...\n' \
                "${EXP[$n]}" "${EXPU[$n]}" "${MV[$n]}" "${MU[$n]}" "${MR[$n]//\"/\'}" "${NOTE[$n]//\"/\'}"
        fi
    done
else
    row() { printf '%-42s %-26s %-26s %-26s %-8s %s\n' "$@"; }
    row case expected mxtls openssl libdane "agreement note"
    row "----" "--------" "-----" "-------" "-------" "--------------"
    for n in "${names[@]}"; do
        row "$n" "${EXP[$n]}" "${MV[$n]}" "$(pcol openssl "$n")" "$(pcol libdane "$n")" "$(case_note "$n")"
    done
fi

# details of every disagreement, as comments
printf '#\n# Disagreements with mxtls (peer detail, then the classification):\n'
for n in "${names[@]}"; do
    mv=$(mx_auth "$n")
    for p in "${peer_list[@]}"; do
        pv=${PV[$p:$n]:-missing}
        if [[ $pv != "$mv" ]] || ((verbose)); then
            printf '#   %-40s %-8s mxtls %s, %s %s: %s\n' "$n" "$p" "${MV[$n]}" "$p" "$pv" "${PD[$p:$n]:-no output for this case}"
            [[ $pv != "$mv" ]] && printf '#   %-40s %-8s   -> %s\n' "" "" "${KNOWN[$p:$n]:-UNEXPLAINED: not in the KNOWN table of run-dane-diff.sh}"
        fi
    done
done

printf '#\n'
for p in openssl libdane; do
    if has_peer "$p"; then
        printf '# %s agrees on %d of %d cases (%s)\n' "$p" "${agree[$p]}" "$total" "${peer_version[$p]:-?}"
    else
        printf '# %s: not run\n' "$p"
    fi
done
if has_peer openssl; then
    printf '# openssl gives the same RFC 8460 result type on %d of the %d cases both reject\n' "$type_same" "$type_both"
    printf '# openssl accepts (SSL_dane_tlsa_add) the same records mxtls finds well-formed: %d of %d records\n' "$rec_agree" "$rec_total"
fi
printf '# mxtls matches the expected verdict on %d of %d cases\n' "$((total - mx_fail))" "$total"
((unexplained)) && printf '# %d peer disagreement(s) are not explained in the KNOWN table\n' "$unexplained"

((mx_fail == 0)) || exit 1
((strict && unexplained)) && exit 1
exit 0
