#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Parses the DSNs written by dsn-tool back with Python's email package (policy.default), an
# implementation independent of mxtls, and checks the structure (RFC 6522 multipart/report,
# RFC 3464 fields) and the line rules (CRLF only, <= 998 octets).  TAP on stdout.
import datetime
import email
import email.policy
import email.utils
import os
import subprocess
import sys
import tempfile

QID = "0123456789ABCDEF0123"


def date(t):
    return email.utils.format_datetime(datetime.datetime.fromtimestamp(t, datetime.timezone.utc))


PER_MESSAGE = {
    "basic": [("Reporting-MTA", "dns; mail.example.org"), ("Original-Envelope-Id", "ENV-42"),
              ("Arrival-Date", date(1796126400))],
    "tls-delay": [("Reporting-MTA", "dns; mail.example.org"), ("Arrival-Date", date(1796126400))],
    "hostile": [("Reporting-MTA", "dns; mail.example.org"), ("Arrival-Date", date(1796126400))],
}
HOSTILE_DIAG = "smtp; 550 5.7.1 bad X-Injected: yes ?nul??[31m? end " + "x" * 2000
RECIPIENTS = {
    "basic": [[
        ("Original-Recipient", "rfc822; Bob@Example.NET"),
        ("Final-Recipient", "rfc822; bob@example.net"), ("Action", "failed"), ("Status", "5.1.1"),
        ("Remote-MTA", "dns; mx1.example.net"),
        ("Diagnostic-Code", "smtp; 550-5.1.1 The email account that you tried to reach does not "
         "exist. 550 5.1.1 Please check the address."),
        ("Last-Attempt-Date", date(1796126460))]],
    "tls-delay": [[
        ("Final-Recipient", "rfc822; carol@dane.example"), ("Action", "delayed"),
        ("Status", "4.7.5"), ("Remote-MTA", "dns; mx.dane.example"),
        ("Last-Attempt-Date", date(1796130000)), ("Will-Retry-Until", date(1796558400)),
        ("X-Mxtls-TLS-Result", "tlsa-invalid")], [
        ("Final-Recipient", "rfc822; dave@sts.example"), ("Action", "delayed"),
        ("Status", "4.7.5"), ("Remote-MTA", "dns; mx.sts.example"),
        ("Diagnostic-Code", "smtp; 454 4.7.0 TLS not available due to local problem"),
        ("Last-Attempt-Date", date(1796130001)), ("Will-Retry-Until", date(1796558400)),
        ("X-Mxtls-TLS-Result", "starttls-not-supported")]],
    "hostile": [[
        ("Final-Recipient", 'rfc822; "odd local"@example.net'), ("Action", "failed"),
        ("Status", "5.7.1"), ("Remote-MTA", "dns; mx2.example.net"),
        ("Diagnostic-Code", HOSTILE_DIAG),
        ("Last-Attempt-Date", date(1796126460)), ("X-Mxtls-TLS-Result", "dnssec-invalid")]],
}
SUBJECT = {"basic": "Undelivered Mail Returned to Sender",
           "tls-delay": "Delayed Mail (still being retried)",
           "hostile": "Undelivered Mail Returned to Sender"}
ORIG_HEADERS = {
    "basic": b"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: hello\r\n"
             b"Message-ID: <m1@example.org>",
    "tls-delay": b"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: hello\r\n"
                 b"Message-ID: <m1@example.org>",
    "hostile": b"Subject: J\xc3\xb6rg\r\nX-Bare: a\nb\r\nX-B: --=_dsn_" + QID.encode()
               + b"_0\r\nX-Long: " + b"y" * 1500,
}
TEXT_MUST = {
    "basic": ["<bob@example.net>: delivery failed (status 5.1.1).", "at mx1.example.net"],
    "tls-delay": ["This is a warning only", "<carol@dane.example>: delivery delayed",
                  "tlsa-invalid", "the server's certificate matches none of them",
                  "starttls-not-supported",
                  "the receiving server did not offer STARTTLS, and the recipient's domain "
                  "requires encryption (DANE or MTA-STS); the message was not sent unencrypted."],
    "hostile": ["dnssec-invalid", "did not validate"],
}

n = 0
failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, what))
    if not cond:
        failed += 1


def fields(block):
    return [(k, str(v)) for k, v in block.items()]


def check(name, raw):
    lines = raw.split(b"\r\n")
    ok(raw.endswith(b"\r\n"), f"{name}: ends with CRLF")
    ok(all(b"\r" not in l and b"\n" not in l for l in lines), f"{name}: CRLF line ends only")
    ok(max(len(l) for l in lines) <= 998, f"{name}: no line over 998 octets")
    ok(all(b < 0x80 for b in raw), f"{name}: 7-bit only")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    ok(not msg.defects, f"{name}: no defects {msg.defects}")
    ok(msg.get_content_type() == "multipart/report", f"{name}: multipart/report")
    ok(msg.get_param("report-type") == "delivery-status", f"{name}: report-type")
    ok(str(msg["From"]) == "Mail Delivery System <MAILER-DAEMON@mail.example.org>", f"{name}: From")
    ok(str(msg["To"]) == "<alice@example.org>" or str(msg["To"]) == "alice@example.org",
       f"{name}: To {msg['To']}")
    ok(str(msg["Subject"]) == SUBJECT[name], f"{name}: Subject")
    ok(str(msg["Auto-Submitted"]) == "auto-replied", f"{name}: Auto-Submitted")
    ok(msg["Date"] is not None and msg["Message-ID"] is not None, f"{name}: Date, Message-ID")
    parts = list(msg.iter_parts())
    ok([p.get_content_type() for p in parts] ==
       ["text/plain", "message/delivery-status", "text/rfc822-headers"], f"{name}: part types")
    if len(parts) != 3:
        return
    text = parts[0].get_content()
    flat = " ".join(l.strip() for l in text.splitlines())
    for s in TEXT_MUST[name]:
        ok(s in flat, f"{name}: text has {s!r}")
    blocks = parts[1].get_payload()
    ok(len(blocks) == 1 + len(RECIPIENTS[name]), f"{name}: {len(blocks)} status blocks")
    ok(fields(blocks[0]) == PER_MESSAGE[name], f"{name}: per-message fields {fields(blocks[0])}")
    for i, want in enumerate(RECIPIENTS[name]):
        got = fields(blocks[1 + i]) if 1 + i < len(blocks) else []
        if name == "hostile":
            # The 2000-byte word is cut into folded pieces: unfolding joins them with spaces.
            got = [(k, v.replace(" ", "") if k == "Diagnostic-Code" else v) for k, v in got]
            want = [(k, v.replace(" ", "") if k == "Diagnostic-Code" else v) for k, v in want]
        ok(got == want, f"{name}: recipient {i} fields {got}")
    body = parts[2].get_payload(decode=True).rstrip(b"\r\n").replace(b"\r\n", b"\n")
    ok(body == ORIG_HEADERS[name].replace(b"\r\n", b"\n"), f"{name}: original header section")


def main():
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        rc = subprocess.run([tool, d]).returncode
        ok(rc == 0, "dsn-tool wrote the cases")
        for name in ("basic", "tls-delay", "hostile"):
            path = os.path.join(d, name + ".eml")
            if os.path.exists(path):
                with open(path, "rb") as f:
                    check(name, f.read())
            else:
                ok(False, f"{name}: written")
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
