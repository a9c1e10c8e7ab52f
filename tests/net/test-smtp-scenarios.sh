#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-smtp-scenarios.sh -- self-test of the receiving SMTP servers and the attacker (TAP).
#
# For every delivery scenario (mail.test., plain.test. and the MX hosts of sts.test. that
# have a receiver) it asserts
#   - with unbound-host: the exact MX, A and TLSA answers and their DNSSEC status; each TLSA
#     digest is recomputed (openssl) from the certificate chain the server really sends,
#   - with openssl s_client -starttls smtp -showcerts: the chain (count, SAN, issuer,
#     validity, whom it verifies against),
#   - with swaks and a raw SMTP dialog: the exact greeting and EHLO reply, STARTTLS (or 502 /
#     454), a delivery over TLS recorded in received.jsonl with the SNI name swaks sent, and
#     the spool file,
# and then the recipient rejections, the STARTTLS-stripping attacker (smtp-attack.sh),
# connections.jsonl and the TLS version floor.  Meant to run through run-with-dns.sh --smtp:
#     bash tests/net/run-with-dns.sh --tap --smtp bash tests/net/test-smtp-scenarios.sh
# Started directly (MXTLS_TEST_SMTP_DIR unset) it re-runs itself that way.
# Exit status: 0 if every assertion passed, 1 otherwise, 77 (or a TAP "1..0 # SKIP" when
# MXTLS_TEST_TAP=1) if it cannot run here.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z ${MXTLS_TEST_SMTP_DIR:-} ]]; then
    exec bash "$here/run-with-dns.sh" --smtp bash "$here/test-smtp-scenarios.sh" "$@"
fi

skip() {
    if [[ ${MXTLS_TEST_NO_SKIP:-0} == 1 ]]; then
        printf 'cannot run: %s (MXTLS_TEST_NO_SKIP=1)\n' "$*" >&2
        exit 1
    fi
    if [[ ${MXTLS_TEST_TAP:-0} == 1 ]]; then
        printf '1..0 # SKIP %s\n' "$*"
        exit 0
    fi
    printf 'SKIP: %s\n' "$*"
    exit 77
}
for tool in unbound-host openssl swaks sha256sum; do
    command -v "$tool" >/dev/null || skip "$tool not installed"
done
swaks --support 2>&1 | grep -q '^=== TLS supported' ||
    skip "swaks cannot do TLS (Debian package libnet-ssleay-perl)"

conf=$MXTLS_TEST_UNBOUND_CONF
ca=$MXTLS_TEST_CA_FILE
pki=$MXTLS_TEST_PKI_DIR
smtpdir=$MXTLS_TEST_SMTP_DIR
workdir=$MXTLS_TEST_WORKDIR
received=$smtpdir/received.jsonl
connections=$smtpdir/connections.jsonl
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-smtp-test.XXXXXX")
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

# check DESC EXPECTED GOT: exact string comparison
check() {
    [[ $3 == "$2" ]]
    result $((!$?)) "$1" "expected: $2" "got:      $3"
}

# ---------------------------------------------------------------- JSON lines
# jq is not a dependency: a few lines of Python read received.jsonl / connections.jsonl.
cat >"$tmp/jl.py" <<'PY'
# jl.py last|count FILE [KEY=VALUE...]: among the objects whose KEY has VALUE (a string, or
# the JSON text of any other value), print the last one as KEY=JSON lines, or how many.
import json, sys
mode, path, filters = sys.argv[1], sys.argv[2], [a.split("=", 1) for a in sys.argv[3:]]
def match(o):
    return all(k in o and (o[k] == v if isinstance(o[k], str) else json.dumps(o[k]) == v)
               for k, v in filters)
hits = [o for o in map(json.loads, open(path, encoding="utf-8")) if match(o)]
if mode == "count":
    print(len(hits))
elif hits:
    for k, v in hits[-1].items():
        print(f"{k}={json.dumps(v)}")
PY
jlast() { /usr/bin/python3 "$tmp/jl.py" last "$@"; }
jcount() { /usr/bin/python3 "$tmp/jl.py" count "$@"; }

# fields KEY=JSON...: the lines "KEY=JSON" of the record in $rec, in the order asked
fields() {
    local kv
    for kv in "$@"; do
        grep -m1 "^${kv%%=*}=" <<<"$rec" || printf '%s=<missing>\n' "${kv%%=*}"
    done
}

# ---------------------------------------------------------------- DNS
SEC='(secure)'
INS='(insecure)'

# gotlines TEXT: TEXT with "got:" before every line (for diagnostics)
gotlines() {
    local l
    while IFS= read -r l; do
        printf 'got:      %s\n' "$l"
    done <<<"$1"
}

# dns_is DESC TYPE NAME LINE...: unbound-host's output is exactly these lines (in any order)
dns_is() {
    local desc=$1 type=$2 name=$3 out
    shift 3
    out=$(unbound-host -C "$conf" -v -t "$type" "$name" 2>&1)
    [[ $(sort <<<"$out") == "$(printf '%s\n' "$@" | sort)" ]]
    result $((!$?)) "$desc ($name $type)" "${@/#/expected: }" "$(gotlines "$out")"
}

# dns_has DESC TYPE NAME TEXT...: unbound-host's output contains every TEXT
dns_has() {
    local desc=$1 type=$2 name=$3 out want ok=1
    shift 3
    out=$(unbound-host -C "$conf" -v -t "$type" "$name" 2>&1)
    for want in "$@"; do
        [[ $out == *"$want"* ]] || ok=0
    done
    result "$ok" "$desc ($name $type)" "${@/#/expected: *}" "$(gotlines "$out")"
}

# ---------------------------------------------------------------- certificates
hex() { sha256sum | cut -d' ' -f1 | tr a-f A-F; }
spki_of_cert() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | hex; }
spki_of_key() { openssl pkey -in "$1" -pubout -outform DER | hex; }
der_of_cert() { openssl x509 -in "$1" -outform DER | hex; }
san_of() { openssl x509 -in "$1" -noout -ext subjectAltName 2>&1 | tail -n +2 | tr -d ' '; }

# fetch_chain HOST ADDR: "openssl s_client -starttls smtp -showcerts" with SNI HOST; every
# certificate the server sent goes to $tmp/HOST.N.pem (N = 1 for the leaf); sets ncerts.
fetch_chain() {
    local host=$1 addr=$2
    rm -f "$tmp/$host".*.pem
    timeout 10 openssl s_client -starttls smtp -connect "$addr:25" -servername "$host" \
        -showcerts </dev/null 2>&1 |
        awk -v p="$tmp/$host." '/-----BEGIN CERTIFICATE-----/ { f = p (++n) ".pem" }
            f { print > f } /-----END CERTIFICATE-----/ { close(f); f = "" }'
    ncerts=$(find "$tmp" -name "$host.*.pem" | wc -l)
}

# verify CAFILE NAME LEAF: openssl verify's verdict line ("OK" or the error)
verify() {
    local out
    out=$(openssl verify -CAfile "$1" -verify_hostname "$2" "$3" 2>&1)
    if [[ $out == "$3: OK" ]]; then
        printf 'OK'
    else
        grep -m1 -o 'error [0-9]* at [0-9]* depth lookup: .*' <<<"$out" || printf '%s' "$out"
    fi
}

# cert_checks HOST ADDR KIND SAN: the chain HOST sends is what KIND promises (see
# smtp-hosts.conf); SAN is the one name it must carry
cert_checks() {
    local host=$1 addr=$2 kind=$3 san=$4 leaf want_n=1
    fetch_chain "$host" "$addr"
    leaf=$tmp/$host.1.pem
    [[ $kind == dane ]] && want_n=2
    check "$host: sends $want_n certificate(s)" "$want_n" "$ncerts"
    check "$host: the leaf's SAN is exactly DNS:$san" "DNS:$san" "$(san_of "$leaf")"
    case $kind in
    self)
        check "$host: self-signed (subject and issuer CN = $san)" \
            $'subject=CN = '"$san"$'\nissuer=CN = '"$san" \
            "$(openssl x509 -in "$leaf" -noout -subject -issuer 2>&1)"
        check "$host: valid for $san when trusted as itself" OK "$(verify "$leaf" "$san" "$leaf")"
        check "$host: not trusted by the test CA" \
            "error 18 at 0 depth lookup: self-signed certificate" "$(verify "$ca" "$san" "$leaf")"
        ;;
    self-expired)
        check "$host: validity 2020-01-01 .. 2020-02-01" \
            "notBefore=Jan  1 00:00:00 2020 GMT notAfter=Feb  1 00:00:00 2020 GMT" \
            "$(openssl x509 -in "$leaf" -noout -startdate -enddate | tr '\n' ' ' | sed 's/ $//')"
        check "$host: expired even when trusted as itself" \
            "error 10 at 0 depth lookup: certificate has expired" "$(verify "$leaf" "$san" "$leaf")"
        ;;
    web)
        check "$host: issued by the test CA for $san" OK "$(verify "$ca" "$san" "$leaf")"
        ;;
    dane)
        check "$host: the second certificate is dane-ca" "$(der_of_cert "$pki/dane-ca.pem")" \
            "$(der_of_cert "$tmp/$host.2.pem")"
        check "$host: issued by dane-ca for $san" OK "$(verify "$tmp/$host.2.pem" "$san" "$leaf")"
        check "$host: not trusted by the test CA" \
            "error 20 at 0 depth lookup: unable to get local issuer certificate" \
            "$(verify "$ca" "$san" "$leaf")"
        ;;
    esac
    if [[ $san != "$host" ]]; then
        check "$host: the certificate does NOT name $host" \
            "error 62 at 0 depth lookup: hostname mismatch" "$(verify "${ca_for_name:-$ca}" "$host" "$leaf")"
    fi
    rec=$(jlast "$connections" listener="$addr" event=starttls)
    check "$host: connections.jsonl has the handshake with SNI $host" \
        $'ok=true\nsni="'"$host"'"' "$(fields ok= sni=)"
}

# tlsa_is HOST STATUS RECORD...: the TLSA RRset at _25._tcp.HOST is exactly RECORD...
tlsa_is() {
    local host=$1 status=$2 r lines=()
    shift 2
    for r in "$@"; do
        lines+=("_25._tcp.$host has TLSA record $r $status")
    done
    dns_is "$host: TLSA" TLSA "_25._tcp.$host" "${lines[@]}"
}

# ---------------------------------------------------------------- SMTP
# dialog ADDR LINE...: send the lines at once over a plain TCP connection to ADDR:25 and
# print every reply line (CR removed) until the server closes the connection
dialog() {
    local addr=$1
    shift
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 10 bash -c 'exec 3<>"/dev/tcp/$0/25" || exit 1
        printf "%s\r\n" "$@" >&3
        tr -d "\r" <&3' "$addr" "$@" 2>&1
}

# ehlo_lines HOST [STARTTLS]: the exact greeting + EHLO + QUIT transcript of a receiver
ehlo_lines() {
    printf '220 %s ESMTP mxtls test receiver\n250-%s\n250-SIZE 33554432\n250-8BITMIME\n250-SMTPUTF8\n' "$1" "$1"
    [[ ${2:-} == STARTTLS ]] && printf '250-STARTTLS\n'
    printf '250 HELP\n221 Bye'
}

# swaks_run ADDR [SWAKS-OPTION...]: one SMTP session; sets sw_rc and sw_out
msgno=0
swaks_run() {
    local addr=$1
    shift
    msgno=$((msgno + 1))
    sw_out=$(swaks --server "$addr" --port 25 --timeout 10 --helo client.test \
        --from sender@client.test --header "Subject: mxtls test $msgno" \
        --body "message $msgno" "$@" 2>&1)
    sw_rc=$?
}

declare -A next_seq=()
# delivered DESC HOST ADDR KIND TLS SNI RCPT-JSON [ATTACKER]: the last swaks_run delivered one
# message, recorded as the newest received.jsonl line for HOST with these values, and stored
# as KIND/HOST/SEQ.eml (KIND spool or captured)
delivered() {
    local desc=$1 host=$2 addr=$3 kind=$4 tls=$5 sni=$6 rcpt=$7 attacker=${8:-false}
    local seq file version=null cipher=null v c
    seq=$((${next_seq[$kind/$host]:-0} + 1))
    next_seq[$kind/$host]=$seq
    file=$smtpdir/$kind/$host/$seq.eml
    if [[ $tls == true ]]; then
        read -r v c < <(sed -n 's/^=== TLS started with cipher \([^:]*\):\([^:]*\):.*/\1 \2/p' <<<"$sw_out")
        version="\"${v:-?}\"" cipher="\"${c:-?}\""
        check "$desc: swaks negotiated TLSv1.3" TLSv1.3 "${v:-none}"
    fi
    check "$desc: swaks exit status" 0 "$sw_rc"
    rec=$(jlast "$received" host="$host")
    local want
    want=$(printf '%s\n' "listener=\"$addr\"" "host=\"$host\"" "tls=$tls" \
        "tls_version=$version" "cipher=$cipher" "sni=$sni" 'helo="client.test"' \
        'mail_from="sender@client.test"' "rcpt_to=$rcpt" "attacker=$attacker" "file=\"$file\"")
    check "$desc: received.jsonl" "$want" "$(fields listener= host= tls= tls_version= cipher= \
        sni= helo= mail_from= rcpt_to= attacker= file=)"
    local size=-1 subj=""
    if [[ -f $file ]]; then
        size=$(wc -c <"$file")
        subj=$(grep -m1 '^Subject:' "$file" | tr -d '\r')
    fi
    check "$desc: $kind/$host/$seq.eml holds the message (size as recorded)" \
        "size=$size Subject: mxtls test $msgno" "$(fields size=) $subj"
}

# starttls_host DOMAIN HOST ADDR STATUS KIND SAN: a STARTTLS receiver: A record, chain,
# EHLO, and a delivery over TLS with SNI HOST
starttls_host() {
    local d=$1 host=$2 addr=$3 status=$4 kind=$5 san=$6
    dns_is "$host: address" A "$host" "$host has address $addr $status"
    cert_checks "$host" "$addr" "$kind" "$san"
    check "$host: greeting and EHLO offer STARTTLS" "$(ehlo_lines "$host" STARTTLS)" \
        "$(dialog "$addr" 'EHLO client.test' QUIT)"
    swaks_run "$addr" --tls --tls-sni "$host" --to "postmaster@$d"
    delivered "$host: delivery over TLS" "$host" "$addr" spool true "\"$host\"" "[\"postmaster@$d\"]"
}

# notls_host DOMAIN HOST ADDR STATUS: a receiver without STARTTLS
notls_host() {
    local d=$1 host=$2 addr=$3 status=$4
    dns_is "$host: address" A "$host" "$host has address $addr $status"
    check "$host: greeting and EHLO without STARTTLS" "$(ehlo_lines "$host")" \
        "$(dialog "$addr" 'EHLO client.test' QUIT)"
    check "$host: STARTTLS anyway: 502" "502 5.5.1 command not recognized" \
        "$(dialog "$addr" 'EHLO client.test' STARTTLS QUIT | sed -n 7p)"
    swaks_run "$addr" --tls --to "postmaster@$d"
    [[ $sw_rc == 29 && $sw_out == *'*** Host did not advertise STARTTLS'* ]]
    result $((!$?)) "$host: swaks --tls fails: STARTTLS not advertised (exit 29)" "got: exit $sw_rc"
    swaks_run "$addr" --to "postmaster@$d"
    delivered "$host: delivery in cleartext" "$host" "$addr" spool false null "[\"postmaster@$d\"]"
}

S=127.0.25
M=127.0.10

printf '# bring-up made no SMTP connection\n'
check "connections.jsonl is empty after bring-up" 0 "$(wc -l <"$connections")"
check "received.jsonl is empty after bring-up" 0 "$(wc -l <"$received")"
check "receivers.conf has 48 listeners" 48 "$(grep -cv '^#' "$smtpdir/receivers.conf")"

# ======================================================================== mail.test. (DANE)
printf '# dane-ee: self-signed, TLSA 3 1 1 matches\n'
dns_is "dane-ee: MX" MX dane-ee.mail.test "dane-ee.mail.test mail is handled by 10 mx1.dane-ee.mail.test. $SEC"
starttls_host dane-ee.mail.test mx1.dane-ee.mail.test $S.1 "$SEC" self mx1.dane-ee.mail.test
tlsa_is mx1.dane-ee.mail.test "$SEC" "3 1 1 $(spki_of_cert "$tmp/mx1.dane-ee.mail.test.1.pem")"

printf '# dane-ta: leaf + dane-ca, TLSA 2 0 1 of dane-ca\n'
dns_is "dane-ta: MX" MX dane-ta.mail.test "dane-ta.mail.test mail is handled by 10 mx1.dane-ta.mail.test. $SEC"
starttls_host dane-ta.mail.test mx1.dane-ta.mail.test $S.2 "$SEC" dane mx1.dane-ta.mail.test
tlsa_is mx1.dane-ta.mail.test "$SEC" "2 0 1 $(der_of_cert "$tmp/mx1.dane-ta.mail.test.2.pem")"

printf '# dane-ta-name: leaf + dane-ca, the leaf names only wrong.mail.test\n'
dns_is "dane-ta-name: MX" MX dane-ta-name.mail.test \
    "dane-ta-name.mail.test mail is handled by 10 mx1.dane-ta-name.mail.test. $SEC"
ca_for_name=$pki/dane-ca.pem
starttls_host dane-ta-name.mail.test mx1.dane-ta-name.mail.test $S.3 "$SEC" dane wrong.mail.test
unset ca_for_name
tlsa_is mx1.dane-ta-name.mail.test "$SEC" "2 0 1 $(der_of_cert "$tmp/mx1.dane-ta-name.mail.test.2.pem")"

other=$(spki_of_key "$pki/smtp/other.key")
# mismatch HOST: the TLSA digest (of other.key) is not the served leaf's
mismatch() {
    local served
    served=$(spki_of_cert "$tmp/$1.1.pem")
    [[ $served != "$other" ]]
    result $((!$?)) "$1: the served key is not other.key (the TLSA does not match)" "both: $served"
}

printf '# dane-mismatch: web certificate, TLSA 3 1 1 of another key\n'
dns_is "dane-mismatch: MX" MX dane-mismatch.mail.test \
    "dane-mismatch.mail.test mail is handled by 10 mx1.dane-mismatch.mail.test. $SEC"
starttls_host dane-mismatch.mail.test mx1.dane-mismatch.mail.test $S.4 "$SEC" web mx1.dane-mismatch.mail.test
tlsa_is mx1.dane-mismatch.mail.test "$SEC" "3 1 1 $other"
mismatch mx1.dane-mismatch.mail.test

printf '# dane-fallback: mx1 TLSA mismatch, mx2 TLSA matches\n'
dns_is "dane-fallback: MX" MX dane-fallback.mail.test \
    "dane-fallback.mail.test mail is handled by 10 mx1.dane-fallback.mail.test. $SEC" \
    "dane-fallback.mail.test mail is handled by 20 mx2.dane-fallback.mail.test. $SEC"
starttls_host dane-fallback.mail.test mx1.dane-fallback.mail.test $S.5 "$SEC" self mx1.dane-fallback.mail.test
tlsa_is mx1.dane-fallback.mail.test "$SEC" "3 1 1 $other"
mismatch mx1.dane-fallback.mail.test
starttls_host dane-fallback.mail.test mx2.dane-fallback.mail.test $S.6 "$SEC" self mx2.dane-fallback.mail.test
tlsa_is mx2.dane-fallback.mail.test "$SEC" "3 1 1 $(spki_of_cert "$tmp/mx2.dane-fallback.mail.test.1.pem")"

printf '# dane-encrypt: only a 1 1 1 record (PKIX-EE, unusable for SMTP)\n'
dns_is "dane-encrypt: MX" MX dane-encrypt.mail.test \
    "dane-encrypt.mail.test mail is handled by 10 mx1.dane-encrypt.mail.test. $SEC"
starttls_host dane-encrypt.mail.test mx1.dane-encrypt.mail.test $S.7 "$SEC" self mx1.dane-encrypt.mail.test
tlsa_is mx1.dane-encrypt.mail.test "$SEC" "1 1 1 $(spki_of_cert "$tmp/mx1.dane-encrypt.mail.test.1.pem")"

printf '# dane-notls: matching TLSA, no STARTTLS\n'
dns_is "dane-notls: MX" MX dane-notls.mail.test \
    "dane-notls.mail.test mail is handled by 10 mx1.dane-notls.mail.test. $SEC"
notls_host dane-notls.mail.test mx1.dane-notls.mail.test $S.8 "$SEC"
tlsa_is mx1.dane-notls.mail.test "$SEC" "3 1 1 $(spki_of_key "$pki/smtp/mx1.dane-notls.mail.test.key")"

printf '# dane-454: matching TLSA, STARTTLS advertised, 454 when asked\n'
h=mx1.dane-454.mail.test
dns_is "dane-454: MX" MX dane-454.mail.test "dane-454.mail.test mail is handled by 10 $h. $SEC"
dns_is "$h: address" A $h "$h has address $S.9 $SEC"
tlsa_is $h "$SEC" "3 1 1 $(spki_of_key "$pki/smtp/$h.key")"
check "$h: greeting and EHLO offer STARTTLS" "$(ehlo_lines $h STARTTLS)" \
    "$(dialog $S.9 'EHLO client.test' QUIT)"
check "$h: STARTTLS: 454" "454 4.7.0 TLS not available" \
    "$(dialog $S.9 'EHLO client.test' STARTTLS QUIT | sed -n 8p)"
swaks_run $S.9 --tls --to postmaster@dane-454.mail.test
[[ $sw_rc == 29 && $sw_out == *'<** 454 4.7.0 TLS not available'* ]]
result $((!$?)) "$h: swaks --tls fails with 454 (exit 29)" "got: exit $sw_rc"
rec=$(jlast "$connections" listener=$S.9 event=starttls-refused)
check "$h: connections.jsonl records the refused STARTTLS" 'reply="454"' "$(fields reply=)"
swaks_run $S.9 --to postmaster@dane-454.mail.test
delivered "$h: delivery in cleartext" $h $S.9 spool false null '["postmaster@dane-454.mail.test"]'

printf '# dane-expired: matching TLSA, the certificate expired in 2020\n'
dns_is "dane-expired: MX" MX dane-expired.mail.test \
    "dane-expired.mail.test mail is handled by 10 mx1.dane-expired.mail.test. $SEC"
starttls_host dane-expired.mail.test mx1.dane-expired.mail.test $S.10 "$SEC" self-expired \
    mx1.dane-expired.mail.test
tlsa_is mx1.dane-expired.mail.test "$SEC" "3 1 1 $(spki_of_cert "$tmp/mx1.dane-expired.mail.test.1.pem")"

printf '# tlsafail: mx1 TLSA lookup SERVFAILs, mx2 has no TLSA\n'
dns_is "tlsafail: MX" MX tlsafail.mail.test \
    "tlsafail.mail.test mail is handled by 10 mx1.tlsafail.mail.test. $SEC" \
    "tlsafail.mail.test mail is handled by 20 mx2.tlsafail.mail.test. $SEC"
dns_is "mx1.tlsafail: the TLSA name is a secure CNAME into refused.test" CNAME \
    _25._tcp.mx1.tlsafail.mail.test "_25._tcp.mx1.tlsafail.mail.test has CNAME record x.refused.test. $SEC"
dns_is "mx1.tlsafail: TLSA lookup fails" TLSA _25._tcp.mx1.tlsafail.mail.test \
    "Host _25._tcp.mx1.tlsafail.mail.test not found: 2(SERVFAIL). (error)"
dns_is "mx2.tlsafail: no TLSA" TLSA _25._tcp.mx2.tlsafail.mail.test \
    "Host _25._tcp.mx2.tlsafail.mail.test not found: 3(NXDOMAIN). $SEC"
starttls_host tlsafail.mail.test mx1.tlsafail.mail.test $S.11 "$SEC" self mx1.tlsafail.mail.test
starttls_host tlsafail.mail.test mx2.tlsafail.mail.test $S.12 "$SEC" self mx2.tlsafail.mail.test

printf '# dane-cname: the MX host is a CNAME to mx.provider.mail.test\n'
dns_is "dane-cname: MX" MX dane-cname.mail.test \
    "dane-cname.mail.test mail is handled by 10 mail.dane-cname.mail.test. $SEC"
dns_is "dane-cname: the MX host is a secure CNAME" A mail.dane-cname.mail.test \
    "mail.dane-cname.mail.test is an alias for mx.provider.mail.test. $SEC" \
    "mx.provider.mail.test has address $S.13 $SEC"
dns_is "dane-cname: no TLSA at the alias name" TLSA _25._tcp.mail.dane-cname.mail.test \
    "Host _25._tcp.mail.dane-cname.mail.test not found: 3(NXDOMAIN). $SEC"
starttls_host dane-cname.mail.test mx.provider.mail.test $S.13 "$SEC" self mx.provider.mail.test
tlsa_is mx.provider.mail.test "$SEC" "3 1 1 $(spki_of_cert "$tmp/mx.provider.mail.test.1.pem")"

printf '# addrfail: mx1 address is bogus, mx2 fine (no TLSA)\n'
dns_is "addrfail: MX" MX addrfail.mail.test \
    "addrfail.mail.test mail is handled by 10 mx1.bogus.test. $SEC" \
    "addrfail.mail.test mail is handled by 20 mx2.addrfail.mail.test. $SEC"
dns_has "addrfail: mx1's address is bogus" A mx1.bogus.test \
    "mx1.bogus.test has address 127.0.10.40 (BOGUS (security failure))" "no keys have a DS"
dns_is "mx2.addrfail: no TLSA" TLSA _25._tcp.mx2.addrfail.mail.test \
    "Host _25._tcp.mx2.addrfail.mail.test not found: 3(NXDOMAIN). $SEC"
starttls_host addrfail.mail.test mx2.addrfail.mail.test $S.14 "$SEC" self mx2.addrfail.mail.test

printf '# implicit: no MX, the domain itself receives mail\n'
dns_is "implicit: no MX" MX implicit.mail.test "implicit.mail.test has no mail handler record $SEC"
starttls_host implicit.mail.test implicit.mail.test $S.15 "$SEC" self implicit.mail.test
tlsa_is implicit.mail.test "$SEC" "3 1 1 $(spki_of_cert "$tmp/implicit.mail.test.1.pem")"

printf '# nx: the domain does not exist\n'
dns_is "nx.mail.test: MX" MX nx.mail.test "Host nx.mail.test not found: 3(NXDOMAIN). $SEC"
dns_is "nx.mail.test: A" A nx.mail.test "Host nx.mail.test not found: 3(NXDOMAIN). $SEC"

# ======================================================================== plain.test. (insecure)
printf '# plain.test: unsigned zone; the TLSA does not match and is insecure\n'
dns_is "plain.test: no DS (insecure delegation)" DS plain.test "plain.test has no DS record $SEC"
dns_is "plain.test: MX" MX plain.test "plain.test mail is handled by 10 mx1.plain.test. $INS"
starttls_host plain.test mx1.plain.test $S.20 "$INS" self mx1.plain.test
tlsa_is mx1.plain.test "$INS" "3 1 1 $other"
mismatch mx1.plain.test
dns_is "notls.plain.test: MX" MX notls.plain.test \
    "notls.plain.test mail is handled by 10 mx1.notls.plain.test. $INS"
notls_host notls.plain.test mx1.notls.plain.test $S.21 "$INS"

# ======================================================================== sts.test. (MTA-STS)
TXT='has TXT record "v=STSv1; id=20240601T000000;"'
# sts_domain NAME MX-LINE...: discovery record, policy host and the exact MX RRset
sts_domain() {
    local name=$1 d=$1.sts.test mx lines=()
    shift
    dns_is "$name: discovery record" TXT "_mta-sts.$d" "_mta-sts.$d $TXT $SEC"
    dns_is "$name: policy host" A "mta-sts.$d" "mta-sts.$d has address 127.0.44.1 $SEC"
    for mx in "$@"; do
        lines+=("$d mail is handled by $mx $SEC")
    done
    dns_is "$name: MX" MX "$d" "${lines[@]}"
}
notlsa() {
    dns_is "$1: no TLSA" TLSA "_25._tcp.$1" "Host _25._tcp.$1 not found: 3(NXDOMAIN). $SEC"
}

printf '# stsbadcert: mx1 self-signed, mx2 web certificate; both in the policy\n'
sts_domain stsbadcert "10 mx1.stsbadcert.sts.test." "20 mx2.stsbadcert.sts.test."
starttls_host stsbadcert.sts.test mx1.stsbadcert.sts.test $M.140 "$SEC" self mx1.stsbadcert.sts.test
notlsa mx1.stsbadcert.sts.test
starttls_host stsbadcert.sts.test mx2.stsbadcert.sts.test $M.141 "$SEC" web mx2.stsbadcert.sts.test
notlsa mx2.stsbadcert.sts.test

printf '# stsmismatch: the policy names mx9 only\n'
sts_domain stsmismatch "10 mx1.stsmismatch.sts.test."
starttls_host stsmismatch.sts.test mx1.stsmismatch.sts.test $M.142 "$SEC" web mx1.stsmismatch.sts.test
notlsa mx1.stsmismatch.sts.test

printf '# stsnotls: no STARTTLS\n'
sts_domain stsnotls "10 mx1.stsnotls.sts.test."
notls_host stsnotls.sts.test mx1.stsnotls.sts.test $M.143 "$SEC"
notlsa mx1.stsnotls.sts.test

printf '# danests: MTA-STS and a matching TLSA 3 1 1\n'
sts_domain danests "10 mx1.danests.sts.test."
starttls_host danests.sts.test mx1.danests.sts.test $M.144 "$SEC" self mx1.danests.sts.test
tlsa_is mx1.danests.sts.test "$SEC" "3 1 1 $(spki_of_cert "$tmp/mx1.danests.sts.test.1.pem")"

printf '# danebad: MTA-STS, web certificate, TLSA 3 1 1 of another key\n'
sts_domain danebad "10 mx1.danebad.sts.test."
starttls_host danebad.sts.test mx1.danebad.sts.test $M.145 "$SEC" web mx1.danebad.sts.test
tlsa_is mx1.danebad.sts.test "$SEC" "3 1 1 $other"
mismatch mx1.danebad.sts.test

printf '# daneencsts: MTA-STS and only an unusable 1 1 1\n'
sts_domain daneencsts "10 mx1.daneencsts.sts.test."
starttls_host daneencsts.sts.test mx1.daneencsts.sts.test $M.146 "$SEC" self mx1.daneencsts.sts.test
tlsa_is mx1.daneencsts.sts.test "$SEC" "1 1 1 $(spki_of_cert "$tmp/mx1.daneencsts.sts.test.1.pem")"

printf '# stswild: mx: *.stswild.sts.test; mx2.sub does not match\n'
sts_domain stswild "10 mx1.stswild.sts.test." "20 mx2.sub.stswild.sts.test."
starttls_host stswild.sts.test mx1.stswild.sts.test $M.147 "$SEC" web mx1.stswild.sts.test
starttls_host stswild.sts.test mx2.sub.stswild.sts.test $M.148 "$SEC" web mx2.sub.stswild.sts.test

printf '# danepart: TLSA 3 1 1 on mx1 only (self-signed); mx2 web, no TLSA; policy *.danepart\n'
sts_domain danepart "10 mx1.danepart.sts.test." "20 mx2.danepart.sts.test."
starttls_host danepart.sts.test mx1.danepart.sts.test $M.149 "$SEC" self mx1.danepart.sts.test
tlsa_is mx1.danepart.sts.test "$SEC" "3 1 1 $(spki_of_cert "$tmp/mx1.danepart.sts.test.1.pem")"
starttls_host danepart.sts.test mx2.danepart.sts.test $M.150 "$SEC" web mx2.danepart.sts.test
notlsa mx2.danepart.sts.test

printf '# receivers on the MX hosts of the policy-host scenarios\n'
starttls_host enforce.sts.test mx1.enforce.sts.test $M.101 "$SEC" web mx1.enforce.sts.test
starttls_host enforce.sts.test mx2.enforce.sts.test $M.102 "$SEC" web mx2.enforce.sts.test
starttls_host testing.sts.test mx1.testing.sts.test $M.103 "$SEC" web wrong.testing.sts.test
starttls_host testing.sts.test mx2.testing.sts.test $M.104 "$SEC" web mx2.testing.sts.test
starttls_host none.sts.test mx1.none.sts.test $M.105 "$SEC" self mx1.none.sts.test
starttls_host notfound.sts.test mx1.notfound.sts.test $M.108 "$SEC" web mx1.notfound.sts.test
starttls_host html.sts.test mx1.html.sts.test $M.110 "$SEC" web mx1.html.sts.test
for h in mx1.enforce mx2.enforce mx1.testing mx2.testing mx1.none mx1.notfound mx1.html; do
    notlsa "$h.sts.test"
done

# ======================================================================== the receiver itself
h=mx1.dane-ee.mail.test
printf '# recipients reject5xx and reject4xx\n'
swaks_run $S.1 --tls --tls-sni $h \
    --to reject5xx@dane-ee.mail.test,ok@dane-ee.mail.test,reject4xx@dane-ee.mail.test
check "reject5xx gets 550 5.1.1, reject4xx gets 451 4.3.0 (swaks over TLS: '<~*' lines)" \
    $'<~* 550 5.1.1 no such user\n<~* 451 4.3.0 try later' "$(grep '^<~\*' <<<"$sw_out")"
delivered "the accepted recipient" $h $S.1 spool true "\"$h\"" '["ok@dane-ee.mail.test"]'
before=$(wc -l <"$received")
swaks_run $S.1 --tls --to reject5xx@dane-ee.mail.test
check "only reject5xx: no recipient accepted (swaks exit 24)" 24 "$sw_rc"
check "only reject5xx: nothing recorded" "$before" "$(wc -l <"$received")"

printf '# SNI\n'
swaks_run $S.1 --tls --to postmaster@dane-ee.mail.test
delivered "no SNI sent: sni is null" $h $S.1 spool true null '["postmaster@dane-ee.mail.test"]'
swaks_run $S.1 --tls --tls-sni other.example --to postmaster@dane-ee.mail.test
delivered "another SNI name is recorded as sent" $h $S.1 spool true '"other.example"' \
    '["postmaster@dane-ee.mail.test"]'

printf '# STARTTLS is optional on starttls listeners\n'
swaks_run $S.1 --to postmaster@dane-ee.mail.test
delivered "cleartext delivery to a starttls listener" $h $S.1 spool false null \
    '["postmaster@dane-ee.mail.test"]'

printf '# TLS handshakes in connections.jsonl, TLS 1.2 floor\n'
timeout 10 openssl s_client -starttls smtp -connect $S.1:25 -servername sni.example \
    -verify_return_error -CAfile "$ca" </dev/null >/dev/null 2>&1
rec=$(jlast "$connections" listener=$S.1 event=starttls)
check "a client that rejects the certificate: failed handshake with its SNI" \
    $'ok=false\nsni="sni.example"\ntls_version=null' "$(fields ok= sni= tls_version=)"
grep -q '^error=".*UNKNOWN_CA' <<<"$rec"
result $((!$?)) "the failure names the client's alert" "$(fields error=)"
out=$(timeout 10 openssl s_client -starttls smtp -connect $S.1:25 -brief -tls1_2 </dev/null 2>&1)
[[ $out == *'Protocol version: TLSv1.2'* ]]
result $((!$?)) "TLS 1.2 is accepted" "$(grep -i 'protocol\|error' <<<"$out")"
timeout 10 openssl s_client -starttls smtp -connect $S.1:25 -brief -tls1_1 \
    -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >/dev/null 2>&1
rec=$(jlast "$connections" listener=$S.1 event=starttls)
check "TLS 1.1 is refused" 'ok=false' "$(fields ok=)"
grep -q '^error=".*UNSUPPORTED_PROTOCOL' <<<"$rec"
result $((!$?)) "the failure says unsupported protocol" "$(fields error=)"

# ======================================================================== the attacker
printf '# the STARTTLS-stripping attacker\n'
attack() { bash "$here/smtp-attack.sh" "$workdir" "$@"; }
conns_before=$(jcount "$connections" listener=$S.1 event=connect)
attack on $S.1 $M.101
check "attack on: flag files" "$M.101 $S.1" \
    "$(find "$smtpdir/attack" -type f -printf '%f\n' | sort | tr '\n' ' ' | sed 's/ $//')"
check "attacked: EHLO without STARTTLS" "$(ehlo_lines $h)" "$(dialog $S.1 'EHLO client.test' QUIT)"
check "attacked: STARTTLS anyway: 502" "502 5.5.1 command not recognized" \
    "$(dialog $S.1 'EHLO client.test' STARTTLS QUIT | sed -n 7p)"
rec=$(jlast "$connections" listener=$S.1 event=starttls-refused)
check "attacked: connections.jsonl records the refused STARTTLS" 'reply="502"' "$(fields reply=)"
swaks_run $S.1 --tls --to postmaster@dane-ee.mail.test
[[ $sw_rc == 29 && $sw_out == *'*** Host did not advertise STARTTLS'* ]]
result $((!$?)) "attacked: swaks --tls fails: STARTTLS not advertised (exit 29)" "got: exit $sw_rc"
spooled=$(find "$smtpdir/spool/$h" -name '*.eml' | wc -l)
swaks_run $S.1 --to postmaster@dane-ee.mail.test
delivered "attacked: the mail is captured" $h $S.1 captured false null \
    '["postmaster@dane-ee.mail.test"]' true
check "attacked: nothing new in spool/" "$spooled" "$(find "$smtpdir/spool/$h" -name '*.eml' | wc -l)"
swaks_run $M.101 --to postmaster@enforce.sts.test
delivered "attacked: a second listener" mx1.enforce.sts.test $M.101 captured false null \
    '["postmaster@enforce.sts.test"]' true
rec=$(jlast "$connections" listener=$S.1 event=connect)
check "attacked: the connection is marked in connections.jsonl" "attacker=true" "$(fields attacker=)"
check "connections.jsonl: one connect per connection (4 while attacked)" $((conns_before + 4)) \
    "$(jcount "$connections" listener=$S.1 event=connect)"
check "a listener not attacked still offers STARTTLS" "$(ehlo_lines mx2.enforce.sts.test STARTTLS)" \
    "$(dialog $M.102 'EHLO client.test' QUIT)"
attack off $S.1
check "attack off: STARTTLS is back" "$(ehlo_lines $h STARTTLS)" "$(dialog $S.1 'EHLO client.test' QUIT)"
swaks_run $S.1 --tls --tls-sni $h --to postmaster@dane-ee.mail.test
delivered "attack off: delivery over TLS again" $h $S.1 spool true "\"$h\"" '["postmaster@dane-ee.mail.test"]'
attack on all
check "attack on all: one flag per listener" 48 "$(find "$smtpdir/attack" -type f | wc -l)"
attack off all
check "attack off all: no flags" 0 "$(find "$smtpdir/attack" -type f | wc -l)"
attack on 127.0.99.99 2>/dev/null
check "attack on an address that is not a listener: refused" 1 "$?"
attack sideways $S.1 2>/dev/null
check "attack in an unknown mode: refused" 2 "$?"

printf '# the attacker modes (smtp-attack.sh MODE)
'
# reply454 / reply554 / garbage: STARTTLS still advertised, the command answered by the attacker
for m in "reply454:454 4.7.0 TLS not available" "reply554:554 5.7.0 STARTTLS refused" \
    "garbage:TLS go ahead"; do
    attack "${m%%:*}" $S.1
    out=$(dialog $S.1 'EHLO client.test' STARTTLS QUIT)
    check "${m%%:*}: EHLO still offers STARTTLS" "$(ehlo_lines $h STARTTLS | head -n 7)" \
        "$(head -n 7 <<<"$out")"
    check "${m%%:*}: STARTTLS answered by the attacker" "${m#*:}" "$(sed -n 8p <<<"$out")"
done
swaks_run $S.1 --to postmaster@dane-ee.mail.test
delivered "garbage: a client that goes on in cleartext: captured" $h $S.1 captured false null \
    '["postmaster@dane-ee.mail.test"]' true
# inject: the real server's 220 and the attacker's plaintext line come in one read (one
# segment) after STARTTLS, before the handshake
attack inject $S.1
# shellcheck disable=SC2016  # Python, not shell
out=$(timeout 10 /usr/bin/python3 -c 'import socket, sys
s = socket.create_connection((sys.argv[1], 25))
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO client.test\r\n")
while not f.readline().startswith(b"250 "):
    pass
s.sendall(b"STARTTLS\r\n")
sys.stdout.write(s.recv(4096).decode())' $S.1 2>&1 | tr -d '\r')
check "inject: 220, then the injected 550 before TLS, in one read" \
    $'220 Ready to start TLS\n550 5.7.0 injected before TLS' "$out"
rec=$(jlast "$connections" listener=$S.1 event=injected)
check "inject: connections.jsonl records it" 'line="550 5.7.0 injected before TLS"' \
    "$(fields line=)"
# intercept: the attacker's own certificate (right name, untrusted root), or a test-CA one for
# attacker.test; the mail is captured although it came over TLS
peer_cert() {
    timeout 10 openssl s_client -starttls smtp -connect "$1:25" -servername "$2" </dev/null \
        2>/dev/null | openssl x509 -noout -issuer -ext subjectAltName 2>/dev/null |
        grep -o -e 'CN *= *[^,]*$' -e "DNS:$2" -e 'DNS:attacker.test'
}
attack intercept $S.1
check "intercept: the attacker's certificate, untrusted root, the host's name" \
    $'CN = mxtls untrusted test CA\nDNS:'$h "$(peer_cert $S.1 $h)"
swaks_run $S.1 --tls --to postmaster@dane-ee.mail.test
delivered "intercept: captured over TLS" $h $S.1 captured true null \
    '["postmaster@dane-ee.mail.test"]' true
attack intercept-labca $S.1
check "intercept-labca: a test-CA certificate for attacker.test" \
    $'CN = mxtls test root CA\nDNS:attacker.test' "$(peer_cert $S.1 $h)"
attack off $S.1
check "attack off: the host's own certificate again" "DNS:$h" "$(peer_cert $S.1 $h | tail -n 1)"

printf '# the log\n'
check "receiver.log has no Python traceback" 0 "$(grep -c Traceback "$smtpdir/receiver.log")"

printf '1..%d\n' "$n"
if ((failed)); then
    printf '# %d of %d assertions failed\n' "$failed" "$n"
    exit 1
fi
exit 0
