#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the byte-exact MTA-STS policy vectors of vectors/sts/policy/ and their SHA256SUMS.

Every file is spelled out below as a Python bytes literal, so line ends (LF, CRLF, bare CR),
a missing final newline, NULs and non-ASCII bytes are visible in review.  The expected results
live in cases.txt; README.md gives each case's provenance.  Run from anywhere:
    python3 vectors/sts/gen-policies.py
The two size-cap cases and the mx-count cases are not files: the tests synthesise them
("synth" and "synthmx" in cases.txt).
"""
import hashlib
import os

RFC_LF = (b"version: STSv1\n"
          b"mode: enforce\n"
          b"mx: mail.example.com\n"
          b"mx: *.example.net\n"
          b"mx: backupmx.example.com\n"
          b"max_age: 604800\n")


def body(*lines, end=b"\n", final=True):
    """Joins lines with the terminator end; final=False leaves the last line unterminated."""
    text = end.join(lines)
    return text + end if final else text


BASE = [b"version: STSv1", b"mode: enforce", b"mx: mail.example.com", b"max_age: 86400"]


def base_with(*extra, replace=None):
    """The small base policy with some lines replaced ({key prefix: new line}) or added."""
    lines = list(BASE)
    for old, new in (replace or {}).items():
        lines = [new if line.startswith(old) else line for line in lines]
        lines = [line for line in lines if line is not None]
    return body(*lines, *extra)


POLICIES = {
    # Line ends (RFC 8461 s3.2 ABNF sts-policy-term = LF / CRLF; erratum 6253; decision D5)
    "rfc-example-lf": RFC_LF,
    "rfc-example-crlf": RFC_LF.replace(b"\n", b"\r\n"),
    "no-final-newline": RFC_LF[:-1],
    "crlf-no-final-newline": RFC_LF.replace(b"\n", b"\r\n")[:-2],
    "mixed-lf-crlf": b"version: STSv1\r\nmode: enforce\nmx: mail.example.com\r\nmax_age: 86400\n",
    "bare-cr": RFC_LF.replace(b"\n", b"\r"),
    "bare-cr-inside": b"version: STSv1\nmode: enforce\rmx: mail.example.com\nmax_age: 86400\n",
    "bare-cr-final": b"version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\r",
    "vertical-tab-separator": b"version: STSv1\nmode: enforce\x0bmx: mail.example.com\nmax_age: 86400\n",
    "form-feed-separator": b"version: STSv1\x0cmode: enforce\nmx: mail.example.com\nmax_age: 86400\n",
    "nel-separator": b"version: STSv1\nmode: enforce\xc2\x85mx: mail.example.com\nmax_age: 86400\n",
    "nul-byte": b"version: STSv1\nmode: enforce\nmx: mail.example.com\x00.evil.example\nmax_age: 86400\n",
    "empty": b"",
    "only-newline": b"\n",
    # Blank lines, comments, white space (STS-29: strict grammar)
    "leading-blank-line": b"\n" + base_with(),
    "trailing-blank-line": base_with() + b"\n",
    "crlf-trailing-blank-line": base_with().replace(b"\n", b"\r\n") + b"\r\n",
    "blank-line-inside": b"version: STSv1\nmode: enforce\n\nmx: mail.example.com\nmax_age: 86400\n",
    "whitespace-only-line": b"version: STSv1\nmode: enforce\n   \nmx: mail.example.com\nmax_age: 86400\n",
    "comment-line": b"# MTA-STS policy\n" + base_with(),
    "leading-space": b"version: STSv1\n mode: enforce\nmx: mail.example.com\nmax_age: 86400\n",
    "utf8-bom": b"\xef\xbb\xbf" + base_with(),
    "trailing-whitespace": b"version: STSv1 \nmode: enforce\t\nmx: mail.example.com  \nmax_age: 86400 \t \n",
    "no-space-after-colon": b"version:STSv1\nmode:enforce\nmx:mail.example.com\nmax_age:86400\n",
    "tab-after-colon": b"version:\tSTSv1\nmode:\tenforce\nmx:\tmail.example.com\nmax_age:\t86400\n",
    "space-before-colon": base_with(replace={b"mode": b"mode : enforce"}),
    "no-colon": base_with(b"this line has no colon"),
    "equals-instead-of-colon": b"version=STSv1\nmode=enforce\nmx=mail.example.com\nmax_age=86400\n",
    "txt-record-as-policy": b"v=STSv1; id=20160831085700Z;\n",
    "json-policy": b'{"version": "STSv1", "mode": "enforce", "mx": ["mail.example.com"], "max_age": 86400}\n',
    "html-page": b"<!DOCTYPE html>\n<html><body>Not here</body></html>\n",
    # Field order, required fields (STS-23, STS-24, STS-26)
    "fields-any-order": b"max_age: 86400\nmx: mail.example.com\nmode: enforce\nversion: STSv1\n",
    "missing-version": base_with(replace={b"version": None}),
    "missing-mode": base_with(replace={b"mode": None}),
    "missing-max-age": base_with(replace={b"max_age": None}),
    "version-stsv2": base_with(replace={b"version": b"version: STSv2"}),
    "version-lowercase": base_with(replace={b"version": b"version: stsv1"}),
    "key-uppercase-version": base_with(replace={b"version": b"Version: STSv1"}),
    "mode-testing": base_with(replace={b"mode": b"mode: testing"}),
    "mode-none-no-mx": body(b"version: STSv1", b"mode: none", b"max_age: 86400"),
    "mode-none-with-mx": base_with(replace={b"mode": b"mode: none"}),
    "mode-report": base_with(replace={b"mode": b"mode: report"}),
    "mode-value-uppercase": base_with(replace={b"mode": b"mode: Enforce"}),
    "mode-key-uppercase": base_with(replace={b"mode": b"Mode: enforce"}),
    "mode-empty": base_with(replace={b"mode": b"mode:"}),
    "enforce-no-mx": body(b"version: STSv1", b"mode: enforce", b"max_age: 86400"),
    "testing-no-mx": body(b"version: STSv1", b"mode: testing", b"max_age: 86400"),
    # max_age (STS-25, decision D3, erratum 7282)
    "max-age-zero": base_with(replace={b"max_age": b"max_age: 0"}),
    "max-age-one-year": base_with(replace={b"max_age": b"max_age: 31557600"}),
    "max-age-above-year": base_with(replace={b"max_age": b"max_age: 31557601"}),
    "max-age-ten-digits": base_with(replace={b"max_age": b"max_age: 9999999999"}),
    "max-age-eleven-digits": base_with(replace={b"max_age": b"max_age: 99999999999"}),
    "max-age-leading-zeros": base_with(replace={b"max_age": b"max_age: 0000086400"}),
    "max-age-negative": base_with(replace={b"max_age": b"max_age: -1"}),
    "max-age-plus-sign": base_with(replace={b"max_age": b"max_age: +86400"}),
    "max-age-exponent": base_with(replace={b"max_age": b"max_age: 1e6"}),
    "max-age-unit": base_with(replace={b"max_age": b"max_age: 86400s"}),
    "max-age-underscore": base_with(replace={b"max_age": b"max_age: 86_400"}),
    "max-age-arabic-indic": base_with(replace={b"max_age": "max_age: \u0668\u0666\u0664".encode()}),
    "max-age-empty": base_with(replace={b"max_age": b"max_age:"}),
    # Duplicates (STS-23, STS-27: the first one counts; mx repeats)
    "duplicate-mode": body(b"version: STSv1", b"mode: testing", b"mode: enforce",
                           b"mx: mail.example.com", b"max_age: 86400"),
    "duplicate-max-age": body(b"version: STSv1", b"mode: enforce", b"mx: mail.example.com",
                              b"max_age: 86400", b"max_age: 604800"),
    "duplicate-version": body(b"version: STSv1", b"version: STSv1", b"mode: enforce",
                              b"mx: mail.example.com", b"max_age: 86400"),
    "duplicate-version-bad": body(b"version: STSv1", b"version: STSv2", b"mode: enforce",
                                  b"mx: mail.example.com", b"max_age: 86400"),
    "duplicate-mx": body(b"version: STSv1", b"mode: enforce", b"mx: mail.example.com",
                         b"mx: MAIL.example.com", b"max_age: 86400"),
    # Unknown fields and extension values (STS-27, STS-28)
    "unknown-field": base_with(b"foo: bar"),
    "unknown-field-utf8": base_with("comment: B\u00fccher GmbH \u2013 mail".encode()),
    "unknown-field-spaces": base_with(b"comment: three words here"),
    "unknown-field-tab-inside": base_with(b"comment: a\tb"),
    "unknown-field-control": base_with(b"comment: a\x01b"),
    "unknown-field-del": base_with(b"comment: a\x7fb"),
    "unknown-field-bad-utf8": base_with(b"comment: \xc3\x28"),
    "unknown-field-overlong-utf8": base_with(b"comment: \xc0\xaf"),
    "unknown-field-surrogate": base_with(b"comment: \xed\xa0\x80"),
    "unknown-field-empty": base_with(b"comment:"),
    "unknown-field-name-32": base_with(b"a" * 32 + b": x"),
    "unknown-field-name-33": base_with(b"a" * 33 + b": x"),
    "unknown-field-name-dots": base_with(b"x-ext.v_2: 1"),
    "unknown-field-name-underscore-first": base_with(b"_ext: 1"),
    # mx patterns (STS-26; RFC 5321 Domain)
    "mx-wildcard": base_with(replace={b"mx": b"mx: *.example.net"}),
    "mx-list": base_with(replace={b"mx": b"mx: mail.example.com, mx2.example.com"}),
    "mx-space-list": base_with(replace={b"mx": b"mx: mail.example.com mx2.example.com"}),
    "mx-double-wildcard": base_with(replace={b"mx": b"mx: *.*.example.com"}),
    "mx-partial-wildcard": base_with(replace={b"mx": b"mx: mx*.example.com"}),
    "mx-inner-wildcard": base_with(replace={b"mx": b"mx: mail.*.example.com"}),
    "mx-bare-star": base_with(replace={b"mx": b"mx: *"}),
    "mx-star-dot": base_with(replace={b"mx": b"mx: *."}),
    "mx-ulabel": base_with(replace={b"mx": "mx: mail.b\u00fccher.example".encode()}),
    "mx-alabel": base_with(replace={b"mx": b"mx: *.xn--bcher-kva.example"}),
    "mx-trailing-dot": base_with(replace={b"mx": b"mx: mail.example.com."}),
    "mx-underscore": base_with(replace={b"mx": b"mx: mail_1.example.com"}),
    "mx-hyphen-edge": base_with(replace={b"mx": b"mx: -mail.example.com"}),
    "mx-empty-label": base_with(replace={b"mx": b"mx: mail..example.com"}),
    "mx-empty": base_with(replace={b"mx": b"mx:"}),
    "mx-label-63": base_with(replace={b"mx": b"mx: " + b"a" * 63 + b".example.com"}),
    "mx-label-64": base_with(replace={b"mx": b"mx: " + b"a" * 64 + b".example.com"}),
    "mx-uppercase": base_with(replace={b"mx": b"mx: MAIL.Example.COM"}),
    "mx-ip-literal": base_with(replace={b"mx": b"mx: [192.0.2.1]"}),
    "mx-key-uppercase": base_with(replace={b"mx": b"MX: mail.example.com"}),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "policy")
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        if old.endswith(".txt"):
            os.unlink(os.path.join(out, old))
    sums = []
    for name in sorted(POLICIES):
        data = POLICIES[name]
        with open(os.path.join(out, name + ".txt"), "wb") as f:
            f.write(data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  policy/{name}.txt\n")
    with open(os.path.join(here, "SHA256SUMS"), "w", encoding="ascii") as f:
        f.write("# SPDX-License-Identifier: MIT\n"
                "# Checksums of policy/*.txt, written by gen-policies.py: sha256sum -c SHA256SUMS\n")
        f.writelines(sums)
    print(f"wrote {len(POLICIES)} policies")


if __name__ == "__main__":
    main()
