# SPDX-License-Identifier: MIT
"""an MTA that never delivers, for the lab's self-test: it must fail exactly the scenarios that
expect a delivery or a bounce (mxtls-lab --self-test checks that)."""


def describe(env):
    return {"version": "self-test", "config": "defers everything"}


def deliver(env, sender, rcpt, message):
    return "deferred", "never delivers"
