# SPDX-License-Identifier: MIT
# Sourced by the queue's TAP shell tests (test-queue-cli.sh, test-maildrop-cli.sh): the TAP
# counters and the checks they share.  The caller prints "1..$n" and exits with [ "$failed" -eq 0 ].
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() {
  n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /' | head -30
}
# expect NAME WANT_STATUS GOT_STATUS FILE REGEX: the status, and FILE matches REGEX (ERE).
expect() {
  if [ "$3" -eq "$2" ] && grep -Eq -- "$5" "$4"; then ok "$1"; else
    bad "$1 (exit $3, wanted $2; must match /$5/)" "$(cat "$4")"; fi
}
# status NAME WANT_STATUS GOT_STATUS
status() { if [ "$3" -eq "$2" ]; then ok "$1"; else bad "$1 (exit $3, wanted $2)"; fi; }
# same NAME EXPECTED GOT: two strings, byte for byte.
same() {
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "$(printf 'expected: %s\ngot:      %s' "$2" "$3")"; fi
}
