#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netns-ipv4.sh up|down NETNS -- give the namespace NETNS an IPv4 address that is not loopback
# (or take it away again).
#
# Some resolvers decide from the host's interfaces whether IPv4 is usable at all, in the
# manner of getaddrinfo's AI_ADDRCONFIG, which ignores loopback: OpenSMTPD's libasr finds no
# MX in a namespace that holds only lo (measured with Debian 12's OpenSMTPD 6.8.0p2: every
# domain is deferred with "No MX found for domain").  `up` adds a veth pair inside NETNS,
# labv0 with 192.0.2.1/24 and labv1 with 192.0.2.2/24 (TEST-NET-1, RFC 5737), both up.  Both
# ends stay in NETNS: nothing is routed anywhere else, and the lab's addresses (127.0.0.0/8)
# are unchanged.  `down` deletes the pair (deleting one end deletes both).  Both are idempotent.
# Needs root and iproute2.
set -euo pipefail

prog=${0##*/}

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

if (($# != 2)) || [[ $1 != up && $1 != down ]]; then
    printf 'usage: %s up|down NETNS\n' "$prog" >&2
    exit 2
fi
action=$1 netns=$2
[[ -e /run/netns/$netns ]] || die "no such network namespace: $netns"

if [[ $action == down ]]; then
    if ip -n "$netns" link show labv0 >/dev/null 2>&1; then
        ip -n "$netns" link delete labv0
    fi
    exit 0
fi

if ! ip -n "$netns" link show labv0 >/dev/null 2>&1; then
    ip -n "$netns" link add labv0 type veth peer name labv1
    ip -n "$netns" address add 192.0.2.1/24 dev labv0
    ip -n "$netns" address add 192.0.2.2/24 dev labv1
fi
ip -n "$netns" link set labv0 up
ip -n "$netns" link set labv1 up
