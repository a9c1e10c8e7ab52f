#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tlsrpt-down.sh NETNS WORKDIR -- stop the collector started by tlsrpt-up.sh.
#
# Stops the tlsrpt-collector.py named by WORKDIR/tlsrpt/collector.pid (if its command line
# names WORKDIR/tlsrpt) and every tlsrpt-collector.py process still inside NETNS.  Safe to call
# twice, and after tlsrpt-up.sh failed half-way.  WORKDIR is left alone.
set -euo pipefail

prog=${0##*/}
(($# == 2)) || {
    printf 'usage: %s NETNS WORKDIR\n' "$prog" >&2
    exit 2
}
netns=$1 workdir=$2

# shellcheck source=tests/net/lib-procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-procs.sh"

# is_collector PID: a live python process running tlsrpt-collector.py.
is_collector() { proc_live "$1" 'python3*' && cmdline_has "$1" '/tlsrpt-collector.py '; }

# started_here PID: its command line names this WORKDIR's tlsrpt directory.
started_here() { cmdline_has "$1" " $workdir/tlsrpt "; }

# SIGTERM: the collector closes its listeners and exits.
stop_daemons "$prog" tlsrpt-collector.py is_collector "$netns" started_here \
    "$workdir/tlsrpt/collector.pid"
