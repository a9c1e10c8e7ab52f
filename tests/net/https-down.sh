#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# https-down.sh NETNS WORKDIR -- stop the nginx started by https-up.sh.
#
# Stops the nginx named by WORKDIR/https/nginx.pid (if its command line names
# WORKDIR/https/nginx.conf) and every nginx process still inside NETNS.  Safe to
# call twice, and after https-up.sh failed half-way.  WORKDIR is left alone.
set -euo pipefail

prog=${0##*/}
(($# == 2)) || {
    printf 'usage: %s NETNS WORKDIR\n' "$prog" >&2
    exit 2
}
netns=$1 workdir=$2

# is_nginx PID: a live (not zombie) nginx process ("nginx: master process ...",
# "nginx: worker process" keep the comm "nginx").
is_nginx() {
    local comm stat
    comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
    [[ $comm == nginx ]] || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

pids=()
pidfile=$workdir/https/nginx.pid
if [[ -r $pidfile ]]; then
    pid=""
    read -r pid <"$pidfile" || true
    if [[ $pid =~ ^[0-9]+$ ]] && is_nginx "$pid" &&
        [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$workdir/https/nginx.conf"* ]]; then
        pids+=("$pid")
    fi
fi
if [[ -e /run/netns/$netns ]]; then
    while read -r pid; do
        if [[ $pid =~ ^[0-9]+$ ]] && is_nginx "$pid"; then
            pids+=("$pid")
        fi
    done < <(ip netns pids "$netns" 2>/dev/null || true)
fi
((${#pids[@]})) || exit 0

# SIGTERM is nginx's fast shutdown (the master stops its workers).
kill -TERM "${pids[@]}" 2>/dev/null || true
alive=()
for ((i = 0; i < 50; i++)); do
    alive=()
    for pid in "${pids[@]}"; do
        if is_nginx "$pid"; then
            alive+=("$pid")
        fi
    done
    ((${#alive[@]})) || exit 0
    sleep 0.1
done
printf '%s: nginx (%s) ignored SIGTERM, killing\n' "$prog" "${alive[*]}" >&2
kill -KILL "${alive[@]}" 2>/dev/null || true
