#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The RFC 8460 §5.3 mail report, checked from outside; TAP.

Usage: check-mail-dkim.py MAIL-TOOL.  MAIL-TOOL (tests/tlsrpt/tlsrpt-mail-tool.c) builds a fixed
report with tlsrpt_mail_build() and signs it with dkim_sign() (default fields plus
TLS-Report-Domain and TLS-Report-Submitter).  This script reads the unsigned message with
Python's email package (structure, media types, the attachment gunzipped and parsed, subject,
headers and file name consistent with the JSON: RFC 8460 §5.3, §5.6), then verifies the signed
one with python3-dkim in its RFC 8460 mode (tlsrpt="strict", key record s=tlsrpt; RSA-2048 and Ed25519 keys made with certtool, the key record handed in
through dnsfunc), checks that h= lists both TLS-Report fields and that there is no l= tag
(RFC 8460 §3: MUST NOT), and that changing either TLS-Report field or one attachment byte breaks
the signature while adding an unsigned field does not.
"""
import base64
import email
import email.policy
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time

try:
    import dkim
except ImportError:
    print("1..0 # SKIP python3-dkim is not installed (tools/install-deps.sh)")
    sys.exit(1 if os.environ.get("MXTLS_TEST_NO_SKIP") == "1" else 0)

TOOL = sys.argv[1]
DOMAIN, SELECTOR = "mail.example.com", "tlsrpt2026"
results = []


def check(ok, what):
    results.append((bool(ok), what))


def run(key, now):
    r = subprocess.run([TOOL, key, SELECTOR, str(now)], capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode(errors="replace"))
    return r.stdout


def key_pair(tmp, kind):
    key = os.path.join(tmp, kind + ".pem")
    args = ["certtool", "--generate-privkey", "--outfile", key]
    args += ["--key-type=ed25519"] if kind == "ed25519" else ["--key-type=rsa", "--bits=2048"]
    subprocess.run(args, check=True, capture_output=True)
    spki = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                          check=True, capture_output=True).stdout
    pub = spki[-32:] if kind == "ed25519" else spki  # RFC 8463 §4: raw key for ed25519
    # RFC 8460 §3 (SHOULD): the key record says s=tlsrpt.  (dkimpy compares s= as a whole, so
    # the list "s=email:tlsrpt" that RFC 6376 §3.6.1 allows would not verify there.)
    return key, b"v=DKIM1; k=" + kind.encode() + b"; s=tlsrpt; p=" + base64.b64encode(pub)


def verify(msg, txt):
    def dnsfunc(name, timeout=5):
        return txt if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None
    try:
        # dkimpy's RFC 8460 mode: 'strict' also requires s=tlsrpt in the key record, and
        # ignores an l= tag (the check for its absence is below)
        return bool(dkim.verify(msg, dnsfunc=dnsfunc, tlsrpt="strict"))
    except Exception:
        return False


def structure(raw):
    check(b"\n" not in raw.replace(b"\r\n", b""), "CRLF line ends only")
    lines = raw.split(b"\r\n")[:-1]
    check(max(len(x) for x in lines) <= 78, "no line longer than 78")
    check(all(32 <= c < 127 for x in lines for c in x), "7-bit printable text only")
    m = email.message_from_bytes(raw, policy=email.policy.default)
    check(m.get_content_type() == "multipart/report", "multipart/report")
    check(m.get_param("report-type") == "tlsrpt", 'report-type="tlsrpt"')
    check(m["TLS-Required"] == "No", "TLS-Required: No")
    check(m["MIME-Version"] == "1.0", "MIME-Version: 1.0")
    parts = list(m.iter_parts())
    check(len(parts) == 2, "two parts")
    check(parts[0].get_content_type() == "text/plain", "part 1 text/plain")
    text = parts[0].get_content()
    check("example.net" in text and DOMAIN in text and "2026-12-05" in text,
          "part 1 names the policy domain, the submitter and the day")
    att = parts[1]
    check(att.get_content_type() == "application/tlsrpt+gzip", "part 2 application/tlsrpt+gzip")
    check(att["Content-Transfer-Encoding"] == "base64", "part 2 base64")
    check(att.get_content_disposition() == "attachment", "part 2 an attachment")
    fname = att.get_filename()
    report = json.loads(gzip.decompress(att.get_payload(decode=True)))
    check(report["report-id"] == "2026-12-05.1@mail.example.com", "the attachment is the report")
    # RFC 8460 §5.3 subject; §5.6: subject, file name and body agree
    subject = " ".join(str(m["Subject"]).split())
    check(subject == "Report Domain: example.net Submitter: mail.example.com "
          "Report-ID: <" + report["report-id"] + ">", "Subject as §5.3 says: " + subject)
    pd = report["policies"][0]["policy"]["policy-domain"]
    check(m["TLS-Report-Domain"] == pd, "TLS-Report-Domain is the policy domain")
    submitter = report["contact-info"].rsplit("@", 1)[1]
    check(m["TLS-Report-Submitter"] == submitter, "TLS-Report-Submitter is the contact's domain")
    fm = re.fullmatch(r"([^!]+)!([^!]+)!(\d+)!(\d+)\.json\.gz", fname or "")
    check(fm and fm.group(1) == submitter and fm.group(2) == pd, "§5.1 file name: " + str(fname))
    start = report["date-range"]["start-datetime"]
    check(fm and time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(fm.group(3)))) == start,
          "file name begin = start-datetime")


def tags(field):
    value = field.split(b":", 1)[1]
    value = re.sub(rb"\s+", b"", value)
    return dict(t.split(b"=", 1) for t in value.split(b";") if t)


def main():
    now = int(time.time())
    structure(run("-", now))
    with tempfile.TemporaryDirectory(prefix="mxtls-rptdkim.") as tmp:
        for kind in ("rsa", "ed25519"):
            key, txt = key_pair(tmp, kind)
            signed = run(key, now)
            check(signed.startswith(b"DKIM-Signature:"), f"{kind}: signed")
            check(verify(signed, txt), f"{kind}: verified by python3-dkim")
            end = re.search(rb"\r\n(?![ \t])", signed).end()
            t = tags(signed[:end])
            h = [x.strip().lower() for x in t.get(b"h", b"").split(b":")]
            check(b"tls-report-domain" in h and b"tls-report-submitter" in h,
                  f"{kind}: h= lists TLS-Report-Domain and TLS-Report-Submitter")
            check(b"l" not in t, f"{kind}: no l= tag (RFC 8460 §3)")
            check(t.get(b"d") == DOMAIN.encode(), f"{kind}: d= is the submitter domain")
            for what, old, new, expect in (
                    ("TLS-Report-Domain changed", b"TLS-Report-Domain: example.net",
                     b"TLS-Report-Domain: example.org", False),
                    ("TLS-Report-Submitter changed", b"TLS-Report-Submitter: mail.example.com",
                     b"TLS-Report-Submitter: mail.example.org", False),
                    # RFC 6376 §5.4.2: a verifier signs the bottom-most instance, so one added
                    # below the signed field breaks the signature.  (One added above it does
                    # not: dkim_sign() oversigns only From.)
                    ("a second TLS-Report-Domain added below", b"MIME-Version: 1.0\r\n",
                     b"MIME-Version: 1.0\r\nTLS-Report-Domain: evil.example\r\n", False),
                    ("an unsigned field added", b"MIME-Version: 1.0\r\n",
                     b"MIME-Version: 1.0\r\nX-Unsigned: yes\r\n", True)):
                check(verify(signed.replace(old, new, 1), txt) == expect,
                      f"{kind}: {what}: {'still verifies' if expect else 'fails'}")
            body = signed.index(b"\r\n\r\nH4sI") + 4  # the base64 gzip magic
            changed = signed[:body + 8] + bytes([signed[body + 8] ^ 1]) + signed[body + 9:]
            check(not verify(changed, txt), f"{kind}: one attachment byte changed: fails")
    print(f"1..{len(results)}")
    for i, (ok, what) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {what}")
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
