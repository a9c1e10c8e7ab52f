#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# peer-resolver.sh start WORKDIR PORT [internal|sqlite|redis URL]
# peer-resolver.sh stop WORKDIR
#
# Run postfix-mta-sts-resolver's daemon (Debian package postfix-mta-sts-resolver,
# /usr/bin/mta-sts-daemon), the peer that mxtls policyd is compared with, as a Postfix
# socketmap TLS policy server on 127.0.0.1:PORT in the CURRENT network namespace (call it
# inside the test network: from a CMD of run-with-dns.sh, or under ip netns exec).
#
# start:
#   1. writes WORKDIR/peer-resolver/mta-sts-daemon.yml: host 127.0.0.1, port PORT,
#      reuse_port true (1.1.2 crashes at start-up with "reuse_port: false": UnboundLocalError
#      'opts' in responder.py; so the script itself refuses a PORT that already accepts
#      connections, which SO_REUSEPORT would otherwise share silently), shutdown_timeout 1,
#      the cache type (default internal; sqlite keeps its database in
#      WORKDIR/peer-resolver/cache.db, removed at start; redis uses the Redis at URL, e.g.
#      redis://127.0.0.1:6391/1, which the caller runs and empties), no proactive fetching,
#      default_zone with strict_testing false, timeout 4 and require_sni true (the package
#      defaults), cache_grace left at its default (60 s),
#   2. starts the daemon in the background (stdin /dev/null, log level debug, its log in
#      WORKDIR/peer-resolver/daemon.log, its stdout/stderr in daemon.out, its pid in
#      daemon.pid) with
#        * DNS through the test network's validating resolver: it runs under
#          with-resolver.sh WORKDIR (so resolver-up.sh must have run; c-ares and glibc read
#          /etc/resolv.conf); the peer itself never checks DNSSEC,
#        * HTTPS trusting only the test CA: SSL_CERT_FILE=$MXTLS_TEST_CA_FILE (default
#          WORKDIR/pki/ca.pem) and SSL_CERT_DIR an empty directory (aiohttp uses
#          ssl.create_default_context(), i.e. OpenSSL's default paths, which honour both),
#        * no proxy variables (aiohttp would use https_proxy),
#        * for redis: the package's redis_cache.py calls the aioredis 2 API
#          (aioredis.from_url), but Debian 12 ships aioredis 1.3.1 (python3-aioredis), which
#          has no from_url, so the daemon exits at start-up (AttributeError in
#          cache.setup()).  aioredis 2 lives on as redis.asyncio in redis-py 4.2 and later
#          (Debian python3-redis 4.3.4): when the installed aioredis lacks from_url, the
#          script writes a two-line module aioredis.py that re-exports redis.asyncio into
#          WORKDIR/peer-resolver/aioredis-compat and puts that directory first on PYTHONPATH,
#   3. waits (up to 10 s) until 127.0.0.1:PORT accepts a TCP connection.
#   Starting again for the same WORKDIR stops the previous daemon first.
#
# stop: SIGTERM to the daemon of WORKDIR/peer-resolver/daemon.pid (if its command line names
#   that directory's mta-sts-daemon.yml), SIGKILL after 5 s.  Safe to call twice, or after a
#   failed start.  The files are kept.
#
# The daemon answers "postfix DOMAIN" socketmap queries, e.g.
#   postmap -c WORKDIR/postfix/etc -q enforce.sts.test socketmap:inet:127.0.0.1:PORT:postfix
# with "secure match=mx1.enforce.sts.test servername=hostname" (postmap prints the part after
# "OK "; it needs some Postfix config directory with a main.cf, e.g. postfix-up.sh's), or
# NOTFOUND.  Exit status: 0, 1 on failure (with a message and the log on stderr), 2 on a
# usage error.  Several daemons can run at once, one per WORKDIR (a WORKDIR only needs
# resolv.conf, copied from resolver-up.sh's, when MXTLS_TEST_CA_FILE is set).
#
# Environment: MXTLS_TEST_CA_FILE (above); MXTLS_TEST_PEER_DAEMON replaces
# /usr/bin/mta-sts-daemon: it is run as "DAEMON -c CONFIG -l LOGFILE -v debug --disable-uvloop"
# and must exec the real daemon with those arguments (edited as it likes), so that the pid
# stays the one in daemon.pid and the command line still names CONFIG.
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DAEMON=${MXTLS_TEST_PEER_DAEMON:-/usr/bin/mta-sts-daemon}

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}
usage() {
    printf 'usage: %s start WORKDIR PORT [internal|sqlite|redis URL]\n       %s stop WORKDIR\n' \
        "$prog" "$prog" >&2
    exit 2
}

# daemon_pid DIR: prints the pid of DIR's daemon if it is alive and really ours.
daemon_pid() {
    local pid="" cmd
    [[ -r $1/daemon.pid ]] || return 1
    read -r pid <"$1/daemon.pid" || true
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    [[ $cmd == *"$1/mta-sts-daemon.yml"* ]] || return 1
    printf '%s\n' "$pid"
}

# alive PID: the process exists and is not a zombie.
alive() {
    local st
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $st && $st != Z* ]]
}

cmd_stop() {
    local dir=$1/peer-resolver pid i
    pid=$(daemon_pid "$dir") || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        daemon_pid "$dir" >/dev/null || return 0
        sleep 0.1
    done
    printf '%s: mta-sts-daemon (%s) ignored SIGTERM, killing\n' "$prog" "$pid" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

# accepting PORT: 127.0.0.1:PORT accepts a TCP connection (closed at once).
accepting() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_start() {
    local workdir=$1 port=$2 cache=${3:-internal} url=${4:-} dir ca pid i pypath=()
    if ! [[ $port =~ ^[0-9]{1,5}$ ]] || ((port < 1 || port > 65535)); then
        die "bad port: $port"
    fi
    [[ $cache == internal || $cache == sqlite || $cache == redis ]] ||
        die "bad cache type: $cache (internal, sqlite or redis URL)"
    if [[ $cache == redis ]]; then
        [[ $url =~ ^redis://[A-Za-z0-9.:@/_-]+$ ]] || die "redis needs a URL redis://HOST:PORT/DB, got '$url'"
    else
        [[ -z $url ]] || usage
    fi
    [[ -x $DAEMON ]] || die "$DAEMON not found (Debian package postfix-mta-sts-resolver)"
    ca=${MXTLS_TEST_CA_FILE:-$workdir/pki/ca.pem}
    [[ -r $ca ]] || die "no CA file $ca (set MXTLS_TEST_CA_FILE, or run pki-up.sh)"
    [[ -r $workdir/resolv.conf ]] || die "no $workdir/resolv.conf: run resolver-up.sh first"

    dir=$workdir/peer-resolver
    cmd_stop "$workdir"
    if accepting "$port"; then
        die "127.0.0.1:$port is already in use"
    fi
    mkdir -p "$dir/no-ca-dir"
    rm -f "$dir/daemon.pid" "$dir/daemon.log" "$dir/cache.db"*
    {
        printf '# generated by tests/net/peer-resolver.sh (see man mta-sts-daemon.yml)\n'
        printf 'host: 127.0.0.1\nport: %s\nreuse_port: true\nshutdown_timeout: 1\n' "$port"
        printf 'proactive_policy_fetching:\n  enabled: false\n'
        printf 'cache:\n  type: %s\n  options:\n' "$cache"
        if [[ $cache == sqlite ]]; then
            printf '    filename: "%s"\n' "$dir/cache.db"
        elif [[ $cache == redis ]]; then
            printf '    url: "%s"\n' "$url"
        else
            printf '    cache_size: 10000\n'
        fi
        printf 'default_zone:\n  strict_testing: false\n  timeout: 4\n  require_sni: true\n'
    } >"$dir/mta-sts-daemon.yml"

    if [[ $cache == redis ]] && ! /usr/bin/python3 -c 'import aioredis; aioredis.from_url' 2>/dev/null; then
        /usr/bin/python3 -c 'import redis.asyncio; redis.asyncio.from_url' 2>/dev/null ||
            die "the peer's redis cache needs aioredis >= 2 or redis.asyncio (Debian package python3-redis)"
        mkdir -p "$dir/aioredis-compat"
        printf '# written by tests/net/peer-resolver.sh: the aioredis 2 API, as redis.asyncio keeps it\nfrom redis.asyncio import *  # noqa: F401,F403\nfrom redis.asyncio import Redis, from_url  # noqa: F401\n' \
            >"$dir/aioredis-compat/aioredis.py"
        pypath=(PYTHONPATH="$dir/aioredis-compat${PYTHONPATH:+:$PYTHONPATH}")
    fi

    # with-resolver.sh, unshare and sh all exec: $! is the daemon itself.
    env -u https_proxy -u HTTPS_PROXY -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY \
        SSL_CERT_FILE="$ca" SSL_CERT_DIR="$dir/no-ca-dir" ${pypath[@]+"${pypath[@]}"} \
        bash "$here/with-resolver.sh" "$workdir" \
        "$DAEMON" -c "$dir/mta-sts-daemon.yml" -l "$dir/daemon.log" -v debug --disable-uvloop \
        </dev/null >"$dir/daemon.out" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$dir/daemon.pid"

    for ((i = 0; i < 200; i++)); do
        if ! alive "$pid"; then
            cat "$dir/daemon.out" "$dir/daemon.log" >&2 2>/dev/null || true
            die "mta-sts-daemon exited at start-up (see $dir/daemon.log)"
        fi
        if daemon_pid "$dir" >/dev/null && accepting "$port"; then
            printf '%s: mta-sts-daemon (pid %s, cache %s) listening on 127.0.0.1:%s, files in %s\n' \
                "$prog" "$pid" "$cache" "$port" "$dir" >&2
            return 0
        fi
        sleep 0.05
    done
    cat "$dir/daemon.out" "$dir/daemon.log" >&2 2>/dev/null || true
    cmd_stop "$workdir"
    die "mta-sts-daemon does not accept connections on 127.0.0.1:$port (see $dir/daemon.log)"
}

(($# >= 2)) || usage
action=$1
[[ -d $2 ]] || die "no such directory: $2"
workdir=$(cd "$2" && pwd)
case $action in
start)
    (($# >= 3 && $# <= 5)) || usage
    cmd_start "$workdir" "$3" "${4:-internal}" "${5:-}"
    ;;
stop)
    (($# == 2)) || usage
    cmd_stop "$workdir"
    ;;
*) usage ;;
esac
