#!/bin/bash
# SPDX-License-Identifier: MIT
# Extra records for the DANE host-algorithm tests (test_dane_hosts.c): run by run-with-dns.sh
# --pre before the zones are signed.  Every TLSA digest is a fixed placeholder (the host
# algorithm only looks at DNSSEC status and usability, never at certificates).
set -euo pipefail
d=$1/zones.d
mkdir -p "$d"
h32=1111111111111111111111111111111111111111111111111111111111111111
h31=22222222222222222222222222222222222222222222222222222222222222
h64=$h32$h32

cat >>"$d/secure.test.zone" <<ZONE
; DANE-07: TLSA lookup errors make the host unreachable (bogus, then SERVFAIL)
mx3            A      127.0.10.3
_25._tcp.mx3   CNAME  _25._tcp.mx1.bogus.test.
mx8            A      127.0.10.8
_25._tcp.mx8   CNAME  _25._tcp.mx.refused.test.
; DANE-10/13: a secure RRset of unusable records only (PKIX usages, a 31-byte SHA-256)
mx4            A      127.0.10.4
_25._tcp.mx4   TLSA   0 0 1 $h32
_25._tcp.mx4   TLSA   1 1 1 $h32
_25._tcp.mx4   TLSA   3 1 1 $h31
; DANE-26: the TLSA name is a CNAME into an unsigned zone: insecure, so no DANE
mx5            A      127.0.10.5
_25._tcp.mx5   CNAME  _25._tcp.mx1.insecure.test.
; DANE-22: a name without addresses is unreachable
noaddr         TXT    "no address here"
; DANE-26: no TLSA at the expanded name (nodata.secure.test), so the original name's TLSA
alias2         CNAME  nodata.secure.test.
_25._tcp.alias2 TLSA  3 1 1 $h32
; DANE-51: 3 1 2 and 3 1 1 side by side: only SHA2-512 stays usable
mx7            A      127.0.10.7
_25._tcp.mx7   TLSA   3 1 2 $h64
_25._tcp.mx7   TLSA   3 1 1 $h32
; Issue 14: 65 TLSA records (the old cap was 64) and 500, the usable one last: all are read
mx9            A      127.0.10.60
mx10           A      127.0.10.61
ZONE
for i in $(seq 1 64); do
    printf '_25._tcp.mx9   TLSA   1 1 1 %s%02x\n' "${h31}" "$i" >>"$d/secure.test.zone"
done
for i in $(seq 1 499); do
    printf '_25._tcp.mx10  TLSA   1 1 1 %s%04x\n' "${h31%??}" "$i" >>"$d/secure.test.zone"
done
cat >>"$d/secure.test.zone" <<ZONE
_25._tcp.mx9   TLSA   3 1 1 $h32
_25._tcp.mx10  TLSA   3 1 1 $h32
; DANE-25: the real port names the TLSA RRset
_587._tcp.mx1  TLSA   2 1 1 $h32
; DANE-06, DANE-16: MX sorting, a bad host among good ones
sorted         MX     30 mx2.secure.test.
sorted         MX     10 nodata.secure.test.
sorted         MX     20 mx1.secure.test.
multi          MX     10 mx1.bogus.test.
multi          MX     20 mx1.secure.test.
literal        MX     10 127.0.10.1.
ZONE

cat >>"$d/insecure.test.zone" <<ZONE
; DANE-23/24: an insecure first CNAME to a secure host with TLSA: no DANE
alias          CNAME  mx1.secure.test.
; DANE-23: insecure CNAME to an insecure target
alias3         CNAME  mx1.insecure.test.
; DANE-18: an insecure MX RRset naming a secure host with TLSA
provider       MX     10 mx1.secure.test.
ZONE

cat >>"$d/cname.test.zone" <<ZONE
; DANE-23: secure CNAME to an insecure target: the original name is the only candidate
_25._tcp.mixed TLSA   3 1 1 $h32
; DANE-17: the next-hop domain is an alias of secure.test
aliasdom       CNAME  secure.test.
ZONE

cat >>"$d/nomx.test.zone" <<ZONE
; DANE-29: implicit MX with TLSA at the domain itself
_25._tcp       TLSA   3 1 1 $h32
ZONE
