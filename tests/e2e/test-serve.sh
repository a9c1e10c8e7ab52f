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

echo "1..70"

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

# --- the TLS report endpoint (RFC 8460 §5.4, issue 18) ---
rstate=$tmp/rstate
# post HOST PATH TYPE FILE [curl args...]: the status of a POST of FILE as TYPE
post() {
	local host=$1 path=$2 type=$3 file=$4
	shift 4
	: >"$tmp/body"
	curl -sS --max-time 20 --cacert "$ca" --resolve "$host:443:$addr" -o "$tmp/body" \
		-D "$tmp/headers" -w '%{http_code}' -H "Content-Type: $type" --data-binary "@$file" \
		"$@" "https://$host$path" 2>"$tmp/curl.err"
}
# stored ORG: "reports successes failures" for ORG's reports in the daemon's store
stored() {
	sqlite3 "$rstate/reports.sqlite" "SELECT count(DISTINCT r.id), coalesce(sum(p.successes), 0),
		coalesce(sum(p.failures), 0) FROM report r LEFT JOIN policy p ON p.report = r.id
		WHERE r.organization = '$1'" | tr '|' ' '
}
gz=application/tlsrpt+gzip
out=$(timeout 10 "$mxtls" --state-dir "$rstate" serve --policy-dir "$pol" "${certs[@]}" \
	--listen "$addr:443" --reports-path /.well-known/mta-sts.txt 2>&1)
check "--reports-path on the policy's path: refused (exit 64)" "$?" 64 "$out"
printf 'version: STSv1\nmode: enforce\nmx: mx1.srv1.sts.test\nmax_age: 86400\n' >"$pol/srv1.sts.test.txt"
: >"$tmp/serve4.log"
"$mxtls" --state-dir "$rstate" serve --policy-dir "$pol" "${certs[@]}" --listen "$addr:443" \
	--reports-path /tlsrpt --timeout 2 --max-connection-time 8 2>"$tmp/serve4.log" &
pid=$!
for _ in $(seq 1 100); do grep -q 'event=ready' "$tmp/serve4.log" && break; sleep 0.05; done
check "serve --reports-path /tlsrpt: ready, the store created" \
	"$(grep -c event=ready "$tmp/serve4.log") $(test -s "$rstate/reports.sqlite" && echo store)" "1 store" \
	"$(cat "$tmp/serve4.log")"
c=$clients
/usr/bin/python3 "$c" report "$tmp/r1.json.gz" example.net r1 srv2.sts.test 10 2
status=$(post mta-sts.srv1.sts.test /tlsrpt $gz "$tmp/r1.json.gz")
check "a gzip report: 201 Created" "$status $(head -c 6 "$tmp/body")" "201 stored" "$(cat "$tmp/curl.err")"
check "the store holds it: 1 report, 10 sessions, 2 failures" "$(stored example.net)" "1 10 2"
status=$(post mta-sts.srv1.sts.test /tlsrpt $gz "$tmp/r1.json.gz")
check "the same report again: 200, already stored" "$status $(head -c 14 "$tmp/body")" "200 already stored"
check "the same report again: still one" "$(stored example.net)" "1 10 2"
/usr/bin/python3 "$c" report "$tmp/r2.json" example.net r2 srv2.sts.test 5 0
status=$(post mta-sts.srv2.sts.test /tlsrpt 'Application/TLSRPT+JSON; charset=utf-8' "$tmp/r2.json")
check "a +json report (type in any case, a parameter) on srv2's host: 201" "$status" 201
check "the store: 2 reports, 15 sessions" "$(stored example.net)" "2 15 2"
status=$(post mta-sts.srv1.sts.test /tlsrpt application/json "$tmp/r2.json")
check "application/json: 415" "$status" 415
status=$(post mta-sts.srv1.sts.test /tlsrpt application/tlsrpt+gzipx "$tmp/r1.json.gz")
check "application/tlsrpt+gzipx: 415" "$status" 415
head -c $((10 * 1024 * 1024 + 1)) /dev/zero >"$tmp/big"
status=$(post mta-sts.srv1.sts.test /tlsrpt $gz "$tmp/big")
check "10 MiB + 1 byte with Content-Length: 413" "$status" 413 "$(cat "$tmp/curl.err")"
status=$(post mta-sts.srv1.sts.test /tlsrpt $gz "$tmp/big" -H 'Transfer-Encoding: chunked')
check "10 MiB + 1 byte chunked (no Content-Length): 413 while reading" "$status" 413 \
	"$(cat "$tmp/curl.err")"
/usr/bin/python3 "$c" bomb "$tmp/bomb.gz" 20
status=$(post mta-sts.srv1.sts.test /tlsrpt $gz "$tmp/bomb.gz")
check "a gzip bomb ($(stat -c %s "$tmp/bomb.gz") bytes, 20 MiB inflated): 413" "$status" 413
printf '{"organization-name":"x","report-id":' >"$tmp/bad.json"
status=$(post mta-sts.srv1.sts.test /tlsrpt application/tlsrpt+json "$tmp/bad.json")
check "bad JSON: 400 with a one-line reason" "$status $(wc -l <"$tmp/body") $(head -c 16 "$tmp/body")" \
	"400 1 not a TLS report" "$(cat "$tmp/body")"
printf '{"organization-name":"x","report-id":"y"}' >"$tmp/notrep.json"
status=$(post mta-sts.srv1.sts.test /tlsrpt application/tlsrpt+json "$tmp/notrep.json")
check "JSON that is not a report (no date-range, no policies): 400" "$status" 400 "$(cat "$tmp/body")"
gzip -c "$tmp/r2.json" | head -c 40 >"$tmp/trunc.gz"
status=$(post mta-sts.srv1.sts.test /tlsrpt $gz "$tmp/trunc.gz")
check "truncated gzip: 400" "$status" 400
status=$(curl -sS --cacert "$ca" --resolve "mta-sts.srv1.sts.test:443:$addr" -o /dev/null \
	-D "$tmp/headers" -w '%{http_code}' https://mta-sts.srv1.sts.test/tlsrpt)
check "GET on the report path: 405 with Allow: POST" "$status $(header allow)" "405 POST"
status=$(post mta-sts.srv1.sts.test /tlsrpt $gz "$tmp/r1.json.gz" -H 'Host: mta-sts.srv2.sts.test')
check "a report with the Host of another domain than the SNI name: 421" "$status" 421
status=$(post mta-sts.srv1.sts.test /tlsrpt/ $gz "$tmp/r1.json.gz")
check "POST to /tlsrpt/: 404" "$status" 404
check "the store after the refusals: still 2 reports" "$(stored example.net)" "2 15 2"
check "every refusal logged with peer, status and reason (415 415 413 413 413 400 400 400 405)" \
	"$(grep 'event=report-refused' "$tmp/serve4.log" | sed -n 's/.*peer=127.0.0.1 status=\([0-9]*\) reason=.*/\1/p' | tr '\n' ' ')" \
	"415 415 413 413 413 400 400 400 405 " "$(cat "$tmp/serve4.log")"
# A store that cannot take the report now (another writer holds it for 7 s; the inbox waits
# 5 s): 503 and Retry-After, so that the sender tries again; then it is stored.
/usr/bin/python3 -c 'import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None); db.execute("BEGIN IMMEDIATE")
print("locked", flush=True); time.sleep(7)' "$rstate/reports.sqlite" >"$tmp/lock.out" &
lockpid=$!
for _ in $(seq 1 50); do grep -q locked "$tmp/lock.out" && break; sleep 0.1; done
/usr/bin/python3 "$c" report "$tmp/r3.json.gz" example.net r3 srv2.sts.test 1 0
# The POST waits for the store in the background; meanwhile a policy GET on the same address is
# answered by another of the daemon's threads, before the POST's answer comes.
(status=$(post mta-sts.srv1.sts.test /tlsrpt $gz "$tmp/r3.json.gz")
	cp "$tmp/headers" "$tmp/post503.headers"
	echo "$status" >"$tmp/post503.status") &
postpid=$!
sleep 1
gstatus=$(get mta-sts.srv1.sts.test)
posted=$([ -s "$tmp/post503.status" ] && echo answered || echo waiting)
check "a policy GET while a report waits for the store: 200 before the POST is answered" \
	"$gstatus $posted" "200 waiting"
wait "$postpid"
check "the store busy: 503 with Retry-After" \
	"$(cat "$tmp/post503.status") $(tr -d '\r' <"$tmp/post503.headers" | grep -i '^retry-after:' | sed 's/^[^:]*: //')" \
	"503 300"
wait "$lockpid"
status=$(post mta-sts.srv1.sts.test /tlsrpt $gz "$tmp/r3.json.gz")
check "the store free again: the retry is stored (201)" "$status $(stored example.net)" "201 3 16 2"
# A POST body one byte every 0.5 s is never idle for the 2 s timeout: the 8 s lifetime cuts it.
out=$(/usr/bin/python3 "$c" slowpost "$addr" 443 mta-sts.srv1.sts.test "$ca" /tlsrpt)
secs=${out##*seconds=}
check "a slow POST body: cut, no response" "${out% seconds=*}" "closed=1 response_bytes=0" "$out"
check "a slow POST body: cut between 8 and 10 s" \
	"$(awk -v s="$secs" 'BEGIN { print (s >= 7.9 && s < 10.0) ? "yes" : "no (" s " s)" }')" yes

# The round trip: mxtls's own sender (a probe of srv1, whose MX is outside its enforce policy)
# reports to the rua of _smtp._tls.srv1: https://mta-sts.srv1.sts.test/tlsrpt, this daemon.
sender=$tmp/sender
mkdir -p "$sender"
printf 'tlsrpt-organization = mxtls e2e\ntlsrpt-contact = tlsrpt@sender.test\n' >"$sender/mxtls.conf"
snd=("$mxtls" --config "$sender/mxtls.conf" --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --ca-file "$ca"
	--state-dir "$sender" --connect-timeout 2)
day=$(date -u +%F)
"${snd[@]}" check srv1.sts.test --connect --tlsrpt-record >"$tmp/check.out" 2>&1
"${snd[@]}" tlsrpt send --day "$day" >"$tmp/send.out" 2>&1
rc=$?
check "mxtls tlsrpt send to https://mta-sts.srv1.sts.test/tlsrpt: sent (exit 0)" \
	"$rc $(grep -c '^srv1.sts.test sent' "$tmp/send.out")" "0 1" "$(cat "$tmp/check.out" "$tmp/send.out")"
check "the sender's report is in the store: 1 report, 0 successes, 1 failure" "$(stored 'mxtls e2e')" "1 0 1"
check "... a validation-failure at mx9.srv1.sts.test, policy sts for srv1.sts.test" \
	"$(sqlite3 "$rstate/reports.sqlite" "SELECT p.type, p.domain, f.result_type, f.receiving_mx_hostname,
		f.count, r.source FROM report r JOIN policy p ON p.report = r.id JOIN failure f ON f.policy = p.id
		WHERE r.organization = 'mxtls e2e'")" \
	"sts|srv1.sts.test|validation-failure|mx9.srv1.sts.test|1|https"
"${snd[@]}" tlsrpt report --day "$day" --out "$tmp/reports" >/dev/null 2>&1
file=$(ls "$tmp/reports"/*'!srv1.sts.test!'*.json.gz 2>/dev/null | head -1)
status=$(post mta-sts.srv1.sts.test /tlsrpt $gz "$file")
check "the sender's report file POSTed by curl: 200 already stored, still one" \
	"$status $(stored 'mxtls e2e')" "200 1 0 1" "$file"
check "stored reports logged: 4 stored (r1, r2, r3, the sender's), 2 duplicates" \
	"$(grep -c 'event=report-stored' "$tmp/serve4.log") $(grep -c 'event=report-duplicate' "$tmp/serve4.log")" "4 2" \
	"$(cat "$tmp/serve4.log")"
stop
check "SIGTERM: exit 0 (reports)" "$stopped" 0

[ "$n" = 69 ] || echo "# ran $n checks, planned 69"
exit $((fails > 0))
