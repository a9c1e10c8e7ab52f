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

# shellcheck source=tests/net/lib-procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-procs.sh"

# is_nsd PID: a live nsd process.  nsd renames its processes "nsd: main", "nsd: xfrd",
# "nsd: server N".
is_nsd() { proc_live "$1" nsd 'nsd:*'; }

# started_from_workdir PID: its command line names a config in WORKDIR
# (guards against a stale pid file whose pid was reused).
started_from_workdir() {
    local cmdline
    cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *" $workdir/"*nsd.conf* ]]
}

stop_daemons "$prog" nsd is_nsd "$netns" started_from_workdir "$workdir"/nsd*/nsd.pid
