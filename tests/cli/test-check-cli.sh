#!/bin/bash
# SPDX-License-Identifier: MIT
# mxtls check on the test network, as a new user meets it (issue 14): the state directory,
# lookup failures explained.  TAP.  Run as:
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

echo "1..$n"
exit $((fails > 0))
