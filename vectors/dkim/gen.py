#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes vectors/dkim/: test keys (openssl), key records, messages signed by python3-dkim
(dkimpy) and tampered copies of them.  Run from this folder: ./gen.py  (keys are made anew
only when keys/ is missing; everything else is rewritten from them).  See README.md."""
import base64
import os
import subprocess
import sys
import types

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

# dkimpy signs ed25519-sha256 with PyNaCl, which Debian 12's python3-dkim does not pull in; this
# stand-in gives it the two calls it makes, done by python3-cryptography (RFC 8032 Ed25519).
nacl = types.ModuleType("nacl")
nacl.signing = types.ModuleType("nacl.signing")
nacl.encoding = types.ModuleType("nacl.encoding")
nacl.exceptions = types.ModuleType("nacl.exceptions")


class _Base64Encoder:
    pass


class _Signed:
    def __init__(self, sig):
        self.signature = sig


class _SigningKey:
    def __init__(self, seed, encoder=None):
        self.k = ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed))

    def sign(self, data):
        return _Signed(self.k.sign(data))


nacl.signing.SigningKey = _SigningKey
nacl.encoding.Base64Encoder = _Base64Encoder
nacl.exceptions.ValueError = ValueError
nacl.exceptions.BadSignatureError = ValueError
for m in ("nacl", "nacl.signing", "nacl.encoding", "nacl.exceptions"):
    sys.modules[m] = getattr(nacl, m.split(".")[1]) if "." in m else nacl

import dkim  # noqa: E402  (after the stand-in)

T = 1767225600          # t= of every signature: 2026-01-01T00:00:00Z
X = T + 30 * 86400      # x= of the expiring ones


def run(*args):
    return subprocess.run(args, check=True, capture_output=True).stdout


def make_keys():
    os.makedirs("keys", exist_ok=True)
    for name, bits in (("rsa2048", 2048), ("rsa2048-other", 2048), ("rsa1024", 1024),
                       ("rsa768", 768)):
        run("openssl", "genrsa", "-traditional", "-out", "keys/%s.pem" % name, str(bits))
    run("openssl", "genpkey", "-algorithm", "ed25519", "-out", "keys/ed25519.pem")


def rsa_p(name):
    return base64.b64encode(run("openssl", "pkey", "-in", "keys/%s.pem" % name, "-pubout",
                                "-outform", "DER")).decode()


def ed_key():
    with open("keys/ed25519.pem", "rb") as f:
        k = serialization.load_pem_private_key(f.read(), None)
    seed = k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                           serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.Raw,
                                      serialization.PublicFormat.Raw)
    return base64.b64encode(seed), base64.b64encode(pub).decode()


BASE = (b"From: TLS Reporting <noreply-smtp-tls-reporting@reporter.example>\r\n"
        b"To: tlsrpt@example.net\r\n"
        b"Subject: Report Domain: example.net Submitter: reporter.example\r\n"
        b"\tReport-ID: <2026.01.01T00.00.00Z+example.net@reporter.example>\r\n"
        b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
        b"Message-ID: <tlsrpt-1@reporter.example>\r\n"
        b"TLS-Report-Domain: example.net\r\n"
        b"TLS-Report-Submitter: reporter.example\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
        b"\tboundary=\"b1\"\r\n"
        b"\r\n"
        b"--b1\r\n"
        b"Content-Type: text/plain\r\n"
        b"\r\n"
        b"This is an aggregate TLS report from reporter.example  \r\n"
        b"\twith  white space\t runs.\r\n"
        b"\r\n"
        b"--b1\r\n"
        b"Content-Type: application/tlsrpt+json\r\n"
        b"\r\n"
        b"{\"organization-name\":\"reporter.example\",\"policies\":[]}\r\n"
        b"--b1--\r\n"
        b"\r\n\r\n")


def sign(msg, selector, key, alg, canon, x=False, identity=None):
    d = dkim.DKIM(msg, signature_algorithm=alg)
    if x:
        gen = d.gen_header

        def with_x(fields, *a, **kw):
            i = [f[0] for f in fields].index(b"h")
            return gen(fields[:i] + [(b"x", str(X).encode())] + fields[i:], *a, **kw)
        d.gen_header = with_x
    dkim.time.time = lambda: T
    return d.sign(selector, b"reporter.example", key, canonicalize=canon,
                  identity=identity) + msg


def corrupt_b(msg):
    """msg with the 10th base64 character of b= changed."""
    i = msg.index(b" b=") + 3 + 9
    return msg[:i] + (b"B" if msg[i:i + 1] != b"B" else b"C") + msg[i + 1:]


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def main():
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isdir("keys"):
        make_keys()
    rsa = open("keys/rsa2048.pem", "rb").read()
    seed, edpub = ed_key()
    p, p_other = rsa_p("rsa2048"), rsa_p("rsa2048-other")
    os.makedirs("records", exist_ok=True)
    os.makedirs("msgs", exist_ok=True)
    records = {
        "rsa": "v=DKIM1; k=rsa; p=" + p,
        "rsa-no-v-no-k": "p=" + p,
        "rsa-s-email": "v=DKIM1; k=rsa; s=email; p=" + p,
        "rsa-s-tlsrpt": "v=DKIM1; k=rsa; s=tlsrpt; p=" + p,
        "rsa-s-star": "v=DKIM1; k=rsa; s=*; p=" + p,
        "rsa-s-list": "v=DKIM1; k=rsa; s = email : tlsrpt ; p=" + p,
        "rsa-revoked": "v=DKIM1; k=rsa; p=",
        "rsa-testing": "v=DKIM1; k=rsa; t=y; p=" + p,
        "rsa-strict": "v=DKIM1; k=rsa; t=s; p=" + p,
        "rsa-h-sha1": "v=DKIM1; k=rsa; h=sha1; p=" + p,
        "rsa-h-sha256": "v=DKIM1; k=rsa; h=sha1:sha256; p=" + p,
        "rsa-other-key": "v=DKIM1; k=rsa; p=" + p_other,
        "rsa-as-ed25519": "v=DKIM1; k=ed25519; p=" + p,
        "rsa-v-late": "k=rsa; v=DKIM1; p=" + p,
        "rsa-folded": "v=DKIM1; k=rsa; p=" + " ".join(p[i:i + 64] for i in range(0, len(p), 64)),
        "rsa1024": "v=DKIM1; k=rsa; p=" + rsa_p("rsa1024"),
        "rsa768": "v=DKIM1; k=rsa; p=" + rsa_p("rsa768"),
        "ed25519": "v=DKIM1; k=ed25519; p=" + edpub,
        "ed25519-s-tlsrpt": "v=DKIM1; k=ed25519; s=tlsrpt; p=" + edpub,
        "ed25519-s-email": "v=DKIM1; k=ed25519; s=email; p=" + edpub,
        "garbage": "v=DKIM1; k=rsa; p=!!!",
    }
    for name, text in records.items():
        write("records/%s.txt" % name, text.encode())

    rr = (b"relaxed", b"relaxed")
    ss = (b"simple", b"simple")
    msgs = {
        "rsa-relaxed": sign(BASE, b"rsa", rsa, b"rsa-sha256", rr),
        "rsa-simple": sign(BASE, b"rsa", rsa, b"rsa-sha256", ss),
        "ed25519-relaxed": sign(BASE, b"ed", seed, b"ed25519-sha256", rr),
        "ed25519-simple": sign(BASE, b"ed", seed, b"ed25519-sha256", ss),
        "rsa-relaxed-x": sign(BASE, b"rsa", rsa, b"rsa-sha256", rr, x=True),
        "rsa-relaxed-i-sub": sign(BASE, b"rsa", rsa, b"rsa-sha256", rr,
                                  identity=b"tls@mail.reporter.example"),
        "rsa1024-relaxed": sign(BASE, b"r1024", open("keys/rsa1024.pem", "rb").read(),
                                b"rsa-sha256", rr),
        "rsa768-relaxed": sign(BASE, b"r768", open("keys/rsa768.pem", "rb").read(),
                               b"rsa-sha256", rr),
    }
    r = msgs["rsa-relaxed"]
    s = msgs["rsa-simple"]
    e = msgs["ed25519-relaxed"]
    msgs.update({
        # LF line ends throughout (a message as stored on disk)
        "rsa-relaxed-lf": r.replace(b"\r\n", b"\n"),
        "rsa-simple-lf": s.replace(b"\r\n", b"\n"),
        # relaxed tolerates re-spacing of the body and header, simple does not
        "rsa-relaxed-respaced": r.replace(b"with  white space", b"with white  space"),
        "rsa-simple-respaced": s.replace(b"with  white space", b"with white  space"),
        "rsa-relaxed-trailing-lines": r + b"\r\n\r\n",
        "rsa-simple-trailing-lines": s + b"\r\n\r\n",
        "rsa-relaxed-body": r.replace(b"\"policies\":[]", b"\"policies\":[{}]"),
        "rsa-simple-body": s.replace(b"\"policies\":[]", b"\"policies\":[{}]"),
        "ed25519-relaxed-body": e.replace(b"\"policies\":[]", b"\"policies\":[{}]"),
        "rsa-relaxed-subject": r.replace(b"Submitter: reporter.example",
                                         b"Submitter: attacker.example"),
        "ed25519-relaxed-subject": e.replace(b"Submitter: reporter.example",
                                             b"Submitter: attacker.example"),
        "rsa-relaxed-unsigned-added": r.replace(b"\r\nTo: ",
                                                b"\r\nX-Added: not signed\r\nTo: "),
        "rsa-relaxed-from-dup": r.replace(b"\r\nTo: ",
                                          b"\r\nFrom: attacker@attacker.example\r\nTo: "),
        "rsa-relaxed-from-dup-top": b"From: attacker@attacker.example\r\n" + r,
        "rsa-relaxed-b-corrupt": corrupt_b(r),
        "ed25519-relaxed-b-corrupt": corrupt_b(e),
        # b= with three zero octets in front: dkimpy reads the RSA signature as an integer and
        # passes it; RFC 8017 §8.2.2 step 1 requires the signature to be k octets long.
        "rsa-relaxed-b-zero-prefix": r.replace(b" b=", b" b=AAAA", 1),
    })
    msgs["unsigned"] = BASE
    for name, data in msgs.items():
        write("msgs/%s.eml" % name, data)


if __name__ == "__main__":
    main()
