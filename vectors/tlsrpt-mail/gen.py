#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the hand-made messages of vectors/tlsrpt-mail/ (see README.md): each is shaped after a
# kind of sender or a kind of breakage, with the report bytes of report.json / report.json.gz.
# Deterministic (gzip mtime 0); run from this folder: python3 gen.py
import base64
import gzip

REPORT = (
    b'{"organization-name":"Example Sender","date-range":{"start-datetime":'
    b'"2026-12-05T00:00:00Z","end-datetime":"2026-12-05T23:59:59Z"},"contact-info":'
    b'"tlsrpt@sender.example","report-id":"2026-12-05T00:00:00Z_example.net",'
    b'"policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1",'
    b'"mode: testing","mx: mx1.example.net","max_age: 86400"],"policy-domain":'
    b'"example.net","mx-host":["mx1.example.net"]},"summary":{"total-successful-session-count":'
    b'41,"total-failure-session-count":2},"failure-details":[{"result-type":'
    b'"certificate-expired","sending-mta-ip":"192.0.2.25","receiving-mx-hostname":'
    b'"mx1.example.net","failed-session-count":2}]}]}\n'
)
GZ = gzip.compress(REPORT, compresslevel=9, mtime=0)


def b64_lines(data, width=76):
    s = base64.b64encode(data).decode()
    return [s[i:i + width] for i in range(0, len(s), width)] if width else [s]


def write(name, lines, eol="\r\n"):
    with open(name, "wb") as f:
        f.write((eol.join(lines) + eol).encode())


HEAD = [
    "From: TLS Reports <noreply-smtp-tls-reporting@sender.example>",
    "To: tlsrpt@example.net",
    "Date: Sun, 06 Dec 2026 09:13:52 +0000",
    "Message-ID: <abc123@sender.example>",
    "Subject: Report Domain: example.net Submitter: sender.example",
    " Report-ID: <2026-12-05T00:00:00Z_example.net@sender.example>",
    "TLS-Report-Domain: example.net",
    "TLS-Report-Submitter: sender.example",
    "MIME-Version: 1.0",
]
TEXT = [
    "Content-Type: text/plain; charset=UTF-8",
    "",
    "This is an aggregate TLS report from sender.example",
]
GZPART = [
    "Content-Type: application/tlsrpt+gzip; ",
    ' name="sender.example!example.net!1796428800!1796515199!001.json.gz"',
    "Content-Disposition: attachment; ",
    ' filename="sender.example!example.net!1796428800!1796515199!001.json.gz"',
    "Content-Transfer-Encoding: base64",
    "",
]


def report(b, head_ct, parts, pre=None, epi=None, close=True, head=HEAD, pad=""):
    out = head + head_ct + [""]
    if pre is not None:
        out += pre
    for p in parts:
        out += ["--" + b + pad] + p
    if close:
        out += ["--" + b + "--" + pad]
    if epi is not None:
        out += epi
    return out


B = "000000000000a1b2c3d4e5f6"
# big-sender-quoted: boundary first, both parameters quoted, 76-character base64 lines
write("big-sender-quoted.eml",
      report(B, ['Content-Type: multipart/report; boundary="%s"; report-type="tlsrpt"' % B],
             [TEXT, GZPART + b64_lines(GZ)]))
# upper-case-unquoted: unquoted parameters, upper-case types and encoding, one long base64 line
write("upper-case-unquoted.eml",
      report("MIMEBoundaryXYZ",
             ["Content-Type: Multipart/Report; report-type=TLSRPT; boundary=MIMEBoundaryXYZ"],
             [["Content-Type: TEXT/PLAIN", "", "TLS report attached."],
              ["Content-Type: APPLICATION/TLSRPT+GZIP",
               "Content-Transfer-Encoding: BASE64", ""] + b64_lines(GZ, 0)]))
# lf-only: LF line ends, the Content-Type folded over three lines, a comment in it
write("lf-only.eml",
      report("lf-b", ["Content-Type: multipart/report;", "\treport-type=\"tlsrpt\"; (comment)",
                      "\tboundary=\"lf-b\""],
             [TEXT, GZPART + b64_lines(GZ)]), eol="\n")
# preamble-epilogue: both (the epilogue holds a delimiter line, ignored), and transport padding
# (SP TAB) after every delimiter
write("preamble-epilogue.eml",
      report("=_pre", ['Content-Type: multipart/report; report-type=tlsrpt; boundary="=_pre"'],
             [TEXT, GZPART + b64_lines(GZ)], pre=["This is a multi-part message in MIME format."],
             epi=["", "epilogue text, ignored", "--=_pre"], pad=" \t"))
# json-7bit: the report as application/tlsrpt+json, 7bit, no explanation part
write("json-7bit.eml",
      report("j7", ['Content-Type: multipart/report; report-type="tlsrpt"; boundary="j7"'],
             [["Content-Type: application/tlsrpt+json", "Content-Transfer-Encoding: 7bit", "",
               REPORT.decode().rstrip("\n")]]))
# json-base64: +json in base64, with an explanation part after the report
write("json-base64.eml",
      report("jb", ['Content-Type: multipart/report; report-type="tlsrpt"; boundary="jb"'],
             [["Content-Type: application/tlsrpt+json; charset=utf-8",
               "Content-Transfer-Encoding: base64", ""] + b64_lines(REPORT),
              ["Content-Type: text/plain", "", "Explanation after the report."]]))
# nested-mixed: the report inside a multipart/mixed part (one level of nesting)
write("nested-mixed.eml",
      report("outer", ['Content-Type: multipart/report; report-type="tlsrpt"; boundary="outer"'],
             [TEXT, ['Content-Type: multipart/mixed; boundary="inner"', "",
                     "--inner"] + GZPART + b64_lines(GZ) + ["--inner--"]]))
# ---- broken ----
write("bad-report-type.eml",
      report(B, ['Content-Type: multipart/report; report-type="disposition-notification"; '
                 'boundary="%s"' % B], [TEXT, GZPART + b64_lines(GZ)]))
write("no-boundary.eml",
      report(B, ['Content-Type: multipart/report; report-type="tlsrpt"'],
             [TEXT, GZPART + b64_lines(GZ)]))
write("two-reports.eml",
      report(B, ['Content-Type: multipart/report; report-type="tlsrpt"; boundary="%s"' % B],
             [GZPART + b64_lines(GZ), GZPART + b64_lines(GZ)]))
bad = b64_lines(GZ)
bad[1] = bad[1][:10] + "!" + bad[1][11:]
write("bad-base64-char.eml",
      report(B, ['Content-Type: multipart/report; report-type="tlsrpt"; boundary="%s"' % B],
             [TEXT, GZPART + bad]))
short = b64_lines(GZ)
short[-1] = short[-1].rstrip("=")
write("bad-base64-padding.eml",
      report(B, ['Content-Type: multipart/report; report-type="tlsrpt"; boundary="%s"' % B],
             [TEXT, GZPART + short]))
write("no-close-delimiter.eml",
      report(B, ['Content-Type: multipart/report; report-type="tlsrpt"; boundary="%s"' % B],
             [TEXT, GZPART + b64_lines(GZ)], close=False))
write("boundary-prefix-line.eml",
      report(B, ['Content-Type: multipart/report; report-type="tlsrpt"; boundary="%s"' % B],
             [TEXT + ["--%s-in-the-text" % B], GZPART + b64_lines(GZ)]))
write("nested-too-deep.eml",
      report("o", ['Content-Type: multipart/report; report-type="tlsrpt"; boundary="o"'],
             [['Content-Type: multipart/mixed; boundary="m"', "", "--m",
               'Content-Type: multipart/mixed; boundary="n"', "", "--n"] + GZPART +
              b64_lines(GZ) + ["--n--", "--m--"]]))
write("quoted-printable.eml",
      report("qp", ['Content-Type: multipart/report; report-type="tlsrpt"; boundary="qp"'],
             [["Content-Type: application/tlsrpt+json",
               "Content-Transfer-Encoding: quoted-printable", "", '{"a":=201}']]))
write("not-multipart.eml",
      HEAD + ["Content-Type: application/tlsrpt+gzip", "Content-Transfer-Encoding: base64",
              ""] + b64_lines(GZ))
with open("report.json", "wb") as f:
    f.write(REPORT)
with open("report.json.gz", "wb") as f:
    f.write(GZ)
