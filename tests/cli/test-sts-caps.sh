#!/bin/bash
# SPDX-License-Identifier: MIT
# Caps never turn a valid policy into "no policy" (issue 14 item 1), on the test network:
# manymx.sts.test, an enforce policy with 1000 mx patterns, is a policy everywhere: sts fetch,
# check and policyd's answer (the mx count cap of 512, policyd's 64-pattern and 16 KiB caps).
# TAP:
#   tests/net/run-with-dns.sh --tap --https tests/cli/test-sts-caps.sh MXTLS
set -uo pipefail
mxtls=$1
. "$(dirname "$0")/lib-tap.sh"
net=(--unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --ca-file "$MXTLS_TEST_CA_FILE"
	--state-dir "$tmp/state")
mkdir -p "$tmp/state"

echo "1..6"
out=$("$mxtls" "${net[@]}" --json sts fetch manymx.sts.test 2>&1)
rc=$?
count=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(len(d["policy"]["mx"]), d["policy"]["mode"])' "$out" 2>/dev/null)
if [ "$rc" = 0 ] && [ "$count" = "1000 enforce" ]; then ok "sts fetch: valid enforce policy, 1000 mx"; else
	not_ok "sts fetch: valid enforce policy, 1000 mx" "exit $rc, got '$count'" "${out:0:600}"; fi
out=$("$mxtls" "${net[@]}" check manymx.sts.test 2>&1)
rc=$?
case $rc:$out in
0:*"mode: mta-sts-enforce"*"security: mta-sts"*) ok "check: mta-sts-enforce, the MX host matches" ;;
*) not_ok "check: mta-sts-enforce, the MX host matches" "exit $rc" "${out:0:600}" ;;
esac

port=$((20000 + RANDOM % 20000))
start_daemon "${net[@]}" policyd --listen "127.0.0.1:$port"
answer=$(socketmap "$port" manymx.sts.test)
want="OK secure match=$(for ((i = 1; i <= 999; i++)); do printf 'mx%04d.manymx.sts.test:' "$i"; done)mx1.manymx.sts.test servername=hostname"
if [ "$answer" = "$want" ]; then ok "policyd: secure match= with all 1000 names, the MX host once"; else
	not_ok "policyd: secure match= with all 1000 names, the MX host once" \
		"got ${#answer} bytes: ${answer:0:200}" "$(tail -5 "$tmp/daemon.err")"; fi
if [ "${#answer}" -gt 16384 ]; then ok "policyd: the answer is longer than the old 16 KiB cap (${#answer} bytes)"; else
	not_ok "policyd: the answer is longer than the old 16 KiB cap" "${#answer} bytes"; fi
stop_daemon

# With --tlsrpt the patterns are written three times: over Postfix's 100000-byte reply limit,
# so TEMP (fail closed), never a cut list.
start_daemon "${net[@]}" policyd --listen "127.0.0.1:$port" --tlsrpt
answer=$(socketmap "$port" manymx.sts.test)
if [ "$answer" = "TEMP the decision does not fit in one answer" ]; then
	ok "policyd --tlsrpt: over Postfix's reply limit: TEMP"
else
	not_ok "policyd --tlsrpt: over Postfix's reply limit: TEMP" "got: ${answer:0:200}"
fi
case $(cat "$tmp/daemon.err") in
*"answer=\"TEMP the decision does not fit in one answer\""*) ok "policyd --tlsrpt: the TEMP is logged" ;;
*) not_ok "policyd --tlsrpt: the TEMP is logged" "$(tail -3 "$tmp/daemon.err")" ;;
esac
[ "$fails" = 0 ]
