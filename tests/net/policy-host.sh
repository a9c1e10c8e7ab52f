#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# policy-host.sh WORKDIR NAME down|error|serve FILE|restore -- change what the MTA-STS policy
# host mta-sts.NAME.sts.test answers, while https-up.sh's nginx runs (used by mxtls-lab's
# phased scenarios).
#
#   down      every request gets its connection closed without an answer (nginx's 444): the
#             fetch fails after the TLS handshake, as with a host that is unreachable
#   error     every request gets "503 Service Unavailable"
#   serve F   the policy body becomes the content of F ("-": standard input)
#   restore   back to the body https-up.sh wrote, no flag
# "down" and "error" work only for the hosts https-up.sh makes switchable (tofu, fetchfail,
# idchange, idsame, maxage): their nginx location tests for the flag files
# WORKDIR/https/www/NAME/.lab-down and .lab-error.  nginx reads the body and the flags at each
# request, so a change takes effect at once, without a reload.
set -euo pipefail

prog=${0##*/}
die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}
usage() {
    printf 'usage: %s WORKDIR NAME down|error|serve FILE|restore\n' "$prog" >&2
    exit 2
}

(($# >= 3)) || usage
root=$1/https/www/$2
state=$3
body=$root/.well-known/mta-sts.txt
[[ $2 =~ ^[a-z0-9-]+$ ]] || die "bad policy host name '$2'"
[[ -f $body ]] || die "no policy body $body (is https-up.sh running for $1?)"
# The first change keeps the original body for restore.
[[ -f $root/.lab-original ]] || cp -- "$body" "$root/.lab-original"

case $state in
down) : >"$root/.lab-down" ;;
error) : >"$root/.lab-error" ;;
serve)
    (($# == 4)) || usage
    # a new file renamed over the old one: a request never reads half a body
    if [[ $4 == - ]]; then
        cat >"$body.new"
    else
        cat -- "$4" >"$body.new"
    fi
    mv -f -- "$body.new" "$body"
    ;;
restore)
    rm -f -- "$root/.lab-down" "$root/.lab-error"
    cp -- "$root/.lab-original" "$body.new"
    mv -f -- "$body.new" "$body"
    ;;
*) usage ;;
esac
