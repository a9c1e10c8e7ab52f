#!/usr/bin/env bash
# dns-down.sh NETNS WORKDIR -- stop the nsd started by dns-up.sh.
#
# Stops the nsd whose pid is in WORKDIR/nsd/nsd.pid, plus any other nsd
# process still running inside NETNS.  Safe to call twice, and when dns-up.sh
# failed half-way.  WORKDIR itself is left alone.
set -euo pipefail

prog=${0##*/}
(($# == 2)) || {
    printf 'usage: %s NETNS WORKDIR\n' "$prog" >&2
    exit 2
}
netns=$1 workdir=$2

is_nsd() {
    [[ -r /proc/$1/comm && $(cat "/proc/$1/comm" 2>/dev/null) == nsd ]]
}

pids=()
pidfile=$workdir/nsd/nsd.pid
if [[ -r $pidfile ]]; then
    read -r pid <"$pidfile" || true
    if [[ ${pid:-} =~ ^[0-9]+$ ]] && is_nsd "$pid"; then
        pids+=("$pid")
    fi
fi
if [[ -e /run/netns/$netns ]]; then
    while read -r pid; do
        [[ $pid =~ ^[0-9]+$ ]] && is_nsd "$pid" && pids+=("$pid")
    done < <(ip netns pids "$netns" 2>/dev/null || true)
fi
((${#pids[@]})) || exit 0

kill -TERM "${pids[@]}" 2>/dev/null || true
for ((i = 0; i < 50; i++)); do
    alive=()
    for pid in "${pids[@]}"; do
        is_nsd "$pid" && alive+=("$pid")
    done
    ((${#alive[@]})) || exit 0
    sleep 0.1
done
printf '%s: nsd (%s) ignored SIGTERM, killing\n' "$prog" "${alive[*]}" >&2
kill -KILL "${alive[@]}" 2>/dev/null || true
