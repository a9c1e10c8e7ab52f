#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# postfix-down.sh NETNS WORKDIR -- stop the Postfix instance started by postfix-up.sh.
#
# The master named by WORKDIR/postfix/queue/pid/master.pid and every Postfix daemon inside
# NETNS whose environment names WORKDIR/postfix/etc (MAIL_CONFIG) get SIGTERM (what "postfix
# stop" sends the master, which also stops its children; "postfix stop" itself then polls once
# a second, which is slower), then SIGKILL after 5 s.  Safe to call twice, and after
# postfix-up.sh failed half-way.  WORKDIR/postfix (queue and log) is left alone.
set -euo pipefail

prog=${0##*/}
(($# == 2)) || {
    printf 'usage: %s NETNS WORKDIR\n' "$prog" >&2
    exit 2
}
netns=$1 workdir=$2
etc=$workdir/postfix/etc

# shellcheck source=tests/net/lib-procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-procs.sh"

# ours PID: a live Postfix daemon of this instance (its environment has MAIL_CONFIG=$etc).
ours() {
    proc_live "$1" master pickup qmgr cleanup tlsmgr trivial-rewrite bounce verify flush \
        proxymap smtp showq error discard local virtual lmtp anvil scache postlogd postfix-script ||
        return 1
    tr '\0' '\n' 2>/dev/null <"/proc/$1/environ" | grep -qxF "MAIL_CONFIG=$etc"
}

# always PID: the master.pid file is Postfix's own (ours already checks MAIL_CONFIG).
always() { :; }

stop_daemons "$prog" postfix ours "$netns" always "$workdir/postfix/queue/pid/master.pid"
