#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# smtp-down.sh NETNS WORKDIR -- stop the SMTP receiver started by smtp-up.sh.
#
# Stops the smtp-receiver.py named by WORKDIR/smtp/receiver.pid (if its command line names
# WORKDIR/smtp/) and every smtp-receiver.py process still inside NETNS.  Safe to call twice,
# and after smtp-up.sh failed half-way.  WORKDIR is left alone.
set -euo pipefail

prog=${0##*/}
(($# == 2)) || {
    printf 'usage: %s NETNS WORKDIR\n' "$prog" >&2
    exit 2
}
netns=$1 workdir=$2

# shellcheck source=tests/net/lib-procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-procs.sh"

cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }

# is_receiver PID: a live python process running smtp-receiver.py.
is_receiver() {
    proc_live "$1" 'python3*' && [[ $(cmdline "$1") == *'/smtp-receiver.py '* ]]
}

pids=()
pidfile=$workdir/smtp/receiver.pid
if [[ -r $pidfile ]]; then
    pid=""
    read -r pid <"$pidfile" || true
    if [[ $pid =~ ^[0-9]+$ ]] && is_receiver "$pid" &&
        [[ $(cmdline "$pid") == *" $workdir/smtp"* ]]; then
        pids+=("$pid")
    fi
fi
while read -r pid; do
    [[ " ${pids[*]} " == *" $pid "* ]] || pids+=("$pid")
done < <(netns_pids "$netns" is_receiver)
# SIGTERM: the receiver closes its listeners and connections and exits.
stop_pids "$prog" smtp-receiver.py is_receiver "${pids[@]}"
