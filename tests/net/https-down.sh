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

# shellcheck source=tests/net/lib-procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-procs.sh"

# is_nginx PID: a live nginx process (master and workers keep the comm "nginx").
is_nginx() { proc_live "$1" nginx; }

# started_here PID: its command line names this WORKDIR's nginx.conf.
started_here() { cmdline_has "$1" "$workdir/https/nginx.conf"; }

# SIGTERM is nginx's fast shutdown (the master stops its workers).
stop_daemons "$prog" nginx is_nginx "$netns" started_here "$workdir/https/nginx.pid"
