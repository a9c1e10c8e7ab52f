#!/bin/bash
# SPDX-License-Identifier: MIT
# bench-queue's domains (run-with-dns.sh --smtp --pre): 100 destinations that all deliver to the
# test network's own receivers, in three kinds.
#
#   dNN.qd.mail.test   (NN 00..33)  DANE: a wildcard secure MX to mx1.dane-ee.mail.test, whose
#                                   TLSA 3 1 1 smtp-pki.sh published (it ran before this script)
#   qsNN.sts.test      (NN 00..32)  MTA-STS enforce: an explicit _mta-sts TXT, the policy host
#                                   mta-sts.qsNN.sts.test at 127.0.44.9 (bench_queue_policy.py,
#                                   one certificate per name from the test CA, issued here) and
#                                   MX mx1.enforce.sts.test (web-valid certificate, no TLSA)
#   dNN.qp.plain.test  (NN 00..32)  opportunistic: a wildcard MX (unsigned zone) to mx1.plain.test
#
# Wildcards keep the zones small; the MTA-STS domains cannot use one (each needs its own policy
# host name and certificate).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
w=$1
mkdir -p "$w/zones.d"
hosts=()
for n in $(seq -w 0 32); do
    hosts+=("mta-sts.qs$n.sts.test")
done
bash "$here/../tests/net/pki-up.sh" --add "$w" "${hosts[@]}"
{
    echo "; bench/bench_queue_zones.sh: 34 DANE destinations"
    echo "*.qd                  MX     10 mx1.dane-ee.mail.test."
} >>"$w/zones.d/mail.test.zone"
{
    echo "; bench/bench_queue_zones.sh: 33 opportunistic destinations"
    echo "*.qp                  MX     10 mx1.plain.test."
} >>"$w/zones.d/plain.test.zone"
{
    echo "; bench/bench_queue_zones.sh: 33 MTA-STS enforce destinations"
    for n in $(seq -w 0 32); do
        echo "_mta-sts.qs$n         TXT    \"v=STSv1; id=20260101T000000;\""
        echo "mta-sts.qs$n          A      127.0.44.9"
        echo "qs$n                  MX     10 mx1.enforce.sts.test."
    done
} >>"$w/zones.d/sts.test.zone"
