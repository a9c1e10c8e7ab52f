#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tlsrpt-up.sh NETNS WORKDIR -- start the TLS-RPT report collector (HTTPS POST, RFC 8460 §5.4)
# of the test network.
#
#   1. runs pki-up.sh WORKDIR unless WORKDIR/pki/ca.pem already exists, then issues
#      rpt.sts.test from the test CA and rpt-untrusted.sts.test from the untrusted CA,
#   2. writes WORKDIR/tlsrpt/control, the answer of each path (format in
#      tlsrpt-collector.py; a test may rewrite it at any time, it is read at every request):
#        /ok 200   /created 201   /accepted 202   /flaky 500,200   /gone 404
#        /error 500   /big 200 with a 100000-byte response body, /big-nolength the same
#        without Content-Length (the body ends when the connection closes), /slow 200 after
#        5 s
#   3. starts ONE /usr/bin/python3 tlsrpt-collector.py inside NETNS (in the background, stdin
#      /dev/null, its output in WORKDIR/tlsrpt/collector.out), listening on
#        127.0.44.5:443  rpt.sts.test            valid certificate (test CA)
#        127.0.44.6:443  rpt-untrusted.sts.test  certificate from untrusted-ca.pem
#      and waits until it has bound both (WORKDIR/tlsrpt/ready) and the kernel lists them as
#      listening (ss; no test connection is made, so received/ starts empty).
# Each POST lands in WORKDIR/tlsrpt/received/NNNN.head and NNNN.body.  NETNS must exist
# (netns.sh up) and the A records are in dns/sts.test.zone.  Stop with tlsrpt-down.sh.  Running
# it again restarts the collector with an empty WORKDIR/tlsrpt/ (the certificates are kept).
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
GOOD_ADDR=127.0.44.5
UNTRUSTED_ADDR=127.0.44.6
GOOD_HOST=rpt.sts.test
UNTRUSTED_HOST=rpt-untrusted.sts.test

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

(($# == 2)) || {
    printf 'usage: %s NETNS WORKDIR\n' "$prog" >&2
    exit 2
}
netns=$1
mkdir -p "$2"
workdir=$(cd "$2" && pwd)

[[ -e /run/netns/$netns ]] || die "no such network namespace: $netns"
[[ -x $PY ]] || die "$PY not found"
command -v ss >/dev/null || die "ss not found (iproute2)"

bash "$here/tlsrpt-down.sh" "$netns" "$workdir"

pki=$workdir/pki
[[ -f $pki/ca.pem ]] || bash "$here/pki-up.sh" "$workdir"
[[ -f $pki/$GOOD_HOST.pem ]] || bash "$here/pki-up.sh" --add "$workdir" "$GOOD_HOST"
[[ -f $pki/$UNTRUSTED_HOST-untrusted.pem ]] ||
    bash "$here/pki-up.sh" --add-untrusted "$workdir" "$UNTRUSTED_HOST"

dir=$workdir/tlsrpt
rm -rf "$dir"
mkdir -p "$dir/received"
cat >"$dir/control" <<'EOF_CONTROL'
# PATH STATUS[,STATUS...] [body=BYTES] -- see tests/net/tlsrpt-collector.py
/ok        200
/created   201
/accepted  202
/flaky     500,200
/gone      404
/error     500
/big       200 body=100000
/big-nolength 200 body=100000 nolength
/slow      200 delay=5
EOF_CONTROL

ip netns exec "$netns" "$PY" "$here/tlsrpt-collector.py" "$dir" \
    "$GOOD_ADDR:443:$pki/$GOOD_HOST.pem:$pki/$GOOD_HOST.key" \
    "$UNTRUSTED_ADDR:443:$pki/$UNTRUSTED_HOST-untrusted.pem:$pki/$UNTRUSTED_HOST-untrusted.key" \
    </dev/null >>"$dir/collector.out" 2>&1 &
launcher=$!

# listening: the ready file is there and both addresses are listening TCP sockets in NETNS
listening() {
    local out a
    [[ -s $dir/ready ]] || return 1
    out=$(ip netns exec "$netns" ss -Hltn 2>/dev/null) || return 1
    for a in "$GOOD_ADDR" "$UNTRUSTED_ADDR"; do
        [[ $out == *" $a:443 "* ]] || return 1
    done
}
up=0
for ((i = 0; i < 200; i++)); do
    if listening; then
        up=1
        break
    fi
    if ! kill -0 "$launcher" 2>/dev/null; then
        cat "$dir/collector.out" >&2 2>/dev/null || true
        die "tlsrpt-collector.py exited at start-up"
    fi
    sleep 0.05
done
((up)) || {
    cat "$dir/collector.out" >&2 2>/dev/null || true
    die "tlsrpt-collector.py in $netns is not listening"
}

printf '%s: TLS-RPT collector up in netns %s (%s %s, %s %s, port 443), files in %s\n' \
    "$prog" "$netns" "$GOOD_ADDR" "$GOOD_HOST" "$UNTRUSTED_ADDR" "$UNTRUSTED_HOST" "$dir" >&2
