# SPDX-License-Identifier: MIT
"""Debian's OpenSMTPD 6.8 as shipped: `action "relay" relay` (opportunistic STARTTLS, no DANE,
no MTA-STS).

See _opensmtpd.py for how it runs (unpacked .deb, downloaded on the first run; one daemon per
message).
"""
import _opensmtpd

prepare = _opensmtpd.prepare
deliver = _opensmtpd.deliver
close = _opensmtpd.close


def describe(env):
    return _opensmtpd.describe(env, "relay")
