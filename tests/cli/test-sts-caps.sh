#!/bin/bash
# SPDX-License-Identifier: MIT
# Caps never turn a valid policy into "no policy" (issue 14 item 1), on the test network:
# manymx.sts.test, an enforce policy with 1000 mx patterns, is a policy everywhere: sts fetch,
# check and policyd's answer (the mx count cap of 512, policyd's 64-pattern and 16 KiB caps).
# TAP:
#   tests/net/run-with-dns.sh --tap --https tests/cli/test-sts-caps.sh MXTLS
set -uo pipefail
mxtls=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-manymx.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift
	for l in "$@"; do printf '# %s\n' "$l"; done
}
m() {
	"$mxtls" --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --ca-file "$MXTLS_TEST_CA_FILE" \
		--state-dir "$tmp/state" "$@"
}
# The daemon runs as a child of this shell itself (not of a function's subshell), so that
# "kill $pid" reaches it.
mx_daemon() { exec "$mxtls" --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --ca-file "$MXTLS_TEST_CA_FILE" --state-dir "$tmp/state" "$@"; }
mkdir -p "$tmp/state"

echo "1..6"
out=$(m --json sts fetch manymx.sts.test 2>&1)
rc=$?
count=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(len(d["policy"]["mx"]), d["policy"]["mode"])' "$out" 2>/dev/null)
if [ "$rc" = 0 ] && [ "$count" = "1000 enforce" ]; then ok "sts fetch: valid enforce policy, 1000 mx"; else
	not_ok "sts fetch: valid enforce policy, 1000 mx" "exit $rc, got '$count'" "${out:0:600}"; fi
out=$(m check manymx.sts.test 2>&1)
rc=$?
case $out in
*"mode: mta-sts-enforce"*"security: mta-sts"*) [ "$rc" = 0 ] && ok "check: mta-sts-enforce, the MX host matches" ||
	not_ok "check: mta-sts-enforce, the MX host matches" "exit $rc" ;;
*) not_ok "check: mta-sts-enforce, the MX host matches" "exit $rc" "${out:0:600}" ;;
esac

port=$((20000 + RANDOM % 20000))
mx_daemon policyd --listen "127.0.0.1:$port" 2>"$tmp/policyd.err" &
pid=$!
python3 - "$port" >"$tmp/answer" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
        break
    except OSError:
        time.sleep(0.05)
q = b"postfix manymx.sts.test"
s.sendall(b"%d:%s," % (len(q), q))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
    head, _, rest = data.partition(b":")
    if head.isdigit() and len(rest) >= int(head) + 1:
        break
head, _, rest = data.partition(b":")
sys.stdout.write(rest[:int(head)].decode())
PY
answer=$(cat "$tmp/answer")
want="OK secure match=$(for ((i = 1; i <= 999; i++)); do printf 'mx%04d.manymx.sts.test:' "$i"; done)mx1.manymx.sts.test servername=hostname"
if [ "$answer" = "$want" ]; then ok "policyd: secure match= with all 1000 names, the MX host once"; else
	not_ok "policyd: secure match= with all 1000 names, the MX host once" "got ${#answer} bytes: ${answer:0:200}" \
		"$(tail -5 "$tmp/policyd.err")"; fi
if [ "${#answer}" -gt 16384 ]; then ok "policyd: the answer is longer than the old 16 KiB cap (${#answer} bytes)"; else
	not_ok "policyd: the answer is longer than the old 16 KiB cap" "${#answer} bytes"; fi
kill "$pid"; wait "$pid" 2>/dev/null
pid=

# With --tlsrpt the patterns are written three times: over Postfix's 100000-byte reply limit,
# so TEMP (fail closed), never a cut list.
mx_daemon policyd --listen "127.0.0.1:$port" --tlsrpt 2>"$tmp/policyd.err" &
pid=$!
answer=$(python3 - "$port" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
        break
    except OSError:
        time.sleep(0.05)
q = b"postfix manymx.sts.test"
s.sendall(b"%d:%s," % (len(q), q))
data = b""
while not data.endswith(b","):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode().split(":", 1)[1][:-1])
PY
)
if [ "$answer" = "TEMP the decision does not fit in one answer" ]; then
	ok "policyd --tlsrpt: over Postfix's reply limit: TEMP"
else
	not_ok "policyd --tlsrpt: over Postfix's reply limit: TEMP" "got: ${answer:0:200}"
fi
case $(cat "$tmp/policyd.err") in
*"answer=\"TEMP the decision does not fit in one answer\""*) ok "policyd --tlsrpt: the TEMP is logged" ;;
*) not_ok "policyd --tlsrpt: the TEMP is logged" "$(tail -3 "$tmp/policyd.err")" ;;
esac

[ "$fails" = 0 ]
