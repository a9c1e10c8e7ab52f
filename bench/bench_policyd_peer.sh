#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_policyd_peer.sh ARGS... -- the peer daemon as bench_policyd.sh runs it: it is
# MXTLS_TEST_PEER_DAEMON for tests/net/peer-resolver.sh, which calls it as
#     bench_policyd_peer.sh -c CONFIG -l LOGFILE -v debug --disable-uvloop
# and it execs /usr/bin/mta-sts-daemon with two changes for a fair benchmark:
#   * -v BENCH_PEER_VERBOSITY (default info, the package's default) instead of debug: at
#     debug the daemon logs six lines per request, which would be measured as its speed;
#   * cache_grace: BENCH_PEER_CACHE_GRACE (default 3600) appended to CONFIG (a file that
#     peer-resolver.sh writes afresh for every start): with the default of 60 s, a cached
#     policy older than 60 s costs a DNS TXT lookup on every request, so a run after the
#     first minute would no longer measure cache answers.
# It execs, so the daemon keeps the pid that peer-resolver.sh recorded.
set -euo pipefail
daemon=${BENCH_PEER_REAL_DAEMON:-/usr/bin/mta-sts-daemon}
args=()
while (($#)); do
    case $1 in
    -c | --config)
        printf '# added by bench/bench_policyd_peer.sh\ncache_grace: %s\n' \
            "${BENCH_PEER_CACHE_GRACE:-3600}" >>"$2"
        args+=("$1" "$2")
        shift 2
        ;;
    -v | --verbosity)
        args+=("$1" "${BENCH_PEER_VERBOSITY:-info}")
        shift 2
        ;;
    *)
        args+=("$1")
        shift
        ;;
    esac
done
exec "$daemon" "${args[@]}"
