#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reading TLS reports (issue 18) end to end on the test network (TAP).

Run by run-with-dns.sh --tap --smtp --pre tlsrpt-read-zones.sh (tests/e2e/meson.build);
arguments: the mxtls binary and the vectors/tlsrpt-in folder.  Every mxtls call uses a state
directory of this test's own.  Expected numbers are computed here from the reports' JSON (or from
the sessions this test made), never copied from mxtls's output.

  1. the corpus vectors/tlsrpt-in: each file's outcome as cases.txt says, then again (all
     duplicates), then `tlsrpt summary` of three of its domains under faketime;
  2. mail reports signed with dkimpy against the keys tlsrpt-read-zones.sh published: good RSA,
     ed25519 (RFC 8463), an s=email key, a tampered body (and --accept-unsigned), unsigned, a
     signer that is not the submitter, a revoked key;
  3. a Maildir (new/, cur/, and a half-written message in tmp/ that must be ignored);
  4. mxtls's own sender: `check --connect --tlsrpt-record`, `tlsrpt report --out`, ingested;
     `tlsrpt send` through `mxtls queue run` to the plain.test receiver, the spooled mail put in
     a Maildir and ingested (DKIM pass), the summary as recorded;
  5. `summary --json`/`--html` and `ready` for testing.sts.test (live audit clean) and
     enforce.sts.test (audit error) with reports made here;
  6. usage errors.
"""
import base64
import calendar
import email.utils
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import dkim_keys
import smtp_records

MXTLS = sys.argv[1]
VECTORS = sys.argv[2]
WORK = os.environ["MXTLS_TEST_WORKDIR"]
SMTP_DIR = os.environ["MXTLS_TEST_SMTP_DIR"]
KEYS = os.path.join(WORK, "tlsrpt-read")
TOP = tempfile.mkdtemp(prefix="mxtls-e2e-tlsrpt-read.", dir=WORK)
COMMON = [MXTLS, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
          "--ca-file", os.environ["MXTLS_TEST_CA_FILE"], "--connect-timeout", "3",
          "--smtp-timeout", "20"]
DAY_S = 86400
NOW = int(time.time())
TODAY = NOW - NOW % DAY_S
DAY = time.strftime("%Y-%m-%d", time.gmtime(NOW))
# The corpus is dated around 2026-12-01: its summaries run with the clock pinned here.
PINNED = "2026-12-06 12:00:00"
PINNED_TODAY = calendar.timegm((2026, 12, 6, 0, 0, 0))
ASAN_LATE = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402  (tests/e2e/tap.py)

TAP = tap.Tap(tail=30)
ok, comment = TAP.ok, TAP.comment


_states = 0


def new_state(conf=None):
    """A fresh state directory and the mxtls command prefix that uses it."""
    global _states
    _states += 1
    d = os.path.join(TOP, "state%02d" % _states)
    os.mkdir(d)
    base = list(COMMON)
    if conf is not None:
        base[1:1] = ["--config", conf]
    return d, base + ["--state-dir", d]


def run(args, timeout=120, env=None, faketime=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    if faketime:
        e.update(ASAN_LATE)
        args = ["faketime", faketime] + list(args)
    return subprocess.run(args, capture_output=True, timeout=timeout, env=e)


def out(p):
    return (f"exit {p.returncode}\nstdout: " + p.stdout.decode(errors="replace") +
            "\nstderr: " + p.stderr.decode(errors="replace"))


def js(p):
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


# ------------------------------------------------------------------ reports, as RFC 8460 reads

DT = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)?$")


def epoch(s):
    """RFC 3339 date-time (and the Microsoft form without a zone, read as UTC) -> seconds."""
    m = DT.match(s)
    t = calendar.timegm(tuple(int(m.group(i)) for i in range(1, 7)))
    z = m.group(8)
    if z and z not in "Zz":
        off = int(z[1:3]) * 3600 + int(z[4:6]) * 60
        t -= off if z[0] == "+" else -off
    return t


def name(s):
    """A DNS name as compared: lower case, one trailing dot dropped."""
    if s is None:
        return None
    s = s.lower()
    return s[:-1] if s.endswith(".") else s


def under(d, domain):
    return d == domain or d.endswith("." + domain)


def expected_summary(reports, domain, days, today):
    """The summary --json mxtls should print, from parsed reports (dicts), computed here."""
    frm, to = today - (days - 1) * DAY_S, today + DAY_S
    out_days, by_mx, prev = {}, {}, [0, 0]
    for r in reports:
        start = epoch(r["date-range"]["start-datetime"])
        day = start - start % DAY_S
        for pol in r["policies"]:
            # A no-policy-found policy may name no domain (Postfix's reporter): it counts
            # for no domain.
            if not under(name(pol["policy"].get("policy-domain") or ""), domain):
                continue
            s = pol["summary"]
            sess = s["total-successful-session-count"] + s["total-failure-session-count"]
            fail = s["total-failure-session-count"]
            if frm - days * DAY_S <= start < frm:
                prev[0] += sess
                prev[1] += fail
            if not frm <= start < to:
                continue
            d = out_days.setdefault(day, {"day": time.strftime("%Y-%m-%d", time.gmtime(day)),
                                          "organizations": set(), "sessions": 0,
                                          "failures": 0, "by_result": {}})
            d["organizations"].add(r["organization-name"])
            d["sessions"] += sess
            d["failures"] += fail
            for fd in pol.get("failure-details") or []:
                rt = fd["result-type"].lower()
                c = fd["failed-session-count"]
                d["by_result"][rt] = d["by_result"].get(rt, 0) + c
                mx = name(fd.get("receiving-mx-hostname")) or fd.get("receiving-ip") or None
                m = by_mx.setdefault(mx, {"mx": mx, "failures": 0, "by_result": {},
                                          "sending_ips": set()})
                m["failures"] += c
                m["by_result"][rt] = m["by_result"].get(rt, 0) + c
                if fd.get("sending-mta-ip"):
                    m["sending_ips"].add(fd["sending-mta-ip"])
    days_l = []
    for k in sorted(out_days):
        d = out_days[k]
        d["organizations"] = sorted(d["organizations"])
        days_l.append(d)
    mx_l = {}
    for k, m in by_mx.items():
        m["sending_ips"] = sorted(m["sending_ips"])
        mx_l[k] = m
    return {"days": days_l, "by_mx": mx_l, "previous": {"sessions": prev[0],
                                                         "failures": prev[1]}}


def normalise(got):
    """summary --json with its lists put in a comparable order (the order is checked apart)."""
    days = []
    for d in got.get("days", []):
        d = dict(d)
        d["organizations"] = sorted(d.get("organizations", []))
        days.append({k: d.get(k) for k in ("day", "organizations", "sessions", "failures",
                                           "by_result")})
    mx = {}
    for m in got.get("by_mx", []):
        mx[m.get("mx")] = {"mx": m.get("mx"), "failures": m.get("failures"),
                           "by_result": m.get("by_result"),
                           "sending_ips": sorted(m.get("sending_ips", []))}
    return {"days": days, "by_mx": mx, "previous": got.get("previous")}


def check_summary(got, want, what):
    if not ok(isinstance(got, dict), f"{what}: summary --json is an object", got):
        return
    g = normalise(got)
    ok(g["days"] == want["days"], f"{what}: days[] (day, organizations, sessions, failures, "
       f"by_result) exactly as computed from the reports",
       json.dumps({"got": g["days"], "want": want["days"]}, indent=1))
    ok(g["by_mx"] == want["by_mx"], f"{what}: by_mx[] (failures, by_result, sending_ips) "
       f"exactly as computed", json.dumps({"got": g["by_mx"], "want": want["by_mx"]}, indent=1,
                                         default=str))
    fl = [m.get("failures") for m in got.get("by_mx", [])]
    ok(fl == sorted(fl, reverse=True), f"{what}: by_mx most failures first", fl)
    ok(g["previous"] == want["previous"], f"{what}: previous period "
       f"{want['previous']}", g["previous"])
    tot_s = sum(d["sessions"] for d in want["days"])
    tot_f = sum(d["failures"] for d in want["days"])
    ok(got.get("sessions") == tot_s and got.get("failures") == tot_f,
       f"{what}: totals {tot_s} sessions, {tot_f} failures",
       (got.get("sessions"), got.get("failures")))


def report(org, rid, start, domain, ok_count, failures=(), ptype="sts", mx=None):
    """A report as a sender writes it; failures: (result type, mx host, count, sending ip)."""
    pol = {"policy-type": ptype, "policy-domain": domain,
           "policy-string": ["version: STSv1", "mode: testing", "mx: mx1." + domain,
                             "max_age: 86400"],
           "mx-host": mx or ["mx1." + domain]}
    fds = [{"result-type": t, "sending-mta-ip": ip, "receiving-mx-hostname": host,
            "failed-session-count": c} for t, host, c, ip in failures]
    p = {"policy": pol, "summary": {"total-successful-session-count": ok_count,
                                    "total-failure-session-count": sum(f[2] for f in failures)}}
    if fds:
        p["failure-details"] = fds
    return {"organization-name": org,
            "date-range": {"start-datetime": time.strftime("%Y-%m-%dT00:00:00Z",
                                                           time.gmtime(start)),
                           "end-datetime": time.strftime("%Y-%m-%dT23:59:59Z",
                                                         time.gmtime(start))},
            "contact-info": "tlsrpt@" + org.lower().replace(" ", "-") + ".example",
            "report-id": rid, "policies": [p]}


def write_reports(d, reps):
    os.makedirs(d, exist_ok=True)
    for r in reps:
        fn = "%s!%s!%s.json.gz" % (r["organization-name"].replace(" ", "_"),
                                   r["policies"][0]["policy"]["policy-domain"], r["report-id"])
        with open(os.path.join(d, fn), "wb") as f:
            f.write(gzip.compress(json.dumps(r).encode(), mtime=0))


# ------------------------------------------------------------------ mail reports

SIGNED = [b"From", b"To", b"Subject", b"Date", b"Message-ID", b"MIME-Version",
          b"Content-Type", b"TLS-Report-Domain", b"TLS-Report-Submitter"]


def mail(rep, submitter):
    """An RFC 8460 §5.3 message: multipart/report; report-type=tlsrpt, the gzip'd report."""
    dom = rep["policies"][0]["policy"]["policy-domain"]
    rid = rep["report-id"]
    gz = base64.encodebytes(gzip.compress(json.dumps(rep).encode(), mtime=0)).decode()
    att = "\r\n".join(gz.splitlines())
    msg = (f"From: tlsrpt@{submitter}\r\n"
           f"To: tlsrpt@{dom}\r\n"
           f"Subject: Report Domain: {dom} Submitter: {submitter} Report-ID: <{rid}>\r\n"
           f"Date: {email.utils.formatdate(usegmt=True)}\r\n"
           f"Message-ID: <{rid}@{submitter}>\r\n"
           "MIME-Version: 1.0\r\n"
           f"TLS-Report-Domain: {dom}\r\n"
           f"TLS-Report-Submitter: {submitter}\r\n"
           'Content-Type: multipart/report; report-type="tlsrpt";\r\n'
           '\tboundary="=_tlsrpt_boundary"\r\n'
           "\r\n"
           "This is a multipart message in MIME format.\r\n"
           "--=_tlsrpt_boundary\r\n"
           "Content-Type: text/plain; charset=us-ascii\r\n"
           "\r\n"
           f"This is an aggregate TLS report from {submitter}.\r\n"
           "--=_tlsrpt_boundary\r\n"
           "Content-Type: application/tlsrpt+gzip\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           f'Content-Disposition: attachment; filename="{submitter}!{dom}!{rid}.json.gz"\r\n'
           "\r\n"
           f"{att}\r\n"
           "--=_tlsrpt_boundary--\r\n")
    return msg.encode()


def sign(msg, domain, selector, ed25519=False):
    import dkim
    if ed25519:
        with open(os.path.join(KEYS, "ed25519.key"), "rb") as f:
            key = f.read().strip()
        alg = b"ed25519-sha256"
    else:
        key = RSA_PKCS1
        alg = b"rsa-sha256"
    sig = dkim.sign(msg, selector.encode(), domain.encode(), key, signature_algorithm=alg,
                    include_headers=SIGNED, canonicalize=(b"relaxed", b"relaxed"))
    return sig + msg


def rsa_pkcs1():
    """The RSA key of tlsrpt-read-zones.sh as the RSAPrivateKey PEM dkimpy reads."""
    return subprocess.run(["openssl", "rsa", "-traditional", "-in",
                           os.path.join(KEYS, "rsa.pem")], check=True,
                          capture_output=True).stdout


RSA_PKCS1 = b""


# ------------------------------------------------------------------ 1. the corpus

def read_cases():
    cases = {}
    with open(os.path.join(VECTORS, "cases.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            w = line.rstrip("\n").split("\t")
            cases[w[0]] = w
    return cases


# The folder's files that are not vectors (ingest refuses them: not reports).
NOT_VECTORS = ["README.md", "cases.txt", "gen.py"]
# Vectors whose outcome under ingest follows their bytes, not cases.txt (see corpus()).
BY_BYTES = {"not-gzip.json.gz": ("Big Mailbox Provider Inc.", "2026-11-30T00:00:00Z_example.org")}


def load_plain(path):
    with open(path, "rb") as f:
        return json.loads(f.read())


def load(path):
    with open(path, "rb") as f:
        b = f.read()
    if path.endswith(".gz"):
        b = gzip.decompress(b)
    return json.loads(b)


def corpus():
    cases = read_cases()
    files = sorted(os.listdir(VECTORS))
    ok(sorted(cases) == [f for f in files if f not in NOT_VECTORS],
       f"corpus: cases.txt lists every vector ({len(cases)} files)",
       sorted(set(files) ^ set(cases)))
    # What should be stored: the first file (in name order, as ingest reads a directory) of
    # each (organization, report-id); later ones are duplicates.
    seen, want_status, reports = set(), {}, []
    for fn in sorted(cases):
        c = cases[fn]
        if fn in BY_BYTES:
            # cases.txt gives what tlsrpt_read_gunzip() makes of the file (not gzip: syntax),
            # but ingest tells a file's kind from its bytes (include/mxtls/reports.h, the
            # command's help): plain JSON under a .gz name is read as the JSON it is.
            rep = load_plain(os.path.join(VECTORS, fn))
            ok(c[1] == "syntax" and BY_BYTES[fn] == (rep["organization-name"],
                                                     rep["report-id"]),
               f"corpus: {fn} is plain JSON under a .gz name, the report {BY_BYTES[fn]}")
        elif c[1] != "ok":
            want_status[fn] = "refused"
            continue
        else:
            rep = load(os.path.join(VECTORS, fn))
        key = (rep["organization-name"], rep["report-id"])
        if fn not in BY_BYTES:
            ok(key == (c[2], c[3]), f"corpus: {fn} is what cases.txt says it is",
               (key, c[2:4]))
        if key in seen:
            want_status[fn] = "duplicate"
        else:
            seen.add(key)
            want_status[fn] = "stored"
            reports.append(rep)
    ok(all(want_status[fn] == "duplicate" for fn in cases
           if fn.endswith(".json.gz") and fn[:-3] in cases and cases[fn][1] == "ok"),
       "corpus: every .gz twin of a valid .json is expected as a duplicate")

    state, base = new_state()
    p = run(base + ["--json", "tlsrpt", "ingest", VECTORS])
    j = js(p)
    items = {os.path.basename(i["path"]): i for i in (j or {}).get("items", [])}
    ok(p.returncode == 65, "ingest the corpus: exit 65 (some refused)", out(p))
    others = sorted(set(items) - set(cases))
    ok(others == NOT_VECTORS and
       all(items[o]["status"] == "refused" for o in others),
       "ingest the corpus: the folder's other files are refused, not reports", others)
    bad = [(fn, want_status[fn], items.get(fn, {}).get("status"), items.get(fn, {}).get("why"))
           for fn in sorted(cases) if items.get(fn, {}).get("status") != want_status[fn]]
    ok(not bad, "ingest the corpus: every file's status as cases.txt says "
       "(ok: stored or duplicate; syntax and limit: refused)", "\n".join(map(str, bad)))
    ok(all(items[fn].get("why") for fn in cases
           if want_status[fn] == "refused" and fn in items),
       "ingest the corpus: every refusal says why")
    nst = sum(1 for s in want_status.values() if s == "stored")
    ndu = sum(1 for s in want_status.values() if s == "duplicate")
    nre = sum(1 for s in want_status.values() if s == "refused") + 3
    ok(j is not None and (j.get("stored"), j.get("duplicates"), j.get("refused")) ==
       (nst, ndu, nre), f"ingest the corpus: {nst} stored, {ndu} duplicates, {nre} refused",
       j and (j.get("stored"), j.get("duplicates"), j.get("refused")))
    for fn in ("hosted-style-no-zone.json", "policy-string-json.json", "contact-null.json",
               "mx-host-string.json", "end-next-day.json", "all-quirks.json"):
        ok(items.get(fn, {}).get("status") == "stored" and
           items[fn].get("organization") == cases[fn][2] and
           items[fn].get("report_id") == cases[fn][3] and items[fn].get("kind") == "json",
           f"quirk {fn}: stored, with its organisation and report-id", items.get(fn))

    p = run(base + ["--json", "tlsrpt", "ingest", VECTORS])
    j = js(p) or {}
    again = {os.path.basename(i["path"]): i["status"] for i in j.get("items", [])}
    want2 = {fn: "refused" if st == "refused" else "duplicate" for fn, st in want_status.items()}
    ok(p.returncode == 65 and all(again.get(fn) == want2[fn] for fn in cases),
       "ingest again: every valid report is a duplicate, the rest refused (exit 65)",
       [(fn, again.get(fn)) for fn in cases if again.get(fn) != want2[fn]])
    ok((j.get("stored"), j.get("duplicates")) == (0, nst + ndu),
       f"ingest again: 0 stored, {nst + ndu} duplicates", (j.get("stored"), j.get("duplicates")))

    # Summaries, the clock pinned to 2026-12-06 (the corpus's week).
    for domain in ("example.org", "example.net", "q.example"):
        p = run(base + ["--json", "tlsrpt", "summary", domain, "--days", "30"],
                faketime=PINNED)
        want = expected_summary(reports, domain, 30, PINNED_TODAY)
        ok(p.returncode == 0, f"summary {domain} --days 30: exit 0", out(p))
        check_summary(js(p), want, f"corpus summary {domain}")
        comment(f"{domain}: " + json.dumps(
            [(d["day"], d["sessions"], d["failures"]) for d in want["days"]]))
    # A window of 7 days leaves out 2026-11-29: the previous period has it.
    p = run(base + ["--json", "tlsrpt", "summary", "example.org", "--days", "7"],
            faketime=PINNED)
    check_summary(js(p), expected_summary(reports, "example.org", 7, PINNED_TODAY),
                  "corpus summary example.org --days 7")


# ------------------------------------------------------------------ 2. DKIM

REPORTER = "reporter.sts.test"


def dkim_cases():
    state, base = new_state()
    d = os.path.join(TOP, "mail")
    os.makedirs(d)
    t0 = TODAY - DAY_S

    def rep(rid):
        return report("DKIM Sender", rid, t0, "dkim.example", 10,
                      [("starttls-not-supported", "mx1.dkim.example", 2, "192.0.2.1")])

    with open(os.path.join(KEYS, "rsa.txt"), "rb") as f:
        rsa_txt = f.read()
    with open(os.path.join(KEYS, "ed25519.txt"), "rb") as f:
        ed_txt = f.read()
    good = sign(mail(rep("good-rsa"), REPORTER), REPORTER, "rsa")
    ed = sign(mail(rep("good-ed25519"), REPORTER), REPORTER, "ed", ed25519=True)
    # dkimpy itself, against the published records (no DNS), before mxtls sees them.
    ok(dkim_keys.verifies(good, REPORTER, "rsa", rsa_txt, tlsrpt=True) and
       dkim_keys.verifies(ed, REPORTER, "ed", ed_txt),
       "setup: dkimpy verifies the RSA (s=tlsrpt) and ed25519 signatures")
    tampered = sign(mail(rep("tampered"), REPORTER), REPORTER, "rsa").replace(
        b"aggregate TLS report", b"aggregate TLS r3port")
    ok(not dkim_keys.verifies(tampered, REPORTER, "rsa", rsa_txt, tlsrpt=True),
       "setup: dkimpy refuses the tampered body")
    msgs = {
        # name: (bytes, status, words in dkim, with --accept-unsigned)
        "good-rsa.eml": (good, "stored", f"pass d={REPORTER} s=rsa"),
        "good-ed25519.eml": (ed, "stored", f"pass d={REPORTER} s=ed"),
        "email-key.eml": (sign(mail(rep("email-key"), REPORTER), REPORTER, "email"),
                          "refused", "s=email does not allow service tlsrpt"),
        "tampered.eml": (tampered, "refused", "body hash"),
        "unsigned.eml": (mail(rep("unsigned"), REPORTER), "refused", "no DKIM signature"),
        "other-signer.eml": (sign(mail(rep("other-signer"), REPORTER), "other.sts.test", "rsa"),
                             "refused", f"d=other.sts.test, not by the submitter {REPORTER}"),
        "revoked.eml": (sign(mail(rep("revoked"), REPORTER), REPORTER, "revoked"),
                        "refused", "revoked"),
    }
    for fn, (b, _, _) in msgs.items():
        with open(os.path.join(d, fn), "wb") as f:
            f.write(b)
    for fn, (_, status, words) in msgs.items():
        p = run(base + ["--json", "tlsrpt", "ingest", os.path.join(d, fn)])
        item = ((js(p) or {}).get("items") or [{}])[0]
        ok(p.returncode == (0 if status == "stored" else 65) and item.get("status") == status
           and item.get("kind") == "mail" if status == "stored" else
           p.returncode == 65 and item.get("status") == status,
           f"mail {fn}: {status} (exit {0 if status == 'stored' else 65})", out(p))
        dk = item.get("dkim") or ""
        ok(words in dk if status == "refused" else dk == words,
           f"mail {fn}: dkim says {words!r}", item)
        if status == "refused":
            ok("DKIM" in (item.get("why") or ""), f"mail {fn}: the refusal names DKIM", item)
    # The submitter's key cannot be looked up now (refused.test: a lame delegation, SERVFAIL):
    # not a bad signature, so "retry" and exit 75, never a refusal; nothing stored.
    lame = "refused.test"
    with open(os.path.join(d, "lame-key.eml"), "wb") as f:
        f.write(sign(mail(rep("lame-key"), lame), lame, "rsa"))
    p = run(base + ["--json", "tlsrpt", "ingest", os.path.join(d, "lame-key.eml")])
    item = ((js(p) or {}).get("items") or [{}])[0]
    ok(p.returncode == 75 and item.get("status") == "retry" and
       "temperror" in (item.get("dkim") or "") and (js(p) or {}).get("retry") == 1,
       "mail whose DKIM key lookup fails (SERVFAIL): retry, exit 75, not refused", out(p))
    p = run(base + ["--json", "tlsrpt", "ingest", "--accept-unsigned",
                    os.path.join(d, "tampered.eml")])
    item = ((js(p) or {}).get("items") or [{}])[0]
    ok(p.returncode == 0 and item.get("status") == "stored" and "body hash" in
       (item.get("dkim") or ""), "--accept-unsigned: the tampered report is stored (exit 0), "
       "its DKIM result kept", out(p))
    p = run(base + ["--json", "tlsrpt", "ingest", os.path.join(d, "good-rsa.eml")])
    item = ((js(p) or {}).get("items") or [{}])[0]
    ok(p.returncode == 0 and item.get("status") == "duplicate",
       "the good mail again: duplicate, exit 0", out(p))
    # Three stored (good RSA, ed25519, tampered accepted): 3 x (10 + 2) sessions.
    p = run(base + ["--json", "tlsrpt", "summary", "dkim.example", "--days", "3"])
    g = js(p) or {}
    want = expected_summary([rep("good-rsa"), rep("good-ed25519"), rep("tampered")],
                            "dkim.example", 3, TODAY)
    check_summary(g, want, "mail reports summary dkim.example")
    return good, ed


# ------------------------------------------------------------------ 3. a Maildir

def maildir(good, ed):
    state, base = new_state()
    md = os.path.join(TOP, "Maildir")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, sub))
    with open(os.path.join(md, "new", "1733500000.M1P1.host"), "wb") as f:
        f.write(good)
    with open(os.path.join(md, "cur", "1733500001.M2P1.host:2,S"), "wb") as f:
        f.write(ed)
    with open(os.path.join(md, "tmp", "1733500002.M3P1.host"), "wb") as f:
        f.write(good[:len(good) // 2])   # being delivered: must not be read
    p = run(base + ["--json", "tlsrpt", "ingest", md])
    j = js(p) or {}
    paths = sorted(os.path.relpath(i["path"], md) for i in j.get("items", []))
    ok(p.returncode == 0 and (j.get("stored"), j.get("duplicates"), j.get("refused")) ==
       (2, 0, 0), "Maildir: the messages of new/ and cur/ stored (2), exit 0", out(p))
    ok(paths == ["cur/1733500001.M2P1.host:2,S", "new/1733500000.M1P1.host"],
       "Maildir: tmp/ is not read", paths)


# ------------------------------------------------------------------ 4. mxtls's own sender

def round_trip():
    conf = os.path.join(TOP, "sender.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write("tlsrpt-organization = mxtls e2e read\n"
                "tlsrpt-contact = tlsrpt-noreply@sender.sts.test\n"
                "tlsrpt-submitter = sender.sts.test\n"
                f"dkim-key = sender.sts.test:s1:{os.path.join(KEYS, 'rsa.pem')}\n")
    sstate, sbase = new_state(conf)
    # stsbadcert (enforce): mx1 untrusted (certificate-not-trusted), mx2 good: per check one
    # successful and one failed session; notls.plain.test: one starttls-not-supported.
    for _ in range(2):
        p = run(sbase + ["check", "--connect", "--tlsrpt-record", "stsbadcert.sts.test"])
        ok(p.returncode == 1, "check --connect --tlsrpt-record stsbadcert.sts.test: exit 1",
           out(p))
    p = run(sbase + ["check", "--connect", "--tlsrpt-record", "notls.plain.test"])
    ok(p.returncode == 0, "check --connect --tlsrpt-record notls.plain.test: exit 0", out(p))
    rdir = os.path.join(TOP, "report-out")
    p = run(sbase + ["tlsrpt", "report", "--day", DAY, "--out", rdir])
    files = p.stdout.decode().split()
    ok(p.returncode == 0 and len(files) == 2, "tlsrpt report --out: two files", out(p))
    # What the checks did, as the summary must show it: per check of stsbadcert one successful
    # session and one certificate-not-trusted at mx1.
    recorded = [{"day": DAY, "organizations": ["mxtls e2e read"], "sessions": 4, "failures": 2,
                 "by_result": {"certificate-not-trusted": 2}}]
    # The rest (the sending address of the failures) from the report files' JSON.
    reps = []
    for path in files:
        with open(path, "rb") as f:
            reps.append(json.loads(gzip.decompress(f.read())))
    want = expected_summary(reps, "stsbadcert.sts.test", 2, TODAY)
    ok(want["days"] == recorded and list(want["by_mx"]) == ["mx1.stsbadcert.sts.test"],
       "setup: the report files hold the sessions the checks made", want)

    rstate, rbase = new_state()
    p = run(rbase + ["--json", "tlsrpt", "ingest", rdir])
    j = js(p) or {}
    ok(p.returncode == 0 and j.get("stored") == 2 and all(
        i.get("kind") == "gzip" and i.get("organization") == "mxtls e2e read"
        for i in j.get("items", [])), "ingest mxtls's own report files: 2 stored (gzip), exit 0",
       out(p))
    p = run(rbase + ["--json", "tlsrpt", "summary", "stsbadcert.sts.test", "--days", "2"])
    g = js(p) or {}
    check_summary(g, want, "round trip (files) stsbadcert.sts.test")
    ip = [m.get("sending_ips") for m in g.get("by_mx", [])]
    ok(len(ip) == 1 and len(ip[0]) == 1, "round trip: the failure's sending address kept", ip)
    p = run(rbase + ["--json", "tlsrpt", "summary", "notls.plain.test", "--days", "1"])
    g = js(p) or {}
    ok([(d["sessions"], d["failures"], d["by_result"]) for d in g.get("days", [])] ==
       [(1, 1, {"starttls-not-supported": 1})],
       "round trip (files) notls.plain.test: 1 session, 1 starttls-not-supported", g)

    # The same report mailed: tlsrpt send queues it, the queue delivers it to plain.test.
    p = run(sbase + ["--json", "tlsrpt", "send", "--day", DAY])
    st = {r["domain"]: r["status"] for r in (js(p) or {}).get("reports", [])}
    ok(st.get("stsbadcert.sts.test") == "sent", "tlsrpt send: stsbadcert's report queued for "
       "mailto:tlsrpt@plain.test", out(p))
    q = run(sbase + ["queue", "run", "--once", "--helo", "client.e2e.test"], timeout=120)
    ok(q.returncode == 0, "queue run --once: exit 0", out(q))
    got = [r for r in smtp_records.received(SMTP_DIR, "tlsrpt@plain.test")]
    ok(len(got) == 1, "the plain.test receiver spooled one report mail", got)
    if not got:
        return
    md = os.path.join(TOP, "Maildir-sent")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, sub))
    shutil.copyfile(got[0]["file"], os.path.join(md, "new", "1.queue.plain"))
    p = run(rbase + ["--json", "tlsrpt", "ingest", md])
    item = ((js(p) or {}).get("items") or [{}])[0]
    ok(p.returncode == 0 and item.get("status") == "duplicate",
       "the mailed report into the store that has the file: duplicate (same report-id)",
       out(p))
    mstate, mbase = new_state()
    p = run(mbase + ["--json", "tlsrpt", "ingest", md])
    item = ((js(p) or {}).get("items") or [{}])[0]
    ok(p.returncode == 0 and item.get("status") == "stored" and item.get("kind") == "mail" and
       item.get("dkim") == "pass d=sender.sts.test s=s1",
       "the mailed report from the Maildir: stored, DKIM pass d=sender.sts.test s=s1", out(p))
    p = run(mbase + ["--json", "tlsrpt", "summary", "stsbadcert.sts.test", "--days", "2"])
    check_summary(js(p), want, "round trip (mail through the queue) stsbadcert.sts.test")


# ------------------------------------------------------------------ 5. summary and ready

ORGS = ["Alpha Mail", "Beta Post", "Gamma Relay"]
# (organisation index, days ago, successful sessions)
CLEAN = [(0, 14, 30), (0, 10, 31), (0, 5, 32), (0, 0, 33), (1, 13, 20), (1, 7, 21),
         (1, 1, 22), (2, 12, 5), (2, 3, 6)]


def clean_reports(domain, orgs=(0, 1, 2)):
    return [report(ORGS[o], f"{domain}-{o}-{ago}", TODAY - ago * DAY_S, domain, s)
            for o, ago, s in CLEAN if o in orgs]


def ready(base, domain, *extra):
    p = run(base + ["--json", "tlsrpt", "ready", domain] + list(extra), timeout=120)
    return p, js(p) or {}


def summary_and_ready():
    dom = "testing.sts.test"
    p = run(COMMON + ["--state-dir", os.path.join(TOP, "audit-state"), "--json", "audit", dom])
    ok(p.returncode == 0 and not [f for f in (js(p) or {}).get("findings", [])
                                  if f["severity"] == "error"],
       f"setup: the live audit of {dom} finds no error (exit 0)", out(p))

    state, base = new_state()
    rdir = os.path.join(TOP, "ready-clean")
    reps = clean_reports(dom)
    write_reports(rdir, reps)
    p = run(base + ["tlsrpt", "ingest", rdir])
    ok(p.returncode == 0, f"ingest {len(reps)} clean reports of 3 organisations", out(p))
    p, v = ready(base, dom)
    ok(p.returncode == 0 and v.get("verdict") == "ready" and v.get("organizations") == 3 and
       v.get("days") == 15 and v.get("audit") == "ok" and v.get("reasons") == [],
       f"ready {dom}: exit 0, ready, 3 organisations, 15 days, audit ok, no reason", out(p))
    p, v = ready(base, dom, "--no-audit")
    ok(p.returncode == 0 and v.get("verdict") == "ready" and v.get("audit") == "not-run",
       f"ready {dom} --no-audit: exit 0, audit not-run", out(p))

    # summary --json: the keys of CLI.md and the numbers.
    p = run(base + ["--json", "tlsrpt", "summary", dom, "--days", "15"])
    g = js(p) or {}
    ok(p.returncode == 0 and {"domain", "days", "by_mx"} <= set(g) and g["domain"] == dom and
       all({"day", "organizations", "sessions", "failures", "by_result"} <= set(d)
           for d in g["days"]), "summary --json: domain, days[] with day, organizations, "
       "sessions, failures, by_result; by_mx[]", out(p))
    check_summary(g, expected_summary(reps, dom, 15, TODAY), f"clean summary {dom}")

    # One report with certificate-host-mismatch at mx1: not ready, said where and by whom.
    bad = report(ORGS[1], f"{dom}-mismatch", TODAY - 2 * DAY_S, dom, 40,
                 [("certificate-host-mismatch", "mx1." + dom, 4, "192.0.2.25")])
    write_reports(os.path.join(TOP, "ready-bad"), [bad])
    p = run(base + ["tlsrpt", "ingest", os.path.join(TOP, "ready-bad")])
    ok(p.returncode == 0, "ingest one report with a certificate-host-mismatch", out(p))
    p, v = ready(base, dom)
    r0 = (v.get("reasons") or [{}])[0]
    t = r0.get("text", "")
    ok(p.returncode == 1 and v.get("verdict") == "not-ready" and r0.get("kind") == "failures",
       f"ready {dom} with a failure: exit 1, not-ready, failures first", out(p))
    ok("certificate-host-mismatch" in t and "mx1." + dom in t and ORGS[1] in t and
       t.startswith("4 failed sessions"),
       "the reason names the result type, the host, the organisation and the count", t)
    p = run(base + ["tlsrpt", "ready", dom])
    ok(p.returncode == 1 and b"certificate-host-mismatch" in p.stdout,
       "ready (text): exit 1, the result type printed", out(p))
    p, v = ready(base, dom, "--no-audit")
    ok(p.returncode == 1 and v.get("verdict") == "not-ready",
       "ready --no-audit with a failure: exit 1", out(p))
    # The owner explains it (the host's certificate was replaced since): a note, not a blocker;
    # an explanation for another host or another type explains nothing.
    p, v = ready(base, dom, "--explain", "certificate-host-mismatch@mx1." + dom)
    kinds = [r.get("kind") for r in v.get("reasons") or []]
    ok(p.returncode == 0 and v.get("verdict") == "ready" and kinds == ["note"] and
       "explained" in (v.get("reasons") or [{}])[0].get("text", ""),
       "ready --explain certificate-host-mismatch@mx1: exit 0, the failure a note", out(p))
    p, v = ready(base, dom, "--explain", "certificate-host-mismatch@mx2." + dom,
                 "--explain", "certificate-expired")
    ok(p.returncode == 1 and v.get("verdict") == "not-ready",
       "ready --explain of another host and another type: still exit 1", out(p))
    p = run(base + ["tlsrpt", "ready", dom, "--explain", "@mx1." + dom])
    ok(p.returncode == 64, "ready --explain @HOST without a type: exit 64", out(p))

    # summary --html: one rect of class "bar" per day plus one per result type that day.
    html = os.path.join(TOP, "summary.html")
    p = run(base + ["--json", "tlsrpt", "summary", dom, "--days", "15", "--html", html])
    g = js(p) or {}
    want = expected_summary(reps + [bad], dom, 15, TODAY)
    check_summary(g, want, f"summary {dom} with the failure")
    ok(len(g.get("by_mx", [])) == 1 and
       all({"mx", "failures", "by_result"} <= set(m) for m in g.get("by_mx", [])),
       "summary --json: by_mx[] entries with mx, failures, by_result", g.get("by_mx"))
    bars = len(want["days"]) + sum(len(d["by_result"]) for d in want["days"])
    try:
        with open(html, encoding="utf-8") as f:
            page = f.read()
    except OSError as e:
        page = str(e)
    ok(page.count('class="bar"') == bars,
       f"summary --html: {bars} bars ({len(want['days'])} days + result types)",
       page.count('class="bar"'))
    ok("<script src" not in page and "<link" not in page and "url(http" not in page,
       "summary --html: self-contained (no external script, stylesheet or font)")

    # Failures the domain does not cause (issue 18: certificate-*, starttls-not-supported,
    # sts-*, validation-failure at its own MX hosts block; others do not): a dnssec-invalid, and
    # a certificate-expired at a host that is not the domain's, are notes; still ready.
    state4, base4 = new_state()
    other = [report(ORGS[2], f"{dom}-notes", TODAY - 4 * DAY_S, dom, 12,
                    [("dnssec-invalid", "mx1." + dom, 1, "192.0.2.26"),
                     ("certificate-expired", "mx.elsewhere.example", 2, "192.0.2.27")])]
    write_reports(os.path.join(TOP, "ready-notes"), clean_reports(dom) + other)
    run(base4 + ["tlsrpt", "ingest", os.path.join(TOP, "ready-notes")])
    p, v = ready(base4, dom, "--no-audit")
    ok(p.returncode == 0 and v.get("verdict") == "ready" and
       sorted(r.get("kind") for r in v.get("reasons", [])) == ["note", "note"],
       f"ready {dom}: dnssec-invalid and a failure at another domain's host do not block "
       "(exit 0, two notes)", out(p))

    # Three organisations, but the first report only 12 days old (13 days of reports): 75.
    state5, base5 = new_state()
    young = [r for r in clean_reports(dom) if epoch(r["date-range"]["start-datetime"]) >
             TODAY - 13 * DAY_S]
    write_reports(os.path.join(TOP, "ready-young"), young)
    run(base5 + ["tlsrpt", "ingest", os.path.join(TOP, "ready-young")])
    p, v = ready(base5, dom)
    ok(p.returncode == 75 and v.get("verdict") == "not-enough-data" and
       v.get("organizations") == 3 and v.get("days") == 13 and
       [r.get("kind") for r in v.get("reasons", [])] == ["data"] and
       "13 days old; 14 needed" in v["reasons"][0].get("text", ""),
       f"ready {dom} with 13 days of reports: exit 75, the data reason says 13 of 14", out(p))

    # Two organisations only: not enough data (75).
    state2, base2 = new_state()
    write_reports(os.path.join(TOP, "ready-two"), clean_reports(dom, (0, 1)))
    run(base2 + ["tlsrpt", "ingest", os.path.join(TOP, "ready-two")])
    p, v = ready(base2, dom)
    ok(p.returncode == 75 and v.get("verdict") == "not-enough-data" and
       v.get("organizations") == 2 and
       [r.get("kind") for r in v.get("reasons", [])] == ["data"] and
       "2 organisations" in v["reasons"][0].get("text", ""),
       f"ready {dom} with 2 organisations: exit 75, one data reason (2 of 3)", out(p))

    # enforce.sts.test: clean reports, but the audit finds sts-mx-not-covered: 1, audit.
    edom = "enforce.sts.test"
    state3, base3 = new_state()
    write_reports(os.path.join(TOP, "ready-enforce"), clean_reports(edom))
    run(base3 + ["tlsrpt", "ingest", os.path.join(TOP, "ready-enforce")])
    p, v = ready(base3, edom)
    kinds = [r.get("kind") for r in v.get("reasons", [])]
    ok(p.returncode == 1 and v.get("verdict") == "not-ready" and v.get("audit") == "errors" and
       kinds and set(kinds) == {"audit"} and
       any("sts-mx-not-covered" in r.get("text", "") and "mx2." + edom in r.get("text", "")
           for r in v["reasons"]),
       f"ready {edom}: exit 1, the audit's sts-mx-not-covered at mx2 is the reason", out(p))
    p, v = ready(base3, edom, "--no-audit")
    ok(p.returncode == 0 and v.get("verdict") == "ready",
       f"ready {edom} --no-audit: the reports alone are clean (exit 0)", out(p))


# ------------------------------------------------------------------ 6. usage

def usage():
    state, base = new_state()
    for args, code, what in (
            (["tlsrpt", "ingest"], 64, "ingest without PATH"),
            (["tlsrpt", "summary"], 64, "summary without DOMAIN"),
            (["tlsrpt", "summary", "example.org", "--days", "0"], 64, "summary --days 0"),
            (["tlsrpt", "ready"], 64, "ready without DOMAIN")):
        p = run(base + args)
        ok(p.returncode == code and p.stderr.strip(), f"{what}: exit {code}, said so", out(p))
    p = run(base + ["tlsrpt", "summary", "example.org"])
    ok(p.returncode == 75 and b"reports.sqlite" in p.stderr and b"nothing ingested" in p.stderr,
       "summary with no reports.sqlite: exit 75, 'no report store ... (nothing ingested yet)'",
       out(p))
    ok(not os.path.exists(os.path.join(state, "reports.sqlite")),
       "summary did not create a store")
    p = run(base + ["tlsrpt", "ready", "example.org", "--no-audit"])
    ok(p.returncode == 75, "ready with no reports.sqlite: exit 75", out(p))


def stored_everywhere():
    """The distinct (organisation, report-id) stored in all of this test's report stores."""
    import sqlite3
    keys = set()
    for d in sorted(os.listdir(TOP)):
        db = os.path.join(TOP, d, "reports.sqlite")
        if os.path.exists(db):
            c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
            keys |= set(c.execute("SELECT organization, report_id FROM report"))
            c.close()
    return keys


def main():
    global RSA_PKCS1
    t = time.monotonic()
    RSA_PKCS1 = rsa_pkcs1()
    corpus()
    good, ed = dkim_cases()
    maildir(good, ed)
    round_trip()
    summary_and_ready()
    usage()
    # Issue 18: "a corpus of at least 30 reports covering every quirk above, mail reports ...,
    # duplicates, and reports produced by mxtls's own sender".
    keys = stored_everywhere()
    ok(len(keys) >= 30, f"in all: {len(keys)} distinct reports stored (at least 30)", keys)
    comment("elapsed %.1f s" % (time.monotonic() - t))
    if TAP.failed == 0:
        shutil.rmtree(TOP, ignore_errors=True)
    return TAP.plan()


if __name__ == "__main__":
    sys.exit(main())
