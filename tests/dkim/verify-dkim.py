#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Independent check of mxtls's DKIM signatures (RFC 6376, RFC 8463) with python3-dkim; TAP.

Usage: verify-dkim.py SIGN-TOOL.  Makes an RSA-2048 and an Ed25519 key with certtool (nothing
from the network), signs sample messages with SIGN-TOOL (dkim_sign()), and verifies each with
dkim.verify() against the key's TXT record given through dnsfunc.  Then changes one body byte,
one signed header byte, adds a second From: each must fail; an unsigned header changed or WSP
added in the body (relaxed) must still verify, so the check is shown to discriminate.
"""
import base64
import os
import subprocess
import sys
import tempfile
import time

try:
    import dkim
except ImportError:
    print("1..0 # SKIP python3-dkim is not installed (tools/install-deps.sh)")
    sys.exit(1 if os.environ.get("MXTLS_TEST_NO_SKIP") == "1" else 0)

SIGN = sys.argv[1]
DOMAIN, SELECTOR = "example.com", "mx2026"

MESSAGES = {
    "plain": b"From: Alice <alice@example.com>\r\nTo: bob@example.net\r\n"
             b"Subject: hello\r\nDate: Sun, 06 Dec 2026 12:00:00 +0000\r\n"
             b"Message-ID: <1@example.com>\r\n\r\nHello Bob.\r\n",
    "folded-headers-trailing-blank-lines":
        b"From: Alice\r\n <alice@example.com>\r\nTo: bob@example.net,\r\n\tcarol@example.net\r\n"
        b"Subject:   a subject   that is long and\r\n   folded \t over lines  \r\n"
        b"X-Not-Signed: yes\r\nMIME-Version: 1.0\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n"
        b"\r\n  indented\tline \t \r\nsecond   line\r\n\r\n \r\n\t\r\n\r\n",
    "two-to-fields": b"From: a@example.com\r\nTo: b@example.net\r\nTo: c@example.net\r\n"
                     b"Cc: d@example.net\r\n\r\nbody\r\n",
    "empty-body": b"From: a@example.com\r\nSubject: nothing\r\n\r\n",
    "no-final-crlf": b"From: a@example.com\r\nSubject: x\r\n\r\nlast line",
    "long-line": b"From: a@example.com\r\n\r\n" + b"y" * 5000 + b"   \r\n",
    "lf-only": b"From: a@example.com\nSubject: lf\n\t folded\n\nbody line\n\n",
}


def key_pair(tmp, kind):
    key = os.path.join(tmp, kind + ".pem")
    args = ["certtool", "--generate-privkey", "--outfile", key]
    args += ["--key-type=ed25519"] if kind == "ed25519" else ["--key-type=rsa", "--bits=2048"]
    subprocess.run(args, check=True, capture_output=True)
    spki = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                          check=True, capture_output=True).stdout
    # RFC 8463 §4: p= of an ed25519 key is the raw 32-octet public key, not SubjectPublicKeyInfo.
    pub = spki[-32:] if kind == "ed25519" else spki
    txt = b"v=DKIM1; k=" + kind.encode() + b"; p=" + base64.b64encode(pub)
    return key, txt


def sign(key, msg, now):
    r = subprocess.run([SIGN, key, DOMAIN, SELECTOR, str(now)], input=msg, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode(errors="replace"))
    return r.stdout


def verify(signed, txt):
    def dnsfunc(name, timeout=5):
        return txt if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None
    try:
        return dkim.verify(signed, dnsfunc=dnsfunc)
    except Exception:  # a malformed signature is a failed one
        return False


def mutations(msg):
    """(name, changed message, whether it must still verify)"""
    head, sep, body = msg.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = msg.partition(b"\n\n")
    out = []
    i = next((k for k, c in enumerate(body) if c not in b" \t\r\n"), None)
    if i is not None:
        b2 = bytearray(body)
        b2[i] ^= 0x01
        out.append(("one body byte changed", head + sep + bytes(b2), False))
    else:
        out.append(("a body byte added", head + sep + b"x\r\n", False))
    j = head.lower().find(b"from:") + 5
    while head[j:j + 1] in (b" ", b"\t"):
        j += 1
    h2 = bytearray(head)
    h2[j] ^= 0x01
    out.append(("one From header byte changed", bytes(h2) + sep + body, False))
    out.append(("a second From added", b"From: mallory@example.org\r\n" + msg, False))
    if b"X-Not-Signed" in head:
        out.append(("an unsigned header changed", msg.replace(b"X-Not-Signed: yes", b"X-Not-Signed: no"), True))
    if b"second   line" in body:
        out.append(("WSP added in the body (relaxed)", msg.replace(b"second   line", b"second \t line  "), True))
    return out


def main():
    now = int(time.time())
    n = 0
    failed = 0
    lines = []
    with tempfile.TemporaryDirectory(prefix="mxtls-dkim.") as tmp:
        for kind in ("rsa", "ed25519"):
            key, txt = key_pair(tmp, kind)
            for name, msg in MESSAGES.items():
                try:
                    field = sign(key, msg, now)
                except RuntimeError as e:
                    n += 1
                    failed += 1
                    lines.append(f"not ok {n} - {kind} {name}: signing failed: {e}")
                    continue
                signed = field + msg
                n += 1
                ok = verify(signed, txt)
                if not ok:
                    failed += 1
                    lines.append(f"not ok {n} - {kind} {name}: python3-dkim does not verify it")
                    lines.append("# " + field.decode(errors="replace").replace("\r\n", "\n# "))
                else:
                    lines.append(f"ok {n} - {kind} {name}: verified by python3-dkim")
                for what, changed, expect in mutations(msg):
                    n += 1
                    got = verify(field + changed, txt)
                    if bool(got) == expect:
                        lines.append(f"ok {n} - {kind} {name}: {what}: "
                                     f"{'still verifies' if expect else 'fails'}")
                    else:
                        failed += 1
                        lines.append(f"not ok {n} - {kind} {name}: {what}: verify gave {got}")
    print(f"1..{n}")
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
