#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-https-scenarios.sh -- self-test of the MTA-STS policy hosts of the test network (TAP).
#
# For every scenario domain NAME.sts.test (dns/sts.test.zone, https-up.sh) it asserts
#   - with unbound-host: the _mta-sts TXT, the mta-sts host's address and the MX are secure,
#   - with curl (--cacert MXTLS_TEST_CA_FILE, --resolve to the address the zone gives): the
#     exact HTTP status, Content-Type, body (or size) or the exact TLS / connect failure.
# Meant to run through run-with-dns.sh --https:
#     bash tests/net/run-with-dns.sh --https bash tests/net/test-https-scenarios.sh
# Started directly (MXTLS_TEST_CA_FILE unset) it re-runs itself that way.
# Exit status: 0 if every assertion passed, 1 otherwise, 77 (or a TAP "1..0 # SKIP"
# when MXTLS_TEST_TAP=1) if it cannot run here.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z ${MXTLS_TEST_CA_FILE:-} ]]; then
    exec bash "$here/run-with-dns.sh" --https bash "$here/test-https-scenarios.sh" "$@"
fi

for tool in curl unbound-host openssl; do
    if ! command -v "$tool" >/dev/null; then
        if [[ ${MXTLS_TEST_NO_SKIP:-0} == 1 ]]; then
            printf 'cannot run: %s not installed (MXTLS_TEST_NO_SKIP=1)\n' "$tool" >&2
            exit 1
        fi
        if [[ ${MXTLS_TEST_TAP:-0} == 1 ]]; then
            printf '1..0 # SKIP %s not installed\n' "$tool"
            exit 0
        fi
        printf 'SKIP: %s not installed\n' "$tool"
        exit 77
    fi
done

conf=$MXTLS_TEST_UNBOUND_CONF
ca=$MXTLS_TEST_CA_FILE
pki=$MXTLS_TEST_PKI_DIR
resolve_file=$MXTLS_TEST_HTTPS_RESOLVE
slow=$MXTLS_TEST_HTTPS_SLOW_SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-https-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
n=0
failed=0

result() { # result OK DESC [DIAGNOSTIC LINES...]
    local ok=$1 desc=$2
    shift 2
    n=$((n + 1))
    if ((ok)); then
        printf 'ok %d - %s\n' "$n" "$desc"
    else
        failed=$((failed + 1))
        printf 'not ok %d - %s\n' "$n" "$desc"
        (($#)) && printf '%s\n' "$@" | sed 's/^/#   /'
    fi
}

# dns DESC TYPE NAME EXPECT...: unbound-host output contains every EXPECT
dns() {
    local desc=$1 type=$2 name=$3 out want ok=1
    shift 3
    out=$(unbound-host -C "$conf" -v -t "$type" "$name" 2>&1)
    for want in "$@"; do
        [[ $out == *"$want"* ]] || ok=0
    done
    result "$ok" "$desc ($name $type)" "${@/#/expected: }" "${out//$'\n'/$'\n'got: }"
}

# fetch HOST ADDR [CURL-OPTION...]: GET https://HOST/.well-known/mta-sts.txt from ADDR.
# Sets rc (curl's exit status), code, ctype, size, redir, err; the body is in $tmp/body.
fetch() {
    local host=$1 addr=$2 out
    shift 2
    rm -f "$tmp/body"
    out=$(curl -sS --max-time 10 --cacert "$ca" --resolve "$host:443:$addr" -o "$tmp/body" \
        -w '%{http_code}|%{content_type}|%{size_download}|%{redirect_url}' "$@" \
        "https://$host/.well-known/mta-sts.txt" 2>"$tmp/err")
    rc=$?
    IFS='|' read -r code ctype size redir <<<"$out"
    err=$(head -n 1 "$tmp/err")
    [[ -f $tmp/body ]] || : >"$tmp/body"
}

# got: one line describing the last fetch (for diagnostics)
got() {
    printf 'got: rc=%s status=%s type=[%s] size=%s redirect=[%s] err=[%s]' \
        "$rc" "$code" "$ctype" "$size" "$redir" "$err"
}

# policy MODE MX [EOL]
policy() {
    local eol=${3:-$'\n'}
    printf 'version: STSv1%smode: %s%smx: %s%smax_age: 86400%s' "$eol" "$1" "$eol" "$2" "$eol" "$eol"
}

# expect DESC HOST ADDR RC STATUS CTYPE BODY [CURL-OPTION...]: exact outcome of a fetch
expect() {
    local desc=$1 host=$2 addr=$3 wrc=$4 wcode=$5 wtype=$6 wbody=$7 ok=1
    shift 7
    fetch "$host" "$addr" "$@"
    [[ $rc == "$wrc" && $code == "$wcode" && $ctype == "$wtype" ]] || ok=0
    printf '%s' "$wbody" >"$tmp/want"
    cmp -s "$tmp/want" "$tmp/body" || ok=0
    result "$ok" "$desc" "expected: rc=$wrc status=$wcode type=[$wtype] size=${#wbody}" "$(got)"
}

# expect_fail DESC HOST ADDR RC MESSAGE [CURL-OPTION...]: the fetch fails with RC and MESSAGE
expect_fail() {
    local desc=$1 host=$2 addr=$3 wrc=$4 wmsg=$5 ok=1
    shift 5
    fetch "$host" "$addr" "$@"
    [[ $rc == "$wrc" && $code == 000 && $err == *"$wmsg"* && ! -s $tmp/body ]] || ok=0
    result "$ok" "$desc" "expected: rc=$wrc status=000 err=[*$wmsg*]" "$(got)"
}

# expect_padded DESC HOST ADDR SIZE MX: 200 text/plain, SIZE bytes: a policy + "pad:" lines
expect_padded() {
    local desc=$1 host=$2 addr=$3 wsize=$4 ok=1
    fetch "$host" "$addr"
    [[ $rc == 0 && $code == 200 && $ctype == text/plain && $size == "$wsize" ]] || ok=0
    [[ $(wc -c <"$tmp/body") == "$wsize" ]] || ok=0
    [[ $(head -n 4 "$tmp/body") == "$(policy enforce "$5")" ]] || ok=0
    grep -qEv '^pad: (x+|y+)$' <(tail -n +5 "$tmp/body") && ok=0
    result "$ok" "$desc" "expected: rc=0 status=200 type=[text/plain] size=$wsize" "$(got)"
}

SEC='(secure)'
TXT='has TXT record "v=STSv1; id=20240601T000000;" (secure)'

# scenario NAME ADDR: the DNS side of scenario NAME.sts.test, whose policy host is at ADDR
# ("-" = no policy host).  Every scenario domain has "MX 10 mx1.NAME.sts.test".
scenario() {
    local d=$1.sts.test addr=$2
    dns "$1: discovery record" TXT "_mta-sts.$d" "$TXT"
    case $addr in
    -) dns "$1: no policy host" A "mta-sts.$d" "not found: 3(NXDOMAIN). $SEC" ;;
    ::1) dns "$1: policy host address" AAAA "mta-sts.$d" "has IPv6 address ::1 $SEC" ;;
    *) dns "$1: policy host address" A "mta-sts.$d" "has address $addr $SEC" ;;
    esac
    dns "$1: MX" MX "$d" "mail is handled by 10 mx1.$d. $SEC"
    if [[ $addr != - ]]; then
        local r=$addr
        [[ $addr == ::1 ]] && r='[::1]'
        grep -qFx "mta-sts.$d:443:$r" "$resolve_file"
        result $((!$?)) "$1: resolve.txt has mta-sts.$d:443:$r"
    fi
}

G=127.0.44.1 B=127.0.44.2 T=127.0.44.3 R=127.0.44.99

# The slow hosts stall for $slow seconds: start the complete fetches now, check them last.
for s in slowheaders slowbody; do
    curl -sS --max-time $((slow + 20)) --cacert "$ca" --resolve "mta-sts.$s.sts.test:443:$G" \
        -o "$tmp/$s.body" -w '%{http_code}|%{content_type}|%{time_starttransfer}|%{time_total}' \
        "https://mta-sts.$s.sts.test/.well-known/mta-sts.txt" >"$tmp/$s.out" 2>"$tmp/$s.err" &
done

# --- valid policies --------------------------------------------------------------------
scenario enforce $G
dns "enforce: second MX, not in the policy" MX enforce.sts.test \
    "mail is handled by 20 mx2.enforce.sts.test. $SEC"
dns "enforce: address of mx1" A mx1.enforce.sts.test "has address 127.0.10.101 $SEC"
expect "enforce: 200 text/plain, mode enforce" mta-sts.enforce.sts.test $G 0 200 text/plain \
    "$(policy enforce mx1.enforce.sts.test)"$'\n'
scenario testing $G
expect "testing: 200 text/plain, mode testing" mta-sts.testing.sts.test $G 0 200 text/plain \
    "$(policy testing mx1.testing.sts.test)"$'\n'
scenario none $G
expect "none: 200 text/plain, mode none" mta-sts.none.sts.test $G 0 200 text/plain \
    "$(policy none mx1.none.sts.test)"$'\n'
scenario wildcard $G
dns "wildcard: MX outside the pattern (two labels under it)" MX wildcard.sts.test \
    "mail is handled by 20 mx2.sub.wildcard.sts.test. $SEC"
dns "wildcard: address of mx2.sub" A mx2.sub.wildcard.sts.test "has address 127.0.10.121 $SEC"
expect "wildcard: policy with mx: *.wildcard.sts.test" mta-sts.wildcard.sts.test $G 0 200 \
    text/plain "$(policy enforce '*.wildcard.sts.test')"$'\n'
scenario crlf $G
expect "crlf: valid policy with CRLF line ends" mta-sts.crlf.sts.test $G 0 200 text/plain \
    "$(policy enforce mx1.crlf.sts.test $'\r\n')"$'\n'
scenario charset $G
expect "charset: Content-Type text/plain; charset=utf-8" mta-sts.charset.sts.test $G 0 200 \
    "text/plain; charset=utf-8" "$(policy enforce mx1.charset.sts.test)"$'\n'
scenario params $G
expect "params: Content-Type text/plain; charset=utf-8; format=flowed" mta-sts.params.sts.test \
    $G 0 200 "text/plain; charset=utf-8; format=flowed" "$(policy enforce mx1.params.sts.test)"$'\n'
scenario large $G
expect_padded "large: 200, a valid policy of 64512 bytes (63 KiB)" mta-sts.large.sts.test $G \
    64512 mx1.large.sts.test
scenario wildcardcert $G
expect "wildcardcert: certificate for *.wildcardcert.sts.test is accepted" \
    mta-sts.wildcardcert.sts.test $G 0 200 text/plain "$(policy enforce mx1.wildcardcert.sts.test)"$'\n'
scenario ipv6only ::1
expect "ipv6only: policy host on [::1]" mta-sts.ipv6only.sts.test '[::1]' 0 200 text/plain \
    "$(policy enforce mx1.ipv6only.sts.test)"$'\n'

# delegated: both names are CNAMEs into provider.sts.test
dns "delegated: discovery record through a CNAME" TXT _mta-sts.delegated.sts.test \
    "_mta-sts.delegated.sts.test is an alias for _mta-sts.provider.sts.test. $SEC" \
    "_mta-sts.provider.sts.test $TXT"
dns "delegated: policy host through a CNAME" A mta-sts.delegated.sts.test \
    "mta-sts.delegated.sts.test is an alias for policy.provider.sts.test. $SEC" \
    "policy.provider.sts.test has address $G $SEC"
dns "delegated: MX" MX delegated.sts.test "mail is handled by 10 mx1.delegated.sts.test. $SEC"
expect "delegated: provider's host serves mta-sts.delegated.sts.test" \
    mta-sts.delegated.sts.test $G 0 200 text/plain "$(policy enforce mx1.delegated.sts.test)"$'\n'

# --- the delivery scenarios (their SMTP receivers: test-smtp-scenarios.sh) ------------
for s in stsnotls danests danebad daneencsts; do
    scenario "$s" $G
    expect "$s: 200 text/plain, mode enforce" "mta-sts.$s.sts.test" $G 0 200 text/plain \
        "$(policy enforce "mx1.$s.sts.test")"$'\n'
done
scenario stsbadcert $G
dns "stsbadcert: second MX" MX stsbadcert.sts.test "mail is handled by 20 mx2.stsbadcert.sts.test. $SEC"
expect "stsbadcert: policy with two mx lines" mta-sts.stsbadcert.sts.test $G 0 200 text/plain \
    $'version: STSv1\nmode: enforce\nmx: mx1.stsbadcert.sts.test\nmx: mx2.stsbadcert.sts.test\nmax_age: 86400\n'
scenario stsmismatch $G
expect "stsmismatch: the policy names only mx9" mta-sts.stsmismatch.sts.test $G 0 200 text/plain \
    "$(policy enforce mx9.stsmismatch.sts.test)"$'\n'
scenario stswild $G
dns "stswild: MX outside the pattern (two labels under it)" MX stswild.sts.test \
    "mail is handled by 20 mx2.sub.stswild.sts.test. $SEC"
expect "stswild: policy with mx: *.stswild.sts.test" mta-sts.stswild.sts.test $G 0 200 text/plain \
    "$(policy enforce '*.stswild.sts.test')"$'\n'
scenario danepart $G
dns "danepart: second MX (no TLSA: the policy covers it)" MX danepart.sts.test \
    "mail is handled by 20 mx2.danepart.sts.test. $SEC"
expect "danepart: policy with mx: *.danepart.sts.test" mta-sts.danepart.sts.test $G 0 200 \
    text/plain "$(policy enforce '*.danepart.sts.test')"$'\n'

# --- HTTP-level failures ---------------------------------------------------------------
target=https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt
for c in 301 302; do
    scenario "redirect$c" $G
    fetch "mta-sts.redirect$c.sts.test" $G
    ok=0
    [[ $rc == 0 && $code == "$c" && $ctype == text/html && $redir == "$target" ]] && ok=1
    grep -q 'version: STSv1' "$tmp/body" && ok=0
    result $ok "redirect$c: $c to $target, not followed" \
        "expected: rc=0 status=$c type=[text/html] redirect=[$target]" "$(got)"
    # following it (what a client must NOT do) would give the enforce policy
    expect "redirect$c: the target is a valid policy" "mta-sts.redirect$c.sts.test" $G 0 200 \
        text/plain "$(policy enforce mx1.enforce.sts.test)"$'\n' \
        -L --resolve "mta-sts.enforce.sts.test:443:$G"
done
for s in notfound:404 servererror:500; do
    scenario "${s%:*}" $G
    fetch "mta-sts.${s%:*}.sts.test" $G
    ok=0
    [[ $rc == 0 && $code == "${s#*:}" && $ctype == text/html ]] && ok=1
    result $ok "${s%:*}: status ${s#*:}" "expected: rc=0 status=${s#*:} type=[text/html]" "$(got)"
done
scenario html $G
expect "html: Content-Type text/html (valid policy body)" mta-sts.html.sts.test $G 0 200 \
    text/html "$(policy enforce mx1.html.sts.test)"$'\n'
scenario notype $G
expect "notype: no Content-Type (valid policy body)" mta-sts.notype.sts.test $G 0 200 "" \
    "$(policy enforce mx1.notype.sts.test)"$'\n' -D "$tmp/headers"
! grep -qi '^content-type:' "$tmp/headers"
result $((!$?)) "notype: the response has no Content-Type header" "$(cat "$tmp/headers")"
scenario badsyntax $G
expect "badsyntax: 200 text/plain, 'mode enforce' without a colon" mta-sts.badsyntax.sts.test \
    $G 0 200 text/plain $'version: STSv1\nmode enforce\nmx: mx1.badsyntax.sts.test\nmax_age: 86400\n'
scenario oversized $G
expect_padded "oversized: 200, 70000 bytes (a valid policy padded past 64 KiB)" \
    mta-sts.oversized.sts.test $G 70000 mx1.oversized.sts.test
scenario slowheaders $G
scenario slowbody $G
if ((slow > 2)); then
    expect_fail "slowheaders: nothing within 2 s" mta-sts.slowheaders.sts.test $G 28 \
        "Operation timed out" --max-time 2
    fetch mta-sts.slowbody.sts.test $G --max-time 2
    ok=0
    [[ $rc == 28 && $code == 200 && $size == 15 ]] && ok=1
    result $ok "slowbody: within 2 s only the headers and the first line (15 bytes)" \
        "expected: rc=28 status=200 size=15" "$(got)"
fi

# --- TLS and connection failures -------------------------------------------------------
for s in untrusted:"unable to get local issuer certificate" \
    wrongname:"no alternative certificate subject name matches" \
    expired:"certificate has expired"; do
    name=${s%%:*}
    scenario "$name" $B
    expect_fail "$name: certificate rejected" "mta-sts.$name.sts.test" $B 60 "${s#*:}"
    expect "$name: same host without certificate checks (-k) serves a valid policy" \
        "mta-sts.$name.sts.test" $B 0 200 text/plain "$(policy enforce "mx1.$name.sts.test")"$'\n' -k
done
scenario cnonly $B
out=$(openssl x509 -in "$pki/cnonly.pem" -noout -subject -ext subjectAltName 2>&1)
[[ $out == *"CN = mta-sts.cnonly.sts.test"* && $out == *"No extensions"* ]]
result $((!$?)) "cnonly: the certificate has the name in its CN and no SAN" "got: $out"
expect "cnonly: curl (OpenSSL) falls back to the CN and accepts it" mta-sts.cnonly.sts.test $B \
    0 200 text/plain "$(policy enforce mx1.cnonly.sts.test)"$'\n'
scenario tls10 $T
expect_fail "tls10: TLS 1.0-only host, refused by a default client" mta-sts.tls10.sts.test $T 35 \
    "SSL routines"
expect "tls10: the host does speak TLS 1.0 (client forced to TLS 1.0)" mta-sts.tls10.sts.test $T \
    0 200 text/plain "$(policy enforce mx1.tls10.sts.test)"$'\n' \
    --tlsv1.0 --tls-max 1.0 --ciphers 'DEFAULT:@SECLEVEL=0'
scenario refused $R
expect_fail "refused: nothing listens on the policy host" mta-sts.refused.sts.test $R 7 \
    "Failed to connect"
scenario nohost -

# --- the servers themselves ------------------------------------------------------------
fetch unknown.sts.test $G -k
ok=0
[[ $rc == 0 && $code == 421 ]] && ok=1
result $ok "unknown SNI name: 421 from the default server" "$(got)"
out=$(curl -sS --max-time 10 --cacert "$ca" --resolve "mta-sts.enforce.sts.test:443:$G" \
    -o /dev/null -w '%{http_code}' https://mta-sts.enforce.sts.test/ 2>&1)
[[ $out == 404 ]]
result $((!$?)) "other paths on a policy host: 404" "got: $out"
grep -q ' sni=mta-sts.enforce.sts.test TLSv1.3 "GET /.well-known/mta-sts.txt HTTP/1.1" 200 ' \
    "$MXTLS_TEST_HTTPS_DIR/access.log"
result $((!$?)) "access.log records SNI, protocol, request and status" \
    "$(tail -n 3 "$MXTLS_TEST_HTTPS_DIR/access.log")"

# --- the complete slow fetches started at the beginning --------------------------------
wait
for s in slowheaders slowbody; do
    IFS='|' read -r code ctype ttfb total <"$tmp/$s.out"
    ok=0
    printf '%s' "$(policy enforce "mx1.$s.sts.test")"$'\n' >"$tmp/want"
    if [[ $code == 200 && $ctype == text/plain ]] && cmp -s "$tmp/want" "$tmp/$s.body"; then
        if [[ $s == slowheaders ]]; then
            awk -v t="$ttfb" -v s="$slow" 'BEGIN { exit !(t >= s - 0.5) }' && ok=1
        else
            awk -v t="$ttfb" -v T="$total" -v s="$slow" 'BEGIN { exit !(t < 1 && T >= s - 0.5) }' &&
                ok=1
        fi
    fi
    result $ok "$s: complete after ${slow} s: valid policy (first byte at ${ttfb} s, done at ${total} s)" \
        "got: $(cat "$tmp/$s.out") $(cat "$tmp/$s.err")"
done

printf '1..%d\n' "$n"
if ((failed)); then
    printf '# %d of %d assertions failed\n' "$failed" "$n"
    exit 1
fi
exit 0
