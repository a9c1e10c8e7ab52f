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

# is_receiver PID: a live python process running smtp-receiver.py.
is_receiver() { proc_live "$1" 'python3*' && cmdline_has "$1" '/smtp-receiver.py '; }

# started_here PID: its command line names this WORKDIR's smtp directory.
started_here() { cmdline_has "$1" " $workdir/smtp"; }

# SIGTERM: the receiver closes its listeners and connections and exits.
stop_daemons "$prog" smtp-receiver.py is_receiver "$netns" started_here "$workdir/smtp/receiver.pid"
