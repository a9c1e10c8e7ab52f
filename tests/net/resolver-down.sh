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

# started_here PID: its command line names this WORKDIR's unbound.conf.
started_here() { cmdline_has "$1" "$workdir/resolver/unbound.conf"; }

stop_daemons "$prog" unbound is_unbound "$netns" started_here "$workdir/resolver/unbound.pid"
