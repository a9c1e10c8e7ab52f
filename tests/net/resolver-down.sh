#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# resolver-down.sh NETNS WORKDIR -- stop the recursive resolver started by resolver-up.sh.
#
# Stops the unbound named by WORKDIR/resolver/unbound.pid (if its command line names
# WORKDIR/resolver/unbound.conf) and every other unbound daemon inside NETNS.  Safe to call
# twice, and after resolver-up.sh failed half-way.  WORKDIR (resolv.conf included) is left
# alone.
set -euo pipefail

prog=${0##*/}
(($# == 2)) || {
    printf 'usage: %s NETNS WORKDIR\n' "$prog" >&2
    exit 2
}
netns=$1 workdir=$2

# shellcheck source=tests/net/lib-procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-procs.sh"

# is_unbound PID: a live unbound daemon (comm "unbound"; libunbound users have their own).
is_unbound() { proc_live "$1" unbound; }

pids=()
pidfile=$workdir/resolver/unbound.pid
if [[ -r $pidfile ]]; then
    pid=""
    read -r pid <"$pidfile" || true
    if [[ $pid =~ ^[0-9]+$ ]] && is_unbound "$pid" &&
        [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$workdir/resolver/unbound.conf"* ]]; then
        pids+=("$pid")
    fi
fi
while read -r pid; do
    [[ " ${pids[*]} " == *" $pid "* ]] || pids+=("$pid")
done < <(netns_pids "$netns" is_unbound)
stop_pids "$prog" unbound is_unbound "${pids[@]}"
