#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# End to end: real Postfix (Debian 3.7) delivering through `mxtls policyd` as its
# smtp_tls_policy_maps (socketmap), on the test network's receivers; and the same Postfix with
# postfix-mta-sts-resolver (the peer) for contrast.
#
# Run inside the network by run-with-dns.sh --tap --smtp (tests/e2e/meson.build); argument: the
# mxtls binary.  For every delivery scenario of test_send_scenarios.py (the same domains, read
# from its SCENARIOS list without running it) it asserts
#   (a) the policyd's answer (postmap -q): the exact "OK" value, NOTFOUND, or TEMP,
#   (b) what Postfix did with one message: sent (which receiver stored it, over TLS or not,
#       Postfix's TLS trust level, the SNI name) or deferred (still in the queue, with the
#       reason Postfix logged) or bounced -- and that this is what `mxtls send` gets,
# plus three cases where the peer's answer makes Postfix do the wrong thing, run with both
# (danests: DANE overridden by `secure`; danebad: failing DANE "rescued" by MTA-STS;
# stswild with mx1 attacked: the peer's ".stswild.sts.test" matches mx2.sub at any depth), and
# danepart (DANE on mx1 only, enforce for mx2), where the two differ without either being
# insecure: the peer's `secure` skips mx1's DANE and uses mx2; with mx1 attacked, the policyd's
# `dane-only` defers (availability lost, never security) where the peer uses mx2.
# The table of answers and outcomes is printed as TAP comments.
#
# Needs (else SKIP, or a failure with MXTLS_TEST_NO_SKIP=1): postfix, the unbound daemon
# (tests/net/resolver-up.sh), postfix-mta-sts-resolver (tests/net/peer-resolver.sh).
import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import smtp_records

MXTLS = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
NET = os.path.join(os.path.dirname(HERE), "net")
NETNS = os.environ["MXTLS_TEST_NETNS"]
WORKDIR = os.environ["MXTLS_TEST_WORKDIR"]
SMTP_DIR = os.environ["MXTLS_TEST_SMTP_DIR"]
CA = os.environ["MXTLS_TEST_CA_FILE"]
PF_ETC = os.path.join(WORKDIR, "postfix", "etc")
PF_LOG = os.path.join(WORKDIR, "postfix", "log", "maillog")
MXTLS_PORT = 8461
PEER_PORT = 8462
MXTLS_MAP = "socketmap:inet:127.0.0.1:%d:postfix" % MXTLS_PORT
PEER_MAP = "socketmap:inet:127.0.0.1:%d:postfix" % PEER_PORT
# The attacked cases: key -> (domain, the address of its mx1, where STARTTLS is stripped).
ATTACK_KEY = "stswild.sts.test+attack"
DANEPART_ATTACK_KEY = "danepart.sts.test+attack"
ATTACKS = {ATTACK_KEY: ("stswild.sts.test", "127.0.10.147"),
           DANEPART_ATTACK_KEY: ("danepart.sts.test", "127.0.10.149")}

results = []


def check(ok, what, diag=""):
    results.append((bool(ok), what, diag))
    return bool(ok)


def skip(why):
    if os.environ.get("MXTLS_TEST_NO_SKIP") == "1":
        print("Bail out! cannot run: %s (MXTLS_TEST_NO_SKIP=1)" % why)
        sys.exit(1)
    print("1..0 # SKIP %s" % why)
    sys.exit(0)


def sh(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=kw.pop("timeout", 60),
                          **kw)


def net(script, *args):
    p = sh("bash", os.path.join(NET, script), *args)
    if p.returncode != 0:
        raise RuntimeError("%s %s failed (%d): %s" % (script, " ".join(args), p.returncode,
                                                      p.stderr.strip()))
    return p


# ---------------------------------------------------------------- expectations
def send_scenarios():
    """SCENARIOS of test_send_scenarios.py, read with ast (the module is not run)."""
    with open(os.path.join(HERE, "test_send_scenarios.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SCENARIOS"
                                                for t in node.targets):
            return ast.literal_eval(node.value)
    raise RuntimeError("no SCENARIOS in test_send_scenarios.py")


NOTFOUND = "NOTFOUND"
TEMP = "TEMP"
NOT_OFFERED = "TLS is required, but was not offered by host %s"
NOT_VERIFIED = "Server certificate not verified"
NAME_ERROR = ("Host or domain name not found. Name service error for name=%s type=%s: "
              "Host not found%s")

# domain -> (the policyd's answer, what Postfix does beyond sent/deferred/bounced: the TLS trust
# level it logs for a delivery -- "Verified", "Trusted", "Untrusted", None for cleartext -- or
# the exact reason of a deferral or bounce).
#
# The answers follow the policyd's rules: every MX host with DNSSEC-secure TLSA (usable, or
# all unusable -- but under an enforce policy such a host counts as not DANE) -> dane-only,
# some -> dane (dane-only when MTA-STS enforce exists too); else an enforce policy -> "secure
# match=N1:N2 servername=hostname", the policy's patterns in policy order, a literal one as it
# is, a "*.x" one replaced by the MX host names (MX order) it matches with exactly one label,
# no duplicates; testing / no policy / NXDOMAIN / null MX -> NOTFOUND; DNS failures -> TEMP.
# With NOTFOUND Postfix uses main.cf's level, "dane" (DANE when the MX host has secure TLSA,
# else opportunistic TLS).
EXPECT = {
    "dane-ee.mail.test": ("dane-only", "Verified"),
    "dane-ta.mail.test": ("dane-only", "Verified"),
    "dane-ta-name.mail.test": ("dane-only", NOT_VERIFIED),
    "dane-mismatch.mail.test": ("dane-only", NOT_VERIFIED),
    "dane-fallback.mail.test": ("dane-only", "Verified"),
    # mx1 has TLSA (it fails: a mismatch), mx2 none: "dane".  Postfix tries mx2 after mx1's
    # certificate is refused and reports only mx2's refused connection; mxtls send keeps
    # mx1's tlsa-invalid (issue 14 item 6).  Both defer.
    "tls-then-refused.mail.test": ("dane", "connect to mx2.tls-then-refused.mail.test"
                                   "[127.0.25.250]:25: Connection refused"),
    # All TLSA records unusable (1 1 1 only).  RFC 7672 §2.2 / mxtls send: TLS without
    # authentication, delivered.  Postfix's dane-only never falls back to "encrypt" (it defers
    # with "TLSA records unusable"); its "dane" level uses "encrypt", so policyd answers dane.
    "dane-encrypt.mail.test": ("dane", "Untrusted"),
    "dane-notls.mail.test": ("dane-only", NOT_OFFERED % "mx1.dane-notls.mail.test[127.0.25.8]"),
    "dane-454.mail.test": ("dane-only", "TLS is required, but host mx1.dane-454.mail.test"
                           "[127.0.25.9] refused to start TLS: 454 4.7.0 TLS not available"),
    "dane-expired.mail.test": ("dane-only", "Verified"),
    # mx1's TLSA lookup fails, mx2 has none: no host with TLSA, no policy.  Postfix's own DANE
    # skips mx1 (TLSA lookup error) and uses mx2 opportunistically.
    "tlsafail.mail.test": (NOTFOUND, "Untrusted"),
    "dane-cname.mail.test": ("dane-only", "Verified"),
    "addrfail.mail.test": (NOTFOUND, "Untrusted"),
    "implicit.mail.test": ("dane-only", "Verified"),
    "nx.mail.test": (NOTFOUND, NAME_ERROR % ("nx.mail.test", "A", "")),
    "nullmx.test": (NOTFOUND, "Domain nullmx.test does not accept mail (nullMX)"),
    "bogus.test": (TEMP, NAME_ERROR % ("bogus.test", "MX", ", try again")),
    "expired.test": (TEMP, NAME_ERROR % ("expired.test", "MX", ", try again")),
    "mxbogus.test": (TEMP, NAME_ERROR % ("mx1.bogus.test", "A", ", try again")),
    "refused.test": (TEMP, NAME_ERROR % ("refused.test", "MX", ", try again")),
    "plain.test": (NOTFOUND, "Untrusted"),
    "notls.plain.test": (NOTFOUND, None),
    "enforce.sts.test": ("secure match=mx1.enforce.sts.test servername=hostname", "Verified"),
    "testing.sts.test": (NOTFOUND, "Trusted"),
    "none.sts.test": (NOTFOUND, "Untrusted"),
    "html.sts.test": (NOTFOUND, "Trusted"),
    "notfound.sts.test": (NOTFOUND, "Trusted"),
    "stsbadcert.sts.test": ("secure match=mx1.stsbadcert.sts.test:mx2.stsbadcert.sts.test "
                            "servername=hostname", "Verified"),
    # Postfix has no "skip MX hosts outside the policy": it connects to mx1 and refuses its
    # certificate (mxtls send never connects).  Same outcome, one more connection.
    "stsmismatch.sts.test": ("secure match=mx9.stsmismatch.sts.test servername=hostname",
                             NOT_VERIFIED),
    "stsnotls.sts.test": ("secure match=mx1.stsnotls.sts.test servername=hostname",
                          NOT_OFFERED % "mx1.stsnotls.sts.test[127.0.10.143]"),
    "stswild.sts.test": ("secure match=mx1.stswild.sts.test servername=hostname", "Verified"),
    "danests.sts.test": ("dane-only", "Verified"),
    "danebad.sts.test": ("dane-only", NOT_VERIFIED),
    # All TLSA unusable under an enforce policy: the Web PKI applies on top of "encrypt"
    # (policyd_answer.c, D1), which is "secure"; the self-signed certificate fails it.
    "daneencsts.sts.test": ("secure match=mx1.daneencsts.sts.test servername=hostname",
                            NOT_VERIFIED),
    # DANE on mx1 only, an enforce policy covering mx1 and mx2: one answer for both hosts,
    # dane-only (doc/policyd.md, "Partial DANE and an enforce policy").  mx1 passes DANE.
    "danepart.sts.test": ("dane-only", "Verified"),
}
# Addresses mxtls send never contacts but Postfix does (see stsmismatch above).
POSTFIX_CONTACTS = {"stsmismatch.sts.test": ["127.0.10.142"]}

# Postfix+policyd with danepart's mx1 attacked: dane-only never uses mx2 (no TLSA), so the
# message waits; Postfix's reason is that of the last host it considered, mx2.
DANEPART_ATTACKED_REASON = "no TLSA records found"

# The contrast cases: domain -> (peer answer, Postfix+peer outcome (status, relay host,
# detail), the outcome with Postfix+mxtls policyd, how the peer differs).
CONTRAST = {
    "danests.sts.test": (
        "secure match=mx1.danests.sts.test servername=hostname",
        ("deferred", "mx1.danests.sts.test", NOT_VERIFIED),
        ("sent", "mx1.danests.sts.test", "Verified"),
        "peer wrong: 'secure' overrides DANE; the DANE-EE self-signed certificate fails the "
        "Web PKI"),
    "danebad.sts.test": (
        "secure match=mx1.danebad.sts.test servername=hostname",
        ("sent", "mx1.danebad.sts.test", "Verified"),
        ("deferred", "mx1.danebad.sts.test", NOT_VERIFIED),
        "peer wrong: MTA-STS overrides a failing DANE match, RFC 8461 section 2 forbids it"),
    ATTACK_KEY: (
        "secure match=.stswild.sts.test servername=hostname",
        ("sent", "mx2.sub.stswild.sts.test", "Verified"),
        ("deferred", "mx2.sub.stswild.sts.test", NOT_VERIFIED),
        "peer wrong: Postfix matches '.stswild.sts.test' at any depth, RFC 8461 section 4.1 "
        "'*.' one label"),
    "danepart.sts.test": (
        "secure match=.danepart.sts.test servername=hostname",
        ("sent", "mx2.danepart.sts.test", "Verified"),
        ("sent", "mx1.danepart.sts.test", "Verified"),
        "peer differs: 'secure' skips mx1's DANE, its self-signed certificate fails the Web PKI "
        "and mx2 (in the policy) takes the mail"),
    DANEPART_ATTACK_KEY: (
        "secure match=.danepart.sts.test servername=hostname",
        ("sent", "mx2.danepart.sts.test", "Verified"),
        ("deferred", "mx2.danepart.sts.test", DANEPART_ATTACKED_REASON),
        "peer differs: mx2 on the Web PKI, as mxtls send does; the policyd's dane-only defers "
        "(availability, never security)"),
}


# ---------------------------------------------------------------- postmap, sendmail, the log
def postmap(domain, table):
    """The socketmap answer as postmap shows it: the value, NOTFOUND, or 'TEMP <warning>'."""
    p = sh("postmap", "-c", PF_ETC, "-q", domain, table)
    if p.returncode == 0:
        return p.stdout.strip()
    m = re.search(r"socketmap server temporary error: (.*)", p.stderr)
    if m:
        return "TEMP " + m.group(1).strip()
    if p.returncode == 1 and not p.stderr.strip():
        return NOTFOUND
    return "ERROR rc=%d %s" % (p.returncode, p.stderr.strip())


MSG = ("From: Sender <sender@client.postfix.test>\nTo: {rcpt}\nSubject: {rcpt}\n"
       "Message-ID: <{rcpt}@client.postfix.test>\n\nbody line one\n.leading dot line\nend\n")


def submit(rcpt):
    # The null sender: a bounce goes nowhere (no bounce message to route).
    p = subprocess.run(["sendmail", "-C", PF_ETC, "-f", "<>", rcpt], timeout=30,
                       input=MSG.format(rcpt=rcpt).encode(), capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("sendmail %s: %d %s" % (rcpt, p.returncode, p.stderr))


STATUS_RE = re.compile(r"postfix/(?:smtp|error|discard)\[(\d+)\]: [0-9A-F]+: to=<([^>]+)>, "
                       r"relay=([^,]+), .*?dsn=([0-9.]+), status=(\w+) \((.*)\)$")
TLS_RE = re.compile(r"postfix/smtp\[(\d+)\]: (\w+) TLS connection established to (\S+): ")


def read_log():
    try:
        with open(PF_LOG, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def outcomes(rcpts, timeout=60):
    """rcpt -> dict(status, relay, host, dsn, reason, tls) from the first status line each."""
    deadline = time.time() + timeout
    while True:
        lines = read_log()
        found = {}
        last_tls = {}  # smtp pid -> (level, relay) of its last TLS line since its last status
        for line in lines:
            m = TLS_RE.search(line)
            if m:
                last_tls[m.group(1)] = (m.group(2), m.group(3))
                continue
            m = STATUS_RE.search(line)
            if not m:
                continue
            pid, rcpt, relay, dsn, status, reason = m.groups()
            tls = last_tls.pop(pid, None)
            if rcpt in rcpts and rcpt not in found:
                host = relay.split("[")[0] if relay != "none" else None
                level = tls[0] if tls and tls[1] == relay else None
                found[rcpt] = {"status": status, "relay": relay, "host": host, "dsn": dsn,
                               "reason": reason, "tls": level}
        if len(found) == len(rcpts) or time.time() > deadline:
            return found
        time.sleep(0.1)


def queue():
    """rcpt -> (queue_name, delay_reason) from postqueue -j."""
    p = sh("postqueue", "-c", PF_ETC, "-j")
    q = {}
    for line in p.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        for r in msg.get("recipients", []):
            q[r["address"]] = (msg.get("queue_name"), r.get("delay_reason", ""))
    return q


def jsonl(name):
    return smtp_records.jsonl(SMTP_DIR, name)


def received(rcpt):
    return smtp_records.received(SMTP_DIR, rcpt)


def contacted(addr, since):
    return [c for c in jsonl("connections.jsonl") if c.get("listener") == addr and
            c.get("event") == "connect" and c.get("time", 0) >= since]


def short(o):
    """One table cell for an outcome dict."""
    if o is None:
        return "(no status logged)"
    if o["status"] == "sent":
        return "sent %s, %s" % (o["host"], "%s TLS" % o["tls"] if o["tls"] else "cleartext")
    return "%s %s: %s" % (o["status"], o["dsn"], o["reason"])


def deliver(tag, domains, attack=None):
    """Send one message per domain (all at once), wait for their outcomes; with ATTACK (an
    address), the attacker strips STARTTLS there meanwhile."""
    rcpts = {d: "%s@%s" % (tag, d) for d in domains}
    if attack:
        net("smtp-attack.sh", WORKDIR, "on", attack)
    try:
        for d in domains:
            submit(rcpts[d])
        got = outcomes(set(rcpts.values()))
    finally:
        if attack:
            net("smtp-attack.sh", WORKDIR, "off", attack)
    return rcpts, got


def describe(status, host, detail):
    if status == "sent":
        return "sent via %s, %s" % (host, "%s TLS" % detail if detail else "cleartext")
    return "%s (%s)" % (status, detail)


def check_outcome(label, rcpt, o, status, host, detail, receiver, tls, sni):
    """Assert one Postfix outcome exactly: the log line, the queue, what the receivers got.

    sent: the relay host and the TLS trust level Postfix logged (detail), and RECEIVER stored
    the message once, over TLS or not (tls), with that SNI name; deferred / bounced: the exact
    reason Postfix logged (detail), nobody got the message, and it is (deferred) or is not
    (bounced) in the queue with that reason."""
    if status == "sent":
        want = (status, host, detail)
        got = o and (o["status"], o["host"], o["tls"])
    else:
        want = (status, detail)
        got = o and (o["status"], o["reason"])
    check(got == want, "%s: Postfix %s" % (label, describe(status, host, detail)),
          "got %s\nwant %r" % (short(o), want))
    msgs = received(rcpt)
    if status == "sent":
        ok = (len(msgs) == 1 and msgs[0]["host"] == receiver and msgs[0]["tls"] == tls and
              not msgs[0]["attacker"] and msgs[0]["sni"] == sni)
        check(ok, "%s: stored once by %s, tls=%s, SNI %s" % (label, receiver, tls, sni),
              repr(msgs))
    else:
        check(msgs == [], "%s: no server (and no attacker) got the message" % label, repr(msgs))
    if status == "deferred":
        q = {}
        for _ in range(50):
            q = queue()
            if q.get(rcpt, (None,))[0] == "deferred":
                break
            time.sleep(0.1)
        check(q.get(rcpt) == ("deferred", detail),
              "%s: in the deferred queue with that reason" % label, repr(q.get(rcpt)))
    elif status == "bounced":
        check(rcpt not in queue(), "%s: not in the queue" % label)


# ---------------------------------------------------------------- the run
def main():
    for tool in ("postfix", "postmap", "postqueue", "sendmail"):
        if not shutil.which(tool):
            skip("%s not installed (Debian package postfix)" % tool)
    if not os.access("/usr/sbin/unbound", os.X_OK):
        skip("/usr/sbin/unbound not installed (Debian package unbound)")
    if not os.access("/usr/bin/mta-sts-daemon", os.X_OK):
        skip("mta-sts-daemon not installed (Debian package postfix-mta-sts-resolver)")

    scen = send_scenarios()
    domains = [row[1] for row in scen]
    send_by_domain = {row[1]: row for row in scen}
    check(sorted(domains) == sorted(EXPECT),
          "the domains are test_send_scenarios.py's delivery scenarios",
          "only there: %s; only here: %s" % (sorted(set(domains) - set(EXPECT)),
                                             sorted(set(EXPECT) - set(domains))))
    domains = [d for d in domains if d in EXPECT]
    for d in ("danests.sts.test", "danebad.sts.test", "danepart.sts.test"):  # agrees with itself
        st = {"delivered": "sent"}.get(send_by_domain[d][3], send_by_domain[d][3])
        if CONTRAST[d][2] != (st, send_by_domain[d][4], EXPECT[d][1]):
            raise RuntimeError("CONTRAST[%r] disagrees with EXPECT / SCENARIOS" % d)
    t_start = time.time()

    net("resolver-up.sh", NETNS, WORKDIR)
    state = os.path.join(WORKDIR, "policyd-state")
    os.makedirs(state, exist_ok=True)
    plog_path = os.path.join(WORKDIR, "policyd.log")
    plog = open(plog_path, "wb")
    policyd = subprocess.Popen([MXTLS, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
                                "--ca-file", CA, "--state-dir", state, "policyd", "--listen",
                                "127.0.0.1:%d" % MXTLS_PORT],
                               stdin=subprocess.DEVNULL, stdout=plog, stderr=plog)
    table = {d: {} for d in domains + list(ATTACKS)}
    try:
        deadline = time.time() + 15
        ready = False
        while time.time() < deadline and policyd.poll() is None:
            with open(plog_path, "rb") as f:
                if re.search(rb"\bevent=ready\b", f.read()):
                    ready = True
                    break
            time.sleep(0.05)
        if not check(ready, "mxtls policyd logs event=ready"):
            raise RuntimeError("policyd did not start: " + open(plog_path).read()[-2000:])

        # ------------------------------------------------ with mxtls policyd
        net("postfix-up.sh", NETNS, WORKDIR, MXTLS_MAP)
        for d in domains:
            ans = postmap(d, MXTLS_MAP)
            table[d]["mxtls"] = ans
            want = EXPECT[d][0]
            if want == TEMP:
                check(ans.startswith("TEMP "), "policyd %s: TEMP" % d, "got %r" % ans)
            else:
                check(ans == want, "policyd %s: %s" % (d, want), "got %r" % ans)
        for parent in (".sts.test", ".mail.test", ".test"):
            ans = postmap(parent, MXTLS_MAP)
            check(ans == NOTFOUND, "policyd %s (Postfix's parent-domain query): NOTFOUND" % parent,
                  "got %r" % ans)

        t_a = time.time()
        rcpts, got = deliver("pf-mxtls", domains)
        for d in domains:
            row = send_by_domain[d]
            (_, _, _, s_status, s_mx, s_tls, _, _, s_host, s_sni, s_never) = row
            o = got.get(rcpts[d])
            table[d]["mxtls_out"] = short(o)
            status = {"delivered": "sent"}.get(s_status, s_status)
            detail = EXPECT[d][1]
            sni = s_sni if detail == "Verified" else None  # Postfix sends SNI only for dane/secure
            check_outcome("Postfix+policyd %s" % d, rcpts[d], o, status, s_mx, detail, s_host,
                          s_tls, sni)
            for addr in s_never:
                if addr in POSTFIX_CONTACTS.get(d, []):
                    continue
                check(contacted(addr, t_a) == [],
                      "Postfix+policyd %s: %s never contacted, as with mxtls send" % (d, addr))
            for addr in POSTFIX_CONTACTS.get(d, []):
                check(contacted(addr, t_a) != [] and received(rcpts[d]) == [],
                      "Postfix+policyd %s: %s contacted (TLS refused), unlike mxtls send" %
                      (d, addr))

        # mx1 attacked (STARTTLS stripped).  stswild: mx2.sub must not be used (not in the
        # policy).  danepart: dane-only does not use mx2 (no TLSA): deferred, mx2 never
        # contacted, and nobody got the message in cleartext.
        for key, (d, addr) in ATTACKS.items():
            t_att = time.time()
            rc_att, got_att = deliver("pf-mxtls-attack", [d], attack=addr)
            o = got_att.get(rc_att[d])
            table[key]["mxtls"] = table[d]["mxtls"]
            table[key]["mxtls_out"] = short(o)
            st, host, detail = CONTRAST[key][2]
            label = "Postfix+policyd %s, mx1 attacked" % d
            check_outcome(label, rc_att[d], o, st, host, detail, host, True, host)
            seen = contacted(addr, t_att)
            check(seen != [] and all(c.get("attacker") for c in seen),
                  "%s: mx1 (%s) was tried, STARTTLS stripped" % (label, addr), repr(seen))
            if key == DANEPART_ATTACK_KEY:
                check(contacted("127.0.10.150", t_att) == [],
                      "%s: mx2 (127.0.10.150, no TLSA) never contacted under dane-only" % label)
        shutil.copy(PF_LOG, os.path.join(WORKDIR, "maillog.policyd"))

        # ------------------------------------------------ with postfix-mta-sts-resolver
        net("postfix-down.sh", NETNS, WORKDIR)
        net("peer-resolver.sh", "start", WORKDIR, str(PEER_PORT), "internal")
        try:
            net("postfix-up.sh", NETNS, WORKDIR, PEER_MAP)
            for d in domains:
                table[d]["peer"] = postmap(d, PEER_MAP)
            rcpts, got = deliver("pf-peer", domains)
            for d in domains:
                table[d]["peer_out"] = short(got.get(rcpts[d]))
            for key, (d, addr) in ATTACKS.items():
                table[key]["peer"] = table[d]["peer"]
                rc_att, got_att = deliver("pf-peer-attack", [d], attack=addr)
                rcpts[key] = rc_att[d]
                got[rcpts[key]] = got_att.get(rcpts[key])
                table[key]["peer_out"] = short(got[rcpts[key]])
            for key, (ans, (st, host, detail), _, why) in CONTRAST.items():
                label = "Postfix+peer %s" % (key.replace("+attack", ", mx1 attacked"))
                check(table[key]["peer"] == ans, "peer %s: %s" % (key.split("+")[0], ans),
                      "got %r" % table[key]["peer"])
                check_outcome(label + " (%s)" % why, rcpts[key], got.get(rcpts[key]),
                              st, host, detail, host, True, host)
            shutil.copy(PF_LOG, os.path.join(WORKDIR, "maillog.peer"))
        finally:
            net("postfix-down.sh", NETNS, WORKDIR)
            net("peer-resolver.sh", "stop", WORKDIR)
    finally:
        if policyd.poll() is None:
            policyd.send_signal(signal.SIGTERM)
            try:
                rc = policyd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                policyd.kill()
                rc = "killed after 10 s"
            check(rc == 0, "mxtls policyd exits with 0 on SIGTERM", "got %r" % rc)
        else:
            check(False, "mxtls policyd ran until the end", "it exited with %r; see %s" %
                  (policyd.returncode, plog_path))
        plog.close()
        sh("bash", os.path.join(NET, "postfix-down.sh"), NETNS, WORKDIR)
        sh("bash", os.path.join(NET, "resolver-down.sh"), NETNS, WORKDIR)

    # ---------------------------------------------------------------- the table
    cols = ("domain", "mxtls policyd answer", "Postfix outcome", "peer answer",
            "Postfix+peer outcome")
    def cell(text):  # a TEMP answer's reason is long and varies: its start is enough
        return text[:40] + "..." if text.startswith("TEMP ") and len(text) > 41 else text

    rows = []
    for d in domains + list(ATTACKS):
        t = table[d]
        rows.append((d.replace("+attack", " (mx1 attacked)"), cell(t.get("mxtls", "-")),
                     t.get("mxtls_out", "-"), cell(t.get("peer", "-")), t.get("peer_out", "-")))
    print("# Postfix %s with mxtls policyd vs postfix-mta-sts-resolver (%.1f s)" %
          (sh("postconf", "-d", "-h", "mail_version").stdout.strip(), time.time() - t_start))
    print("# | " + " | ".join(cols) + " |")
    print("# |" + "---|" * len(cols))
    for r in rows:
        print("# | " + " | ".join(c.replace("|", "\\|") for c in r) + " |")

    print("1..%d" % len(results))
    for i, (ok, what, diag) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
        if not ok and diag:
            for line in diag.splitlines()[:8]:
                print("# " + line)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # a broken bring-up: say so in TAP
        for i, (ok, what, diag) in enumerate(results, 1):
            print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
        print("Bail out! %s" % str(exc).replace("\n", " ")[:500])
        sys.exit(1)
