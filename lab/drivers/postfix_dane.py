# SPDX-License-Identifier: MIT
"""Debian's Postfix with its own DANE (smtp_tls_security_level = dane, DNSSEC) and no MTA-STS.

The instance is tests/net/postfix-up.sh's: the lab's validating resolver, the lab CA, an empty
TLS policy table (every domain at the default level, dane).
"""
import os

from _postfix import deliver as _deliver, start, stop, version


def describe(env):
    table = os.path.join(env["state_dir"], "empty-policy")
    open(table, "w").close()
    start(env, "texthash:" + table)
    return {"version": "Postfix " + version(),
            "config": "smtp_tls_security_level = dane, smtp_dns_support_level = dnssec"}


def deliver(env, sender, rcpt, message):
    return _deliver(env, sender, rcpt, message)


def close(env):
    stop(env)
