#!/bin/bash
# SPDX-License-Identifier: MIT
# "[host]" next hops are decided for that host, without an MX lookup (issue 14 item 4,
# RFC 7672 §2.2.2): `mxtls check '[HOST]'` and policyd's "[host]" and "[host]:25" keys, on the
# test network.  relay.mail.test publishes an MX (to the DANE host mx1.dane-ee.mail.test) but is
# itself a host without TLSA: as a domain it is DANE, as a next hop it must not be.  TAP:
#   tests/net/run-with-dns.sh --tap --smtp tests/cli/test-nexthop-host.sh MXTLS
set -uo pipefail
mxtls=$1
. "$(dirname "$0")/lib-tap.sh"
m() { "$mxtls" --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --state-dir "$tmp/state" "$@"; }

# expect NAME WANT_RC SUBSTRING... -- ARGS
expect() {
	local name=$1 want=$2
	shift 2
	local subs=()
	while [ "$1" != "--" ]; do subs+=("$1"); shift; done
	shift
	local out rc missing=""
	out=$(m "$@" 2>&1)
	rc=$?
	for s in "${subs[@]}"; do case $out in *"$s"*) ;; *) missing="$missing [$s]" ;; esac; done
	if [ "$rc" = "$want" ] && [ -z "$missing" ]; then ok "$name"; else
		not_ok "$name" "exit $rc (want $want), missing:$missing" "$out"; fi
}
# The daemon runs as a child of this shell itself (not of a function's subshell), so that
# "kill $pid" reaches it.
mx_daemon() { exec "$mxtls" --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --state-dir "$tmp/state" "$@"; }

echo "1..11"
expect "check relay.mail.test (a domain): DANE through its MX" 0 \
	'mode: dane' '10 mx1.dane-ee.mail.test' -- check relay.mail.test
expect "check [relay.mail.test]: the host itself, no MX lookup, no TLSA: opportunistic" 0 \
	'domain: relay.mail.test' 'mode: opportunistic' 'mx lookup: skipped' '  0 relay.mail.test' \
	'addresses (dnssec secure): 127.0.25.252' -- check '[relay.mail.test]'
out=$(m check '[relay.mail.test]' 2>&1)
case $out in *mx1.dane-ee*) not_ok "check [relay.mail.test]: its MX host is not used" "$out" ;;
*) ok "check [relay.mail.test]: its MX host is not used" ;; esac
expect "check --json [relay.mail.test]" 0 '"mode":"opportunistic"' '"host":"relay.mail.test"' \
	-- --json check '[relay.mail.test]'
expect "check [mx1.dane-ee.mail.test]: the host's own TLSA: dane" 0 'mode: dane' \
	'tlsa: 3 1 1' -- check '[mx1.dane-ee.mail.test]'
expect "check [nohost.mail.test]: no address: tempfail" 75 'mode: tempfail' -- \
	check '[nohost.mail.test]'

port=$((20000 + RANDOM % 20000))
start_daemon --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --state-dir "$tmp/state" policyd \
	--listen "127.0.0.1:$port"
answers=$(socketmap "$port" relay.mail.test '[relay.mail.test]' '[relay.mail.test]:25' \
	'[mx1.dane-ee.mail.test]' relay.mail.test)
want=$(printf '%s\n' 'OK dane-only' 'NOTFOUND ' 'NOTFOUND ' 'OK dane-only' 'OK dane-only')
check_answer() {
	local i=$1 name=$2
	local got wantl
	got=$(sed -n "${i}p" <<<"$answers")
	wantl=$(sed -n "${i}p" <<<"$want")
	if [ "$got" = "$wantl" ]; then ok "$name"; else
		not_ok "$name" "got '$got' want '$wantl'" "$(cat "$tmp/daemon.err")"; fi
}
check_answer 1 "policyd relay.mail.test: dane-only (its MX)"
check_answer 2 "policyd [relay.mail.test]: its own answer, NOTFOUND (no TLSA, no policy)"
check_answer 3 "policyd [relay.mail.test]:25: the same"
check_answer 4 "policyd [mx1.dane-ee.mail.test]: dane-only (its own TLSA)"
check_answer 5 "policyd relay.mail.test again (cached): still dane-only, not the [host] answer"
[ "$fails" = 0 ]
