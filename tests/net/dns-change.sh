#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dns-change.sh NETNS WORKDIR set|forge ZONE NAME TYPE RDATA
# dns-change.sh NETNS WORKDIR restore ZONE NAME TYPE
#     -- change one RRset of a zone that dns-up.sh serves, while it runs (mxtls-lab's phased
#        scenarios).
#
#   set      NAME TYPE becomes the one record RDATA (its TTL kept), and the zone is signed
#            again with the keys dns-up.sh made (WORKDIR/keys/: the DS in the parent stays
#            valid): a legitimate change, e.g. a new MTA-STS id
#   forge    the record's data is replaced in the signed zone and its RRSIG kept: what an
#            on-path attacker who rewrites the answer achieves; a validator finds it bogus
#            (SERVFAIL), e.g. policy discovery blocked
#   restore  the zone as dns-up.sh signed it (NAME TYPE: the RRset changed); it does not wait
#            for nsd to answer it again (the lab restores after its last use of the name)
# NAME is absolute (with the final dot); RDATA as drill prints it ("\"v=STSv1; id=B;\"": the
# quotes are part of a TXT record's data).  nsd re-reads the zone on SIGHUP (it compares the
# file's mtime); set and forge return once nsd answers with the new data (at most 5 s, about
# 0.3-0.5 s measured).  Resolvers that cached the old RRset keep it
# for its TTL: give the records that change a short one (dns/sts.test.zone uses 1 s).
# Only zones signed with mode nsec (dns/zones.conf) can be set.
set -euo pipefail

prog=${0##*/}
NS_ADDR=127.0.53.1
die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}
usage() {
    printf 'usage: %s NETNS WORKDIR set|forge ZONE NAME TYPE RDATA\n' "$prog" >&2
    printf '       %s NETNS WORKDIR restore ZONE NAME TYPE\n' "$prog" >&2
    exit 2
}

(($# >= 6)) || usage
netns=$1
workdir=$2
op=$3
zone=${4%.}.
name=$5
type=${6^^}
rdata=${7:-}
[[ $name == *. ]] || die "NAME must be absolute (end with a dot): $name"
case $op in
set | forge) (($# == 7)) || usage ;;
restore) (($# == 6)) || usage ;;
*) usage ;;
esac

base=${zone%.}
signed=$workdir/zones/$base.zone.signed
[[ -f $signed ]] || die "no signed zone $signed (is dns-up.sh running for $workdir?)"
[[ -f $signed.lab-original ]] || cp -p -- "$signed" "$signed.lab-original"

# records NAME TYPE FILE: the data of NAME's TYPE records (not their RRSIGs), one a line
records() {
    awk -v n="$1" -v t="$2" 'tolower($1) == tolower(n) && $3 == "IN" && $4 == t {
        $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }' "$3"
}

case $op in
restore)
    cp -- "$signed.lab-original" "$signed.new"
    ;;
forge)
    [[ -n $(records "$name" "$type" "$signed") ]] || die "$name $type is not in $signed"
    awk -v n="$name" -v t="$type" -v r="$rdata" 'BEGIN { OFS = "\t" }
        tolower($1) == tolower(n) && $3 == "IN" && $4 == t { print $1, $2, $3, $4, r; next }
        { print }' "$signed" >"$signed.new"
    ;;
set)
    ttl=$(awk -v n="$name" -v t="$type" 'tolower($1) == tolower(n) && $3 == "IN" && $4 == t {
        print $2; exit }' "$signed.lab-original")
    [[ -n $ttl ]] || die "$name $type is not in $signed"
    mode=$(awk -v z="$zone" '$1 == z { print $2 }' "$(dirname "$0")/dns/zones.conf")
    [[ $mode == nsec ]] || die "$zone is signed with mode '${mode:-?}': only nsec zones can be set"
    # The zone without its DNSSEC records, the RRset replaced, signed with the zone's keys.
    keys=()
    for k in "$workdir"/keys/K"$zone"+*.key; do
        keys+=("${k%.key}")
    done
    ((${#keys[@]} == 2)) || die "want the zone's 2 keys in $workdir/keys, found ${#keys[@]}"
    awk -v n="$name" -v t="$type" -v r="$rdata" -v ttl="$ttl" 'BEGIN { OFS = "\t" }
        $4 ~ /^(RRSIG|NSEC|NSEC3|NSEC3PARAM|DNSKEY)$/ { next }
        tolower($1) == tolower(n) && $3 == "IN" && $4 == t {
            if (!done) print n, ttl, "IN", t, r
            done = 1
            next
        }
        { print }' "$signed" >"$signed.src"
    ldns-signzone -o "$zone" -f "$signed.new" "$signed.src" "${keys[@]}" ||
        die "ldns-signzone failed for $zone"
    rm -f -- "$signed.src"
    ;;
esac
want=$(records "$name" "$type" "$signed.new" | head -n 1)

# nsd reloads a zone whose file's mtime changed: make sure it did, even within one second.
old=$(stat -c %Y "$signed")
now=$(date +%s)
mv -f -- "$signed.new" "$signed"
touch -d "@$((now > old ? now : old + 1))" "$signed"
pid=$(cat "$workdir/nsd/nsd.pid")
kill -HUP "$pid"
[[ $op == restore ]] && exit 0
for ((i = 0; i < 100; i++)); do
    out=$(ip netns exec "$netns" drill -p 53 @"$NS_ADDR" "$name" "$type" 2>/dev/null || true)
    [[ $out == *"$want"* ]] && exit 0
    sleep 0.05
done
die "nsd does not answer $name $type with the new data ($want)"
