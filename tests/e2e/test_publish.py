#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`mxtls publish DOMAIN` end to end on the test network (TAP).

Run by run-with-dns.sh --tap --smtp (tests/e2e/meson.build); argument: the mxtls binary.  For
scenario domains of mail.test (DANE) and sts.test (MTA-STS), publish's output is checked
exactly: the policy's mx lines are the MX hosts, the TLSA digests are the SHA-256 of the SPKI
of the certificate each server serves (openssl s_client -starttls smtp, computed by openssl),
every TLSA record printed (3 1 1, and the 2 1 1 issuer advice) is accepted by
`mxtls dane verify` for that server's chain, the policy file passes `mxtls sts lint`, the
_smtp._tls record is what --rua asked for, --out keeps the id while the text is unchanged, and
nothing is printed when an MX host cannot be reached with TLS (exit 75).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

MXTLS = sys.argv[1]
WORK = os.environ["MXTLS_TEST_WORKDIR"]
HOSTS_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "net",
                          "smtp-hosts.conf")
BASE = [MXTLS, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
        "--ca-file", os.environ["MXTLS_TEST_CA_FILE"], "--connect-timeout", "3",
        "--smtp-timeout", "20"]

n = 0
failed = 0


def ok(cond, name, detail=""):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {name}", flush=True)
    if not cond:
        failed += 1
        for line in str(detail).splitlines()[-25:]:
            print(f"#   {line}")


def run(cmd, stdin=None):
    return subprocess.run(cmd, capture_output=True, timeout=180, input=stdin)


def addr_of(host):
    with open(HOSTS_CONF, encoding="utf-8") as f:
        for line in f:
            w = line.split()
            if len(w) >= 2 and w[0] == host:
                return w[1]
    raise KeyError(host)


def served_chain(host):
    """The PEM chain the server of host sends after STARTTLS, as openssl sees it."""
    r = run(["openssl", "s_client", "-starttls", "smtp", "-connect", f"{addr_of(host)}:25",
             "-servername", host, "-showcerts"], stdin=b"")
    return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                      r.stdout.decode(), re.S)


def spki_sha256(pem):
    """RFC 6698 selector 1, matching type 1, computed by openssl alone."""
    pub = run(["openssl", "x509", "-pubkey", "-noout"], stdin=pem.encode()).stdout
    der = run(["openssl", "pkey", "-pubin", "-outform", "DER"], stdin=pub).stdout
    return run(["openssl", "dgst", "-sha256", "-r"], stdin=der).stdout.decode().split()[0]


def records(out, rtype):
    """The uncommented records of a type: [(owner, data)]."""
    got = []
    for line in out.splitlines():
        m = re.match(r"^(\S+) IN " + rtype + r" (.*)$", line)
        if m:
            got.append((m.group(1), m.group(2)))
    return got


def commented(out, rtype):
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r"^; (\S+) IN " + rtype + r" (.*)$", out, re.M)]


def policy_of(out):
    """The policy file as printed in the comments of standard output."""
    lines = out.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("; The policy file"))
    body = []
    for l in lines[i + 2:]:
        if not l.startswith(";   "):
            break
        body.append(l[4:])
    return body


def dane_verify(chain_pems, host, tlsa):
    with tempfile.NamedTemporaryFile("w", dir=WORK, suffix=".pem", delete=False) as f:
        f.write("".join(chain_pems))
        path = f.name
    r = run([MXTLS, "dane", "verify", "--chain", path, "--host", host, "--tlsa", tlsa])
    os.unlink(path)
    return r


def check_domain(domain, mx, mode="testing", signed=True, extra=(), issuer=()):
    """publish DOMAIN: exit 0, the policy names exactly mx, one TLSA per host of the served
    key; each record printed is accepted by dane verify for that host's served chain."""
    r = run(BASE + ["publish", domain, *extra])
    out = r.stdout.decode()
    ok(r.returncode == 0, f"{domain}: exit 0", r.stderr.decode() + out)
    max_age = "1209600" if mode == "enforce" else "604800"
    want = ["version: STSv1", f"mode: {mode}"] + [f"mx: {h}" for h in mx] + \
        [f"max_age: {max_age}"]
    ok(policy_of(out) == want, f"{domain}: the policy is exactly the MX hosts, {mode}",
       f"{policy_of(out)} != {want}")
    sts = records(out, "TXT")
    ok(len(sts) >= 1 and sts[0][0] == f"_mta-sts.{domain}." and
       re.fullmatch(r'"v=STSv1; id=[0-9]{14}[0-9a-f]{16}"', sts[0][1]) is not None,
       f"{domain}: the _mta-sts record and its id", sts)
    live = records(out, "TLSA") if signed else commented(out, "TLSA")
    ee = [(o, d) for o, d in live if d.startswith("3 1 1 ")]
    ok([o for o, _ in ee] == [f"_25._tcp.{h}." for h in mx],
       f"{domain}: one 3 1 1 per MX host ({'records' if signed else 'commented out'})", out)
    if not signed:
        ok(records(out, "TLSA") == [] and "not DNSSEC-signed" in out,
           f"{domain}: unsigned zone: no TLSA record, said why", out)
    for h, (_, data) in zip(mx, ee):
        chain = served_chain(h)
        ok(len(chain) >= 1, f"{domain}: {h} serves a chain", chain)
        if not chain:
            continue
        ok(data == "3 1 1 " + spki_sha256(chain[0]),
           f"{domain}: {h}: 3 1 1 is the SHA-256 of the served SPKI (openssl)",
           f"{data} vs {spki_sha256(chain[0])}")
        v = dane_verify(chain, h, data)
        ok(v.returncode == 0, f"{domain}: {h}: dane verify accepts the printed 3 1 1",
           v.stdout.decode() + v.stderr.decode())
        if h in issuer:
            ta = [d for o, d in commented(out, "TLSA")
                  if o == f"_25._tcp.{h}." and d.startswith("2 1 1 ")]
            ok(len(ta) == 1 and len(chain) >= 2 and ta[0] == "2 1 1 " + spki_sha256(chain[1]),
               f"{domain}: {h}: the rollover advice pins the issuer sent (2 1 1)", out)
            if ta:
                v = dane_verify(chain, h, ta[0])
                ok(v.returncode == 0, f"{domain}: {h}: dane verify accepts the 2 1 1 advice",
                   v.stdout.decode() + v.stderr.decode())
    return out


def main():
    # DANE, the published TLSA already matches.
    check_domain("dane-ee.mail.test", ["mx1.dane-ee.mail.test"])
    # Two hosts, mx1's TLSA in DNS is stale (another key): publish gives the served ones.
    out = check_domain("dane-fallback.mail.test",
                       ["mx1.dane-fallback.mail.test", "mx2.dane-fallback.mail.test"])
    # DANE-TA: the server sends its CA; the advice pins it.
    check_domain("dane-ta.mail.test", ["mx1.dane-ta.mail.test"],
                 issuer=("mx1.dane-ta.mail.test",))
    # The MX hosts under an unsigned zone: the TLSA lines are comments.
    check_domain("plain.test", ["mx1.plain.test"], signed=False)
    # MTA-STS: an enforce policy that excludes today's only MX (it is contacted all the same).
    check_domain("stsmismatch.sts.test", ["mx1.stsmismatch.sts.test"], mode="enforce",
                 extra=["--mode", "enforce"])
    # A wildcard policy not covering mx2: publish lists both literally.
    check_domain("stswild.sts.test", ["mx1.stswild.sts.test", "mx2.sub.stswild.sts.test"])
    # No MX records: the domain is its own mail host (RFC 5321 §5.1).
    check_domain("implicit.mail.test", ["implicit.mail.test"])
    # One host, two addresses, two keys: a record for each, each accepted for its chain.
    r = run(BASE + ["publish", "twoaddr.mail.test"])
    out = r.stdout.decode()
    got = sorted(d for o, d in records(out, "TLSA") if o == "_25._tcp.mx.twoaddr.mail.test.")
    chains = [served_chain("mx1.dane-fallback.mail.test"),
              served_chain("mx2.dane-fallback.mail.test")]
    want = sorted("3 1 1 " + spki_sha256(c[0]) for c in chains if c)
    ok(r.returncode == 0 and len(want) == 2 and want[0] != want[1] and got == want,
       "twoaddr.mail.test: both addresses contacted, one 3 1 1 per key", out + r.stderr.decode())
    for c in chains:
        v = dane_verify(c, "mx.twoaddr.mail.test", got[0]) if got else None
        w = dane_verify(c, "mx.twoaddr.mail.test", got[-1]) if got else None
        ok(v is not None and (v.returncode == 0) != (w.returncode == 0),
           "twoaddr.mail.test: each served chain matches exactly one of the two records")
    # Two report URIs make one _smtp._tls record.
    out = check_domain("testing.sts.test", ["mx1.testing.sts.test", "mx2.testing.sts.test"],
                       mode="enforce", extra=["--mode", "enforce", "--rua",
                                              "mailto:tlsrpt@testing.sts.test", "--rua",
                                              "https://rpt.sts.test/report"])
    ok([r for r in records(out, "TXT") if r[0].startswith("_smtp._tls.")] ==
       [("_smtp._tls.testing.sts.test.",
         '"v=TLSRPTv1; rua=mailto:tlsrpt@testing.sts.test,https://rpt.sts.test/report"')],
       "testing.sts.test: one _smtp._tls record with both URIs", out)

    # --out: the files, the id kept while the text is unchanged, a new one when it changes.
    d = tempfile.mkdtemp(prefix="mxtls-e2e-publish.", dir=WORK)
    r1 = run(BASE + ["--json", "publish", "testing.sts.test", "--out", d])
    j1 = json.loads(r1.stdout or b"{}")
    ok(r1.returncode == 0 and j1.get("sts", {}).get("id_kept") is False,
       "--out, first run: a new id", r1.stderr.decode() + r1.stdout.decode())
    with open(os.path.join(d, "mta-sts.txt"), "rb") as f:
        pol = f.read()
    ok(pol == (b"version: STSv1\r\nmode: testing\r\nmx: mx1.testing.sts.test\r\n"
               b"mx: mx2.testing.sts.test\r\nmax_age: 604800\r\n"),
       "--out: mta-sts.txt is the policy, CRLF", pol)
    ok(pol.decode() == j1.get("policy"), "--json: policy is the file written")
    lint = run(BASE + ["sts", "lint", os.path.join(d, "mta-sts.txt")])
    ok(lint.returncode == 0, "mta-sts.txt passes mxtls sts lint", lint.stdout + lint.stderr)
    with open(os.path.join(d, "zone.txt"), encoding="utf-8") as f:
        zone = f.read()
    ok(zone == j1.get("zone") and
       f'_mta-sts.testing.sts.test. IN TXT "v=STSv1; id={j1["sts"]["id"]}"\n' in zone,
       "--out: zone.txt holds the records with the id", zone)
    ok([m["host"] for m in j1.get("mx", [])] == ["mx1.testing.sts.test",
                                                  "mx2.testing.sts.test"] and
       all(m["dnssec"] and len(m["tlsa"]) == 1 and m["tlsa"][0].startswith("3 1 1 ")
           for m in j1["mx"]) and
       j1.get("mode") == "testing" and j1.get("max_age") == 604800 and
       j1.get("tlsrpt") is None,
       "--json: mode, max_age, mx[] with host, dnssec, tlsa", j1)
    r2 = run(BASE + ["--json", "publish", "testing.sts.test", "--out", d])
    j2 = json.loads(r2.stdout or b"{}")
    ok(r2.returncode == 0 and j2["sts"]["id_kept"] is True and
       j2["sts"]["id"] == j1["sts"]["id"], "--out, same policy: the id is kept", j2)
    r3 = run(BASE + ["--json", "publish", "testing.sts.test", "--out", d, "--mode", "enforce"])
    j3 = json.loads(r3.stdout or b"{}")
    ok(r3.returncode == 0 and j3["sts"]["id_kept"] is False and
       j3["sts"]["id"] != j1["sts"]["id"], "--out, changed policy: a new id", j3)
    r4 = run(BASE + ["--json", "publish", "testing.sts.test", "--out", d, "--mode", "enforce"])
    j4 = json.loads(r4.stdout or b"{}")
    ok(r4.returncode == 0 and j4["sts"]["id"] == j3["sts"]["id"],
       "--out, re-run after the change: that id is kept", j4)

    # Nothing partial: a host without TLS, a host that does not answer, no mail at all.
    for domain, code, word in [
            ("dane-notls.mail.test", 75, "mx1.dane-notls.mail.test"),
            ("stsnotls.sts.test", 75, "mx1.stsnotls.sts.test"),
            ("tls-then-refused.mail.test", 75, "mx2.tls-then-refused.mail.test"),
            ("addrfail.mail.test", 75, "mx1.bogus.test"),
            ("literal.secure.test", 65, "127.0.10.1"),
            ("nx.mail.test", 1, "nx.mail.test"),
            ("nullmx.test", 1, "nullmx.test")]:
        r = run(BASE + ["publish", domain, "--out", os.path.join(d, "never")])
        ok(r.returncode == code and r.stdout == b"" and word in r.stderr.decode() and
           not os.path.exists(os.path.join(d, "never")),
           f"{domain}: exit {code}, nothing printed or written, {word} named",
           f"{r.returncode} {r.stderr.decode()} {r.stdout.decode()}")
    # Bad arguments: 64, before any lookup.
    for args in (["--rua", "http://rpt.sts.test/"], ["--rua", "mailto:a,b@sts.test"],
                 ["--mode", "none"], ["--mode", "enforce", "extra.test"]):
        r = run(BASE + ["publish", "testing.sts.test", *args])
        ok(r.returncode == 64 and r.stdout == b"", f"publish {' '.join(args)}: exit 64",
           f"{r.returncode} {r.stderr.decode()}")
    r = run(BASE + ["publish", "bad..name"])
    ok(r.returncode == 64, "publish bad..name: exit 64", r.stderr.decode())

    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
