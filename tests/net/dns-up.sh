#!/usr/bin/env bash
# dns-up.sh NETNS WORKDIR -- build and start the hermetic test DNS.
#
# From the templates in tests/net/dns/ (see dns/zones.conf) this script
#   1. renders every zone into WORKDIR/zones/ (expanding {{DS child.}}),
#      appending WORKDIR/zones.d/<file> when a test supplied extra records,
#   2. generates fresh ECDSAP256SHA256 (algorithm 13) keys and signs the
#      zones with ldns-signzone, deepest first, so parents carry child DSes,
#   3. writes WORKDIR/nsd/nsd.conf and starts nsd inside NETNS on
#      127.0.53.1 port 53 (all zones), plus a second, zone-less nsd on
#      127.0.53.98 (WORKDIR/nsd-refused/) that answers REFUSED to everything
#      (target of the lame delegation refused.test.), and waits until both
#      answer,
#   4. writes WORKDIR/root.hints, WORKDIR/root.key (DS of the test root KSK)
#      and WORKDIR/unbound.conf for libunbound / unbound-host.
#
# NETNS must already exist (netns.sh up NETNS).  Stop with dns-down.sh.
# Running it again on the same NETNS and WORKDIR restarts from scratch
# (new keys).
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmpl_dir=${MXTLS_TEST_DNS_TEMPLATES:-$here/dns}

NS_ADDR=127.0.53.1        # the authoritative server for every zone
REFUSED_ADDR=127.0.53.98  # nsd without zones: REFUSED (refused.test.)
NS_PORT=53
ALG=ECDSAP256SHA256

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

(($# == 2)) || {
    printf 'usage: %s NETNS WORKDIR\n' "$prog" >&2
    exit 2
}
netns=$1
mkdir -p "$2"
workdir=$(cd "$2" && pwd)

[[ -e /run/netns/$netns ]] || die "no such network namespace: $netns"
for tool in ip nsd nsd-checkconf ldns-keygen ldns-key2ds ldns-signzone drill; do
    command -v "$tool" >/dev/null || die "$tool not found (see tests/net/README.md)"
done

# Stop what an earlier run in this NETNS / WORKDIR may have left running.
bash "$here/dns-down.sh" "$netns" "$workdir"

keys=$workdir/keys
zones=$workdir/zones
nsddir=$workdir/nsd
refdir=$workdir/nsd-refused
rm -rf "$keys" "$zones" "$nsddir" "$refdir"
mkdir -p "$keys" "$zones" "$nsddir" "$refdir"

# "secure.test." -> "secure.test", "." -> "root"
zone_base() {
    if [[ $1 == . ]]; then
        printf 'root'
    else
        printf '%s' "${1%.}"
    fi
}

# Number of labels of an absolute name ("." -> 0).
zone_depth() {
    local n=${1%.} dots
    [[ -z $n ]] && { printf '0'; return; }
    dots=${n//[^.]/}
    printf '%d' $((${#dots} + 1))
}

# ---------------------------------------------------------------- manifest
declare -A mode_of=()
manifest=()
while read -r zone mode extra; do
    [[ -z ${zone:-} || $zone == \#* ]] && continue
    [[ -z ${extra:-} ]] || die "zones.conf: trailing junk after '$zone $mode'"
    [[ $zone == *. ]] || die "zones.conf: zone '$zone' must end with a dot"
    case ${mode:-} in
    nsec | nsec3 | unsigned | bogus-ds | bogus-expired) ;;
    *) die "zones.conf: unknown mode '${mode:-}' for $zone" ;;
    esac
    [[ -f $tmpl_dir/$(zone_base "$zone").zone ]] ||
        die "missing template $tmpl_dir/$(zone_base "$zone").zone"
    mode_of[$zone]=$mode
    manifest+=("$(zone_depth "$zone") $zone")
done <"$tmpl_dir/zones.conf"
[[ -n ${mode_of[.]:-} ]] || die "zones.conf must list the root zone '.'"
[[ ${mode_of[.]} == nsec || ${mode_of[.]} == nsec3 ]] ||
    die "the root zone must be signed (mode nsec or nsec3)"

# Deepest zones first: a parent is rendered after all of its children.
mapfile -t order < <(printf '%s\n' "${manifest[@]}" | sort -s -k1,1nr | cut -d' ' -f2)

# ---------------------------------------------------------------- rendering
# render TEMPLATE OUT: copy, replacing lines "{{DS name.}}" by the DS RRset
# published for that child (keys/<base>.ds, written when it was signed).
render() {
    local in=$1 out=$2 line child ds
    : >"$out"
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ ^[[:space:]]*\{\{[[:space:]]*DS[[:space:]]+([^[:space:]}]+)[[:space:]]*\}\}[[:space:]]*$ ]]; then
            child=${BASH_REMATCH[1]}
            [[ $child == *. ]] || child=$child.
            ds=$keys/$(zone_base "$child").ds
            [[ -f $ds ]] || die "$in: {{DS $child}}: $child is not a signed zone in zones.conf"
            cat "$ds" >>"$out"
        elif [[ $line == *'{{'*'}}'* && ! $line =~ ^[[:space:]]*\; ]]; then
            die "$in: unknown placeholder in line: $line"
        else
            printf '%s\n' "$line" >>"$out"
        fi
    done <"$in"
}

# new_key ZONE [ksk] -> prints the key's path without extension
#
# ldns-keygen names a key K<zone>+<alg>+<key tag> and writes over a file of that name, so a
# zone's second key whose 16-bit tag equals its first's replaced the first (about 1 zone in
# 65 536; with a few thousand zones signed per test run, CI met it: a KSK silently became the
# ZSK and ldns-key2ds printed no DS). Each key is made in a directory of its own and kept only
# if its name is new; a clash draws another key.
new_key() {
    local base tmp i
    for ((i = 0; i < 8; i++)); do
        tmp=$(mktemp -d "$keys/.new.XXXXXX") || die "mktemp failed in $keys"
        base=$(cd "$tmp" && ldns-keygen -a "$ALG" ${2:+-k} "$1") ||
            die "ldns-keygen failed for $1"
        if [[ ! -e $keys/$base.key && ! -e $keys/$base.private ]]; then
            mv "$tmp/$base.key" "$tmp/$base.private" "$keys/" || die "cannot move $base to $keys"
            rm -rf "$tmp"
            printf '%s/%s' "$keys" "$base"
            return 0
        fi
        rm -rf "$tmp"
    done
    die "ldns-keygen gave 8 keys for $1 whose names clash with keys already made"
}

nsd_zones=""
for zone in "${order[@]}"; do
    mode=${mode_of[$zone]}
    base=$(zone_base "$zone")
    src=$zones/$base.zone
    render "$tmpl_dir/$base.zone" "$src"
    if [[ -f $workdir/zones.d/$base.zone ]]; then
        printf '\n; ---- appended from zones.d/%s.zone\n' "$base" >>"$src"
        render "$workdir/zones.d/$base.zone" "$src.extra"
        cat "$src.extra" >>"$src"
        rm -f "$src.extra"
    fi

    served=$base.zone
    if [[ $mode != unsigned ]]; then
        ksk=$(new_key "$zone" ksk)
        zsk=$(new_key "$zone")
        sign_opts=()
        case $mode in
        nsec3) sign_opts+=(-n -t 0) ;;
        bogus-expired) sign_opts+=(-i 20200101000000 -e 20200201000000) ;;
        esac
        ldns-signzone "${sign_opts[@]}" -o "$zone" -f "$zones/$base.zone.signed" \
            "$src" "$ksk" "$zsk" || die "ldns-signzone failed for $zone"
        served=$base.zone.signed

        dsfrom=$ksk
        if [[ $mode == bogus-ds ]]; then
            # A KSK that never signs anything: its DS matches no DNSKEY.
            dsfrom=$(new_key "$zone" ksk)
        fi
        ldns-key2ds -n -2 "$dsfrom.key" >"$keys/$base.ds" ||
            die "ldns-key2ds failed for $zone"
        [[ -s $keys/$base.ds ]] || die "no DS produced for $zone"
    fi
    nsd_zones+=$(printf '\nzone:\n    name: "%s"\n    zonefile: "%s"\n' "$zone" "$served")
done

# ---------------------------------------------------------------- nsd
# write_nsd_conf DIR ADDR [ZONE-CLAUSES]: WORKDIR-local nsd configuration.
write_nsd_conf() {
    cat >"$1/nsd.conf" <<EOF
# generated by tests/net/dns-up.sh
server:
    ip-address: $2
    port: $NS_PORT
    do-ip4: yes
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$zones"
    database: ""
    zonelistfile: "$1/zone.list"
    xfrdfile: "$1/xfrd.state"
    xfrdir: "$1"
    pidfile: "$1/nsd.pid"
    logfile: "$1/nsd.log"
    verbosity: 1
    hide-version: yes
    identity: "mxtls-test-dns"
    # No response rate limiting: every client is a test on loopback, and Debian's nsd limits
    # to 200 answers/s per /24 by default, which turned a benchmark's thousands of lookups of
    # one wildcard (bench/bench_fleet_zones.sh) into dropped answers and bogus results.
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0

remote-control:
    control-enable: no
${3:-}
EOF
    nsd-checkconf "$1/nsd.conf" || die "nsd-checkconf rejected $1/nsd.conf"
}

# start_nsd DIR: start nsd (it daemonizes) inside the namespace.
start_nsd() {
    ip netns exec "$netns" nsd -c "$1/nsd.conf" ||
        die "nsd failed to start; see $1/nsd.log"
}

# wait_answer ADDR EXPECT...: poll until "drill @ADDR . SOA" output contains
# every EXPECT string (at most 5 s).
wait_answer() {
    local addr=$1 out want ok i
    shift
    for ((i = 0; i < 100; i++)); do
        if out=$(ip netns exec "$netns" drill -p "$NS_PORT" @"$addr" . SOA 2>/dev/null); then
            ok=1
            for want in "$@"; do
                [[ $out == *"$want"* ]] || ok=0
            done
            ((ok)) && return 0
        fi
        sleep 0.05
    done
    return 1
}

write_nsd_conf "$nsddir" "$NS_ADDR" "$nsd_zones"
write_nsd_conf "$refdir" "$REFUSED_ADDR"
start_nsd "$nsddir"
start_nsd "$refdir"
wait_answer "$NS_ADDR" 'rcode: NOERROR' ' aa ' || {
    cat "$nsddir/nsd.log" >&2 2>/dev/null || true
    die "nsd in $netns does not answer on $NS_ADDR port $NS_PORT"
}
wait_answer "$REFUSED_ADDR" 'rcode: REFUSED' || {
    cat "$refdir/nsd.log" >&2 2>/dev/null || true
    die "nsd in $netns does not answer on $REFUSED_ADDR port $NS_PORT"
}

# ---------------------------------------------------------------- unbound
cat >"$workdir/root.hints" <<EOF
; root hints of the test network (generated by tests/net/dns-up.sh)
.              3600000  IN  NS  ns1.test.
ns1.test.      3600000  IN  A   $NS_ADDR
EOF

root_ksk_ds=$keys/root.ds
{
    printf '; trust anchor of the TEST root (generated by tests/net/dns-up.sh)\n'
    cat "$root_ksk_ds"
} >"$workdir/root.key"

cat >"$workdir/unbound.conf" <<EOF
# libunbound / unbound-host configuration for the hermetic test network
# (generated by tests/net/dns-up.sh).  Trusts ONLY the test root below.
server:
    directory: "$workdir"
    chroot: ""
    username: ""
    pidfile: ""
    use-syslog: no
    logfile: "$workdir/unbound.log"
    verbosity: 1
    val-log-level: 2

    module-config: "validator iterator"
    root-hints: "$workdir/root.hints"
    trust-anchor-file: "$workdir/root.key"

    # the test servers live on 127.0.0.0/8 inside the network namespace
    do-not-query-localhost: no
    # "test." is a built-in local zone (RFC 6761); resolve it for real
    local-zone: "test." nodefault

    # no RFC 8145 key tag queries to the test root
    trust-anchor-signaling: no
    # Cap the retransmit timeout: a server that does not answer (lame.test.)
    # is given up on after ~2 s instead of minutes.  nsd on loopback answers
    # in well under a millisecond.
    infra-cache-max-rtt: 1000
EOF

printf '%s: test DNS up in netns %s (nsd on %s and %s port %s), unbound.conf in %s\n' \
    "$prog" "$netns" "$NS_ADDR" "$REFUSED_ADDR" "$NS_PORT" "$workdir" >&2
