# SPDX-License-Identifier: MIT
"""an MTA that never delivers, for the lab's self-test: it must fail exactly the scenarios that
expect a delivery or a bounce, and the phased ones, whose first message must arrive (mxtls-lab
--self-test checks that)."""

# no DNS at all: no wait after a DNS change
DNS_CACHE = False


def describe(env):
    return {"version": "self-test", "config": "defers everything"}


def deliver(env, sender, rcpt, message):
    return "deferred", "never delivers"
