#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# End to end: `mxtls send` and `mxtls check --connect` against the test network's real receivers.
#
# Run inside the network by run-with-dns.sh --tap --smtp (tests/e2e/meson.build); argument: the
# mxtls binary.  Every scenario asserts the command's exit status and JSON, and what the
# receiving server got (or that it got nothing, or was never contacted), and over TLS or not.
# The scenario domains, receivers and certificates are described in tests/net/README.md.
import json
import os
import subprocess
import sys
import tempfile
import time

import smtp_records

MXTLS = sys.argv[1]
SMTP_DIR = os.environ["MXTLS_TEST_SMTP_DIR"]
# In run-with-dns.sh's work dir, which it removes on exit, failure and interrupt.
STATE = tempfile.mkdtemp(prefix="mxtls-e2e-send.", dir=os.environ["MXTLS_TEST_WORKDIR"])
BASE = [MXTLS, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
        "--ca-file", os.environ["MXTLS_TEST_CA_FILE"], "--state-dir", STATE,
        "--connect-timeout", "3", "--smtp-timeout", "20", "--json"]

results = []


def check(ok, what, diag=""):
    results.append((bool(ok), what, diag))


def jsonl(name):
    return smtp_records.jsonl(SMTP_DIR, name)


def received(rcpt):
    return smtp_records.received(SMTP_DIR, rcpt)


def contacted(addr):
    return [c for c in jsonl("connections.jsonl")
            if c.get("listener") == addr and c.get("event") == "connect"]


MSG = ("From: Sender <sender@e2e.test>\nTo: {to}\nSubject: {subject}\n"
       "Message-ID: <{subject}@e2e.test>\n\nbody line one\n.leading dot line\nend\n")


def send(rcpts, subject, env_extra=None):
    msg = MSG.format(to=", ".join(rcpts), subject=subject)
    cmd = BASE + ["send", "--from", "sender@e2e.test", "--helo", "client.e2e.test"]
    for r in rcpts:
        cmd += ["--to", r]
    p = subprocess.run(cmd + ["-"], input=msg.encode(), capture_output=True, timeout=120)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    return p.returncode, doc, p.stderr.decode(errors="replace")


# name, domain, exit, status, mx, tls, security, result type,
# receiver host that must hold the message (None: nobody), SNI it must have seen,
# addresses that must never have been contacted.
SCENARIOS = [
    # DANE (mail.test, signed)
    ("DANE-EE 3 1 1 matches (self-signed)", "dane-ee.mail.test", 0, "delivered",
     "mx1.dane-ee.mail.test", True, "dane", None, "mx1.dane-ee.mail.test",
     "mx1.dane-ee.mail.test", []),
    ("DANE-TA 2 0 1 on a private CA, name matches", "dane-ta.mail.test", 0, "delivered",
     "mx1.dane-ta.mail.test", True, "dane", None, "mx1.dane-ta.mail.test",
     "mx1.dane-ta.mail.test", []),
    ("DANE-TA, leaf name wrong: deferred", "dane-ta-name.mail.test", 75, "deferred",
     "mx1.dane-ta-name.mail.test", False, "dane", "certificate-host-mismatch", None, None, []),
    ("DANE-EE mismatch, web-valid cert: deferred", "dane-mismatch.mail.test", 75, "deferred",
     "mx1.dane-mismatch.mail.test", False, "dane", "tlsa-invalid", None, None, []),
    # Issue 14 item 6: mx2's refused connection comes last, but the TLS failure is reported.
    ("DANE mismatch at mx1, mx2 refuses: mx1's TLS result type is kept",
     "tls-then-refused.mail.test", 75, "deferred", "mx1.dane-mismatch.mail.test", False, "dane",
     "tlsa-invalid", None, None, []),
    ("DANE MX fallback: mx1 fails, mx2 authenticates", "dane-fallback.mail.test", 0,
     "delivered", "mx2.dane-fallback.mail.test", True, "dane", None,
     "mx2.dane-fallback.mail.test", "mx2.dane-fallback.mail.test", []),
    ("all-unusable TLSA: TLS, any certificate (DANE-10)", "dane-encrypt.mail.test", 0,
     "delivered", "mx1.dane-encrypt.mail.test", True, "dane-encrypt", None,
     "mx1.dane-encrypt.mail.test", "mx1.dane-encrypt.mail.test", []),
    ("DANE host without STARTTLS: deferred, never cleartext", "dane-notls.mail.test", 75,
     "deferred", "mx1.dane-notls.mail.test", False, "dane", "starttls-not-supported", None,
     None, []),
    ("DANE host answering STARTTLS with 454: deferred", "dane-454.mail.test", 75, "deferred",
     "mx1.dane-454.mail.test", False, "dane", "starttls-not-supported", None, None, []),
    ("DANE-EE ignores certificate expiry", "dane-expired.mail.test", 0, "delivered",
     "mx1.dane-expired.mail.test", True, "dane", None, "mx1.dane-expired.mail.test",
     "mx1.dane-expired.mail.test", []),
    ("TLSA lookup SERVFAIL: mx1 never contacted (DANE-07)", "tlsafail.mail.test", 0,
     "delivered", "mx2.tlsafail.mail.test", True, "opportunistic", None,
     "mx2.tlsafail.mail.test", "mx2.tlsafail.mail.test", ["127.0.25.11"]),
    ("secure CNAME: SNI is the TLSA base domain (DANE-48)", "dane-cname.mail.test", 0,
     "delivered", "mail.dane-cname.mail.test", True, "dane", None, "mx.provider.mail.test",
     "mx.provider.mail.test", []),
    ("one MX with a bogus address, the next one used (DANE-06)", "addrfail.mail.test", 0,
     "delivered", "mx2.addrfail.mail.test", True, "opportunistic", None,
     "mx2.addrfail.mail.test", "mx2.addrfail.mail.test", []),
    ("implicit MX with TLSA", "implicit.mail.test", 0, "delivered", "implicit.mail.test",
     True, "dane", None, "implicit.mail.test", "implicit.mail.test", []),
    # The DNS outcome table (RFC-CHECKLIST section 6)
    ("NXDOMAIN: bounced 5.1.2", "nx.mail.test", 69, "bounced", None, False, None, None,
     None, None, []),
    ("null MX: bounced 5.1.10", "nullmx.test", 69, "bounced", None, False, None, None, None,
     None, []),
    ("bogus MX RRset: deferred, no A fallback (DANE-05)", "bogus.test", 75, "deferred", None,
     False, None, None, None, None, []),
    ("expired RRSIGs on the MX: deferred", "expired.test", 75, "deferred", None, False, None,
     None, None, None, []),
    ("sole MX with a bogus address: deferred", "mxbogus.test", 75, "deferred", None, False,
     None, None, None, None, []),
    ("lame delegation: deferred", "refused.test", 75, "deferred", None, False, None, None,
     None, None, []),
    # Opportunistic (plain.test, unsigned)
    ("insecure zone: opportunistic TLS, insecure TLSA ignored", "plain.test", 0, "delivered",
     "mx1.plain.test", True, "opportunistic", None, "mx1.plain.test", "mx1.plain.test", []),
    ("no STARTTLS, no policy: cleartext", "notls.plain.test", 0, "delivered",
     "mx1.notls.plain.test", False, "opportunistic", None, "mx1.notls.plain.test", None, []),
    # MTA-STS (sts.test)
    ("STS enforce: listed MX, web-valid cert; unlisted mx2 never used", "enforce.sts.test", 0,
     "delivered", "mx1.enforce.sts.test", True, "mta-sts", None, "mx1.enforce.sts.test",
     "mx1.enforce.sts.test", ["127.0.10.102"]),
    ("STS testing: wrong-name cert still delivered over TLS", "testing.sts.test", 0,
     "delivered", "mx1.testing.sts.test", True, "mta-sts-testing", None,
     "mx1.testing.sts.test", "mx1.testing.sts.test", []),
    ("STS none: opportunistic", "none.sts.test", 0, "delivered", "mx1.none.sts.test", True,
     "opportunistic", None, "mx1.none.sts.test", "mx1.none.sts.test", []),
    ("broken policy (text/html): as no policy", "html.sts.test", 0, "delivered",
     "mx1.html.sts.test", True, "opportunistic", None, "mx1.html.sts.test",
     "mx1.html.sts.test", []),
    ("policy 404: as no policy", "notfound.sts.test", 0, "delivered", "mx1.notfound.sts.test",
     True, "opportunistic", None, "mx1.notfound.sts.test", "mx1.notfound.sts.test", []),
    ("STS enforce: mx1 untrusted cert, mx2 used (STS-49)", "stsbadcert.sts.test", 0,
     "delivered", "mx2.stsbadcert.sts.test", True, "mta-sts", None,
     "mx2.stsbadcert.sts.test", "mx2.stsbadcert.sts.test", []),
    ("STS enforce: MX not in the policy, never contacted (STS-48)", "stsmismatch.sts.test", 75,
     "deferred", "mx1.stsmismatch.sts.test", False, "excluded", "validation-failure", None,
     None, ["127.0.10.142"]),
    ("STS enforce without STARTTLS: deferred", "stsnotls.sts.test", 75, "deferred",
     "mx1.stsnotls.sts.test", False, "mta-sts", "starttls-not-supported", None, None, []),
    ("STS wildcard: *.d covers mx1", "stswild.sts.test", 0, "delivered",
     "mx1.stswild.sts.test", True, "mta-sts", None, "mx1.stswild.sts.test",
     "mx1.stswild.sts.test", []),
    # DANE and MTA-STS together (D1)
    ("D1: DANE pass, self-signed, under STS enforce: delivered", "danests.sts.test", 0,
     "delivered", "mx1.danests.sts.test", True, "dane", None, "mx1.danests.sts.test",
     "mx1.danests.sts.test", []),
    ("D1: DANE mismatch not rescued by a web-valid cert", "danebad.sts.test", 75, "deferred",
     "mx1.danebad.sts.test", False, "dane", "tlsa-invalid", None, None, []),
    ("D1: unusable TLSA + enforce: STS PKIX still applies", "daneencsts.sts.test", 75,
     "deferred", "mx1.daneencsts.sts.test", False, "dane-encrypt", "certificate-not-trusted",
     None, None, []),
    # D1 per host: mx1 has DANE (self-signed), mx2 no TLSA but the enforce policy (Web PKI);
    # the attacked case (mx2 used) is below
    ("D1: partial DANE + enforce: the DANE host mx1 first", "danepart.sts.test", 0,
     "delivered", "mx1.danepart.sts.test", True, "dane", None, "mx1.danepart.sts.test",
     "mx1.danepart.sts.test", []),
]


def run_scenario(n, row):
    (name, domain, rc_want, status, mx, tls, security, rtype, host, sni, never) = row
    rcpt = "s%02d@%s" % (n, domain)
    rc, doc, err = send([rcpt], "scenario-%02d" % n)
    check(rc == rc_want, "%s: exit %d" % (name, rc_want), "got %d; stderr %s" % (rc, err))
    r = (doc or {}).get("recipients", [{}])[0]
    got = (r.get("status"), r.get("mx"), r.get("tls"), r.get("security"), r.get("result_type"))
    want = (status, mx, tls, security, rtype)
    check(got == want, "%s: status/mx/tls/security/result_type" % name,
          "got %r want %r (%s)" % (got, want, r.get("detail")))
    msgs = received(rcpt)
    if host is None:
        check(msgs == [], "%s: no server received the message" % name, repr(msgs))
    else:
        ok = (len(msgs) == 1 and msgs[0]["host"] == host and msgs[0]["tls"] == tls and
              not msgs[0]["attacker"] and (sni is None or msgs[0]["sni"] == sni))
        check(ok, "%s: %s received it once, tls=%s%s" % (name, host, tls,
                                                        ", SNI " + sni if sni else ""),
              repr(msgs))
    for addr in never:
        check(contacted(addr) == [], "%s: %s never contacted" % (name, addr))


def main():
    for n, row in enumerate(SCENARIOS, 1):
        run_scenario(n, row)

    # Per-recipient replies in one transaction, and several domains in one message.
    rc, doc, err = send(["ok@plain.test", "reject5xx@plain.test", "reject4xx@plain.test",
                         "multi@dane-ee.mail.test", "multi@nx.mail.test"], "multi")
    st = {r["recipient"]: (r["status"], r["reply"]["code"], r["reply"]["status"])
          for r in (doc or {}).get("recipients", [])}
    check(rc == 69, "five recipients, one bounce: exit 69", "got %d %s" % (rc, err))
    check(st.get("ok@plain.test") == ("delivered", 250, "2.0.0"),
          "multi: ok@plain.test delivered", repr(st))
    check(st.get("reject5xx@plain.test") == ("bounced", 550, "5.1.1"),
          "multi: 550 5.1.1 from RCPT bounces that recipient only", repr(st))
    check(st.get("reject4xx@plain.test") == ("deferred", 451, "4.3.0"),
          "multi: 451 4.3.0 from RCPT defers that recipient only", repr(st))
    check(st.get("multi@dane-ee.mail.test") == ("delivered", 250, "2.0.0"),
          "multi: the DANE domain in the same message delivered", repr(st))
    check(st.get("multi@nx.mail.test") == ("bounced", 550, "5.1.2"),
          "multi: the NXDOMAIN recipient bounced", repr(st))
    m = received("ok@plain.test")
    check(len(m) == 1 and m[0]["rcpt_to"] == ["ok@plain.test"],
          "multi: plain.test got one message, for the accepted recipient only", repr(m))
    if len(m) == 1:
        with open(m[0]["file"], "rb") as f:
            body = f.read()
        check(b"\r\n.leading dot line\r\n" in body and b"\r\n\r\nbody line one\r\n" in body,
              "multi: CRLF line ends and the dot line survive dot-stuffing", repr(body[-80:]))

    # The STARTTLS-stripping attacker on the MX of a DANE, an MTA-STS and a plain domain, and on
    # mx1 of danepart (DANE there; mx2 has no TLSA and is covered by the enforce policy).
    attack = ["127.0.25.1", "127.0.10.101", "127.0.25.20", "127.0.10.149"]
    subprocess.run(["bash", os.path.join(os.path.dirname(os.path.dirname(__file__)), "net",
                                         "smtp-attack.sh"), os.environ["MXTLS_TEST_WORKDIR"],
                    "on"] + attack, check=True, capture_output=True)
    # domain, exit, status, result type, (mx, security) that must deliver over TLS (None: the
    # attacker reads a delivered message in cleartext), address the attacker must have seen
    for dom, rc_want, status, rtype, via, stripped in (
            ("dane-ee.mail.test", 75, "deferred", "starttls-not-supported", None, None),
            ("enforce.sts.test", 75, "deferred", "starttls-not-supported", None, None),
            ("plain.test", 0, "delivered", None, None, None),
            # D1: mx1's DANE requires TLS, so it is given up; mx2 is in the enforce policy and
            # passes the Web PKI check: delivered there, over TLS
            ("danepart.sts.test", 0, "delivered", None, ("mx2.danepart.sts.test", "mta-sts"),
             "127.0.10.149")):
        rcpt = "attacked@" + dom
        t0 = time.time()
        rc, doc, err = send([rcpt], "attack-" + dom)
        r = (doc or {}).get("recipients", [{}])[0]
        check(rc == rc_want and r.get("status") == status and r.get("result_type") == rtype,
              "stripping attacker, %s: %s (exit %d)" % (dom, status, rc_want),
              "got %d %r" % (rc, r))
        cap = [x for x in received(rcpt) if x["attacker"]]
        if status == "deferred":
            check(received(rcpt) == [], "stripping attacker, %s: the attacker got nothing" % dom,
                  repr(received(rcpt)))
        elif via is None:
            check(len(cap) == 1 and not cap[0]["tls"],
                  "stripping attacker, %s: the attacker read the mail in cleartext" % dom,
                  repr(received(rcpt)))
        else:
            host, security = via
            got = (r.get("mx"), r.get("tls"), r.get("security"))
            check(got == (host, True, security),
                  "stripping attacker, %s: via %s over TLS, security %s" % (dom, host, security),
                  "got %r (%s)" % (got, r.get("detail")))
            msgs = received(rcpt)
            check(len(msgs) == 1 and msgs[0]["host"] == host and msgs[0]["tls"] and
                  not msgs[0]["attacker"] and msgs[0]["sni"] == host,
                  "stripping attacker, %s: %s received it once over TLS, SNI %s, the attacker "
                  "got nothing" % (dom, host, host), repr(msgs))
        if stripped:
            seen = [c for c in contacted(stripped) if c.get("time", 0) >= t0]
            check(seen != [] and all(c.get("attacker") for c in seen),
                  "stripping attacker, %s: %s was tried first (and stripped)" % (dom, stripped),
                  repr(seen))
    subprocess.run(["bash", os.path.join(os.path.dirname(os.path.dirname(__file__)), "net",
                                         "smtp-attack.sh"), os.environ["MXTLS_TEST_WORKDIR"],
                    "off"] + attack, check=True, capture_output=True)

    # check --connect: the verdict per host, no mail sent.
    before = len(jsonl("received.jsonl"))
    for dom, rc_want, want in (("dane-ee.mail.test", 0, [("mx1.dane-ee.mail.test", "ok")]),
                               ("dane-mismatch.mail.test", 1,
                                [("mx1.dane-mismatch.mail.test", "tlsa-invalid")]),
                               ("stsbadcert.sts.test", 1,
                                [("mx1.stsbadcert.sts.test", "certificate-not-trusted"),
                                 ("mx2.stsbadcert.sts.test", "ok")]),
                               ("testing.sts.test", 0,
                                [("mx1.testing.sts.test", "certificate-host-mismatch"),
                                 ("mx2.testing.sts.test", "ok")]),
                               ("notls.plain.test", 0,
                                [("mx1.notls.plain.test", "starttls-not-supported")]),
                               ("danepart.sts.test", 0,
                                [("mx1.danepart.sts.test", "ok"),
                                 ("mx2.danepart.sts.test", "ok")])):
        p = subprocess.run(BASE + ["check", "--connect", dom], capture_output=True, timeout=120)
        try:
            d = json.loads(p.stdout)
            got = [(h["host"], h["result"]) for h in d["mx"]]
        except (ValueError, KeyError):
            got = None
        check(p.returncode == rc_want and got == want,
              "check --connect %s: exit %d, %r" % (dom, rc_want, want),
              "got %d %r %s" % (p.returncode, got, p.stderr.decode(errors="replace")))
    check(len(jsonl("received.jsonl")) == before, "check --connect sends no mail")

    # check (no connection): D1 per host, DANE for mx1 and the enforce policy for mx2.  The domain
    # mode is mta-sts-enforce: "dane" needs every reachable host to have DANE
    # (validator/decision.c, decision_classify).
    conns = len(jsonl("connections.jsonl"))
    p = subprocess.run(BASE + ["check", "danepart.sts.test"], capture_output=True, timeout=120)
    try:
        d = json.loads(p.stdout)
        got = (d["mode"], [(h["host"], h["security"], h["sts_match"], h["sni"]) for h in d["mx"]])
    except (ValueError, KeyError, TypeError):
        got = None
    want = ("mta-sts-enforce", [("mx1.danepart.sts.test", "dane", True, "mx1.danepart.sts.test"),
                                ("mx2.danepart.sts.test", "mta-sts", True,
                                 "mx2.danepart.sts.test")])
    check(p.returncode == 0 and got == want,
          "check danepart.sts.test: exit 0, mode mta-sts-enforce, mx1 dane, mx2 mta-sts",
          "got %d %r %s" % (p.returncode, got, p.stderr.decode(errors="replace")))
    check(len(jsonl("connections.jsonl")) == conns, "check without --connect connects nowhere")

    print("1..%d" % len(results))
    for i, (ok, what, diag) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
        if not ok and diag:
            for line in diag.splitlines()[:6]:
                print("# " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
