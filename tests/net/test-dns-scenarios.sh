#!/usr/bin/env bash
# test-dns-scenarios.sh -- self-test of the hermetic test DNS (TAP output).
#
# Asserts, with unbound-host and the generated unbound.conf, the exact answer
# and DNSSEC status of every scenario zone in tests/net/dns/.  Meant to run
# through run-with-dns.sh:
#     bash tests/net/run-with-dns.sh bash tests/net/test-dns-scenarios.sh
# Started directly (MXTLS_TEST_UNBOUND_CONF unset) it re-runs itself that way.
# Exit status: 0 if every assertion passed, 1 otherwise, 77 (or a TAP
# "1..0 # SKIP" when MXTLS_TEST_TAP=1) if it cannot run here.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z ${MXTLS_TEST_UNBOUND_CONF:-} ]]; then
    exec bash "$here/run-with-dns.sh" bash "$here/test-dns-scenarios.sh" "$@"
fi

if ! command -v unbound-host >/dev/null; then
    if [[ ${MXTLS_TEST_TAP:-0} == 1 ]]; then
        printf '1..0 # SKIP unbound-host not installed\n'
        exit 0
    fi
    printf 'SKIP: unbound-host not installed\n'
    exit 77
fi

conf=$MXTLS_TEST_UNBOUND_CONF
n=0
failed=0

# check DESCRIPTION TYPE NAME EXPECT...
#   Runs "unbound-host -C conf -v -t TYPE NAME"; passes if the output contains
#   every EXPECT as a fixed string, and none of the EXPECTs written "!TEXT".
check() {
    local desc=$1 type=$2 name=$3 out want ok=1 t0 t1
    shift 3
    t0=$(date +%s%N)
    out=$(unbound-host -C "$conf" -v -t "$type" "$name" 2>&1)
    t1=$(date +%s%N)
    for want in "$@"; do
        if [[ $want == '!'* ]]; then
            [[ $out != *"${want:1}"* ]] || ok=0
        else
            [[ $out == *"$want"* ]] || ok=0
        fi
    done
    n=$((n + 1))
    if ((ok)); then
        printf 'ok %d - %s (%s %s, %d ms)\n' "$n" "$desc" "$name" "$type" $(((t1 - t0) / 1000000))
    else
        failed=$((failed + 1))
        printf 'not ok %d - %s (%s %s)\n' "$n" "$desc" "$name" "$type"
        printf '#   expected: %s\n' "$@"
        printf '%s\n' "$out" | sed 's/^/#   got: /'
    fi
}

SEC='(secure)'
INS='(insecure)'
BOGUS='(BOGUS (security failure))'
SERVFAIL='not found: 2(SERVFAIL)'

# --- the test root and isolation ------------------------------------------
check "test root DNSKEY validates against the test trust anchor" \
    DNSKEY . "has DNSKEY record" "$SEC"
check "names outside test. do not exist (nothing leaves the namespace)" \
    A example.com "not found: 3(NXDOMAIN). $SEC"

# --- secure.test. ----------------------------------------------------------
check "secure MX RRset" MX secure.test \
    "mail is handled by 10 mx1.secure.test. $SEC" \
    "mail is handled by 20 mx2.secure.test. $SEC"
check "secure A of mx1" A mx1.secure.test "has address 127.0.10.1 $SEC"
check "secure A of mx2" A mx2.secure.test "has address 127.0.10.2 $SEC"
check "secure AAAA of mx6" AAAA mx6.secure.test "has IPv6 address ::1 $SEC"
check "secure TLSA RRset of mx1" TLSA _25._tcp.mx1.secure.test \
    "has TLSA record 3 1 1 9455E3CC43BF5194AB90BAE22605C660D3048B7182754ABDFD29AD9866BBA4AE $SEC"
check "TLSA name of mx2 is a secure CNAME to a shared TLSA RRset" \
    TLSA _25._tcp.mx2.secure.test \
    "_25._tcp.mx2.secure.test is an alias for _tlsa.shared.secure.test. $SEC" \
    "_tlsa.shared.secure.test has TLSA record 2 0 1 D6D16B12AF0EFE7EC2E527AA5CF9FF8CCD92B594CCF261AAE36F12A7269DC7BA $SEC"
check "MTA-STS TXT record published as two strings" TXT _mta-sts.secure.test \
    "has TXT record \"v=STSv1; \" \"id=20240101T000000\" $SEC"
check "TLSRPT TXT record" TXT _smtp._tls.secure.test \
    "has TXT record \"v=TLSRPTv1; rua=mailto:tlsrpt@secure.test\" $SEC"
check "two TXT records, one with two strings" TXT txtmulti.secure.test \
    "has TXT record \"a\" \"b\" $SEC" "has TXT record \"c\" $SEC"
check "CNAME'd host name" A alias.secure.test \
    "alias.secure.test is an alias for mx1.secure.test. $SEC" \
    "mx1.secure.test has address 127.0.10.1 $SEC"
check "secure NODATA (name exists, no MX)" MX nodata.secure.test \
    "has no mail handler record $SEC"
check "secure NXDOMAIN (NSEC)" A nx.secure.test "not found: 3(NXDOMAIN). $SEC"

# --- null MX / no MX -------------------------------------------------------
check "null MX (RFC 7505)" MX nullmx.test "mail is handled by 0 . $SEC"
check "no MX: secure NODATA (NSEC3)" MX nomx.test "has no mail handler record $SEC"
check "no MX: the domain's own address (implicit MX)" A nomx.test \
    "has address 127.0.10.20 $SEC"
check "secure NXDOMAIN (NSEC3)" A nx.nomx.test "not found: 3(NXDOMAIN). $SEC"

# --- insecure.test. --------------------------------------------------------
check "no DS for insecure.test is proven (NSEC3 in test.)" DS insecure.test \
    "has no DS record $SEC"
check "insecure MX RRset" MX insecure.test \
    "mail is handled by 10 mx1.insecure.test. $INS"
check "insecure A" A mx1.insecure.test "has address 127.0.10.30 $INS"
check "TLSA RRset in an insecure zone is insecure" TLSA _25._tcp.mx1.insecure.test \
    "has TLSA record 3 1 1 3EF767FF6D2F8EE41727E8CCA8B652719CEF6460D5A3A7C447AFE0C815F061E5 $INS"

# --- bogus.test. / expired.test. -------------------------------------------
check "MX in a zone whose DS matches no DNSKEY is bogus" MX bogus.test \
    "$BOGUS" "no keys have a DS" "!$SEC"
check "A in bogus.test is bogus" A mx1.bogus.test "$BOGUS" "!$SEC"
check "TLSA in bogus.test is bogus" TLSA _25._tcp.mx1.bogus.test "$BOGUS" "!$SEC"
check "MX in a zone with expired signatures is bogus" MX expired.test \
    "$BOGUS" "signature expired" "!$SEC"
check "A in expired.test is bogus" A mx1.expired.test "$BOGUS" "!$SEC"

# --- secure MX, target elsewhere -------------------------------------------
check "secure MX pointing into bogus.test" MX mxbogus.test \
    "mail is handled by 10 mx1.bogus.test. $SEC"
check "secure MX pointing into insecure.test" MX mxinsecure.test \
    "mail is handled by 10 mx1.insecure.test. $SEC"

# --- cname.test. -----------------------------------------------------------
check "MX of cname.test" MX cname.test "mail is handled by 10 mail.cname.test. $SEC"
check "secure CNAME to a secure target" A mail.cname.test \
    "mail.cname.test is an alias for real.secure.test. $SEC" \
    "real.secure.test has address 127.0.10.50 $SEC"
check "no TLSA at the CNAME owner's name (secure NXDOMAIN)" TLSA _25._tcp.mail.cname.test \
    "not found: 3(NXDOMAIN). $SEC"
check "TLSA at the CNAME target's name" TLSA _25._tcp.real.secure.test \
    "has TLSA record 3 1 1 BA90DE658F6501A9E1B1EE7E2A5A2BF7B22D561690BCB2BC0A6A2DB7822BFE22 $SEC"
check "secure CNAME to an insecure target is insecure" A mixed.cname.test \
    "mixed.cname.test is an alias for mx1.insecure.test." \
    "mx1.insecure.test has address 127.0.10.30 $INS" "!$SEC"

# --- lookup failures -------------------------------------------------------
check "delegation to a server that answers REFUSED: SERVFAIL" MX refused.test \
    "$SERVFAIL"
check "delegation to an address where nothing listens: SERVFAIL" MX lame.test \
    "$SERVFAIL"

printf '1..%d\n' "$n"
if ((failed)); then
    printf '# %d of %d assertions failed\n' "$failed" "$n"
    exit 1
fi
exit 0
