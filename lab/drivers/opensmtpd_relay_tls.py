# SPDX-License-Identifier: MIT
"""Debian's OpenSMTPD 6.8 at its strictest: `action "relay" relay tls` (STARTTLS required
and the certificate verified against the CA file, here the lab CA only; no DANE, no MTA-STS).

smtpd.conf(5): "tls [no-verify]: Require TLS to be used when relaying, using mandatory
STARTTLS by default. [...] If no-verify is specified, do not require a valid certificate."
Whether the certificate's name is checked against the MX host is what the lab shows.  See
_opensmtpd.py for how it runs (unpacked .deb, downloaded on the first run; one daemon per
message).
"""
import _opensmtpd

prepare = _opensmtpd.prepare
deliver = _opensmtpd.deliver
close = _opensmtpd.close


def describe(env):
    return _opensmtpd.describe(env, "relay tls")
