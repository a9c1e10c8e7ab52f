#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""TLS-RPT, the sending side, end to end on the test network (TAP).

Run by run-with-dns.sh --tap --smtp --tlsrpt --pre tlsrpt-zones.sh (tests/e2e/meson.build);
argument: the mxtls binary.  Deliveries that succeed and fail in the ways the network produces
(DANE pass, TLSA mismatch, no STARTTLS under DANE, under MTA-STS and without policy, an
untrusted certificate under MTA-STS, an MX outside the MTA-STS policy, opportunistic TLS) are
made with `mxtls send`; `mxtls tlsrpt report` writes the day's reports, each checked field by
field against the sessions the receivers saw and against rfc8460-report.schema.json;
`mxtls tlsrpt send` delivers them to the _smtp._tls destinations of tlsrpt-zones.sh: the
HTTPS collector (200, 201, 500 then 200, 404 for ever) and mailboxes through `mxtls queue run`
(DKIM-verified with python3-dkim, the attachment gunzipped and compared with the report
file).  Retries run later in virtual time (faketime): once after 10 minutes, then a day later,
when the 404 report is given up.  A second run sends nothing twice; the report mails' own
sessions are not counted (RFC 8460 §3).
"""
import email
import email.policy
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import dkim_keys
import smtp_records

MXTLS = sys.argv[1]
SCHEMA = sys.argv[2]
WORK = os.environ["MXTLS_TEST_WORKDIR"]
SMTP_DIR = os.environ["MXTLS_TEST_SMTP_DIR"]
RPT_DIR = os.environ["MXTLS_TEST_TLSRPT_DIR"]
STATE = tempfile.mkdtemp(prefix="mxtls-e2e-tlsrpt.", dir=WORK)
CONF = os.path.join(STATE, "mxtls.conf")
SUBMITTER = "sender.test"
CONTACT = "tlsrpt-noreply@" + SUBMITTER
BASE = [MXTLS, "--config", CONF, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
        "--ca-file", os.environ["MXTLS_TEST_CA_FILE"], "--state-dir", STATE,
        "--connect-timeout", "3", "--smtp-timeout", "20"]
DAY = time.strftime("%Y-%m-%d", time.gmtime())
HOSTS = {}  # receiver host name -> address (tests/net/smtp-hosts.conf)

n = 0
failed = 0


def ok(cond, name, detail=""):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {name}", flush=True)
    if not cond:
        failed += 1
        for line in str(detail).splitlines()[-20:]:
            print(f"#   {line}")


def run(args, env=None, timeout=180, stdin=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run(args, capture_output=True, timeout=timeout, env=e, input=stdin)


def later(seconds):
    """Runs a command `seconds` ahead of the real clock (libfaketime; ASan must then let
    libfaketime come first in the library list)."""
    return ["faketime", "-f", "+%ds" % seconds]


ASAN_LATE = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}


def read_hosts():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "net", "smtp-hosts.conf"), encoding="utf-8") as f:
        for line in f:
            w = line.split("#", 1)[0].split()
            if len(w) >= 2:
                HOSTS[w[0]] = w[1]


def send(domain):
    msg = b"From: a@sender.test\r\nSubject: tlsrpt e2e\r\n\r\nhello\r\n"
    p = run(BASE + ["send", "--from", "a@sender.test", "--to", "u@" + domain], timeout=120,
            stdin=msg)
    return p.returncode


def peers(host):
    """The client addresses the receiver `host` saw connecting."""
    return {c.get("peer") for c in smtp_records.jsonl(SMTP_DIR, "connections.jsonl")
            if c.get("event") == "connect" and c.get("host") == host}


def posts(path):
    """(head, body) of every POST the collector saved for path, in arrival order."""
    out = []
    d = os.path.join(RPT_DIR, "received")
    if not os.path.isdir(d):
        return out
    for name in sorted(os.listdir(d)):
        if not name.endswith(".head"):
            continue
        with open(os.path.join(d, name), "rb") as f:
            head = f.read().decode("latin-1")
        if head.split(" ")[1].split("?")[0] != path:
            continue
        with open(os.path.join(d, name[:-5] + ".body"), "rb") as f:
            out.append((head, f.read()))
    return out


def report_files(out):
    """policy domain -> (file name, gzip bytes) of `tlsrpt report --out out`."""
    p = run(BASE + ["tlsrpt", "report", "--day", DAY, "--out", out])
    files = {}
    for path in p.stdout.decode().split():
        name = os.path.basename(path)
        with open(path, "rb") as f:
            files[name.split("!")[1]] = (name, f.read())
    return p, files


def check_report(domain, rep, want):
    """One report against the sessions that happened (want: policy type, strings' first line
    or count, mx, successes, failures by result type, receiver hosts of the failures)."""
    pol = rep["policies"]
    ok(isinstance(pol, list) and len(pol) == 1, f"{domain}: policies is an array of one", pol)
    if not pol:
        return
    p = pol[0]
    ok(p["policy"]["policy-type"] == want["type"] and p["policy"]["policy-domain"] == domain,
       f"{domain}: policy-type {want['type']}, policy-domain {domain}", p["policy"])
    ok(p["policy"]["mx-host"] == want["mx"], f"{domain}: mx-host {want['mx']}", p["policy"])
    strings = p["policy"]["policy-string"]
    ok(want["strings"](strings), f"{domain}: policy-string as published", strings)
    ok(p["summary"] == {"total-successful-session-count": want["ok"],
                        "total-failure-session-count": sum(want["fail"].values())},
       f"{domain}: summary {want['ok']} successful, {sum(want['fail'].values())} failed",
       p["summary"])
    got = {}
    for d in p["failure-details"]:
        got[d["result-type"]] = got.get(d["result-type"], 0) + d["failed-session-count"]
    ok(got == want["fail"], f"{domain}: failed sessions by result type {want['fail']}",
       p["failure-details"])
    for d in p["failure-details"]:
        host = d["receiving-mx-hostname"]
        if host not in HOSTS:
            ok(False, f"{domain}: failure at a known MX host", d)
            continue
        ip_ok = d.get("receiving-ip") == HOSTS[host] if "receiving-ip" in d else \
            d["result-type"] == "validation-failure"  # D10: never contacted
        ok(ip_ok, f"{domain}: {d['result-type']} at {host} ({HOSTS[host]})", d)
        if "sending-mta-ip" in d:
            ok(d["sending-mta-ip"] in peers(host),
               f"{domain}: sending-mta-ip {d['sending-mta-ip']} is what {host} saw",
               (d, peers(host)))
        if "receiving-mx-helo" in d:
            ok(d["receiving-mx-helo"] == host, f"{domain}: receiving-mx-helo {host}", d)


def tlsa_strings(strings):
    return len(strings) >= 1 and all(len(s.split()) == 4 for s in strings)


def sts_strings(mx):
    def f(strings):
        return strings[:2] == ["version: STSv1", "mode: enforce"] and \
            ["mx: " + m for m in mx] == [s for s in strings if s.startswith("mx: ")]
    return f


# The sessions: domain -> (sends, expected report).  Counts follow what each scenario's MX
# hosts do (tests/net/smtp-hosts.conf, tests/net/README.md).
SCENARIOS = {
    # DANE: reported under the TLSA base domain, the MX host.
    "dane-ee.mail.test": (3, "mx1.dane-ee.mail.test", {
        "type": "tlsa", "mx": ["mx1.dane-ee.mail.test"], "strings": tlsa_strings,
        "ok": 3, "fail": {}}),
    "dane-mismatch.mail.test": (1, "mx1.dane-mismatch.mail.test", {
        "type": "tlsa", "mx": ["mx1.dane-mismatch.mail.test"], "strings": tlsa_strings,
        "ok": 0, "fail": {"tlsa-invalid": 1}}),
    "dane-notls.mail.test": (1, "mx1.dane-notls.mail.test", {
        "type": "tlsa", "mx": ["mx1.dane-notls.mail.test"], "strings": tlsa_strings,
        "ok": 0, "fail": {"starttls-not-supported": 1}}),
    # MTA-STS: under the recipient domain, the policy's lines and mx patterns.
    "stsbadcert.sts.test": (2, "stsbadcert.sts.test", {
        "type": "sts", "mx": ["mx1.stsbadcert.sts.test", "mx2.stsbadcert.sts.test"],
        "strings": sts_strings(["mx1.stsbadcert.sts.test", "mx2.stsbadcert.sts.test"]),
        "ok": 2, "fail": {"certificate-not-trusted": 2}}),
    "stsmismatch.sts.test": (1, "stsmismatch.sts.test", {
        "type": "sts", "mx": ["mx9.stsmismatch.sts.test"],
        "strings": sts_strings(["mx9.stsmismatch.sts.test"]),
        "ok": 0, "fail": {"validation-failure": 1}}),
    "stsnotls.sts.test": (1, "stsnotls.sts.test", {
        "type": "sts", "mx": ["mx1.stsnotls.sts.test"],
        "strings": sts_strings(["mx1.stsnotls.sts.test"]),
        "ok": 0, "fail": {"starttls-not-supported": 1}}),
    # No policy.
    "notls.plain.test": (2, "notls.plain.test", {
        "type": "no-policy-found", "mx": [], "strings": lambda s: s == [],
        "ok": 0, "fail": {"starttls-not-supported": 2}}),
    "plain.test": (1, "plain.test", {
        "type": "no-policy-found", "mx": [], "strings": lambda s: s == [],
        "ok": 1, "fail": {}}),
}


def dkim_key():
    return dkim_keys.make_key(STATE, b"s=tlsrpt; ")


def dkim_ok(raw, txt):
    # RFC 8460 §3 mode: the key record carries s=tlsrpt, the report fields must be signed.
    return dkim_keys.verifies(raw, SUBMITTER, "s1", txt, tlsrpt=True)


def mail_reports(rcpt):
    """The report mails the receivers stored for rcpt: (record, raw bytes, parsed)."""
    out = []
    for rec in smtp_records.received(SMTP_DIR, rcpt):
        with open(rec["file"], "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if msg.get("TLS-Report-Domain") is not None:
            out.append((rec, raw, msg))
    return out


def check_mail(rcpt, domain, name, gz, txt):
    got = mail_reports(rcpt)
    mine = [g for g in got if g[2]["TLS-Report-Domain"] == domain]
    ok(len(mine) == 1, f"mailto:{rcpt}: exactly one report mail for {domain}",
       [g[2]["Subject"] for g in got])
    if len(mine) != 1:
        return None
    rec, raw, msg = mine[0]
    ok(msg.get_content_type() == "multipart/report" and
       msg.get_param("report-type") == "tlsrpt",
       f"{domain} mail: multipart/report; report-type=tlsrpt", msg["Content-Type"])
    ok(msg["TLS-Report-Submitter"] == SUBMITTER and msg["TLS-Required"].strip() == "No",
       f"{domain} mail: TLS-Report-Submitter {SUBMITTER}, TLS-Required: No")
    subject = " ".join(str(msg["Subject"]).split())
    ok(subject.startswith(f"Report Domain: {domain} Submitter: {SUBMITTER} Report-ID: <"),
       f"{domain} mail: the RFC 8460 §5.3 Subject", subject)
    ok(dkim_ok(raw, txt), f"{domain} mail: DKIM signature of {SUBMITTER} verifies (dkimpy)")
    sig = " ".join(str(msg["DKIM-Signature"]).split()).replace(" ", "")
    hs = [h.lower() for h in sig.split("h=")[1].split(";")[0].split(":")]
    ok("tls-report-domain" in hs and "tls-report-submitter" in hs and ";l=" not in
       ";" + sig, f"{domain} mail: both TLS-Report fields signed, no l= (RFC 8460 §3)", sig)
    parts = list(msg.iter_parts())
    att = [p for p in parts if p.get_content_type() == "application/tlsrpt+gzip"]
    ok(len(parts) == 2 and parts[0].get_content_type() == "text/plain" and len(att) == 1,
       f"{domain} mail: a text part and the application/tlsrpt+gzip part",
       [p.get_content_type() for p in parts])
    if att:
        ok(att[0].get_filename() == name and att[0].get_content() == gz,
           f"{domain} mail: the attachment is the report file, bytes and name", name)
    return rec


def main():
    read_hosts()
    with open(os.path.join(RPT_DIR, "control"), "w", encoding="utf-8") as f:
        f.write("/ok 200\n/created 201\n/flaky 500,200\n/gone 404\n")
    key, txt = dkim_key()
    with open(CONF, "w", encoding="utf-8") as f:
        f.write("tlsrpt-organization = mxtls e2e\n"
                f"tlsrpt-contact = {CONTACT}\n"
                f"dkim-key = {SUBMITTER}:s1:{key}\n")

    # 0. The command line: refused before anything is sent.
    for args, code, words, what in (
            ([], 64, b"needs --day", "no --day"),
            (["--day", "2026-02-30"], 64, b"is not a day", "a day that does not exist"),
            (["--day", "2999-01-01"], 64, b"has not begun", "a day in the future"),
            (["--day", DAY, "extra"], 64, b"no other arguments", "an extra argument")):
        p = run(BASE + ["tlsrpt", "send"] + args)
        ok(p.returncode == code and words in p.stderr, f"tlsrpt send, {what}: exit {code}",
           (p.returncode, p.stderr))
    p = run(BASE + ["tlsrpt", "send", "--day", DAY])
    ok(p.returncode == 0 and b"nothing to send" in p.stderr,
       "tlsrpt send before any session: exit 0, nothing to send", (p.returncode, p.stderr))
    bare = os.path.join(STATE, "bare.conf")
    with open(bare, "w", encoding="utf-8") as f:
        f.write(f"tlsrpt-contact = {CONTACT}\n")
    p = run([a if a != CONF else bare for a in BASE] + ["tlsrpt", "send", "--day", DAY])
    ok(p.returncode == 78 and b"tlsrpt-organization" in p.stderr,
       "tlsrpt send without tlsrpt-organization: exit 78, named", (p.returncode, p.stderr))

    # 1. The sessions.
    for domain, (count, _, _) in SCENARIOS.items():
        codes = [send(domain) for _ in range(count)]
        ok(all(c in (0, 75) for c in codes), f"mxtls send to {domain} x{count}", codes)

    # 2. The reports, field by field, and the JSON Schema.
    import jsonschema
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    out1 = os.path.join(STATE, "out1")
    p, files = report_files(out1)
    ok(p.returncode == 0, "tlsrpt report: exit 0", p.stderr)
    want_domains = sorted(pd for _, pd, _ in SCENARIOS.values())
    ok(sorted(files) == want_domains, "tlsrpt report: one file per policy domain",
       (sorted(files), want_domains))
    for _, (count, pd, want) in SCENARIOS.items():
        if pd not in files:
            continue
        name, gz = files[pd]
        rep = json.loads(gzip.decompress(gz))
        try:
            jsonschema.validate(rep, schema)
            valid = ""
        except jsonschema.ValidationError as e:
            valid = e.message
        ok(valid == "", f"{pd}: valid against rfc8460-report.schema.json", valid)
        ok(rep["organization-name"] == "mxtls e2e" and rep["contact-info"] == CONTACT and
           rep["date-range"]["start-datetime"] == DAY + "T00:00:00Z" and
           name.startswith(f"{SUBMITTER}!{pd}!"),
           f"{pd}: organization, contact, date-range and file name", (name, rep))
        check_report(pd, rep, want)

    # The store as the sessions left it, for tlsrpt-send = failures at the end.
    snapshot = os.path.join(WORK, "tlsrpt-snapshot.sqlite")
    shutil.copyfile(os.path.join(STATE, "tlsrpt.sqlite"), snapshot)

    # 3. The first send run.  What happens to each domain (tlsrpt-zones.sh).
    p = run(BASE + ["--json", "tlsrpt", "send", "--day", DAY])
    try:
        status = {r["domain"]: r for r in json.loads(p.stdout)["reports"]}
    except (ValueError, KeyError):
        status = {}
    ok(p.returncode == 75, "tlsrpt send: exit 75 (reports wait for a retry)",
       p.stdout.decode() + p.stderr.decode())
    expect = {
        "stsbadcert.sts.test": "sent",          # https 200
        "stsmismatch.sts.test": "retry",        # https 500 first
        "stsnotls.sts.test": "retry",           # https 404
        "mx1.dane-ee.mail.test": "sent",        # mailto: queued
        "mx1.dane-mismatch.mail.test": "sent",  # ftp: skipped, mailto: queued
        "mx1.dane-notls.mail.test": "no-destination",  # two v=TLSRPTv1 records (§3)
        "notls.plain.test": "sent",             # https 201 and mailto
        "plain.test": "no-destination",         # no record
    }
    for d, st in expect.items():
        ok(status.get(d, {}).get("status") == st, f"send run 1: {d} {st}", status.get(d))
    ok("skipped: unsupported" in status.get("mx1.dane-mismatch.mail.test", {}).get(
        "detail", "") or "ftp://" in status.get("mx1.dane-mismatch.mail.test", {}).get(
        "detail", ""), "send run 1: the ftp: destination is skipped, said so",
       status.get("mx1.dane-mismatch.mail.test"))
    ok("HTTP 404" in status.get("stsnotls.sts.test", {}).get("detail", ""),
       "send run 1: the 404 is named", status.get("stsnotls.sts.test"))
    for path, pd in (("/ok", "stsbadcert.sts.test"), ("/created", "notls.plain.test")):
        got = posts(path)
        ok(len(got) == 1 and got[0][1] == files[pd][1],
           f"POST {path}: one upload, exactly the report file of {pd}", len(got))
        ok(len(got) == 1 and "content-type: application/tlsrpt+gzip" in got[0][0].lower(),
           f"POST {path}: Content-Type application/tlsrpt+gzip")
    ok(len(posts("/flaky")) == 1 and len(posts("/gone")) == 1,
       "run 1: /flaky and /gone got one POST each (500, 404)")

    # One run per state directory: another one waits its turn (exit 75).
    import fcntl
    with open(os.path.join(STATE, "tlsrpt-send.lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = run(BASE + ["tlsrpt", "send", "--day", DAY])
    ok(p.returncode == 75 and b"another tlsrpt send run" in p.stderr,
       "a second run while one works: exit 75, said so", (p.returncode, p.stderr))

    # 4. At once again: nothing is due, nothing is sent twice.
    p = run(BASE + ["tlsrpt", "send", "--day", DAY])
    ok(p.returncode == 75 and len(posts("/ok")) == 1 and len(posts("/flaky")) == 1,
       "run 2 at once: exit 75, no upload repeated, no retry before its time",
       p.stdout.decode() + p.stderr.decode())
    ok(b"already-sent" in p.stdout, "run 2: the delivered reports say already-sent",
       p.stdout.decode())

    # 5. The mail reports: the queue delivers them, signed, despite a DANE failure.
    q = run(BASE + ["queue", "run", "--once", "--helo", "client.e2e.test"], timeout=240)
    ok(q.returncode == 0, "queue run --once: the report mails are delivered (exit 0)",
       q.stderr.decode())
    check_mail("tlsrpt@plain.test", "mx1.dane-ee.mail.test",
               *files["mx1.dane-ee.mail.test"], txt)
    check_mail("tlsrpt@plain.test", "notls.plain.test", *files["notls.plain.test"], txt)
    rec = check_mail("reports@dane-mismatch.mail.test", "mx1.dane-mismatch.mail.test",
                     *files["mx1.dane-mismatch.mail.test"], txt)
    ok(rec is not None and rec["tls"] and rec["host"] == "mx1.dane-mismatch.mail.test",
       "RFC 8460 §3: the report reached the MX whose DANE check fails (TLS, any certificate)",
       rec)
    # The report mails' own sessions are not counted (§3): the day's reports are unchanged.
    _, files2 = report_files(os.path.join(STATE, "out2"))
    ok(files2 == files, "the report deliveries were not recorded: the reports are the same bytes",
       sorted(k for k in files if files2.get(k) != files[k]))

    # 6. Ten minutes later: the 500 is retried and delivered; the 404 still fails.
    p = run(later(600) + BASE + ["tlsrpt", "send", "--day", DAY], env=ASAN_LATE)
    fl = posts("/flaky")
    ok(len(fl) == 2 and fl[1][1] == files["stsmismatch.sts.test"][1] and fl[0][1] == fl[1][1],
       "+10 min: /flaky retried once with the same bytes (500, then 200)", len(fl))
    ok(b"stsmismatch.sts.test sent" in p.stdout and p.returncode == 75,
       "+10 min: stsmismatch sent, the 404 still waits (exit 75)",
       p.stdout.decode() + p.stderr.decode())
    ok(len(posts("/gone")) == 2, "+10 min: /gone tried again", len(posts("/gone")))

    # 7. A day later: the 404 is given up (24 h after its first attempt), logged.
    p = run(later(86400 + 600) + BASE + ["tlsrpt", "send", "--day", DAY], env=ASAN_LATE)
    ok(p.returncode == 69 and b"stsnotls.sts.test gave-up" in p.stdout,
       "+24 h: the 404 report is given up (exit 69)", p.stdout.decode() + p.stderr.decode())
    ok(b"tlsrpt-gave-up" in p.stderr, "+24 h: the give-up is logged", p.stderr.decode())
    ok(len(posts("/gone")) == 3, "+24 h: /gone got its last attempt", len(posts("/gone")))
    p = run(later(2 * 86400) + BASE + ["tlsrpt", "send", "--day", DAY], env=ASAN_LATE)
    ok(len(posts("/gone")) == 3 and len(posts("/ok")) == 1 and len(posts("/flaky")) == 2 and
       p.returncode == 69, "+48 h: nothing is sent again", p.stdout.decode())

    # 8. tlsrpt-send = failures: the days' domains without a failed session get no report.
    state2 = tempfile.mkdtemp(prefix="mxtls-e2e-tlsrpt-failures.", dir=WORK)
    shutil.copyfile(snapshot, os.path.join(state2, "tlsrpt.sqlite"))
    conf2 = os.path.join(state2, "mxtls.conf")
    with open(CONF, encoding="utf-8") as f, open(conf2, "w", encoding="utf-8") as g:
        g.write(f.read() + "tlsrpt-send = failures\n")
    base2 = [a if a not in (STATE, CONF) else (state2 if a == STATE else conf2) for a in BASE]
    p = run(base2 + ["--json", "tlsrpt", "send", "--day", DAY])
    try:
        st2 = {r["domain"]: r["status"] for r in json.loads(p.stdout)["reports"]}
    except (ValueError, KeyError):
        st2 = {}
    ok(st2.get("mx1.dane-ee.mail.test") == "skipped" and st2.get("plain.test") == "skipped" and
       st2.get("stsbadcert.sts.test") == "sent" and
       st2.get("mx1.dane-mismatch.mail.test") == "sent",
       "tlsrpt-send = failures: no report for domains without a failure, the others sent", st2)

    # 9. One report (the note shows it).
    name, gz = files["stsbadcert.sts.test"]
    print("# example report " + name + ": " + gzip.decompress(gz).decode().strip())
    print(f"1..{n}")
    if failed == 0:
        shutil.rmtree(STATE, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
