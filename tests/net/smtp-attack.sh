#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# smtp-attack.sh WORKDIR on|off|MODE ADDR... -- switch the on-path attacker per listener.
#
# "on" (the same as MODE strip) creates WORKDIR/smtp/attack/ADDR, "off" removes it; ADDR
# "all" means every listener of WORKDIR/smtp/receivers.conf.  The receiver reads the switch
# when it ACCEPTS a connection: while it is on, new connections to ADDR get an EHLO reply
# without STARTTLS (the command gets 502 5.5.1), and their mail is stored under
# WORKDIR/smtp/captured/ with "attacker": true in received.jsonl.  Connections already open
# are not affected.  The other MODEs (the file holds the mode; smtp-receiver.py, "ATTACKS"):
#   intercept        STARTTLS completed with the attacker's certificate (right names, a root
#                    nobody trusts); the mail is captured
#   intercept-labca  the same with a test-CA certificate for another name (attacker.test)
#   inject           a plaintext "550" line sent with the "220 Ready to start TLS" reply
#   reply454, reply554, garbage   STARTTLS answered 454, 554, or with a line that is no reply
# Works inside or outside the namespace (it only touches files).
set -euo pipefail

prog=${0##*/}
usage() {
    printf 'usage: %s WORKDIR on|off|MODE ADDR...|all\n' "$prog" >&2
    exit 2
}
die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

(($# >= 3)) || usage
dir=$1/smtp
mode=$2
shift 2
case $mode in
on) mode='strip' ;;
off | strip | intercept | intercept-labca | inject | reply454 | reply554 | garbage) ;;
*) usage ;;
esac
conf=$dir/receivers.conf
[[ -r $conf ]] || die "no $conf (is smtp-up.sh running for $1?)"
mapfile -t known < <(awk '!/^#/ && NF { print $1 }' "$conf")

targets=()
for a in "$@"; do
    if [[ $a == all ]]; then
        targets+=("${known[@]}")
        continue
    fi
    a=${a#[}
    a=${a%]}
    [[ " ${known[*]} " == *" $a "* ]] || die "$a is not a listener in $conf"
    targets+=("$a")
done

mkdir -p "$dir/attack"
for a in "${targets[@]}"; do
    if [[ $mode == off ]]; then
        rm -f -- "$dir/attack/$a"
    else
        printf '%s\n' "$mode" >"$dir/attack/$a.new"
        mv -f -- "$dir/attack/$a.new" "$dir/attack/$a"
    fi
done
