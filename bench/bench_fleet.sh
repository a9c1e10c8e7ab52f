#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_fleet.sh [options] MXTLS BENCH_POLICYD -- fleet mode (issue 20): policyd with the Redis
# backend against the local backend and against postfix-mta-sts-resolver's redis cache, and the
# fleet-wide count of cold MTA-STS policy fetches.
#
# Runs inside the test network, started as
#     bash tests/net/run-with-dns.sh --https --pre bench/bench_fleet_zones.sh \
#         bash bench/bench_fleet.sh BUILD/cli/mxtls BUILD/bench/bench_policyd
# (meson test --benchmark bench-fleet does exactly this).  The domains are
# dNNNNNN.fleet.sts.test (bench_fleet_zones.sh: one wildcard gives each an MX, an _mta-sts TXT
# and a policy host mta-sts.dNNNNNN.fleet.sts.test); this script issues their certificates
# (100 names per certificate, from the test CA) and serves their policy from an nginx of its
# own on 127.0.44.7:443, whose access log counts the HTTPS policy fetches.  A redis-server on
# 127.0.0.1:6391 is the fleet's shared store (database 0 for mxtls, 1 for the peer).
#
# Part A, answers/s and latency, on K domains d(N+1) ... d(N+K) (default K = 2 000):
#   servers: mxtls-local (policyd, local SQLite cache only), mxtls-redis (policyd with
#   shared-store = redis://127.0.0.1:6391/0; in A1 and A2 also shared-store-key, so that its
#   answers are shared, sealed), peer-redis (postfix-mta-sts-resolver's
#   mta-sts-daemon with cache type redis, redis://127.0.0.1:6391/1, through
#   tests/net/peer-resolver.sh and bench_policyd_peer.sh: log level info, cache_grace 3600);
#   servers on CPU 1, the load generator on CPU 0 (2 CPUs or more);
#   A1 cold, nobody has the policy: each server answers the K domains once (16 connections x 16
#      in flight): every answer needs an HTTPS fetch;
#   A2 warm: the timed runs of bench_policyd (-c connections x -d in flight, -r rounds of -t
#      seconds, interleaved), every server answering from its cache;
#   A3 cold for this member: a fresh server of each kind (empty state, new process) answers the
#      K domains once, while Redis holds the policies A1 stored: mxtls-local must fetch,
#      mxtls-redis takes the policy from Redis (its decision still does its own DNS),
#      mxtls-sealed (with shared-store-key) takes the whole answer A1's member shared,
#      peer-redis answers from Redis (its only cache).
# Part B, the fleet-wide cold-fetch count, on N domains d000001 ... (default N = 100 000),
#   three policyd members (no pinning), for each backend (redis: the three share
#   redis://127.0.0.1:6391/0; local: the control, no sharing):
#   spread:     three passes; pass 1 sends each domain to a random member, pass 2 to another
#               one, pass 3 to the remaining one (the members work at the same time, each on
#               its own share: 8 connections x 8 in flight each);
#   concurrent: fresh members and an empty Redis; all three members get all N domains, in the
#               same order, at the same time (the same domain reaches all three within
#               milliseconds: the worst case for sharing).
#   Printed per pass: answers, time, fetches (nginx's access log), fetches per domain; per
#   variant the histogram of fetches per domain and the keys in Redis.
#
# Options:
#   -n N        Part B domains (default 100000; 0 skips Part B)
#   -k K        Part A domains (default 2000; 0 skips Part A)
#   -t SECONDS  Part A: measured time per server and connection count (default 6), split into
#   -r ROUNDS   rounds (default 3), interleaved across the servers; the median round counts
#   -c LIST     Part A connection counts (default 1,16)
#   -d N        Part A requests in flight per connection (default 8)
#   -L          Part B: skip the local backend (the control)
# A benchmark: it exits 0 whatever the figures, 77 when it cannot run here, 1 when a server
# cannot be started or the load generator sees protocol errors.
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
net=$(cd "$here/../tests/net" && pwd)

nb=100000 na=2000 secs=6 rounds=3 conns=1,16 depth=8 local_b=1
while getopts 'n:k:t:r:c:d:Lh' o; do
    case $o in
    n) nb=$OPTARG ;;
    k) na=$OPTARG ;;
    t) secs=$OPTARG ;;
    r) rounds=$OPTARG ;;
    c) conns=$OPTARG ;;
    d) depth=$OPTARG ;;
    L) local_b=0 ;;
    *)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
        exit 2
        ;;
    esac
done
shift $((OPTIND - 1))
(($# == 2)) || {
    printf 'usage: %s [-n N] [-k K] [-t S] [-r N] [-c LIST] [-d N] [-L] MXTLS BENCH_POLICYD\n' "$prog" >&2
    exit 2
}
mxtls=$1 bp=$2
[[ $nb =~ ^[0-9]+$ && $na =~ ^[0-9]+$ ]] || { printf '%s: -n and -k take numbers\n' "$prog" >&2; exit 2; }
((nb + na <= 999999)) || { printf '%s: at most 999 999 domains in all\n' "$prog" >&2; exit 2; }

skip() {
    printf 'SKIP: %s\n' "$*"
    exit 77
}
die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}
[[ -n ${MXTLS_TEST_WORKDIR:-} && -n ${MXTLS_TEST_NETNS:-} && -n ${MXTLS_TEST_PKI_DIR:-} ]] ||
    skip "run inside the test network: tests/net/run-with-dns.sh --https --pre bench/bench_fleet_zones.sh bash $0 ..."
grep -q '^\*\.fleet ' "$MXTLS_TEST_WORKDIR/zones.d/sts.test.zone" 2>/dev/null ||
    skip "the fleet domains are missing: run-with-dns.sh needs --pre bench/bench_fleet_zones.sh"
[[ -x $mxtls ]] || die "no such program: $mxtls"
[[ -x $bp ]] || die "no such program: $bp"
for tool in redis-server redis-cli openssl nginx; do
    command -v "$tool" >/dev/null || skip "$tool not installed (tools/install-deps.sh)"
done
"$mxtls" store status --help >/dev/null 2>&1 || skip "$mxtls has no fleet mode (mxtls store status)"

W=$MXTLS_TEST_WORKDIR
B=$W/bench-fleet
H=$B/https
mkdir -p "$B" "$H"
t_begin=$EPOCHREALTIME
REDIS_PORT=6391
REDIS_MX=redis://127.0.0.1:$REDIS_PORT/0
REDIS_PEER=redis://127.0.0.1:$REDIS_PORT/1
POLICY_ADDR=127.0.44.7
ANSWER="OK secure match=mx1.fleet.sts.test servername=hostname"
srv=() gen=()
if (($(nproc) >= 2)); then
    srv=(taskset -c 1)
    gen=(taskset -c 0)
fi

have_peer=1 why_no_peer=""
if [[ ! -x /usr/bin/mta-sts-daemon ]]; then
    have_peer=0 why_no_peer="/usr/bin/mta-sts-daemon not installed (Debian package postfix-mta-sts-resolver)"
elif [[ ! -x /usr/sbin/unbound ]]; then
    have_peer=0 why_no_peer="/usr/sbin/unbound not installed (its resolver)"
elif ! /usr/bin/python3 -c 'import aioredis; aioredis.from_url' 2>/dev/null &&
    ! /usr/bin/python3 -c 'import redis.asyncio' 2>/dev/null; then
    have_peer=0 why_no_peer="its redis cache needs aioredis >= 2 or python3-redis (redis.asyncio)"
fi

declare -A pid_of=()
nginx_pid="" redis_pid="" peers=() resolver_up=0
# shellcheck disable=SC2317  # invoked from the trap
cleanup() {
    local rc=$? n p
    trap - EXIT
    for n in "${!pid_of[@]}"; do
        kill "${pid_of[$n]}" 2>/dev/null && wait "${pid_of[$n]}" 2>/dev/null
    done
    for p in "${peers[@]}"; do bash "$net/peer-resolver.sh" stop "$p" || true; done
    ((resolver_up)) && { bash "$net/resolver-down.sh" "$MXTLS_TEST_NETNS" "$W" || true; }
    [[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    [[ -n $redis_pid ]] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
    exit "$rc"
}
trap cleanup EXIT

since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
field() { # field KEY LINE: the value of KEY=... in a run line
    tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print substr($0, length(k) + 2); exit }'
}
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
fetches() { # the HTTPS policy fetches nginx answered so far
    awk '$3 == "/.well-known/mta-sts.txt" && $4 == 200' "$H/access.log" 2>/dev/null | wc -l
}
domains() { # domains FIRST COUNT: dNNNNNN.fleet.sts.test, one a line
    (($2 > 0)) && seq -f 'd%06g.fleet.sts.test' "$1" $(($1 + $2 - 1))
    return 0
}
load() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------- policy hosts
# One certificate per 100 domains: d000001..d000099 in c0000, d000100..d000199 in c0001, ...
# (a name d<4 digits><2 digits> is in c<4 digits>, so nginx picks the certificate by a regex
# on the SNI name).  About 3.5 kB each, the size of a certificate with a few dozen names.
issue_certs() {
    local total=$1 c
    mkdir -p "$H/certs"
    # openssl, not certtool: certtool's templates take at most 128 dns_name lines.
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$H/certs/fleet.key" \
        2>>"$H/openssl.log"
    openssl req -new -key "$H/certs/fleet.key" -subj "/CN=mta-sts fleet" -out "$H/certs/fleet.csr" \
        2>>"$H/openssl.log"
    for ((c = 0; c <= total / 100; c++)); do
        awk -v c="$c" -v total="$total" 'BEGIN {
            printf "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n"
            printf "extendedKeyUsage = serverAuth\nsubjectAltName = "
            first = c * 100; if (first < 1) first = 1
            last = c * 100 + 99; if (last > total) last = total
            for (i = first; i <= last; i++) printf "%sDNS:mta-sts.d%06d.fleet.sts.test", (i > first ? "," : ""), i
            printf "\n" }' >"$H/certs/ext"
        openssl x509 -req -in "$H/certs/fleet.csr" -CA "$MXTLS_TEST_PKI_DIR/ca.pem" \
            -CAkey "$MXTLS_TEST_PKI_DIR/ca.key" -CAcreateserial -CAserial "$H/certs/serial" \
            -days 3650 -sha256 -extfile "$H/certs/ext" -out "$(printf '%s/certs/c%04d.pem' "$H" "$c")" \
            2>>"$H/openssl.log" || { tail "$H/openssl.log" >&2; die "openssl failed for certificate $c"; }
    done
}

start_nginx() {
    local total=$1 c
    mkdir -p "$H/www" "$H/tmp"
    # RFC 8461 §3.2: the policy; mx1.fleet.sts.test is every domain's MX host.
    printf 'version: STSv1\nmode: enforce\nmx: mx1.fleet.sts.test\nmax_age: 86400\n' >"$H/www/mta-sts.txt"
    {
        cat <<EOF
# generated by bench/bench_fleet.sh -- the policy hosts mta-sts.dNNNNNN.fleet.sts.test
daemon off;
master_process on;
worker_processes 1;
user root root;
pid $H/nginx.pid;
error_log $H/error.log warn;
events { worker_connections 4096; }
http {
    log_format fleet '\$msec \$ssl_server_name \$uri \$status';
    access_log $H/access.log fleet;
    client_body_temp_path $H/tmp/body;
    proxy_temp_path $H/tmp/proxy;
    fastcgi_temp_path $H/tmp/fastcgi;
    uwsgi_temp_path $H/tmp/uwsgi;
    scgi_temp_path $H/tmp/scgi;
    server_tokens off;
    keepalive_timeout 10;
    types { }
    default_type text/plain;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen $POLICY_ADDR:443 ssl default_server;
        server_name "";
        ssl_certificate $MXTLS_TEST_PKI_DIR/default.pem;
        ssl_certificate_key $MXTLS_TEST_PKI_DIR/default.key;
        return 421;
    }
EOF
        for ((c = 0; c <= total / 100; c++)); do
            printf '    server {\n        listen %s:443 ssl;\n' "$POLICY_ADDR"
            printf '        server_name "~^mta-sts\\.d%04d[0-9]{2}\\.fleet\\.sts\\.test$";\n' "$c"
            printf '        ssl_certificate %s/certs/c%04d.pem;\n' "$H" "$c"
            printf '        ssl_certificate_key %s/certs/fleet.key;\n' "$H"
            printf '        location = /.well-known/mta-sts.txt { alias %s/www/mta-sts.txt; }\n' "$H"
            printf '        location / { return 404; }\n    }\n'
        done
        printf '}\n'
    } >"$H/nginx.conf"
    nginx -t -q -p "$H/" -c "$H/nginx.conf" -e "$H/error.log" 2>"$H/nginx-t.log" || {
        cat "$H/nginx-t.log" >&2
        die "nginx -t rejected $H/nginx.conf"
    }
    nginx -p "$H/" -c "$H/nginx.conf" -e "$H/error.log" </dev/null >"$H/nginx.out" 2>&1 &
    nginx_pid=$!
    for ((c = 0; c < 200; c++)); do
        (exec 3<>"/dev/tcp/$POLICY_ADDR/443") 2>/dev/null && return 0
        kill -0 "$nginx_pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$H/nginx.out" "$H/error.log" >&2 2>/dev/null || true
    die "nginx does not accept connections on $POLICY_ADDR:443"
}

start_redis() {
    local i
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$B" \
        --logfile "$B/redis.log" </dev/null >/dev/null 2>&1 &
    redis_pid=$!
    for ((i = 0; i < 200; i++)); do
        [[ $(rcli PING 2>/dev/null) == PONG ]] && return 0
        sleep 0.05
    done
    cat "$B/redis.log" >&2 2>/dev/null || true
    die "redis-server does not answer on 127.0.0.1:$REDIS_PORT"
}

# ---------------------------------------------------------------- members
# start_member NAME PORT local|redis|sealed [PIN...]: mxtls policyd with an empty state
# directory; sealed: redis, and answers shared with the fleet's key (shared-store-key).
start_member() {
    local name=$1 port=$2 backend=$3 i
    shift 3
    rm -rf "${B:?}/$name"
    mkdir -p "$B/$name"
    : >"$B/$name.conf"
    [[ $backend != local ]] && printf 'shared-store = %s\n' "$REDIS_MX" >"$B/$name.conf"
    if [[ $backend == sealed ]]; then
        [[ -f $B/fleet.key ]] || { head -c 32 /dev/urandom | base64 >"$B/fleet.key"; chmod 600 "$B/fleet.key"; }
        printf 'shared-store-key = %s\n' "$B/fleet.key" >>"$B/$name.conf"
    fi
    # --sts-refresh 0: no proactive refresh, so every fetch counted is a cold one.
    "$@" "$mxtls" --config "$B/$name.conf" --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" \
        --ca-file "$MXTLS_TEST_CA_FILE" --state-dir "$B/$name" policyd --listen "127.0.0.1:$port" \
        --min-ttl 3600 --sts-refresh 0 </dev/null 2>"$B/$name.log" &
    pid_of[$name]=$!
    for ((i = 0; i < 3000; i++)); do
        grep -q 'event=ready' "$B/$name.log" 2>/dev/null && return 0
        kill -0 "${pid_of[$name]}" 2>/dev/null || break
        sleep 0.01
    done
    cat "$B/$name.log" >&2
    die "policyd $name did not get ready"
}
stop_member() {
    kill -TERM "${pid_of[$1]}" 2>/dev/null || true
    wait "${pid_of[$1]}" 2>/dev/null || true
    unset "pid_of[$1]"
}
# start_peer DIR PORT: the peer with its redis cache (database 1), its files in DIR.
start_peer() {
    mkdir -p "$1"
    cp "$W/resolv.conf" "$1/resolv.conf"
    MXTLS_TEST_PEER_DAEMON=$here/bench_policyd_peer.sh \
        "${srv[@]}" bash "$net/peer-resolver.sh" start "$1" "$2" redis "$REDIS_PEER" 2>>"$B/peers.log"
    peers+=("$1")
}
stop_peer() { bash "$net/peer-resolver.sh" stop "$1"; }
peer_pid() { cat "$1/peer-resolver/daemon.pid"; }

# once LABEL=ADDR@PID FILE COUNT ANSWERS: every domain of FILE once; prints the run line.
once() {
    "${gen[@]}" "$bp" -s "$1" -f "$2" -n "$3" -c 16 -d 16 -T 120 -a "$4" || {
        printf 'once %s: the load generator failed\n' "$1" >&2
        return 1
    }
}
# answers_summary FILE: the distinct answers and their counts
answers_summary() {
    cut -d' ' -f3- "$1" | sort | uniq -c | sort -rn | head -3 |
        awk '{ c = $1; $1 = ""; printf "%s%d x \"%s\"", (NR > 1 ? ", " : ""), c, substr($0, 2) }'
}
us() { awk -v v="$1" 'BEGIN { if (v < 1000) printf "%.0f us", v; else printf "%.2f ms", v / 1000 }'; }
row_once() { # row_once LABEL LINE FETCHES: one row of a one-pass table
    printf '%-14s %7s %8s %9s %9s %9s %8s %6s %5s %6s\n' "$1" "$(field answers "$2")" \
        "$(field seconds "$2")" "$(field rate "$2")" "$(us "$(field p50_us "$2")")" \
        "$(us "$(field p99_us "$2")")" "$3" "$(field udp "$2")" "$(field temp "$2")" \
        "$(field srv_cpu_us "$2")"
}
head_once() {
    printf '%-14s %7s %8s %9s %9s %9s %8s %6s %5s %6s\n' server answers seconds answers/s p50 p99 \
        fetches udp temp cpu_us
}

# ---------------------------------------------------------------- set-up
printf 'bench_fleet: fleet mode, policyd with the Redis backend against the local backend and postfix-mta-sts-resolver'"'"'s redis cache; fleet-wide cold fetches\n'
printf 'machine: %s CPUs (%s), load %s at the start; %s; %s\n' "$(nproc)" \
    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" "$(load)" \
    "$("$mxtls" --version 2>&1 | head -1)" "$(redis-server --version | cut -d' ' -f1-3)"
t0=$EPOCHREALTIME
issue_certs $((nb + na))
start_nginx $((nb + na))
start_redis
printf 'policy hosts: %s domains, %s certificates of up to 100 names (%s s), nginx on %s:443; redis-server on 127.0.0.1:%s (no persistence)\n' \
    $((nb + na)) $(((nb + na) / 100 + 1)) "$(since "$t0" "$EPOCHREALTIME")" "$POLICY_ADDR" "$REDIS_PORT"
if ((have_peer && na > 0)); then
    bash "$net/resolver-up.sh" "$MXTLS_TEST_NETNS" "$W"
    resolver_up=1
    printf 'peer: postfix-mta-sts-resolver %s, cache type redis (%s), log level info, cache_grace 3600 s; aioredis %s%s\n' \
        "$(dpkg-query -W -f '${Version}' postfix-mta-sts-resolver 2>/dev/null || echo '?')" "$REDIS_PEER" \
        "$(/usr/bin/python3 -c 'import aioredis; print(aioredis.__version__)' 2>/dev/null || echo none)" \
        "$(/usr/bin/python3 -c 'import aioredis; aioredis.from_url' 2>/dev/null ||
            printf ' (no from_url: run with redis.asyncio from python3-redis %s in its place, see tests/net/peer-resolver.sh)' \
                "$(/usr/bin/python3 -c 'import redis; print(redis.__version__)')")"
elif ((na > 0)); then
    printf 'peer left out: %s\n' "$why_no_peer"
fi

# ---------------------------------------------------------------- Part A
if ((na > 0)); then
    domains $((nb + 1)) "$na" >"$B/a-domains.txt"
    printf '\n== Part A: answers/s and latency, %s domains d%06d..d%06d.fleet.sts.test (MTA-STS enforce, policy host of their own) ==\n' \
        "$na" $((nb + 1)) $((nb + na))
    rcli FLUSHALL >/dev/null
    start_member a-local 8470 local "${srv[@]}"
    start_member a-redis 8471 sealed "${srv[@]}"
    servers=("mxtls-local=127.0.0.1:8470@${pid_of[a-local]}" "mxtls-redis=127.0.0.1:8471@${pid_of[a-redis]}")
    if ((have_peer)); then
        start_peer "$B/peer-1" 8472
        servers+=("peer-redis=127.0.0.1:8472@$(peer_pid "$B/peer-1")")
    fi

    printf '\nA1. cold, nobody has the policy: each server answers every domain once (16 connections x 16 in flight), one server after the other; load %s\n' "$(load)"
    head_once
    for s in "${servers[@]}"; do
        f0=$(fetches)
        line=$(once "$s" "$B/a-domains.txt" "$na" "$B/a1-${s%%=*}.answers") || die "A1 ${s%%=*} failed"
        printf '%s\n' "$line" >>"$B/a1.out"
        row_once "${s%%=*}" "$line" $(($(fetches) - f0))
    done
    for s in "${servers[@]}"; do
        printf '  %s answers: %s\n' "${s%%=*}" "$(answers_summary "$B/a1-${s%%=*}.answers")"
    done
    printf '  Redis: %s keys mxtls:sts:* (database 0), %s keys in the peer'"'"'s database 1\n' \
        "$(rcli -n 0 --scan --pattern 'mxtls:sts:*' | wc -l)" "$(rcli -n 1 DBSIZE)"
    # A server whose fetch failed under that load (the peer's timeout is 4 s) did not cache the
    # policy: each server answers every domain once more, 4 x 4 in flight, so that A2 measures
    # cached answers only.
    printf '  top-up at 4 x 4 in flight (fetches what A1 left out):'
    for s in "${servers[@]}"; do
        f0=$(fetches)
        "${gen[@]}" "$bp" -s "$s" -f "$B/a-domains.txt" -n "$na" -c 4 -d 4 -T 120 \
            -a "$B/a1b-${s%%=*}.answers" >>"$B/a1b.out" || die "A1 top-up ${s%%=*} failed"
        printf ' %s %s fetches, %s not "%s";' "${s%%=*}" $(($(fetches) - f0)) \
            "$(cut -d' ' -f3- "$B/a1b-${s%%=*}.answers" | grep -vcF "$ANSWER" || true)" "${ANSWER%% match*}"
    done
    printf '\n'

    printf '\nA2. warm: every server has every domain cached; %s requests in flight per connection; %s rounds of 0.5 s warm-up + %s s per server and connection count, interleaved; load %s\n' \
        "$depth" "$rounds" "$(awk -v t="$secs" -v r="$rounds" 'BEGIN { print t / r }')" "$(load)"
    sargs=()
    for s in "${servers[@]}"; do sargs+=(-s "$s"); done
    f0=$(fetches)
    rc=0
    "${gen[@]}" "$bp" "${sargs[@]}" -f "$B/a-domains.txt" -c "$conns" -d "$depth" -r "$rounds" \
        -w 0.5 -t "$secs" >"$B/a2.out" || rc=$?
    ((rc == 0)) || { cat "$B/a2.out"; die "the load generator saw protocol errors (exit $rc)"; }
    awk '
        /^median / {
            delete f
            for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
            l = f["label"]; c = f["conns"]
            if (!(l in seen)) { seen[l] = 1; labels[++nl] = l }
            if (!(c in cs)) { cs[c] = 1; cl[++nc] = c }
            rate[l, c] = f["rate"]; p50[l, c] = f["p50_us"]; p99[l, c] = f["p99_us"]
            cpu[l, c] = f["srv_cpu_us"]; oth[l, c] = f["max_other_cpu_pct"]; spr[l, c] = f["spread"]
        }
        /^run / { for (i = 2; i <= NF; i++) { split($i, kv, "="); g[kv[1]] = kv[2] } udp[g["label"]] += g["udp"] }
        function us(v) { return v < 1000 ? sprintf("%.0f us", v) : sprintf("%.2f ms", v / 1000) }
        END {
            printf "%-5s %-12s %9s %7s %9s %9s %7s %9s %6s\n", "conns", "server", "answers/s", "spread", "p50", "p99", "cpu/ans", "vs local", "other"
            for (k = 1; k <= nc; k++) for (j = 1; j <= nl; j++) {
                l = labels[j]; c = cl[k]
                printf "%-5s %-12s %9.0f %6.0f%% %9s %9s %4.1f us %9.2f %5.0f%%\n", c, l, rate[l, c], spr[l, c] * 100, us(p50[l, c]), us(p99[l, c]), cpu[l, c], (rate[labels[1], c] > 0 ? rate[l, c] / rate[labels[1], c] : 0), oth[l, c]
            }
            printf "(median round; spread = (max - min) / median of the rounds'"'"' answers/s; vs local = answers/s / mxtls-local'"'"'s; cpu/ans = the server'"'"'s CPU per answer; other = the most CPU other processes took in a round, %% of one core)\n"
            printf "UDP datagrams (DNS) during the rounds:"
            for (j = 1; j <= nl; j++) printf " %s %d", labels[j], udp[labels[j]]
            printf "\n"
        }' "$B/a2.out"
    printf 'HTTPS policy fetches during the rounds: %s\n' $(($(fetches) - f0))

    for n in a-local a-redis; do stop_member "$n"; done
    ((have_peer)) && stop_peer "$B/peer-1"
    printf '\nA3. cold for this member: a fresh server of each kind (empty state directory, new process) answers every domain once while Redis holds the policies of A1 (16 x 16 in flight); load %s\n' "$(load)"
    start_member a-local-2 8473 local "${srv[@]}"
    start_member a-redis-2 8474 redis "${srv[@]}"
    start_member a-sealed-2 8476 sealed "${srv[@]}"
    servers=("mxtls-local=127.0.0.1:8473@${pid_of[a-local-2]}" "mxtls-redis=127.0.0.1:8474@${pid_of[a-redis-2]}"
        "mxtls-sealed=127.0.0.1:8476@${pid_of[a-sealed-2]}")
    if ((have_peer)); then
        start_peer "$B/peer-2" 8475
        servers+=("peer-redis=127.0.0.1:8475@$(peer_pid "$B/peer-2")")
    fi
    head_once
    for s in "${servers[@]}"; do
        f0=$(fetches)
        line=$(once "$s" "$B/a-domains.txt" "$na" "$B/a3-${s%%=*}.answers") || die "A3 ${s%%=*} failed"
        printf '%s\n' "$line" >>"$B/a3.out"
        row_once "${s%%=*}" "$line" $(($(fetches) - f0))
    done
    for s in "${servers[@]}"; do
        printf '  %s answers: %s\n' "${s%%=*}" "$(answers_summary "$B/a3-${s%%=*}.answers")"
    done
    # The members log at the default level (warning): info events such as fleet-policy-learned
    # are not written, so what a log can show here is what went wrong.
    for n in a-redis-2 a-sealed-2; do
        printf '  %s log: %s warnings, %s errors (fleet-answer-rejected: %s)\n' "$n" \
            "$(grep -c 'level=warning' "$B/$n.log" || true)" "$(grep -c 'level=error' "$B/$n.log" || true)" \
            "$(grep -c 'event=fleet-answer-rejected' "$B/$n.log" || true)"
    done
    printf '(fetches = HTTPS policy fetches in nginx'"'"'s access log during the pass; udp = UDP datagrams (DNS) sent in the namespace; cpu_us = the server'"'"'s CPU per answer)\n'
    for n in a-local-2 a-redis-2 a-sealed-2; do stop_member "$n"; done
    ((have_peer)) && stop_peer "$B/peer-2"
fi

# ---------------------------------------------------------------- Part B
# assign N: three files per pass, pass P's share of member M in $B/b-pP-mM.txt.  Pass 1: a
# random member per domain; pass 2: one of the two others; pass 3: the last one (seeded).
assign() {
    domains 1 "$1" | awk -v dir="$B" 'BEGIN { srand(20261206) }
        {
            a = int(rand() * 3); b = (a + 1 + int(rand() * 2)) % 3; c = 3 - a - b
            print > (dir "/b-p1-m" (a + 1) ".txt")
            print > (dir "/b-p2-m" (b + 1) ".txt")
            print > (dir "/b-p3-m" (c + 1) ".txt")
        }'
}
hist() { # hist FROM_LINE: fetches per domain in the access log from that line on
    tail -n +"$1" "$H/access.log" | awk '$3 == "/.well-known/mta-sts.txt" && $4 == 200 { n[$2]++ }
        END { for (d in n) h[n[d]]++; for (k = 1; k <= 9; k++) if (k in h) printf " %d fetch%s: %d domains;", k, (k > 1 ? "es" : ""), h[k] }'
}
# pass LABEL FILES...: member M gets FILE M (empty: nothing); the three run at once.
pass() {
    local label=$1 m f pids=() t0 t1 f0 n=0 lines temp=0 other=0 ans=0
    shift
    f0=$(fetches)
    t0=$EPOCHREALTIME
    for m in 1 2 3; do
        f=$1
        shift
        rm -f "$B/b-run-m$m.out" "$B/b-run-m$m.answers"
        [[ -s $f ]] || continue
        lines=$(wc -l <"$f")
        n=$((n + lines))
        "$bp" -s "m$m=127.0.0.1:$((8480 + m))@${pid_of[b-m$m]}" -f "$f" -n "$lines" -c 8 -d 8 -T 120 \
            -a "$B/b-run-m$m.answers" >"$B/b-run-m$m.out" &
        pids+=($!)
    done
    for m in "${pids[@]}"; do wait "$m" || die "$label: the load generator failed ($(cat "$B"/b-run-m*.out))"; done
    t1=$EPOCHREALTIME
    for m in 1 2 3; do
        [[ -s $B/b-run-m$m.out ]] || continue
        cat "$B/b-run-m$m.out" >>"$B/b.out"
        ans=$((ans + $(field answers "$(cat "$B/b-run-m$m.out")")))
        temp=$((temp + $(field temp "$(cat "$B/b-run-m$m.out")")))
        other=$((other + $(cut -d' ' -f3- "$B/b-run-m$m.answers" | grep -vcF "$ANSWER" || true)))
    done
    local fe=$(($(fetches) - f0))
    printf '%-8s %-38s %8s %8s %9s %8s %10s %6s %6s\n' "$backend" "$label" "$ans" \
        "$(since "$t0" "$t1")" "$(awk -v a="$ans" -v s="$(since "$t0" "$t1")" 'BEGIN { printf "%.0f", (s > 0 ? a / s : 0) }')" \
        "$fe" "$(awk -v f="$fe" -v n="$nb" 'BEGIN { printf "%.3f", f / n }')" "$temp" "$other"
}
variant_end() { # variant_end FROM_LINE T0
    printf '%-8s   total: %s fetches for %s domains, %s per domain, %s s; Redis keys mxtls:sts:* %s;%s\n' "$backend" \
        $(($(fetches) - v_f0)) "$nb" "$(awk -v f=$(($(fetches) - v_f0)) -v n="$nb" 'BEGIN { printf "%.3f", f / n }')" \
        "$(since "$2" "$EPOCHREALTIME")" "$(rcli -n 0 --scan --pattern 'mxtls:sts:*' | wc -l)" "$(hist "$1")"
}

if ((nb > 0)); then
    printf '\n== Part B: fleet-wide cold policy fetches, %s domains d000001..d%06d.fleet.sts.test over three policyd members ==\n' "$nb" "$nb"
    assign "$nb"
    backends=(redis)
    ((local_b)) && backends+=(local)
    printf '%-8s %-38s %8s %8s %9s %8s %10s %6s %6s\n' backend pass answers seconds answers/s fetches "per domain" temp "not OK"
    for backend in "${backends[@]}"; do
        # spread
        rcli FLUSHALL >/dev/null
        for m in 1 2 3; do start_member "b-m$m" $((8480 + m)) "$backend"; done
        v_l0=$(($(wc -l <"$H/access.log") + 1)) v_f0=$(fetches) v_t0=$EPOCHREALTIME
        printf '%-8s spread (load %s)\n' "$backend" "$(load)"
        pass "1: each domain to a random member" "$B/b-p1-m1.txt" "$B/b-p1-m2.txt" "$B/b-p1-m3.txt"
        pass "2: again, to another member" "$B/b-p2-m1.txt" "$B/b-p2-m2.txt" "$B/b-p2-m3.txt"
        pass "3: again, to the third member" "$B/b-p3-m1.txt" "$B/b-p3-m2.txt" "$B/b-p3-m3.txt"
        variant_end "$v_l0" "$v_t0"
        for m in 1 2 3; do stop_member "b-m$m"; done
        # concurrent
        rcli FLUSHALL >/dev/null
        for m in 1 2 3; do start_member "b-m$m" $((8480 + m)) "$backend"; done
        domains 1 "$nb" >"$B/b-all.txt"
        v_l0=$(($(wc -l <"$H/access.log") + 1)) v_f0=$(fetches) v_t0=$EPOCHREALTIME
        printf '%-8s concurrent (load %s)\n' "$backend" "$(load)"
        pass "all domains to all three at once" "$B/b-all.txt" "$B/b-all.txt" "$B/b-all.txt"
        variant_end "$v_l0" "$v_t0"
        for m in 1 2 3; do
            printf '%-8s   member %s log: %s warnings, %s errors\n' "$backend" "$m" \
                "$(grep -c 'level=warning' "$B/b-m$m.log" || true)" "$(grep -c 'level=error' "$B/b-m$m.log" || true)"
            stop_member "b-m$m"
        done
    done
    printf '(fetches = HTTPS policy fetches in nginx'"'"'s access log; per domain = fetches / %s; temp = TEMP answers; not OK = answers other than "%s"; each member 8 connections x 8 in flight, no pinning)\n' "$nb" "$ANSWER"
fi

printf '\nbench_fleet: done in %s s, load %s\n' "$(since "$t_begin" "$EPOCHREALTIME")" "$(load)"
