# SPDX-License-Identifier: MIT
# Shared by dns-down.sh, https-down.sh and smtp-down.sh (sourced): find and stop the test network's daemons.
# shellcheck shell=bash

# proc_live PID GLOB...: PID is a live (not zombie) process whose comm matches one of the globs.
proc_live() {
    local pid=$1 comm stat g
    shift
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    for g in "$@"; do
        # shellcheck disable=SC2053  # $g is a glob on purpose
        if [[ $comm == $g ]]; then
            stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
            stat=${stat##*) }
            [[ ${stat:0:1} != Z ]]
            return
        fi
    done
    return 1
}

# netns_pids NETNS PREDICATE: prints the pids inside NETNS for which "PREDICATE PID" holds.
netns_pids() {
    local netns=$1 pred=$2 pid
    [[ -e /run/netns/$netns ]] || return 0
    while read -r pid; do
        if [[ $pid =~ ^[0-9]+$ ]] && "$pred" "$pid"; then
            printf '%s\n' "$pid"
        fi
    done < <(ip netns pids "$netns" 2>/dev/null || true)
}

# stop_pids PROG NAME PREDICATE PID...: SIGTERM, up to 5 s for "PREDICATE PID" to stop holding,
# then SIGKILL for whatever is left (and a line on stderr saying so).
stop_pids() {
    local prog=$1 name=$2 pred=$3 pid i alive
    shift 3
    (($#)) || return 0
    kill -TERM "$@" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        alive=()
        for pid in "$@"; do
            if "$pred" "$pid"; then
                alive+=("$pid")
            fi
        done
        ((${#alive[@]})) || return 0
        sleep 0.1
    done
    printf '%s: %s (%s) ignored SIGTERM, killing\n' "$prog" "$name" "${alive[*]}" >&2
    kill -KILL "${alive[@]}" 2>/dev/null || true
}
