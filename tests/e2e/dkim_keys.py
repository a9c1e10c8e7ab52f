# SPDX-License-Identifier: MIT
"""DKIM for the e2e tests: an RSA key made with certtool, its key record, and verification by
python3-dkim (dkimpy) against that record alone (no DNS)."""
import base64
import os
import subprocess


def make_key(directory, flags=b""):
    """(PEM path, key record bytes) of a new RSA-2048 key in directory; flags: extra tags of
    the record, e.g. b"s=tlsrpt; " (RFC 6376 §3.6.1)."""
    key = os.path.join(directory, "dkim.pem")
    subprocess.run(["certtool", "--generate-privkey", "--outfile", key, "--key-type=rsa",
                    "--bits=2048"], check=True, capture_output=True)
    spki = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                          check=True, capture_output=True).stdout
    return key, b"v=DKIM1; k=rsa; " + flags + b"p=" + base64.b64encode(spki)


def verifies(raw, domain, selector, record, tlsrpt=False):
    """Whether dkimpy verifies the first signature of raw with record as the key of
    selector._domainkey.domain; tlsrpt: its RFC 8460 mode (strict)."""
    import dkim

    def dnsfunc(name, timeout=5):
        return record if name == ("%s._domainkey.%s." % (selector, domain)).encode() else None
    try:
        if tlsrpt:
            return bool(dkim.verify(raw, dnsfunc=dnsfunc, tlsrpt="strict"))
        return bool(dkim.verify(raw, dnsfunc=dnsfunc))
    except Exception:  # a malformed signature is a failed one
        return False
