#!/bin/bash
# SPDX-License-Identifier: MIT
# mxtls dane verify / dane tlsa as CLI.md specifies them: output, JSON fields, exit codes.
# Record data is computed independently with openssl.  Usage: test-dane-cli.sh MXTLS VECTORS_DIR
set -u
mxtls=$1
vec=$2/dane
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-dane-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.conf"
m() { "$mxtls" --config "$tmp/empty.conf" "$@"; }
n=0
failed=0
check() { # check NAME WANT_STATUS GOT_STATUS OUTPUT_FILE REGEX
  n=$((n + 1))
  if [ "$3" -eq "$2" ] && grep -Eq -- "$5" "$4"; then echo "ok $n - $1"; else
    echo "not ok $n - $1 (exit $3, wanted $2; output must match /$5/)"
    sed 's/^/#   /' "$4"
    failed=$((failed + 1))
  fi
}
run() { "$@" >"$tmp/out" 2>&1; echo $?; }

chain=$vec/chains/std.pem
# The leaf's SPKI digest, computed without mxtls.
spki256=$(openssl x509 -in "$chain" -noout -pubkey | openssl pkey -pubin -outform DER |
  openssl dgst -sha256 -r | cut -d' ' -f1)
cert512=$(openssl x509 -in "$chain" -outform DER | openssl dgst -sha512 -r | cut -d' ' -f1)

st=$(run m dane tlsa --cert "$chain")
check "dane tlsa: default 3 1 1 of the first certificate" 0 "$st" "$tmp/out" "^3 1 1 $spki256\$"
st=$(run m dane tlsa --cert "$chain" --usage 2 --selector 0 --mtype 2)
check "dane tlsa: 2 0 2" 0 "$st" "$tmp/out" "^2 0 2 $cert512\$"
st=$(run m --json dane tlsa --cert "$chain")
check "dane tlsa --json" 0 "$st" "$tmp/out" "^\{\"tlsa\":\"3 1 1 $spki256\"\}\$"
st=$(run m dane tlsa --cert "$chain" --mtype 3)
check "dane tlsa: matching type out of range is a usage error" 64 "$st" "$tmp/out" 'mtype: expected a number from 0 to 2'
st=$(run m dane tlsa --cert "$tmp/nonexistent.pem")
check "dane tlsa: unreadable file is bad input (65)" 65 "$st" "$tmp/out" 'No such file'

st=$(run m dane verify --chain "$chain" --host mx.example.test --tlsa "3 1 1 $spki256")
check "verify: DANE-EE match, exit 0" 0 "$st" "$tmp/out" "^matched: 3 1 1 $spki256\$"
st=$(run m --json dane verify --chain "$chain" --host mx.example.test --tlsa "3 1 1 $spki256" --tlsa '9 9 9 00')
check "verify --json: fields of CLI.md" 0 "$st" "$tmp/out" \
  "^\{\"authenticated\":true,\"result_type\":null,\"reason\":\"[^\"]+\",\"matched\":\"3 1 1 $spki256\",\"usable\":1,"
other=$(printf '%064d' 0)
st=$(run m dane verify --chain "$chain" --host mx.example.test --tlsa "3 1 1 $other")
check "verify: no match is a negative verdict (1) with its result type" 1 "$st" "$tmp/out" '^result-type: tlsa-invalid$'
st=$(run m --json dane verify --chain "$chain" --host mx.example.test --tlsa '3 1 1 zz' --tlsa '0 1 1 00')
check "verify: malformed records are skipped and reported, not a usage error" 1 "$st" "$tmp/out" \
  '"usable":0,"records":\[\{"tlsa":"3 1 1 zz","usable":false,"problem":"association data is not hexadecimal"\}'
st=$(run m dane verify --chain "$tmp/nonexistent.pem" --host h --tlsa "3 1 1 $spki256")
check "verify: unreadable chain is bad input (65)" 65 "$st" "$tmp/out" 'No such file'
printf 'not a certificate\n' >"$tmp/junk.pem"
st=$(run m dane verify --chain "$tmp/junk.pem" --host h --tlsa "3 1 1 $spki256")
check "verify: a file without certificates is bad input (65)" 65 "$st" "$tmp/out" 'no readable PEM certificate chain'
st=$(run m dane verify --chain "$chain" --tlsa "3 1 1 $spki256")
check "verify: --host is required (64)" 64 "$st" "$tmp/out" 'needs --chain, --host'
st=$(run m dane verify --chain "$chain" --host h --tlsa "3 1 1 $spki256" --at yesterday)
check "verify: a bad --at is a usage error" 64 "$st" "$tmp/out" "--at: 'yesterday' is not an RFC 3339 time"
st=$(run m dane verify --chain - --host mx.example.test --tlsa "3 1 1 $spki256" <"$chain")
check "verify: --chain - reads standard input" 0 "$st" "$tmp/out" '^authenticated: yes$'

# --at decides DANE-TA date checks: the expired-leaf chain passes before expiry, fails after.
if grep -q '^case date-leaf-expired$' "$vec/cases.txt"; then
  ta=$(awk '/^case date-leaf-expired$/{f=1} f&&/^tlsa /{sub(/^tlsa /,""); print; exit}' "$vec/cases.txt")
  exp_chain=$vec/$(awk '/^case date-leaf-expired$/{f=1} f&&/^chain /{print $2; exit}' "$vec/cases.txt")
  st=$(run m dane verify --chain "$exp_chain" --host mx.example.test --tlsa "$ta" --at 2026-12-01T00:00:00Z)
  check "verify --at: expired leaf under DANE-TA" 1 "$st" "$tmp/out" '^result-type: certificate-expired$'
fi

# The dane commands only read: a state directory that does not exist is not created.
mkdir "$tmp/nostate"
st=$(run m --state-dir "$tmp/nostate/state" dane tlsa --cert "$chain")
check "dane tlsa with a missing state-dir works" 0 "$st" "$tmp/out" "^3 1 1 $spki256\$"
st=$(run m --state-dir "$tmp/nostate/state" dane verify --chain "$chain" --host mx.example.test \
  --tlsa "3 1 1 $spki256")
check "dane verify with a missing state-dir works" 0 "$st" "$tmp/out" '^authenticated: yes$'
n=$((n + 1))
if [ -e "$tmp/nostate/state" ]; then echo "not ok $n - dane tlsa/verify created no state directory"
  failed=$((failed + 1)); else echo "ok $n - dane tlsa/verify created no state directory"; fi

echo "1..$n"
exit $((failed > 0))
