#!/bin/bash
# SPDX-License-Identifier: MIT
# mxtls sts lint as CLI.md specifies it: text and --json output, exit codes 0/1/64/65, --txt,
# --mx, standard input, the size cap.  Usage: test-sts-cli.sh MXTLS VECTORS_DIR.  Prints TAP.
set -u
mxtls=$1
vec=$2/sts
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-sts-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home" XDG_STATE_HOME="$tmp/state"
: >"$tmp/empty.conf"
m() { "$mxtls" --config "$tmp/empty.conf" "$@"; }
n=0
failed=0
check() { # check NAME WANT_STATUS GOT_STATUS OUTPUT_FILE REGEX
  n=$((n + 1))
  if [ "$3" -eq "$2" ] && grep -Eq -- "$5" "$4"; then echo "ok $n - $1"; else
    echo "not ok $n - $1 (exit $3, wanted $2; output must match /$5/)"
    sed 's/^/#   /' "$4" | head -20
    failed=$((failed + 1))
  fi
}
run() { "$@" >"$tmp/out" 2>&1; echo $?; }
# exact NAME WANT_STATUS EXPECTED_STDOUT -- CMD...: the whole standard output, byte for byte.
exact() {
  local name=$1 want=$2 expected=$3
  shift 4
  n=$((n + 1))
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ] && [ "$(cat "$tmp/out")" = "$expected" ]; then echo "ok $n - $name"; else
    echo "not ok $n - $name (exit $got, wanted $want)"
    printf '#   expected: %s\n#   got:      %s\n' "$expected" "$(cat "$tmp/out" "$tmp/err")"
    failed=$((failed + 1))
  fi
}

# The vectors are byte-exact; a checkout that converted line ends would make every test lie.
st=$(cd "$vec" && run sh -c 'sha256sum --quiet -c SHA256SUMS && echo checksums-ok')
check "vectors/sts/policy files match SHA256SUMS" 0 "$st" "$tmp/out" '^checksums-ok$'

# A valid policy: text and JSON.
st=$(run m sts lint "$vec/policy/rfc-example-lf.txt")
check "valid policy: exit 0, fields printed" 0 "$st" "$tmp/out" '^mx: \*\.example\.net$'
exact "valid policy --json: the fields of CLI.md" 0 \
  '{"valid":true,"errors":[],"warnings":[],"policy":{"version":"STSv1","mode":"enforce","max_age":604800,"mx":["mail.example.com","*.example.net","backupmx.example.com"]}}' \
  -- m --json sts lint "$vec/policy/rfc-example-crlf.txt"
exact "mode none without mx" 0 \
  '{"valid":true,"errors":[],"warnings":[],"policy":{"version":"STSv1","mode":"none","max_age":86400,"mx":[]}}' \
  -- m --json sts lint "$vec/policy/mode-none-no-mx.txt"

# Invalid policies: exit 1, each problem with its line.
st=$(run m sts lint "$vec/policy/bare-cr-inside.txt")
check "bare CR: exit 1 with line and column" 1 "$st" "$tmp/out" '^error: line 2, column 14: a bare CR'
st=$(run m sts lint "$vec/policy/missing-mode.txt")
check "missing field: reported at the last line" 1 "$st" "$tmp/out" '^error: line 3: the mode field is missing'
exact "invalid policy --json: policy is null, errors carry line and column" 1 \
  '{"valid":false,"errors":[{"line":1,"column":10,"reason":"version must be STSv1 (RFC 8461 section 3.2)"}],"warnings":[],"policy":null}' \
  -- m --json sts lint "$vec/policy/version-stsv2.txt"
st=$(run m --json sts lint "$vec/policy/equals-instead-of-colon.txt")
check "every problem is listed" 1 "$st" "$tmp/out" '"line":4,"column":8,'

# Warnings do not make a policy invalid.
st=$(run m sts lint "$vec/policy/max-age-above-year.txt")
check "max_age above a year: clamped with a warning (D3), exit 0" 0 "$st" "$tmp/out" \
  '^warning: line 4, column 10: max_age is above the maximum'
st=$(run m --json sts lint "$vec/policy/duplicate-mode.txt")
check "duplicate mode: the first counts, warning in JSON" 0 "$st" "$tmp/out" \
  '"warnings":\[\{"line":3,"column":null,"reason":"a second mode field is ignored.*"mode":"testing"'

# Standard input, explicit and by default.
st=$(run m sts lint - <"$vec/policy/rfc-example-lf.txt")
check "FILE '-' reads standard input" 0 "$st" "$tmp/out" '^valid: yes$'
st=$(run m sts lint <"$vec/policy/no-final-newline.txt")
check "no FILE reads standard input" 0 "$st" "$tmp/out" '^max_age: 604800$'
check "no FILE, stdin not a terminal: no note" 0 "$st" "$tmp/out" '^valid: yes$'
if grep -q 'standard input' "$tmp/out"; then
  n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - no note when stdin is a file"
else n=$((n + 1)); echo "ok $n - no note when stdin is a file"; fi

# At a terminal, no FILE: a note on stderr before anything is typed, then the policy + Ctrl-D.
# tty_run POLICY CMD...: CMD's stdin is a pseudo-terminal; what CMD wrote to stderr before the
# input comes first ("before-input: ..."), then the policy and Ctrl-D are typed.
tty_run() {
  python3 - "$@" <<'PY'
import os, pty, select, subprocess, sys
policy = open(sys.argv[1], 'rb').read()
m, s = pty.openpty()
p = subprocess.Popen(sys.argv[2:], stdin=s, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
os.close(s)
early = b''
while not early.endswith(b'\n') and select.select([p.stderr], [], [], 2)[0]:
    chunk = os.read(p.stderr.fileno(), 4096)
    if not chunk:
        break
    early += chunk
os.write(m, policy + b'\x04')
out, err = p.communicate(timeout=20)
sys.stdout.buffer.write(b'before-input: ' + early + out + err)
sys.exit(p.returncode)
PY
}
st=$(run tty_run "$vec/policy/rfc-example-lf.txt" "$mxtls" --config "$tmp/empty.conf" sts lint)
check "stdin a terminal, no FILE: says it reads stdin, before any input" 0 "$st" "$tmp/out" \
  "^before-input: mxtls: reading the policy from standard input \\(end it with Ctrl-D"
check "stdin a terminal: the typed policy is checked" 0 "$st" "$tmp/out" '^mx: \*\.example\.net$'
st=$(run m sts lint --help)
check "sts lint --help says FILE defaults to standard input" 0 "$st" "$tmp/out" \
  "Without FILE, or with '-', the policy is read from standard input"

# The size cap: 65536 bytes are fine, one more is invalid (exit 1, not unreadable).
{ printf 'version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\nx: '
  head -c $((65536 - 65 - 4)) /dev/zero | tr '\0' a
  printf '\n'; } >"$tmp/65536.txt"
{ cat "$tmp/65536.txt"; printf 'x'; } >"$tmp/65537.txt"
head -c 1000000 /dev/zero | tr '\0' a >"$tmp/huge.txt"
st=$(run m sts lint "$tmp/65536.txt")
check "a policy of exactly 65536 bytes is valid" 0 "$st" "$tmp/out" '^valid: yes$'
st=$(run m sts lint "$tmp/65537.txt")
check "65537 bytes: invalid (1), not truncated" 1 "$st" "$tmp/out" \
  '^error: line 6: the policy is larger than 64 KiB \(65536 bytes\), the most mxtls accepts \(RFC 8461 section 3\.3'
st=$(run m sts lint - <"$tmp/huge.txt")
check "a megabyte on standard input: invalid (1)" 1 "$st" "$tmp/out" 'larger than 64 KiB'
# no_internal_names NAME: the last output names no internal constant (STS_POLICY_MAX ...).
no_internal_names() {
  n=$((n + 1))
  if grep -Eq '[A-Z]+_[A-Z_]*MAX|the cap [A-Z]' "$tmp/out"; then
    failed=$((failed + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$tmp/out"
  else echo "ok $n - $1"; fi
}
no_internal_names "the size error names no internal constant"

# What a new user writes: the messages say what is wrong in the user's terms.
printf 'version: STSv1\nmode: Enforce\nmx: mail.example.com\nmax_age: 86400\n' >"$tmp/Enforce.txt"
st=$(run m sts lint "$tmp/Enforce.txt")
check "mode: Enforce: values are case-sensitive" 1 "$st" "$tmp/out" \
  '^error: line 2, column 7: mode is not one of enforce, testing, none: values are case-sensitive, write "enforce"'
printf 'version: STSv1\nmode: report\nmx: mail.example.com\nmax_age: 86400\n' >"$tmp/report.txt"
st=$(run m sts lint "$tmp/report.txt")
check "mode: report: not one of the three" 1 "$st" "$tmp/out" \
  '^error: line 2, column 7: mode is not one of enforce, testing, none \(RFC 8461'
st=$(run m sts lint "$vec/policy/missing-version.txt")
check "missing version: reported at line 1" 1 "$st" "$tmp/out" \
  "^error: line 1: the version field is missing: a policy starts with 'version: STSv1'"
st=$(run m sts lint "$vec/policy/mode-key-uppercase.txt")
check "Mode: an unknown field, and the warning says why" 1 "$st" "$tmp/out" \
  '^warning: line [0-9]+, column 1: an unknown field is ignored: field names are case-sensitive, so this is not the mode field'

# --mx: which pattern an MX host matches (RFC 8461 section 4.1).
st=$(run m sts lint "$vec/policy/rfc-example-lf.txt" --mx mx1.example.net --mx a.b.example.net --mx MAIL.Example.COM.)
check "--mx: one label under *.example.net" 0 "$st" "$tmp/out" '^mx-match: mx1\.example\.net: \*\.example\.net$'
check "--mx: two labels do not match" 0 "$st" "$tmp/out" '^mx-match: a\.b\.example\.net: no pattern matches$'
check "--mx: case and root dot ignored" 0 "$st" "$tmp/out" '^mx-match: MAIL\.Example\.COM\.: mail\.example\.com$'
st=$(run m --json sts lint "$vec/policy/rfc-example-lf.txt" --mx example.net)
check "--mx --json" 0 "$st" "$tmp/out" '"mx_match":\[\{"host":"example.net","pattern":null\}\]\}$'

# TXT records.
exact "--txt: valid record, JSON" 0 '{"valid":true,"errors":[],"warnings":[],"txt":{"id":"20160831085700Z"}}' \
  -- m --json sts lint --txt 'v=STSv1; id=20160831085700Z;'
st=$(run m sts lint --txt 'v=STSv1 ; id=abc')
check "--txt: 'v=STSv1 ;' valid with a warning (D4)" 0 "$st" "$tmp/out" '^warning: record 1, column 8: white space before'
exact "--txt: invalid id, JSON" 1 \
  '{"valid":false,"errors":[{"line":1,"column":17,"reason":"the id must consist of letters and digits only (RFC 8461 section 3.1)"}],"warnings":[],"txt":null}' \
  -- m --json sts lint --txt 'v=STSv1; id=2024-01-01'
st=$(run m sts lint --txt 'v=STSv1; id=a' --txt 'v=spf1 -all')
check "--txt twice: the other record is discarded" 0 "$st" "$tmp/out" '^id: a$'
st=$(run m sts lint --txt 'v=STSv1; id=a' --txt 'v=STSv1; id=b')
check "--txt twice: two candidates, no policy" 1 "$st" "$tmp/out" '^error: more than one record begins with v=STSv1;'
st=$(run m sts lint --txt 'v=spf1 -all' --txt 'x')
check "--txt: no candidate" 1 "$st" "$tmp/out" '^error: no record begins with v=STSv1;'

# Usage errors (64) and unreadable input (65).
st=$(run m sts lint "$vec/policy/rfc-example-lf.txt" --txt 'v=STSv1; id=a')
check "FILE and --txt together: usage error" 64 "$st" "$tmp/out" 'not both'
st=$(run m sts lint a b)
check "two FILEs: usage error naming the real problem" 64 "$st" "$tmp/out" \
  '^mxtls: sts lint takes one FILE at most'
if grep -q -- '--txt' "$tmp/out"; then
  n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - two FILEs: no word about --txt"
  sed 's/^/#   /' "$tmp/out"
else n=$((n + 1)); echo "ok $n - two FILEs: no word about --txt"; fi
st=$(run m sts lint --txt 'v=STSv1; id=a' --mx mx.example.com)
check "--mx with --txt: usage error" 64 "$st" "$tmp/out" '--mx applies to a policy'
st=$(run m sts lint --bogus)
check "unknown option: usage error" 64 "$st" "$tmp/out" "unknown option '--bogus'"
st=$(run m sts lint "$tmp/nonexistent.txt")
check "unreadable file: exit 65" 65 "$st" "$tmp/out" 'nonexistent.txt: No such file'
st=$(run m sts lint "$tmp")
check "a directory: exit 65" 65 "$st" "$tmp/out" 'Is a directory'
st=$(run m sts lint --help)
check "sts lint --help" 0 "$st" "$tmp/out" '^Usage: mxtls sts lint '

echo "1..$n"
exit $((failed > 0))
