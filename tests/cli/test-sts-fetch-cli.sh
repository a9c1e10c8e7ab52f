#!/bin/bash
# SPDX-License-Identifier: MIT
# mxtls sts fetch / sts cache / sts refresh against the policy hosts of the test network (TAP).
# Run as: tests/net/run-with-dns.sh --tap --https tests/cli/test-sts-fetch-cli.sh MXTLS
set -uo pipefail
mxtls=$1
state=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-sts-fetch-cli.XXXXXX")
err=$(mktemp "${TMPDIR:-/tmp}/mxtls-sts-fetch-cli-err.XXXXXX")
trap 'rm -rf "$state" "$err"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

m() {
	"$mxtls" --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --ca-file "$MXTLS_TEST_CA_FILE" \
		--state-dir "$state" "$@"
}

# expect NAME STATUS 'jq-free checks: substrings that must appear' -- ARGS...
expect() {
	local name=$1 want=$2
	shift 2
	local subs=()
	while [ "$1" != "--" ]; do subs+=("$1"); shift; done
	shift
	out=$(m "$@" 2>"$err")
	local got=$?
	local missing=""
	for s in "${subs[@]}"; do
		case $out in *"$s"*) ;; *) missing="$missing [$s]" ;; esac
	done
	if [ "$got" = "$want" ] && [ -z "$missing" ]; then
		ok "$name"
	else
		not_ok "$name" "exit $got (want $want), missing:$missing" "stdout: $out" \
			"stderr: $(cat "$err")"
	fi
}

log=$MXTLS_TEST_HTTPS_DIR/access.log
requests() { grep -c "sni=mta-sts.$1 " "$log" 2>/dev/null || true; }

echo "1..21"
expect "fetch: a new policy comes from the network" 0 '"source":"network"' '"mode":"enforce"' \
	'"id":"20240601T000000"' '"mx":["mx1.enforce.sts.test"]' '"fetched":true' -- \
	--json sts fetch enforce.sts.test
expect "fetch again: the cache answers, no HTTPS" 0 '"source":"cache"' '"fetched":false' -- \
	--json sts fetch Enforce.STS.test.
expect "fetch --refresh goes to the network" 0 '"source":"network"' '"fetched":true' -- \
	--json sts fetch --refresh enforce.sts.test
if [ "$(requests enforce.sts.test)" = 2 ]; then ok "two HTTPS requests so far"; else
	not_ok "two HTTPS requests so far" "got $(requests enforce.sts.test)"; fi
# RFC 8461 §3.3 (STS-15, STS-19): no conditional requests, SNI is the policy host.
if grep "sni=mta-sts.enforce.sts.test TLSv1.[23] \"GET /.well-known/mta-sts.txt HTTP/1.1\" 200" "$log" |
	grep -q 'inm="-" ims="-" ua="mxtls/'; then ok "GET with SNI, TLS 1.2+, no If-None-Match/If-Modified-Since"; else
	not_ok "GET with SNI, TLS 1.2+, no If-None-Match/If-Modified-Since" "$(cat "$log")"; fi
expect "text output" 0 'source: cache' 'mode: enforce' 'mx: mx1.enforce.sts.test' -- \
	sts fetch enforce.sts.test
expect "404 without a cached policy: temporary, sts-policy-fetch-error" 75 \
	'"source":"none"' '"result_type":"sts-policy-fetch-error"' 'HTTP status 404' -- \
	--json sts fetch notfound.sts.test
expect "CN-only certificate: sts-webpki-invalid" 75 '"result_type":"sts-webpki-invalid"' -- \
	--json sts fetch cnonly.sts.test
expect "text/html: sts-policy-invalid" 75 '"result_type":"sts-policy-invalid"' -- \
	--json sts fetch html.sts.test
expect "no _mta-sts record: no policy, exit 1" 1 '"state":"absent"' '"source":"none"' -- \
	--json sts fetch nomx.test
expect "cache list" 0 'enforce.sts.test enforce 20240601T000000' -- sts cache list
expect "cache list --json" 0 '[{"domain":"enforce.sts.test","policy":{"id":"20240601T000000"' -- \
	--json sts cache list
expect "cache show" 0 '"mode":"enforce"' '"text":"version: STSv1\n' -- \
	--json sts cache show enforce.sts.test
expect "refresh everything" 0 '"refreshed":1' '"failed":0' -- \
	--json sts refresh --older-than 0
if [ "$(requests enforce.sts.test)" = 3 ]; then ok "refresh made one more request"; else
	not_ok "refresh made one more request" "got $(requests enforce.sts.test)"; fi
expect "purge" 0 'purged enforce.sts.test' -- sts cache purge enforce.sts.test
expect "show after purge: not found" 1 -- sts cache show enforce.sts.test
expect "--sts-timeout bounds a slow policy host" 75 '"result_type":"sts-policy-fetch-error"' \
	'timed out' -- --sts-timeout 2 --json sts fetch slowbody.sts.test
expect "--sts-timeout 0: usage error" 64 -- --sts-timeout 0 sts fetch enforce.sts.test
expect "bad domain: usage error" 64 -- sts fetch 'not a domain'
expect "cache with a bad verb: usage error" 64 -- sts cache drop x.test
exit $((fails > 0))
