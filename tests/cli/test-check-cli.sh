#!/bin/bash
# SPDX-License-Identifier: MIT
# mxtls check on the test network, as a new user meets it (issue 14): the state directory,
# lookup failures explained, -v showing each lookup, the hint when nothing answers.  TAP.  Run as:
#   tests/net/run-with-dns.sh --tap --https tests/cli/test-check-cli.sh MXTLS
set -uo pipefail
mxtls=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done
}
: >"$tmp/empty.conf"
# run STATE_DIR ARGS...: mxtls on the test network; sets out (stdout), err (stderr), rc.
run() {
	local sd=$1
	shift
	out=$("$mxtls" --config "$tmp/empty.conf" --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" \
		--ca-file "$MXTLS_TEST_CA_FILE" --state-dir "$sd" "$@" 2>"$tmp/err")
	rc=$?
	err=$(cat "$tmp/err")
}
# expect NAME WANT_RC REGEX...: each extended regular expression must match a line of
# stdout+stderr.
expect() {
	local name=$1 want=$2 missing=""
	shift 2
	for re in "$@"; do
		printf '%s\n%s\n' "$out" "$err" | grep -Eq -- "$re" || missing="$missing [$re]"
	done
	if [ "$rc" = "$want" ] && [ -z "$missing" ]; then ok "$name"; else
		not_ok "$name" "exit $rc (want $want), missing:$missing" "stdout: $out" "stderr: $err"
	fi
}
# refute NAME REGEX: no line of the last stdout+stderr matches.
refute() {
	if printf '%s\n%s\n' "$out" "$err" | grep -Eq -- "$2"; then
		not_ok "$1" "matched /$2/" "stdout: $out" "stderr: $err"
	else ok "$1"; fi
}

# ---- the state directory (issue 14 item 4) ----
mkdir "$tmp/nostate"
sd=$tmp/nostate/state
run "$sd" check enforce.sts.test
expect "check without a state dir works: policy from the network" 0 \
	'^mode: mta-sts-enforce ' '^mta-sts policy source: network$'
if [ -e "$sd" ]; then not_ok "check created no state directory" "$(ls -la "$sd")"; else
	ok "check created no state directory"; fi
run "$tmp/noparent/state" check enforce.sts.test
expect "check works when even the parent is missing" 0 '^mode: mta-sts-enforce '
if [ -e "$tmp/noparent" ]; then not_ok "... and creates nothing" "$(ls -la "$tmp/noparent")"; else
	ok "... and creates nothing"; fi
run "$sd" -v check enforce.sts.test
expect "check -v says the state dir is not used" 0 \
	"^mxtls: state-dir $sd does not exist: this command neither reads nor creates it"
run "$sd" sts fetch enforce.sts.test
expect "sts fetch stores the policy: it creates the state dir" 0 '^source: network'
if [ -d "$sd" ]; then ok "sts fetch created the state directory"; else
	not_ok "sts fetch created the state directory"; fi
run "$sd" check enforce.sts.test
expect "check reads the cache once it exists" 0 '^mta-sts policy source: cache$'

# ---- failed lookups explained (issue 14 item 3) ----
sd=$tmp/state
run "$sd" check bogus.test
expect "bogus MX: tempfail (75), the failure instead of a DNSSEC status" 75 \
	'^mode: tempfail ' '^mx lookup: failed, no usable answer \(bogus \(validation failure' \
	'^mta-sts record: error \(TXT lookup failed: validation failure <_mta-sts\.bogus\.test\. TXT IN>' \
	'^tls-rpt record: error \(lookup failed: bogus\)$'
refute "bogus MX: no 'dnssec insecure' for a lookup that had no answer" '^mx lookup: .*dnssec'
refute "bogus: no hint about unreachable servers (answers did come)" '^mxtls: hint:'
run "$sd" check refused.test
expect "SERVFAIL: the failure, and the reason of the _mta-sts error" 75 \
	'^mx lookup: failed, no usable answer \(servfail \(SERVFAIL\)\)$' \
	'^mta-sts record: error \(TXT lookup failed: SERVFAIL\)$'
expect "SERVFAIL with --unbound-conf: hint to check its servers" 75 \
	"^mxtls: hint: DNS lookups got no answer \\(SERVFAIL or timeout\\)\\.  If every domain fails like this, check that the servers named in unbound-conf $MXTLS_TEST_UNBOUND_CONF answer"
run "$sd" check --json refused.test
expect "--json: the reason of the _mta-sts error" 75 '"txt_reason":"TXT lookup failed: SERVFAIL"'
run "$sd" -v check refused.test
expect "check -v shows each lookup (qname, type, outcome, DNSSEC, time)" 75 \
	'^mxtls: debug id=0 event=dns qname=refused\.test type=MX outcome=servfail dnssec=insecure records=0 ms=[0-9]+ why=SERVFAIL$' \
	'^mxtls: debug id=0 event=dns qname=_mta-sts\.refused\.test type=TXT outcome=servfail ' \
	'^mxtls: debug id=0 event=dns qname=_smtp\._tls\.refused\.test type=TXT outcome=servfail '
run "$sd" -v check secure.test
expect "check -v on a good domain: secure answers with their record counts" 0 \
	'^mxtls: debug id=0 event=dns qname=secure\.test type=MX outcome=data dnssec=secure records=[1-9]' \
	'^mxtls: debug id=0 event=dns qname=_25\._tcp\.mx1\.secure\.test type=TLSA outcome=data dnssec=secure '
run "$sd" check secure.test
refute "without -v: no debug lines" 'event=dns'

# No reachable DNS at all.  (1) The test anchor, but a forwarder on a closed loopback port.
# A context that cannot prove DNSSEC works tempfails (75) with its own message; the hint must
# come as well.
sed -e '/^forward-zone:/,$d' -e '/^stub-zone:/,$d' "$MXTLS_TEST_UNBOUND_CONF" >"$tmp/nodns.conf"
printf 'forward-zone:\n  name: "."\n  forward-addr: 127.0.0.1@9\n' >>"$tmp/nodns.conf"
out=$("$mxtls" --config "$tmp/empty.conf" --unbound-conf "$tmp/nodns.conf" --state-dir "$sd" \
	check secure.test 2>"$tmp/err")
rc=$?
err=$(cat "$tmp/err")
expect "no DNS (closed forwarder): 75, the failure, the hint naming the unbound-conf" 75 \
	'^mode: tempfail ' '^mx lookup: failed, no usable answer' \
	"^mxtls: hint: DNS lookups got no answer .*check that the servers named in unbound-conf $tmp/nodns.conf answer"
# (2) The built-in set-up (recursion from the root): inside the test network no root server is
# reachable, as on a host whose port 53 is blocked.  The hint names --unbound-conf.
if [ -r /usr/share/dns/root.key ]; then
	out=$("$mxtls" --config "$tmp/empty.conf" --state-dir "$sd" check example.com 2>"$tmp/err")
	rc=$?
	err=$(cat "$tmp/err")
	expect "no DNS (root servers unreachable): 75 and the --unbound-conf forwarder hint" 75 \
		'^mode: tempfail ' \
		'^mxtls: hint: DNS lookups got no answer .*may not reach the root name servers.*give --unbound-conf FILE .*forward-zone'
else
	n=$((n + 1)); echo "ok $n - no DNS (root servers unreachable) # SKIP no /usr/share/dns/root.key"
fi

# ---- wording a new user trips over (issue 14) ----
run "$tmp/wording" check --connect stsmismatch.sts.test
expect "an excluded host: 'not contacted' once, then why; the mode without nested brackets" 0 \
	'^      connect: not contacted -- matches no mx pattern of the MTA-STS enforce policy$' \
	'^mode: mta-sts-enforce \(MTA-STS enforce policy from the network; no MX host matches it\)$'
refute "no 'not contacted -- not contacted'" 'not contacted -- not contacted'

echo "1..$n"
exit $((fails > 0))
