# SPDX-License-Identifier: MIT
# Shared by the *-down.sh scripts (sourced): find and stop the test network's daemons.
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

# cmdline_has PID TEXT: PID's command line (arguments joined by spaces) contains TEXT.
cmdline_has() {
    [[ $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) == *"$2"* ]]
}

# stop_daemons PROG NAME PREDICATE NETNS OWNED PIDFILE...: stops the daemons "PREDICATE PID"
# accepts: the ones named by the PID files (only when "OWNED PID" also holds, so that a stale
# file whose pid was reused is not trusted) and every other one still inside NETNS.
stop_daemons() {
    local prog=$1 name=$2 pred=$3 netns=$4 owned=$5 pidfile pid
    shift 5
    local pids=()
    for pidfile in "$@"; do
        [[ -r $pidfile ]] || continue
        pid=""
        read -r pid <"$pidfile" || true
        if [[ $pid =~ ^[0-9]+$ ]] && "$pred" "$pid" && "$owned" "$pid"; then
            pids+=("$pid")
        fi
    done
    while read -r pid; do
        [[ " ${pids[*]} " == *" $pid "* ]] || pids+=("$pid")
    done < <(netns_pids "$netns" "$pred")
    stop_pids "$prog" "$name" "$pred" "${pids[@]}"
}
