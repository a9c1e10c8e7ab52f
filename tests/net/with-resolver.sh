#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# with-resolver.sh WORKDIR CMD... -- run CMD with WORKDIR/resolv.conf as its /etc/resolv.conf.
#
# CMD runs in a new, private mount namespace (unshare -m, every mount private, so nothing
# propagates back) in which WORKDIR/resolv.conf (written by resolver-up.sh: the test network's
# validating resolver, 127.0.53.53, "options trust-ad") is bind-mounted over /etc/resolv.conf.
# The host's /etc/resolv.conf is never written and no mount is visible outside CMD.  Every
# process CMD starts (daemons included) inherits that view.  Use it inside the test network's
# namespace (ip netns exec, or a CMD of run-with-dns.sh), where 127.0.53.53 exists.
#
# Exit status: CMD's; 1 when the namespace or the mount cannot be made.  Needs root.
set -euo pipefail

prog=${0##*/}
die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

(($# >= 2)) || {
    printf 'usage: %s WORKDIR CMD...\n' "$prog" >&2
    exit 2
}
[[ -d $1 ]] || die "no such directory: $1"
rc=$(cd "$1" && pwd)/resolv.conf
shift
[[ -f $rc ]] || die "no $rc: run resolver-up.sh first"
# mount(2) follows a symbolic link: /etc/resolv.conf may be a link (systemd-resolved,
# resolvconf), but its target must exist to be mounted over.
[[ -e /etc/resolv.conf ]] || die "/etc/resolv.conf does not exist (or is a dangling link): nothing to mount over"
command -v unshare >/dev/null || die "unshare not found (util-linux)"

# The inner shell does the mount, then execs CMD; "$0" there is the resolv.conf path.
# shellcheck disable=SC2016  # expanded by the inner shell
exec unshare --mount --propagation private -- /bin/sh -c '
    mount --bind -- "$0" /etc/resolv.conf || exit 1
    exec "$@"
' "$rc" "$@"
