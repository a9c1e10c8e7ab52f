#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""RFC 8460 reports end to end (TAP): results recorded through the public API (tlsrpt-tool fill),
reports written by `mxtls tlsrpt report` and by mxtls_tlsrpt_report() (tlsrpt-tool report), every
file checked against rfc8460-report.schema.json and against the scenario, exactly.

usage: check-reports.py TLSRPT_TOOL MXTLS SCHEMA
"""
import copy
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import jsonschema

TOOL, MXTLS, SCHEMA_PATH = sys.argv[1:4]
DAY = "2026-12-05"
BEGIN, END = 1796428800, 1796515200  # 2026-12-05T00:00:00Z and 2026-12-06T00:00:00Z (D9)
SENDER = "reports.sender.example"
CONF = ("tlsrpt-organization = mxtls test \"org\"\n"
        "tlsrpt-contact = tlsrpt@reports.sender.example\n")

n = 0
failed = 0


def ok(cond, name, detail=""):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {name}")
    if not cond:
        failed += 1
        for line in str(detail).splitlines():
            print(f"#   {line}")
    return cond


def run(*args, conf=CONF, state=None):
    confpath = os.path.join(work, "mxtls.conf")
    with open(confpath, "w", encoding="utf-8") as f:
        f.write(conf)
    cmd = [MXTLS, "--config", confpath, "--state-dir", state or statedir, *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate member names: {keys}")
    return dict(pairs)


def read_report(path):
    raw = open(path, "rb").read()
    # RFC 1952 header as tlsrpt_report_gzip() writes it: deflate, no FNAME, mtime 0, OS 255
    header_ok = raw[:4] == b"\x1f\x8b\x08\x00" and raw[4:8] == b"\0\0\0\0" and raw[9] == 255
    text = gzip.decompress(raw).decode("utf-8")  # I-JSON: UTF-8 (strict decode)
    return header_ok, text, json.loads(text, object_pairs_hook=no_duplicates)


work = tempfile.mkdtemp(prefix="mxtls-tlsrpt.")
statedir = os.path.join(work, "state")
try:
    schema = json.load(open(SCHEMA_PATH, encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    r = subprocess.run([TOOL, "fill", statedir], capture_output=True, text=True, check=False)
    ok(r.returncode == 0, "results recorded through mxtls_tlsrpt_record()", r.stderr)

    out1 = os.path.join(work, "out1")
    r = run("tlsrpt", "report", "--day", DAY, "--out", out1)
    ok(r.returncode == 0, "tlsrpt report exits 0", r.stderr)
    paths = r.stdout.splitlines()
    names = [os.path.basename(p) for p in paths]
    want = [f"{SENDER}!{d}!{BEGIN}!{END}.json.gz"
            for d in ("dane.example", "none.example", "sts.example")]
    ok(names == want, "one report per policy domain, RFC 8460 §5.1 names, sorted",
       f"got {names}")
    ok(all(os.path.dirname(p) == out1 for p in paths), "paths are in --out")
    ok(sorted(os.listdir(out1)) == want, "nothing else written (no temporary files left)",
       os.listdir(out1))
    name_re = re.compile(r"^[A-Za-z0-9.-]+![A-Za-z0-9.-]+![0-9]+![0-9]+(![A-Za-z0-9]+)?"
                         r"\.json(\.gz)?$")
    ok(all(name_re.match(x) for x in names), "names match the §5.1 ABNF")

    reports = {}
    for p in paths:
        domain = os.path.basename(p).split("!")[1]
        try:
            header_ok, text, rep = read_report(p)
        except (ValueError, OSError, EOFError) as e:
            ok(False, f"{domain}: gzip, UTF-8, JSON without duplicate members", e)
            continue
        ok(header_ok, f"{domain}: gzip header fixed (no name, mtime 0)")
        ok(text.endswith("}\n") and text.count("\n") == 1, f"{domain}: compact, one line")
        errors = sorted(validator.iter_errors(rep), key=str)
        ok(not errors, f"{domain}: valid against the RFC 8460 §4.4 schema",
           "\n".join(e.message for e in errors[:5]))
        reports[domain] = rep

    common = {"organization-name": 'mxtls test "org"',
              "date-range": {"start-datetime": f"{DAY}T00:00:00Z",
                             "end-datetime": "2026-12-06T00:00:00Z"},
              "contact-info": "tlsrpt@reports.sender.example"}
    for domain, rep in reports.items():
        top = {k: rep.get(k) for k in common}
        ok(top == common, f"{domain}: organization, date-range (full UTC day), contact", top)
        rid = rep.get("report-id", "")
        ok(re.fullmatch(rf"{DAY}\.[0-9a-f]{{8}}\.{re.escape(domain)}@{SENDER}", rid) is not None,
           f"{domain}: report-id", rid)
        ok(isinstance(rep.get("policies"), list) and len(rep["policies"]) == 1,
           f"{domain}: policies is an array of one")
        pol = rep["policies"][0]["policy"]
        ok(isinstance(pol.get("policy-string"), list) and isinstance(pol.get("mx-host"), list),
           f"{domain}: policy-string and mx-host are always arrays (erratum 6241)")

    sts = reports.get("sts.example", {}).get("policies", [{}])[0]
    ok(sts.get("policy") == {
        "policy-type": "sts",
        "policy-string": ["version: STSv1", "mode: testing", "mx: mx1.sts.example",
                          "mx: *.backup.sts.example", "max_age: 86400"],
        "policy-domain": "sts.example",
        "mx-host": ["mx1.sts.example", "*.backup.sts.example"]}, "sts: the policy", sts)
    # 10 good sessions, 2 expired certificates, 1 without STARTTLS (RFC-CHECKLIST RPT-15); the
    # session at 23:59:59Z the day before is not counted
    ok(sts.get("summary") == {"total-successful-session-count": 10,
                              "total-failure-session-count": 3}, "sts: summary 10/3",
       sts.get("summary"))
    ok(sts.get("failure-details") == [
        {"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.1",
         "receiving-mx-hostname": "mx1.sts.example", "receiving-mx-helo": "mx1.sts.example",
         "receiving-ip": "198.51.100.7", "failed-session-count": 2},
        {"result-type": "starttls-not-supported", "sending-mta-ip": "192.0.2.1",
         "receiving-mx-hostname": "mx2.backup.sts.example", "receiving-ip": "2001:db8::25",
         "failed-session-count": 1}],
       "sts: failure-details exact (HELO first line only, unknown members left out)",
       json.dumps(sts.get("failure-details"), indent=1))

    dane = reports.get("dane.example", {}).get("policies", [{}])[0]
    ok(dane.get("policy", {}).get("policy-type") == "tlsa" and
       dane.get("policy", {}).get("policy-domain") == "dane.example" and
       dane.get("policy", {}).get("mx-host") == ["mx.dane.example"],
       "tlsa: policy under the canonical domain", dane.get("policy"))
    ok(dane.get("summary") == {"total-successful-session-count": 3,
                               "total-failure-session-count": 1}, "tlsa: summary 3/1")
    fd = (dane.get("failure-details") or [{}])[0]
    ok(fd.get("receiving-mx-helo") == 'mx "quoted" \\ \x01\x1f caf\u00e9 \ufffd',
       "tlsa: quotes, control characters, UTF-8 and a bad byte (U+FFFD) survive",
       repr(fd.get("receiving-mx-helo")))
    ok(fd.get("failure-reason-code") == "no TLSA record matched" and
       fd.get("additional-information") == "https://sender.example/tlsrpt/help" and
       fd.get("result-type") == "tlsa-invalid", "tlsa: reason code and additional information")

    none = reports.get("none.example", {}).get("policies", [{}])[0]
    ok(none.get("policy", {}).get("policy-type") == "no-policy-found" and
       none.get("summary") == {"total-successful-session-count": 2,
                               "total-failure-session-count": 0} and
       none.get("failure-details") == [], "no-policy-found: 2/0, empty failure-details", none)

    # The schema bites: broken copies of a real report are refused.
    base = reports.get("sts.example")
    mutations = {
        "mx-host as a string (before erratum 6241)":
            lambda d: d["policies"][0]["policy"].__setitem__("mx-host", "mx1.sts.example"),
        "policies as an object": lambda d: d.__setitem__("policies", d["policies"][0]),
        "an unknown result type":
            lambda d: d["policies"][0]["failure-details"][0].__setitem__("result-type",
                                                                         "mx-mismatch"),
        "null for an unknown member":
            lambda d: d["policies"][0]["failure-details"][0].__setitem__("receiving-mx-helo",
                                                                         None),
        "a count as a string":
            lambda d: d["policies"][0]["summary"].__setitem__("total-failure-session-count",
                                                              "3"),
        "a date without time": lambda d: d["date-range"].__setitem__("end-datetime", DAY),
        "a U-label policy domain":
            lambda d: d["policies"][0]["policy"].__setitem__("policy-domain", "b\u00fccher.example"),
        "policy-type missing": lambda d: d["policies"][0]["policy"].pop("policy-type"),
    }
    for what, mutate in mutations.items():
        if base is None:
            ok(False, f"schema refuses {what}", "no sts.example report")
            continue
        bad = copy.deepcopy(base)
        mutate(bad)
        ok(not validator.is_valid(bad), f"schema refuses {what}")

    # Deterministic: the command again, and the API, give the same bytes.
    out2, out3 = os.path.join(work, "out2"), os.path.join(work, "out3")
    r2 = run("tlsrpt", "report", "--day", DAY, "--out", out2)
    r3 = subprocess.run([TOOL, "report", statedir, out3], capture_output=True, text=True,
                        check=False)
    same = r2.returncode == 0 and r3.returncode == 0 and all(
        open(os.path.join(out1, x), "rb").read() == open(os.path.join(d, x), "rb").read()
        for x in want for d in (out2, out3))
    ok(same, "the same store gives identical bytes (command twice, and mxtls_tlsrpt_report())",
       r2.stderr + r3.stderr)

    r = run("tlsrpt", "report", "--day", "2026-12-04", "--out", os.path.join(work, "prev"))
    prev = r.stdout.splitlines()
    ok(r.returncode == 0 and len(prev) == 1 and "!sts.example!1796342400!1796428800" in prev[0],
       "the session at 23:59:59Z is in the previous day's report", r.stdout + r.stderr)
    if len(prev) == 1:
        _, _, rep = read_report(prev[0])
        ok(rep["policies"][0]["summary"] == {"total-successful-session-count": 1,
                                             "total-failure-session-count": 0},
           "previous day: 1/0")

    r = run("tlsrpt", "report", "--day", DAY, "--domain", "STS.example.", "--out",
            os.path.join(work, "one"))
    ok(r.returncode == 0 and [os.path.basename(x) for x in r.stdout.splitlines()] == [want[2]],
       "--domain writes that domain's report only", r.stdout + r.stderr)

    # Exit codes (CLI.md): nothing written on a usage or configuration error.
    empty = os.path.join(work, "empty")
    r = run("tlsrpt", "report", "--day", DAY, "--domain", "nothing.example", "--out", empty)
    ok(r.returncode == 0 and r.stdout == "" and "no TLS-RPT results for nothing.example" in
       r.stderr and not os.path.exists(empty),
       "--domain without results: exit 0, nothing written (no directory either)",
       f"{r.returncode} {r.stdout!r} {r.stderr!r}")
    r = run("tlsrpt", "report", "--day", "2026-12-06", "--out", empty)
    ok(r.returncode == 0 and r.stdout == "" and "no TLS-RPT results" in r.stderr and
       not os.path.exists(empty), "a day without results: exit 0, nothing written, said on stderr",
       f"{r.returncode} {r.stdout!r} {r.stderr!r}")
    for bad_day in ("2026-13-01", "2026-02-30", "05.12.2026", ""):
        r = run("tlsrpt", "report", "--day", bad_day, "--out", os.path.join(work, "x"))
        ok(r.returncode == 64 and r.stdout == "" and not os.path.exists(os.path.join(work, "x")),
           f"--day '{bad_day}': exit 64", f"{r.returncode} {r.stderr}")
    r = run("tlsrpt", "report", "--day", DAY)
    ok(r.returncode == 64, "no --out: exit 64", r.stderr)
    r = run("tlsrpt", "report", "--day", DAY, "--domain", "bad domain", "--out", work + "/x")
    ok(r.returncode == 64, "--domain not a domain name: exit 64", r.stderr)
    r = run("tlsrpt", "report", "--day", DAY, "--out", work + "/x",
            conf="tlsrpt-contact = tlsrpt@reports.sender.example\n")
    ok(r.returncode == 78 and "tlsrpt-organization" in r.stderr,
       "tlsrpt-organization unset: exit 78", r.stderr)
    r = run("tlsrpt", "report", "--day", DAY, "--out", work + "/x",
            conf=CONF + "tlsrpt-submitter = not a host\n")
    ok(r.returncode == 78 and "tlsrpt-submitter" in r.stderr, "a bad tlsrpt-submitter: exit 78",
       r.stderr)
    r = run("tlsrpt", "report", "--day", DAY, "--out", work + "/sub",
            conf=CONF + "tlsrpt-submitter = mta.sender.example\n")
    ok(r.returncode == 0 and all(os.path.basename(x).startswith("mta.sender.example!")
                                 for x in r.stdout.splitlines()) and
       len(r.stdout.splitlines()) == 3, "tlsrpt-submitter names the sender in the file names",
       r.stdout + r.stderr)

    broken = os.path.join(work, "broken")
    os.makedirs(broken)
    with open(os.path.join(broken, "tlsrpt.sqlite"), "wb") as f:
        f.write(b"not a database" * 100)
    r = run("tlsrpt", "report", "--day", DAY, "--out", work + "/x", state=broken)
    ok(r.returncode == 75, "an unusable store: exit 75", f"{r.returncode} {r.stderr}")
    nostate = os.path.join(work, "never")
    r = run("tlsrpt", "report", "--day", DAY, "--out", work + "/x", state=nostate)
    ok(r.returncode == 0 and r.stdout == "" and not os.path.exists(nostate),
       "no state directory: nothing recorded, exit 0, nothing created", r.stderr)

    # mxtls_tlsrpt_prune(): keeping 1 day on 2026-12-05 drops 2026-12-04 only.
    r = subprocess.run([TOOL, "prune", statedir, "1"], capture_output=True, text=True,
                       check=False)
    r4 = run("tlsrpt", "report", "--day", "2026-12-04", "--out", os.path.join(work, "pruned"))
    r5 = run("tlsrpt", "report", "--day", DAY, "--out", os.path.join(work, "kept"))
    ok(r.returncode == 0 and r4.returncode == 0 and r4.stdout == "" and
       len(r5.stdout.splitlines()) == 3, "prune keeping 1 day: the day before is gone, the day kept",
       r.stderr + r4.stdout + r5.stdout)

    # The store as written by the library: WAL and schema version 1.
    db = sqlite3.connect(os.path.join(statedir, "tlsrpt.sqlite"))
    ok(db.execute("PRAGMA journal_mode").fetchone()[0] == "wal" and
       db.execute("PRAGMA user_version").fetchone()[0] == 2, "store: WAL, user_version 2")
    db.close()
finally:
    shutil.rmtree(work, ignore_errors=True)

print(f"1..{n}")
sys.exit(1 if failed else 0)
