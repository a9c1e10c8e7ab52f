#!/bin/bash
# SPDX-License-Identifier: MIT
# A resolver set-up that cannot validate DNSSEC is refused or tempfails; it is never "insecure"
# (issue 14 item 2, RFC 7672 §2.1.1).  TAP, on the test network:
#   tests/net/run-with-dns.sh --tap --smtp tests/cli/test-dnssec-anchor.sh MXTLS
# Set-ups: no trust anchor, no validator module, an anchor file that cannot be read (all refused
# at start, exit 78, by check, send and policyd, and from a config file); a wrong root anchor
# and an anchor for another zone (accepted, but every decision is tempfail: check and send
# exit 75, nothing is delivered, policyd answers TEMP); the test network's own set-up (works).
set -uo pipefail
mxtls=$1
. "$(dirname "$0")/lib-tap.sh"

good=$MXTLS_TEST_UNBOUND_CONF
grep -v 'trust-anchor-file' "$good" >"$tmp/noanchor.conf"
sed 's/module-config:.*/module-config: "iterator"/' "$good" >"$tmp/nomodule.conf"
sed "s|trust-anchor-file:.*|trust-anchor-file: \"$tmp/missing.key\"|" "$good" >"$tmp/missing.conf"
zero=0000000000000000000000000000000000000000000000000000000000000000
sed "s|trust-anchor-file:.*|trust-anchor: \". DS 12345 8 2 $zero\"|" "$good" >"$tmp/wrongroot.conf"
sed "s|trust-anchor-file:.*|trust-anchor: \"elsewhere.invalid. DS 12345 8 2 $zero\"|" "$good" \
	>"$tmp/otherzone.conf"
printf 'unbound-conf = %s\n' "$tmp/noanchor.conf" >"$tmp/mxtls.conf"

# run CONF ARGS...: mxtls with that resolver set-up; sets out, err, rc.
run() {
	local conf=$1
	shift
	out=$("$mxtls" --unbound-conf "$conf" --state-dir "$tmp/state" "$@" 2>"$tmp/err" <"$tmp/msg")
	rc=$?
	err=$(cat "$tmp/err")
}
printf 'From: a@e2e.test\nTo: b@secure.test\nSubject: anchor\n\nbody\n' >"$tmp/msg"

# expect NAME WANT_RC WANT_SUBSTRING (in stdout+stderr)
expect() {
	local name=$1 want=$2 sub=$3
	case "$out$err" in
	*"$sub"*) [ "$rc" = "$want" ] && { ok "$name"; return; } ;;
	esac
	not_ok "$name" "exit $rc (want $want), want text: $sub" "stdout: $out" "stderr: $err"
}

echo "1..16"
refused='no DNSSEC trust anchor (trust-anchor-file, auto-trust-anchor-file, trust-anchor or trusted-keys-file): every answer would be insecure and DANE would be off'
run "$tmp/noanchor.conf" check secure.test
expect "check, no trust anchor: refused, exit 78" 78 "unbound-conf $tmp/noanchor.conf: $refused"
run "$tmp/noanchor.conf" send --from a@e2e.test --to b@secure.test -
expect "send, no trust anchor: refused, exit 78" 78 "$refused"
run "$tmp/nomodule.conf" check secure.test
expect "check, module-config without validator: refused, exit 78" 78 \
	'module-config "iterator" has no validator'
run "$tmp/missing.conf" check secure.test
expect "check, unreadable trust-anchor-file: refused, exit 78" 78 \
	"trust-anchor-file $tmp/missing.key: No such file or directory"
out=$("$mxtls" --config "$tmp/mxtls.conf" --state-dir "$tmp/state" check secure.test 2>"$tmp/err")
rc=$?
err=$(cat "$tmp/err")
expect "check, the set-up named in a config file: refused, exit 78" 78 "$refused"

port=$((20000 + RANDOM % 20000))
start_daemon --unbound-conf "$tmp/noanchor.conf" --state-dir "$tmp/state" policyd \
	--listen "127.0.0.1:$port"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
	stop_daemon
	not_ok "policyd, no trust anchor: refuses to start" "still running"
else
	wait "$pid"
	rc=$?
	pid=
	out=
	err=$(cat "$tmp/daemon.err")
	expect "policyd, no trust anchor: refuses to start, exit 78" 78 "$refused"
fi

# Accepted set-ups that do not validate: every decision is tempfail, never "insecure".
run "$tmp/wrongroot.conf" check secure.test
expect "check, wrong root anchor: tempfail, exit 75" 75 \
	"mode: tempfail (DNSSEC validation does not work: the DNSKEY records of the trust anchor's zone . are bogus"
run "$tmp/wrongroot.conf" --json check plain.test
expect "check --json, wrong root anchor, unsigned domain: mode tempfail" 75 '"mode":"tempfail"'
run "$tmp/otherzone.conf" check secure.test
expect "check, anchor for another zone: tempfail, exit 75" 75 \
	"the DNSKEY lookup of the trust anchor's zone elsewhere.invalid answered insecure nxdomain, not secure data: the trust anchor does not cover it"
case $out in
*"security: dane"* | *"security: opportunistic"*) not_ok "no host is given a security level" "$out" ;;
*) ok "no host is given a security level" ;;
esac
before=$(wc -l <"$MXTLS_TEST_SMTP_DIR/connections.jsonl" 2>/dev/null || echo 0)
run "$tmp/otherzone.conf" --json send --from a@e2e.test --to b@plain.test -
expect "send to an unsigned domain, anchor for another zone: deferred, exit 75" 75 \
	'"status":"deferred"'
after=$(wc -l <"$MXTLS_TEST_SMTP_DIR/connections.jsonl" 2>/dev/null || echo 0)
if [ "$before" = "$after" ]; then ok "no SMTP server was contacted"; else
	not_ok "no SMTP server was contacted" "connections $before -> $after"; fi

start_daemon --unbound-conf "$tmp/wrongroot.conf" --state-dir "$tmp/state" policyd \
	--listen "127.0.0.1:$port"
answer=$(socketmap "$port" secure.test)
case $answer in
"TEMP DNSSEC validation does not work"*) ok "policyd, wrong root anchor: TEMP for a DANE domain" ;;
*) not_ok "policyd, wrong root anchor: TEMP for a DANE domain" "answer: $answer" \
	"$(cat "$tmp/daemon.err")" ;;
esac
stop_daemon

# The test network's own set-up validates: the same commands decide.
run "$good" check secure.test
expect "check, the test network's anchor: dane" 0 "mode: dane (every reachable MX host has secure TLSA records)"
run "$good" check plain.test
expect "check, the test network's anchor, unsigned domain: opportunistic" 0 "mode: opportunistic"
run "$good" --json check secure.test
expect "check --json: the probe passed, mx lookup secure" 0 '"mode":"dane"'
[ "$fails" = 0 ]
