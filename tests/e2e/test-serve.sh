#!/bin/bash
# SPDX-License-Identifier: MIT
# mxtls serve on the test network (TAP): two policy domains (srv1, srv2.sts.test, see
# serve-zones.sh) on 127.0.44.20:443 and [::1]:8443, checked with curl, with mxtls's own
# policy fetch (the sender side accepts what the server side serves), across SIGHUP, and
# against hostile clients.
# Run as: tests/net/run-with-dns.sh --tap --https --pre tests/e2e/serve-zones.sh \
#         tests/e2e/test-serve.sh MXTLS
set -uo pipefail
mxtls=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
clients=$here/serve-clients.py
pki=$MXTLS_TEST_PKI_DIR
ca=$MXTLS_TEST_CA_FILE
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-serve.XXXXXX")
pid=""
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
addr=127.0.44.20
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift
	for l in "$@"; do echo "# $l"; done
}
# check NAME GOT WANT [details...]
check() {
	local name=$1 got=$2 want=$3
	shift 3
	if [ "$got" = "$want" ]; then ok "$name"; else not_ok "$name" "got [$got], want [$want]" "$@"; fi
}

pol=$tmp/policies
mkdir -p "$pol"
printf 'version: STSv1\nmode: enforce\nmx: mx1.srv1.sts.test\nmax_age: 86400\n' >"$pol/srv1.sts.test.txt"
printf 'version: STSv1\nmode: testing\nmx: *.srv2.sts.test\nmx: mx.example.net\nmax_age: 604800\n' \
	>"$pol/srv2.sts.test.txt"
cp "$pki/serve-old/mta-sts.srv1.sts.test.pem" "$tmp/srv1.pem"
cp "$pki/serve-old/mta-sts.srv1.sts.test.key" "$tmp/srv1.key"
certs=(--cert "srv1.sts.test:$tmp/srv1.pem:$tmp/srv1.key"
	--cert "SRV2.sts.test.:$pki/mta-sts.srv2.sts.test.pem:$pki/mta-sts.srv2.sts.test.key")

# start LOG ARGS...: mxtls serve in the background, waits for its "event=ready" line.
start() {
	local log=$1
	shift
	: >"$log"
	"$mxtls" serve --policy-dir "$pol" "${certs[@]}" "$@" 2>"$log" &
	pid=$!
	for _ in $(seq 1 100); do
		grep -q 'event=ready' "$log" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}
# stop: SIGTERM; the exit status in $stopped
stop() {
	kill -TERM "$pid"
	wait "$pid"
	stopped=$?
	pid=""
}
# get HOST [curl args...]: status, content type and body of https://HOST/.well-known/...
get() {
	local host=$1
	shift
	curl -sS --max-time 10 --cacert "$ca" --resolve "$host:443:$addr" -o "$tmp/body" \
		-D "$tmp/headers" -w '%{http_code}' "$@" "https://$host/.well-known/mta-sts.txt" \
		2>"$tmp/curl.err"
}
header() { tr -d '\r' <"$tmp/headers" | grep -i "^$1:" | sed 's/^[^:]*: //'; }
# fingerprint HOST ADDR PORT: SHA-256 of the certificate the server presents for SNI HOST
fingerprint() {
	openssl s_client -connect "$2:$3" -servername "$1" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
file_fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }
fetch() {
	"$mxtls" --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --ca-file "$ca" --state-dir "$tmp/state" \
		--json sts fetch --refresh "$1" 2>"$tmp/fetch.err"
}

echo "1..38"

# --- refused at start: a policy senders would reject, a key of another certificate ---
printf 'version: STSv1\nmode: enforce\nmax_age: 86400\n' >"$tmp/bad.txt"
mkdir -p "$tmp/badpol"
cp "$pol"/*.txt "$tmp/badpol/"
cp "$tmp/bad.txt" "$tmp/badpol/srv2.sts.test.txt"
out=$(timeout 10 "$mxtls" serve --policy-dir "$tmp/badpol" "${certs[@]}" --listen "$addr:443" 2>&1)
rc=$?
check "start: a policy without mx in enforce mode is refused (exit 78)" "$rc" 78 "$out"
case $out in
*"srv2.sts.test.txt: line 3:"*"senders would refuse it"*) ok "start: the refusal names file and line" ;;
*) not_ok "start: the refusal names file and line" "$out" ;;
esac
out=$(timeout 10 "$mxtls" serve --policy-dir "$pol" --cert "srv1.sts.test:$tmp/srv1.pem:$pki/mta-sts.srv2.sts.test.key" \
	--listen "$addr:443" 2>&1)
rc=$?
case "$rc $out" in
"78 "*"the key does not match the certificate"*) ok "start: a key that is not the certificate's is refused" ;;
*) not_ok "start: a key that is not the certificate's is refused" "exit $rc: $out" ;;
esac
out=$(timeout 10 "$mxtls" serve --policy-dir "$pol" --cert "srv1.sts.test:$pki/mta-sts.srv2.sts.test.pem:$pki/mta-sts.srv2.sts.test.key" \
	--listen "$addr:443" 2>&1)
rc=$?
case "$rc $out" in
"78 "*"does not name mta-sts.srv1.sts.test"*) ok "start: a certificate for another name is refused" ;;
*) not_ok "start: a certificate for another name is refused" "exit $rc: $out" ;;
esac

# --- serving ---
if ! start "$tmp/serve.log" --listen "$addr:443" --listen "[::1]:8443"; then
	not_ok "mxtls serve starts" "$(cat "$tmp/serve.log")"
	exit 1
fi
ok "mxtls serve starts and says it is ready"
status=$(get mta-sts.srv1.sts.test)
check "srv1: 200" "$status" 200 "$(cat "$tmp/curl.err")"
check "srv1: Content-Type text/plain" "$(header content-type)" text/plain
check "srv1: the body is the policy file" "$(cmp -s "$tmp/body" "$pol/srv1.sts.test.txt" && echo same)" same
status=$(get MTA-STS.SRV2.sts.test)
check "srv2 (upper case name): 200 and its own policy" \
	"$status $(cmp -s "$tmp/body" "$pol/srv2.sts.test.txt" && echo same)" "200 same"
check "SNI srv1: the certificate of srv1" "$(fingerprint mta-sts.srv1.sts.test $addr 443)" \
	"$(file_fp "$tmp/srv1.pem")"
check "SNI srv2: the certificate of srv2" "$(fingerprint mta-sts.srv2.sts.test $addr 443)" \
	"$(file_fp "$pki/mta-sts.srv2.sts.test.pem")"
get mta-sts.nope.sts.test >/dev/null
check "unknown SNI name: no certificate, the handshake fails (curl 35)" "$?" 35 "$(cat "$tmp/curl.err")"
status=$(get mta-sts.srv1.sts.test -H 'Host: mta-sts.srv2.sts.test')
check "Host of another domain than the SNI name: 421" "$status" 421
status=$(curl -sS --cacert "$ca" --resolve "mta-sts.srv1.sts.test:443:$addr" -o /dev/null \
	-w '%{http_code}' https://mta-sts.srv1.sts.test/)
check "path /: 404" "$status" 404
status=$(curl -sS --cacert "$ca" --resolve "mta-sts.srv1.sts.test:443:$addr" -o /dev/null \
	-w '%{http_code}' https://mta-sts.srv1.sts.test/.well-known/mta-sts.txt.bak)
check "path mta-sts.txt.bak: 404" "$status" 404
status=$(get mta-sts.srv1.sts.test -X POST -d x=1)
check "POST: 405 with Allow: GET, HEAD" "$status $(header allow)" "405 GET, HEAD"
status=$(get mta-sts.srv1.sts.test -X DELETE)
check "DELETE: 405" "$status" 405
# (curl -I writes the headers where the body would go: no policy line may be there)
status=$(get mta-sts.srv1.sts.test -I)
check "HEAD: 200, the policy's Content-Length, no body" \
	"$status $(header content-length) $(grep -c STSv1 "$tmp/body")" \
	"200 $(stat -c %s "$pol/srv1.sts.test.txt") 0"
status=$(curl -sS -g --cacert "$ca" --resolve "mta-sts.srv2.sts.test:8443:[::1]" -o "$tmp/body" \
	-w '%{http_code}' https://mta-sts.srv2.sts.test:8443/.well-known/mta-sts.txt 2>&1)
check "IPv6 listener [::1]:8443: 200 and the policy" \
	"$status $(cmp -s "$tmp/body" "$pol/srv2.sts.test.txt" && echo same)" "200 same"

# --- the sender side: mxtls's own policy fetch (DNS, HTTPS with the test CA, parser) ---
out=$(fetch srv1.sts.test)
rc=$?
case "$rc $out" in
"0 "*'"source":"network"'*'"mode":"enforce"'*'"mx":["mx1.srv1.sts.test"]'*) ok "mxtls sts fetch srv1: enforce, its mx" ;;
*) not_ok "mxtls sts fetch srv1: enforce, its mx" "exit $rc: $out" "$(cat "$tmp/fetch.err")" ;;
esac
out=$(fetch srv2.sts.test)
rc=$?
case "$rc $out" in
"0 "*'"mode":"testing","max_age":604800,"mx":["*.srv2.sts.test","mx.example.net"]'*) ok "mxtls sts fetch srv2: testing, both mx, max_age" ;;
*) not_ok "mxtls sts fetch srv2: testing, both mx, max_age" "exit $rc: $out" "$(cat "$tmp/fetch.err")" ;;
esac

# --- SIGHUP: a renewed certificate and an edited policy are served, the daemon stays ---
cp "$pki/mta-sts.srv1.sts.test.pem" "$tmp/srv1.pem"
cp "$pki/mta-sts.srv1.sts.test.key" "$tmp/srv1.key"
printf 'version: STSv1\nmode: testing\nmx: mx1.srv1.sts.test\nmx: mx2.srv1.sts.test\nmax_age: 3600\n' \
	>"$pol/srv1.sts.test.txt"
check "before SIGHUP: still the old certificate" "$(fingerprint mta-sts.srv1.sts.test $addr 443)" \
	"$(file_fp "$pki/serve-old/mta-sts.srv1.sts.test.pem")"
kill -HUP "$pid"
for _ in $(seq 1 100); do grep -q 'event=reloaded' "$tmp/serve.log" && break; sleep 0.05; done
check "SIGHUP: reloaded, 2 domains" "$(grep -c 'event=reloaded domains=2' "$tmp/serve.log")" 1 \
	"$(cat "$tmp/serve.log")"
check "after SIGHUP: the renewed certificate" "$(fingerprint mta-sts.srv1.sts.test $addr 443)" \
	"$(file_fp "$pki/mta-sts.srv1.sts.test.pem")"
status=$(get mta-sts.srv1.sts.test)
check "after SIGHUP: the edited policy" \
	"$status $(cmp -s "$tmp/body" "$pol/srv1.sts.test.txt" && echo same)" "200 same"
out=$(fetch srv1.sts.test)
case "$out" in
*'"mode":"testing"'*'"mx":["mx1.srv1.sts.test","mx2.srv1.sts.test"]'*) ok "after SIGHUP: mxtls sts fetch sees the edit" ;;
*) not_ok "after SIGHUP: mxtls sts fetch sees the edit" "$out" "$(cat "$tmp/fetch.err")" ;;
esac
cp "$pol/srv1.sts.test.txt" "$tmp/good.txt"
cp "$tmp/bad.txt" "$pol/srv1.sts.test.txt"
kill -HUP "$pid"
for _ in $(seq 1 100); do grep -q 'event=reload-failed' "$tmp/serve.log" && break; sleep 0.05; done
case $(cat "$tmp/serve.log") in
*"event=reload-failed"*"srv1.sts.test.txt: line 3:"*) ok "SIGHUP with a broken policy: refused, named" ;;
*) not_ok "SIGHUP with a broken policy: refused, named" "$(cat "$tmp/serve.log")" ;;
esac
status=$(get mta-sts.srv1.sts.test)
check "after a refused reload: the last good policy is still served" \
	"$status $(cmp -s "$tmp/body" "$tmp/good.txt" && echo same)" "200 same"
cp "$tmp/good.txt" "$pol/srv1.sts.test.txt"
stop
check "SIGTERM: exit 0" "$stopped" 0 "$(cat "$tmp/serve.log")"

# --- hostile clients ---
# Slowloris: one header byte every 0.5 s is never idle for the 2 s timeout; the 4 s lifetime
# cuts it, without an answer.
start "$tmp/serve2.log" --listen "$addr:443" --timeout 2 --max-connection-time 4 ||
	not_ok "mxtls serve starts (slowloris)" "$(cat "$tmp/serve2.log")"
out=$(/usr/bin/python3 "$clients" slowloris "$addr" 443 mta-sts.srv1.sts.test "$ca")
secs=${out##*seconds=}
check "slowloris: cut, no response" "${out% seconds=*}" "closed=1 response_bytes=0" "$out"
check "slowloris: cut between 4 and 6 s" \
	"$(awk -v s="$secs" 'BEGIN { print (s >= 3.9 && s < 6.0) ? "yes" : "no (" s " s)" }')" yes
# Huge headers: a 20 000-byte header does not fit the 8192-byte default.
status=$(get mta-sts.srv1.sts.test -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)")
check "a 20000-byte header: 431" "$status" 431
status=$(get mta-sts.srv1.sts.test -H "X-Ok: $(head -c 2000 /dev/zero | tr '\0' a)")
check "a 2000-byte header: 200" "$status" 200
stop
check "SIGTERM: exit 0 (slowloris)" "$stopped" 0

# Many connections: the caps hold (exactly that many handshakes), and the daemon serves after.
start "$tmp/serve3.log" --listen "$addr:443" --max-connections 8 --max-connections-per-ip 4 ||
	not_ok "mxtls serve starts (caps)" "$(cat "$tmp/serve3.log")"
out=$(/usr/bin/python3 "$clients" conns "$addr" 443 mta-sts.srv1.sts.test "$ca" 20 1)
check "20 connections from one address: 4 handshakes (per-address cap)" "$out" handshakes=4
out=$(/usr/bin/python3 "$clients" conns "$addr" 443 mta-sts.srv1.sts.test "$ca" 20 0)
check "20 connections from 20 addresses: 8 handshakes (cap)" "$out" handshakes=8
sleep 0.5
status=$(get mta-sts.srv2.sts.test)
check "after the floods: still serving" "$status" 200
stop
check "SIGTERM: exit 0 (caps)" "$stopped" 0

[ "$n" = 38 ] || echo "# ran $n checks, planned 38"
exit $((fails > 0))
