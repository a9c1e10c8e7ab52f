#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_policyd.sh [options] MXTLS BENCH_POLICYD -- mxtls policyd against postfix-mta-sts-resolver
#
# Runs inside the test network, started as
#     bash tests/net/run-with-dns.sh --https --pre bench/bench_policyd_zones.sh \
#         bash bench/bench_policyd.sh BUILD/cli/mxtls BUILD/bench/bench_policyd
# (meson test --benchmark bench-policyd does exactly this).  In one run it
#   1. starts `mxtls policyd` (state directory WORKDIR/bench-policyd/state, --min-ttl 3600 so
#      that the test zones' 300 s TTLs do not expire answers during the run), the peer
#      postfix-mta-sts-resolver's mta-sts-daemon twice (internal cache and SQLite cache,
#      through tests/net/peer-resolver.sh, with DNS through tests/net/resolver-up.sh's
#      validating resolver; bench_policyd_peer.sh sets its log level to info and its
#      cache_grace to 3600 s), and a trivial socketmap server (bench_policyd -Z) that answers
#      without any work: the ceiling of what the load generator can measure;
#   2. warms every cache with the MTA-STS domains of sts.test. that have enforce or testing
#      policies, then keeps the domains that every server answers without TEMP and from its
#      cache (no UDP datagram in the namespace while asking it once more);
#   3. runs the load generator (bench_policyd) at -c connections with -d requests in flight
#      each, the servers interleaved per connection count, the same load against the trivial
#      server, and prints the tables;
#   4. fills policyd's cache with -n domains d000001.bulk.sts.test ... (bench_policyd_zones.sh),
#      each asked once, and prints the time and policyd's VmHWM / VmRSS; the same domains
#      through the peer (internal cache) for its RSS;
#   5. stops policyd (SIGTERM, which persists the cache), starts it again on the same state
#      directory and reads all -n domains back: time from exec to the first accepted
#      connection, to `event=ready`, to the first and to the last answer, and the UDP datagrams
#      sent meanwhile (0 or a few: answered from the reloaded cache, not from DNS).
#
# Pinning (2 or more CPUs): every server runs on CPU 1 (taskset -c 1, inherited by its
# threads), the load generator on CPU 0.  nsd, nginx and the resolver are not pinned; they are
# idle during the measured runs (answers from cache), but not during the fill.
#
# Options:
#   -t SECONDS   measured time per server and connection count (default 6), split into
#   -r ROUNDS    rounds (default 3), interleaved across the servers; the median round counts
#   -w SECONDS   warm-up per round (default 0.5)
#   -d LIST      requests in flight per connection, one set of runs each (default 8,16)
#   -c LIST      connection counts (default 1,16,64)
#   -n N         domains for the cache-size and restart figures (default 100000; 0 skips)
#   -p           skip the peer's pass over the -n domains
# A benchmark: it exits 0 whatever the figures, 77 when it cannot run here, 1 when a server
# gives malformed replies, loses requests, or cannot be started.
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
net=$(cd "$here/../tests/net" && pwd)

secs=6 rounds=3 warm=0.5 depth=8,16 conns=1,16,64 bulk=100000 peer_bulk=1
while getopts 't:r:w:d:c:n:ph' o; do
    case $o in
    t) secs=$OPTARG ;;
    r) rounds=$OPTARG ;;
    w) warm=$OPTARG ;;
    d) depth=$OPTARG ;;
    c) conns=$OPTARG ;;
    n) bulk=$OPTARG ;;
    p) peer_bulk=0 ;;
    *)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
        exit 2
        ;;
    esac
done
shift $((OPTIND - 1))
(($# == 2)) || {
    printf 'usage: %s [-t S] [-r N] [-w S] [-d LIST] [-c LIST] [-n N] [-p] MXTLS BENCH_POLICYD\n' "$prog" >&2
    exit 2
}
mxtls=$1 bp=$2

skip() {
    printf 'SKIP: %s\n' "$*"
    exit 77
}
die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}
[[ -n ${MXTLS_TEST_WORKDIR:-} && -n ${MXTLS_TEST_NETNS:-} && -n ${MXTLS_TEST_CA_FILE:-} ]] ||
    skip "run inside the test network: tests/net/run-with-dns.sh --https --pre bench/bench_policyd_zones.sh bash $0 ..."
[[ -x $mxtls ]] || die "no such program: $mxtls"
[[ -x $bp ]] || die "no such program: $bp"
"$mxtls" policyd --help >/dev/null 2>&1 || skip "$mxtls has no policyd command"

W=$MXTLS_TEST_WORKDIR
B=$W/bench-policyd
mkdir -p "$B"
t_begin=$EPOCHREALTIME

P_MX=8460 P_PI=8461 P_PS=8462 P_NULL=8463
# Every answer stays cached for the whole run (the test zones' TTLs are 300 s), as the peer's
# cache_grace is raised (bench_policyd_peer.sh): both servers answer from cache throughout.
min_ttl=${BENCH_POLICYD_MIN_TTL:-3600}
srv=() gen=()
if (($(nproc) >= 2)); then
    srv=(taskset -c 1)
    gen=(taskset -c 0)
fi

have_peer=1
why_no_peer=""
if [[ ! -x /usr/bin/mta-sts-daemon ]]; then
    have_peer=0 why_no_peer="/usr/bin/mta-sts-daemon not installed (Debian package postfix-mta-sts-resolver)"
elif [[ ! -f $net/peer-resolver.sh || ! -f $net/resolver-up.sh ]]; then
    have_peer=0 why_no_peer="tests/net/peer-resolver.sh or resolver-up.sh missing"
elif [[ ! -x /usr/sbin/unbound ]]; then
    have_peer=0 why_no_peer="/usr/sbin/unbound not installed (its resolver)"
fi

mx_pid="" null_pid="" peers_started=0
# shellcheck disable=SC2317  # invoked from the trap
cleanup() {
    local rc=$?
    trap - EXIT
    [[ -n $null_pid ]] && kill "$null_pid" 2>/dev/null
    [[ -n $mx_pid ]] && kill "$mx_pid" 2>/dev/null && wait "$mx_pid" 2>/dev/null
    if ((peers_started)); then
        bash "$net/peer-resolver.sh" stop "$W" || true
        bash "$net/peer-resolver.sh" stop "$B/peer-sqlite" || true
        bash "$net/resolver-down.sh" "$MXTLS_TEST_NETNS" "$W" || true
    fi
    exit "$rc"
}
trap cleanup EXIT

kb() { # kb PID KEY: a /proc/PID/status value in kB
    awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
field() { # field KEY LINE: the value of KEY=... in a run line
    tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print substr($0, length(k) + 2); exit }'
}

# start_policyd LOG: starts policyd in the background (mx_pid), does not wait.
start_policyd() {
    "${srv[@]}" "$mxtls" --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --ca-file "$MXTLS_TEST_CA_FILE" \
        --state-dir "$B/state" policyd --listen "127.0.0.1:$P_MX" --min-ttl "$min_ttl" </dev/null 2>"$1" &
    mx_pid=$!
}
wait_ready() { # wait_ready LOG
    local i
    for ((i = 0; i < 3000; i++)); do
        grep -q 'event=ready' "$1" 2>/dev/null && return 0
        kill -0 "$mx_pid" 2>/dev/null || {
            cat "$1" >&2
            die "mxtls policyd exited at start-up"
        }
        sleep 0.01
    done
    cat "$1" >&2
    die "mxtls policyd printed no event=ready within 30 s"
}

# ---------------------------------------------------------------- 1. servers
printf 'bench_policyd: mxtls policyd against postfix-mta-sts-resolver, answers from cache\n'
printf 'machine: %s CPUs (%s), load %s; pinning: servers %s, load generator %s\n' \
    "$(nproc)" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "${srv[*]:-none}" "${gen[*]:-none}"

mkdir -p "$B/state"
start_policyd "$B/policyd-1.log"
wait_ready "$B/policyd-1.log"
printf 'mxtls policyd: %s, pid %s on 127.0.0.1:%s, state directory %s, --min-ttl %s (answers cached at least that long)\n' \
    "$("$mxtls" --version 2>&1 | head -1)" "$mx_pid" "$P_MX" "$B/state" "$min_ttl"

servers=("mxtls=127.0.0.1:$P_MX@$mx_pid")
if ((have_peer)); then
    peers_started=1
    bash "$net/resolver-up.sh" "$MXTLS_TEST_NETNS" "$W"
    export MXTLS_TEST_PEER_DAEMON=$here/bench_policyd_peer.sh
    "${srv[@]}" bash "$net/peer-resolver.sh" start "$W" "$P_PI" internal
    mkdir -p "$B/peer-sqlite"
    cp "$W/resolv.conf" "$B/peer-sqlite/resolv.conf"
    "${srv[@]}" bash "$net/peer-resolver.sh" start "$B/peer-sqlite" "$P_PS" sqlite
    pi_pid=$(cat "$W/peer-resolver/daemon.pid")
    ps_pid=$(cat "$B/peer-sqlite/peer-resolver/daemon.pid")
    servers+=("peer-internal=127.0.0.1:$P_PI@$pi_pid" "peer-sqlite=127.0.0.1:$P_PS@$ps_pid")
    printf 'peer: postfix-mta-sts-resolver %s (mta-sts-daemon, %s), internal cache pid %s on :%s, sqlite cache pid %s on :%s; log level %s, cache_grace %s s\n' \
        "$(dpkg-query -W -f '${Version}' postfix-mta-sts-resolver 2>/dev/null || echo '?')" \
        "$(/usr/bin/python3 --version 2>&1)" "$pi_pid" "$P_PI" "$ps_pid" "$P_PS" \
        "${BENCH_PEER_VERBOSITY:-info}" "${BENCH_PEER_CACHE_GRACE:-3600}"
else
    printf 'peer left out: %s\n' "$why_no_peer"
fi

# ---------------------------------------------------------------- 2. warm, choose the domains
candidates=(enforce testing wildcard crlf charset params large wildcardcert delegated ipv6only
    cnonly stsbadcert stsmismatch stsnotls danests danebad daneencsts stswild)
printf '%s.sts.test\n' "${candidates[@]}" >"$B/candidates.txt"
sargs=()
for s in "${servers[@]}"; do sargs+=(-s "$s"); done
# Each domain once per server, one at a time: the cold decisions and policy fetches.
"${gen[@]}" "$bp" "${sargs[@]}" -f "$B/candidates.txt" -n "${#candidates[@]}" -c 1 -d 1 -T 30 \
    -a "$B/warm-answers.txt" >"$B/warm.out" || {
    cat "$B/warm.out"
    die "warming failed"
}
# Then each domain alone on each server: cached when no UDP datagram left during the answer.
: >"$B/cached.txt"
for d in "${candidates[@]}"; do
    printf '%s.sts.test\n' "$d" >"$B/one.txt"
    ok=1 row="" classes=""
    for s in "${servers[@]}"; do
        line=$("${gen[@]}" "$bp" -s "$s" -f "$B/one.txt" -n 1 -c 1 -d 1 -a "$B/one-answer.txt") ||
            die "asking $d failed: $line"
        udp=$(field udp "$line")
        ans=$(cut -d' ' -f3- "$B/one-answer.txt")
        case $ans in TEMP* | TIMEOUT* | PERM* | "") ok=0 ;; esac
        classes+=" ${ans%% *}"
        [[ $udp == 0 ]] || ok=0
        row+=$(printf ' | %-46.46s %s' "$ans" "$([[ $udp == 0 ]] && echo cached || echo "udp=$udp")")
    done
    # the same class (OK / NOTFOUND) from every server, or the domain is not comparable
    [[ $(tr ' ' '\n' <<<"$classes" | sort -u | grep -c .) == 1 ]] || ok=0
    printf '%-22s%s%s\n' "$d.sts.test" "$row" "$( ((ok)) || echo '  -> left out')" >>"$B/cached.txt"
    ((ok)) && printf '%s.sts.test\n' "$d" >>"$B/domains.txt"
done
printf '\ndomain set: the sts.test MTA-STS domains with enforce/testing policies; answers (%s), kept when every server answers from its cache, without TEMP, and with the same class (OK or NOTFOUND):\n' \
    "${servers[*]%%=*}"
cat "$B/cached.txt"
[[ -s $B/domains.txt ]] || die "no domain is answered from cache by every server"
printf '%s domains kept\n' "$(wc -l <"$B/domains.txt")"

# ---------------------------------------------------------------- 3. the timed runs
# The summary table, from the median lines.
summary() {
    awk -v depth="$1" '
        /^median / {
            delete f
            for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
            l = f["label"]; c = f["conns"]
            if (!(l in seen)) { seen[l] = 1; labels[++nl] = l }
            if (!(c in cseen)) { cseen[c] = 1; cs[++nc] = c }
            rate[l, c] = f["rate"]; p50[l, c] = f["p50_us"]; p99[l, c] = f["p99_us"]
            cpu[l, c] = f["srv_cpu_us"]
            if (!(c in other) || f["max_other_cpu_pct"] + 0 > other[c]) other[c] = f["max_other_cpu_pct"] + 0
            if (!(c in steal) || f["max_steal_pct"] + 0 > steal[c]) steal[c] = f["max_steal_pct"] + 0
        }
        /^run / {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); g[kv[1]] = kv[2] }
            udp[g["label"]] += g["udp"]
        }
        function us(v) { return v < 1000 ? sprintf("%.0f us", v) : sprintf("%.2f ms", v / 1000) }
        END {
            printf "\n%-5s", "conns"
            for (j = 1; j <= nl; j++) {
                printf " | %-13s %9s %8s %8s %7s", labels[j], "answers/s", "p50", "p99", "cpu/ans"
                if (j > 1) printf " %7s", "ratio"
            }
            printf " | %5s %5s\n", "other", "steal"
            for (k = 1; k <= nc; k++) {
                c = cs[k]
                printf "%-5s", c
                for (j = 1; j <= nl; j++) {
                    l = labels[j]
                    printf " | %-13s %9.0f %8s %8s %4.1f us", "", rate[l, c], us(p50[l, c]), us(p99[l, c]), cpu[l, c]
                    if (j > 1) printf " %7.1f", (rate[l, c] > 0 ? rate[labels[1], c] / rate[l, c] : 0)
                }
                printf " | %4.0f%% %4.0f%%\n", other[c], steal[c]
            }
            printf "(%d requests in flight per connection; ratio = %s answers/s / this; cpu/ans = the server'"'"'s CPU time per answer;\n other = the most CPU, in %% of one core, that all other processes took in one of the row'"'"'s rounds; steal = the same for the hypervisor'"'"'s steal time)\n", depth, labels[1]
            printf "UDP datagrams (DNS) in the namespace during the measured rounds:"
            for (j = 1; j <= nl; j++) printf " %s %d", labels[j], udp[labels[j]]
            printf "\n"
        }'
}

IFS=, read -r -a depths <<<"$depth"
for d in "${depths[@]}"; do
    printf '\nload: %s requests in flight per connection; per server and connection count %s rounds of %s s warm-up + %s s measured, interleaved across the servers; connections %s\n' \
        "$d" "$rounds" "$warm" "$(awk -v t="$secs" -v r="$rounds" 'BEGIN { print t / r }')" "$conns"
    rc=0
    "${gen[@]}" "$bp" "${sargs[@]}" -f "$B/domains.txt" -c "$conns" -d "$d" -r "$rounds" -w "$warm" \
        -t "$secs" >"$B/timed-d$d.out" || rc=$?
    cat "$B/timed-d$d.out"
    ((rc == 0)) || die "the load generator saw protocol errors (exit $rc)"

    # Calibration: the same load against a server that does no work.
    "${srv[@]}" "$bp" -Z "127.0.0.1:$P_NULL" 2>/dev/null &
    null_pid=$!
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$P_NULL") 2>/dev/null && break
        sleep 0.01
    done
    "${gen[@]}" "$bp" -s "null=127.0.0.1:$P_NULL@$null_pid" -f "$B/domains.txt" -c "$conns" \
        -d "$d" -r "$rounds" -w "$warm" -t "$secs" >"$B/null-d$d.out" || true
    kill "$null_pid" 2>/dev/null
    wait "$null_pid" 2>/dev/null || true
    null_pid=""
done
for d in "${depths[@]}"; do
    printf '\nsummary, %s in flight per connection: answers per second and latency (send -> reply), cached domains, median of %s rounds\n' "$d" "$rounds"
    summary "$d" <"$B/timed-d$d.out"
    printf 'calibration, %s in flight: the same load against bench_policyd -Z (answers NOTFOUND with no work), the load generator'"'"'s ceiling\n' "$d"
    summary "$d" <"$B/null-d$d.out" | sed '/^UDP datagrams/d; /^(/d; /^ other =/d'
done

# ---------------------------------------------------------------- 4. 100 000 domains
if ((bulk > 0)); then
    seq -f 'd%06g.bulk.sts.test' 1 "$bulk" >"$B/bulk.txt"
    hwm0=$(kb "$mx_pid" VmHWM) rss0=$(kb "$mx_pid" VmRSS)
    printf '\ncache fill: %s distinct domains dNNNNNN.bulk.sts.test (secure wildcard MX, DANE), each asked once, 16 connections x 16 in flight\n' "$bulk"
    line=$("${gen[@]}" "$bp" -s "mxtls=127.0.0.1:$P_MX@$mx_pid" -f "$B/bulk.txt" -n "$bulk" -c 16 -d 16 \
        -T 60 -a "$B/bulk-answers.txt") || {
        printf '%s\n' "$line"
        die "the fill failed"
    }
    printf '%s\n' "$line"
    hwm1=$(kb "$mx_pid" VmHWM) rss1=$(kb "$mx_pid" VmRSS)
    printf 'mxtls fill: %s answers in %s s (%s/s), p50 %s us, p99 %s us; classes ok=%s notfound=%s temp=%s; %s UDP datagrams (DNS); policyd CPU %s%% of one core, %s us per decision; other processes %s%%\n' \
        "$(field answers "$line")" "$(field seconds "$line")" "$(field rate "$line")" \
        "$(field p50_us "$line")" "$(field p99_us "$line")" "$(field ok "$line")" \
        "$(field notfound "$line")" "$(field temp "$line")" "$(field udp "$line")" \
        "$(field srv_cpu_pct "$line")" "$(field srv_cpu_us "$line")" "$(field other_cpu_pct "$line")"
    printf 'mxtls answers: %s\n' "$(cut -d' ' -f3- "$B/bulk-answers.txt" | sort | uniq -c | sort -rn |
        head -5 | awk '{ c = $1; $1 = ""; printf "%s%d x \"%s\"", (NR > 1 ? ", " : ""), c, substr($0, 2) }')"
    printf 'mxtls policyd memory: before the fill VmHWM %s MiB VmRSS %s MiB; after VmHWM %s MiB VmRSS %s MiB (+%s MiB RSS, %s bytes per domain)\n' \
        "$(mib "$hwm0")" "$(mib "$rss0")" "$(mib "$hwm1")" "$(mib "$rss1")" "$(mib $((rss1 - rss0)))" \
        "$(((rss1 - rss0) * 1024 / bulk))"
    if ((have_peer && peer_bulk)); then
        phwm0=$(kb "$pi_pid" VmHWM) prss0=$(kb "$pi_pid" VmRSS)
        pline=$("${gen[@]}" "$bp" -s "peer-internal=127.0.0.1:$P_PI@$pi_pid" -f "$B/bulk.txt" -n "$bulk" \
            -c 16 -d 16 -T 60) || printf 'peer pass over the domains reported errors\n'
        printf '%s\n' "$pline"
        phwm1=$(kb "$pi_pid" VmHWM) prss1=$(kb "$pi_pid" VmRSS)
        printf 'peer-internal pass: %s answers in %s s (%s/s); classes ok=%s notfound=%s temp=%s; %s UDP datagrams; CPU %s us per answer; VmHWM %s -> %s MiB, VmRSS %s -> %s MiB (it caches policies only: these domains have none, so nothing is cached)\n' \
            "$(field answers "$pline")" "$(field seconds "$pline")" "$(field rate "$pline")" \
            "$(field ok "$pline")" "$(field notfound "$pline")" "$(field temp "$pline")" \
            "$(field udp "$pline")" "$(field srv_cpu_us "$pline")" "$(mib "$phwm0")" "$(mib "$phwm1")" "$(mib "$prss0")" "$(mib "$prss1")"
    fi

    # ------------------------------------------------------------ 5. restart
    t_term=$EPOCHREALTIME
    kill -TERM "$mx_pid"
    st=0
    wait "$mx_pid" || st=$?
    t_gone=$EPOCHREALTIME
    mx_pid=""
    printf '\nrestart: SIGTERM -> exit %s in %s s; state directory %s KiB (%s)\n' "$st" \
        "$(since "$t_term" "$t_gone")" "$(du -sk "$B/state" | cut -f1)" \
        "$(cd "$B/state" && find . -type f -printf '%f %s\n' | sort | tr '\n' ' ')"
    grep -E 'event=stopped' "$B/policyd-1.log" | sed 's/^/  policyd log: /' || true
    # policyd's stderr goes through a FIFO to a reader that stamps the event=ready line as it
    # arrives (the log lines carry no time of their own).
    log2=$B/policyd-2.log fifo=$B/policyd-2.fifo
    rm -f "$fifo" "$B/ready-at"
    mkfifo "$fifo"
    (
        while IFS= read -r l; do
            [[ $l == *event=ready* && ! -e $B/ready-at ]] && printf '%s\n' "$EPOCHREALTIME" >"$B/ready-at"
            printf '%s\n' "$l" >>"$log2"
        done <"$fifo"
    ) &
    t0=$EPOCHREALTIME
    start_policyd "$fifo"
    line=$("${gen[@]}" "$bp" -s "mxtls=127.0.0.1:$P_MX" -f "$B/bulk.txt" -n "$bulk" -c 16 -d 16 \
        -R "$t0" -T 60 -a "$B/reload-answers.txt") || {
        printf '%s\n' "$line"
        die "reading the domains back after the restart failed"
    }
    printf '%s\n' "$line"
    ready='?'
    [[ -s $B/ready-at ]] && ready=$(since "$t0" "$(cat "$B/ready-at")")
    changed=$(comm -23 <(cut -d' ' -f2- "$B/bulk-answers.txt" | sort) \
        <(cut -d' ' -f2- "$B/reload-answers.txt" | sort) | wc -l)
    printf 'mxtls restart with %s cached domains: exec -> connection accepted %s s, -> event=ready %s s, -> first answer %s s, -> all %s answered %s s (p50 %s us, p99 %s us); %s UDP datagrams (DNS) from exec to the last answer; %s answers differ from the fill'"'"'s\n' \
        "$bulk" "$(field accept_s "$line")" "$ready" "$(field first_s "$line")" "$bulk" \
        "$(field done_s "$line")" "$(field p50_us "$line")" "$(field p99_us "$line")" \
        "$(field udp "$line")" "$changed"
    printf 'mxtls policyd memory after the restart and the read-back: VmHWM %s MiB VmRSS %s MiB\n' \
        "$(mib "$(kb "$mx_pid" VmHWM)")" "$(mib "$(kb "$mx_pid" VmRSS)")"
    kill -TERM "$mx_pid"
    wait "$mx_pid" || true
    mx_pid=""
    wait  # the log reader ends with policyd's stderr
    grep -E 'event=(store-loaded|ready|stopped)' "$log2" | sed 's/^/  policyd log: /' || true
fi

printf '\nbench_policyd: done in %s s\n' "$(since "$t_begin" "$EPOCHREALTIME")"
