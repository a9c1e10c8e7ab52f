#!/usr/bin/env bash
# dns-down.sh NETNS WORKDIR -- stop the nsd instance(s) started by dns-up.sh.
#
# Stops every live nsd process that runs inside NETNS or was started with a
# config file under WORKDIR/ (found through the pid files there).  Safe to
# call twice, and after dns-up.sh failed half-way.  WORKDIR is left alone.
set -euo pipefail

prog=${0##*/}
(($# == 2)) || {
    printf 'usage: %s NETNS WORKDIR\n' "$prog" >&2
    exit 2
}
netns=$1 workdir=$2

# is_nsd PID: PID is a live (not zombie) nsd process.  nsd renames its
# processes "nsd: main", "nsd: xfrd", "nsd: server N".
is_nsd() {
    local comm stat
    comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
    [[ $comm == nsd || $comm == 'nsd:'* ]] || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# started_from_workdir PID: its command line names a config in WORKDIR
# (guards against a stale pid file whose pid was reused).
started_from_workdir() {
    local cmdline
    cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *" $workdir/"*nsd.conf* ]]
}

pids=()
for pidfile in "$workdir"/nsd*/nsd.pid; do
    [[ -r $pidfile ]] || continue
    pid=""
    read -r pid <"$pidfile" || true
    if [[ $pid =~ ^[0-9]+$ ]] && is_nsd "$pid" && started_from_workdir "$pid"; then
        pids+=("$pid")
    fi
done
if [[ -e /run/netns/$netns ]]; then
    while read -r pid; do
        if [[ $pid =~ ^[0-9]+$ ]] && is_nsd "$pid"; then
            pids+=("$pid")
        fi
    done < <(ip netns pids "$netns" 2>/dev/null || true)
fi
((${#pids[@]})) || exit 0

kill -TERM "${pids[@]}" 2>/dev/null || true
alive=()
for ((i = 0; i < 50; i++)); do
    alive=()
    for pid in "${pids[@]}"; do
        if is_nsd "$pid"; then
            alive+=("$pid")
        fi
    done
    ((${#alive[@]})) || exit 0
    sleep 0.1
done
printf '%s: nsd (%s) ignored SIGTERM, killing\n' "$prog" "${alive[*]}" >&2
kill -KILL "${alive[@]}" 2>/dev/null || true
