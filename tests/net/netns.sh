#!/usr/bin/env bash
# netns.sh -- create / remove / enter the network namespace of a hermetic test.
#
#   netns.sh up   NAME          create NAME (if missing) and bring up its lo;
#                               all of 127.0.0.0/8 and ::1 are then usable
#   netns.sh down NAME          kill every process still inside NAME, remove it
#   netns.sh exec NAME CMD...   run CMD inside NAME
#
# "up" and "down" are idempotent.  Needs root (CAP_SYS_ADMIN) and iproute2.
set -euo pipefail

prog=${0##*/}

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

usage() {
    printf 'usage: %s up|down NAME\n       %s exec NAME CMD...\n' "$prog" "$prog" >&2
    exit 2
}

check_name() {
    [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || die "bad namespace name: '$1'"
}

exists() {
    [[ -e /run/netns/$1 ]]
}

# PIDs of the processes whose network namespace is NAME (one per line).
ns_pids() {
    ip netns pids "$1" 2>/dev/null || true
}

cmd_up() {
    local name=$1
    if ! exists "$name"; then
        ip netns add "$name" || die "ip netns add $name failed"
    fi
    ip -n "$name" link set dev lo up || die "cannot bring up lo in $name"
}

cmd_down() {
    local name=$1 pids i
    exists "$name" || return 0

    # Polite first, then forceful.  PIDs come from the kernel's view of the
    # namespace, so only processes that are inside it are ever signalled.
    for sig in TERM KILL; do
        mapfile -t pids < <(ns_pids "$name")
        ((${#pids[@]} == 0)) && break
        kill "-$sig" "${pids[@]}" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            mapfile -t pids < <(ns_pids "$name")
            ((${#pids[@]} == 0)) && break 2
            sleep 0.1
        done
    done
    mapfile -t pids < <(ns_pids "$name")
    ((${#pids[@]} == 0)) || printf '%s: warning: processes left in %s: %s\n' \
        "$prog" "$name" "${pids[*]}" >&2

    if ! ip netns delete "$name" 2>/dev/null && exists "$name"; then
        die "ip netns delete $name failed"
    fi
}

(($# >= 2)) || usage
action=$1 name=$2
shift 2
check_name "$name"
command -v ip >/dev/null || die "ip (iproute2) not found"

case $action in
up)
    (($# == 0)) || usage
    cmd_up "$name"
    ;;
down)
    (($# == 0)) || usage
    cmd_down "$name"
    ;;
exec)
    (($# >= 1)) || usage
    exists "$name" || die "no such network namespace: $name"
    exec ip netns exec "$name" "$@"
    ;;
*)
    usage
    ;;
esac
