#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`mxtls check --connect --tlsrpt-record` end to end on the test network (TAP).

Run by run-with-dns.sh --tap --smtp (tests/e2e/meson.build); argument: the mxtls binary.  Each
probe of `check --connect` is recorded through the public API (mxtls_decision_probe2() and
mxtls_tlsrpt_record_decision() / mxtls_tlsrpt_record_skipped(), include/mxtls/) as a delivery
records its sessions (RFC 8460 §4.2, delivery/deliver.c): `mxtls tlsrpt report` then writes
one report per policy domain whose policy type, policy domain, session counts and failure
result types are asserted exactly.  Without --tlsrpt-record nothing is recorded; without a
state directory the option is a configuration error (78).
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

MXTLS = sys.argv[1]
WORK = os.environ["MXTLS_TEST_WORKDIR"]
DAY = time.strftime("%Y-%m-%d", time.gmtime())

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


def new_state():
    state = tempfile.mkdtemp(prefix="mxtls-e2e-check-tlsrpt.", dir=WORK)
    conf = os.path.join(state, "mxtls.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write("tlsrpt-organization = mxtls e2e\ntlsrpt-contact = tlsrpt@sender.test\n")
    # The directory the results go to does not exist yet: --tlsrpt-record creates it.
    base = [MXTLS, "--config", conf, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
            "--ca-file", os.environ["MXTLS_TEST_CA_FILE"],
            "--state-dir", os.path.join(state, "state"),
            "--connect-timeout", "3", "--smtp-timeout", "20"]
    return state, base


def run(cmd):
    return subprocess.run(cmd, capture_output=True, timeout=180)


# Domain -> the exit status of check --connect.
DOMAINS = {
    "dane-ee.mail.test": 0,       # DANE, the TLSA record matches
    "stsbadcert.sts.test": 1,     # enforce: mx1 untrusted, mx2 good
    "testing.sts.test": 0,        # testing: mx1 name mismatch (reported, not enforced)
    "stsmismatch.sts.test": 0,    # enforce, the only MX not in the policy: excluded (D10)
    "notls.plain.test": 0,        # no policy, no STARTTLS
    "notfound.sts.test": 0,       # the policy fetch gets 404: a discovery failure
    "tlsafail.mail.test": 0,      # mx1's TLSA lookup fails (unreachable), mx2 opportunistic
}

# (Policy domain, policy type) -> (successes, failures, {result type: count}, first policy
# string or None, mx-host list or None: not checked).
WANT = {
    ("mx1.dane-ee.mail.test", "tlsa"): (1, 0, {}, "3 1 1 ", ["mx1.dane-ee.mail.test"]),
    ("stsbadcert.sts.test", "sts"): (1, 1, {"certificate-not-trusted": 1}, "version: STSv1",
                                     ["mx1.stsbadcert.sts.test", "mx2.stsbadcert.sts.test"]),
    ("testing.sts.test", "sts"): (1, 1, {"certificate-host-mismatch": 1}, "version: STSv1",
                                  None),
    ("stsmismatch.sts.test", "sts"): (0, 1, {"validation-failure": 1}, "version: STSv1",
                                      ["mx9.stsmismatch.sts.test"]),
    ("notls.plain.test", "no-policy-found"): (0, 1, {"starttls-not-supported": 1}, None, None),
    ("notfound.sts.test", "sts"): (0, 1, {"sts-policy-fetch-error": 1}, None, None),
    ("notfound.sts.test", "no-policy-found"): (1, 0, {}, None, None),
    ("mx1.tlsafail.mail.test", "tlsa"): (0, 1, {"dnssec-invalid": 1}, None,
                                         ["mx1.tlsafail.mail.test"]),
    ("tlsafail.mail.test", "no-policy-found"): (1, 0, {}, None, None),
}


def reports(base, out):
    p = run(base + ["tlsrpt", "report", "--day", DAY, "--out", out])
    got = {}
    for path in p.stdout.decode().split():
        with open(path, "rb") as f:
            rep = json.loads(gzip.decompress(f.read()))
        for pol in rep["policies"]:
            key = (pol["policy"]["policy-domain"], pol["policy"]["policy-type"])
            got.setdefault(key, []).append(pol)
    return p, got


def main():
    if shutil.which(MXTLS) is None and not os.access(MXTLS, os.X_OK):
        print("1..0 # SKIP no mxtls binary")
        return 0

    # 1. Without --tlsrpt-record: nothing is recorded (no store is even created).
    state, base = new_state()
    for dom, rc_want in DOMAINS.items():
        p = run(base + ["--json", "check", "--connect", dom])
        ok(p.returncode == rc_want, f"check --connect {dom}: exit {rc_want}",
           f"got {p.returncode}: {p.stderr.decode(errors='replace')}")
    ok(not os.path.exists(os.path.join(state, "state", "tlsrpt.sqlite")),
       "without --tlsrpt-record: no TLS-RPT store")
    p, got = reports(base, os.path.join(state, "out"))
    ok(p.returncode == 0 and got == {}, "without --tlsrpt-record: tlsrpt report writes nothing",
       f"{p.returncode} {got} {p.stderr.decode(errors='replace')}")

    # 2. With it: one session per probe that reached a verdict, D10 for the excluded host.
    state, base = new_state()
    for dom, rc_want in DOMAINS.items():
        p = run(base + ["--json", "check", "--connect", "--tlsrpt-record", dom])
        ok(p.returncode == rc_want, f"check --connect --tlsrpt-record {dom}: exit {rc_want}",
           f"got {p.returncode}: {p.stderr.decode(errors='replace')}")
    p, got = reports(base, os.path.join(state, "out"))
    ok(p.returncode == 0, "tlsrpt report: exit 0", p.stderr.decode(errors="replace"))
    ok(sorted(got) == sorted(WANT), f"one policy entry per policy domain and type: {sorted(WANT)}",
       repr(sorted(got)))
    for (dom, ptype), (succ, fail, types, first, mx) in WANT.items():
        pols = got.get((dom, ptype), [])
        if len(pols) != 1:
            ok(False, f"{dom}: one policy", json.dumps(pols, indent=1))
            continue
        pol = pols[0]
        s = pol["summary"]
        by_type = {}
        for fd in pol.get("failure-details", []):
            by_type[fd["result-type"]] = by_type.get(fd["result-type"], 0) + \
                fd["failed-session-count"]
        strings = pol["policy"].get("policy-string", [])
        ok(s["total-successful-session-count"] == succ and
           s["total-failure-session-count"] == fail and by_type == types,
           f"{dom}: {ptype}, {succ} successful, {fail} failed {types}",
           json.dumps(pol, indent=1))
        ok((first is None and strings == []) or
           (first is not None and strings != [] and strings[0].startswith(first)),
           f"{dom}: policy strings " + (f"start with {first!r}" if first else "none"),
           json.dumps(strings))
        if mx is not None:
            ok(pol["policy"].get("mx-host") == mx, f"{dom}: mx-host {mx}",
               json.dumps(pol["policy"]))
    # The failure details carry what the probe saw (RFC 8460 §4.4).
    fds = got.get(("stsbadcert.sts.test", "sts"), [{}])[0].get("failure-details", [])
    ok(len(fds) == 1 and fds[0].get("receiving-mx-hostname") == "mx1.stsbadcert.sts.test" and
       fds[0].get("receiving-ip") == "127.0.10.140" and fds[0].get("sending-mta-ip"),
       "stsbadcert: the failure names mx1, its address and ours", json.dumps(fds, indent=1))
    fds = got.get(("notls.plain.test", "no-policy-found"), [{}])[0].get("failure-details", [])
    ok(len(fds) == 1 and fds[0].get("receiving-ip") == "127.0.25.21" and
       fds[0].get("receiving-mx-helo"),
       "notls: the failure has the receiver's address and helo", json.dumps(fds, indent=1))

    # 3. --tlsrpt-record needs --connect (64), and a state directory (78): an unprivileged
    # user without HOME has no default one.
    p = run(base + ["check", "--tlsrpt-record", "dane-ee.mail.test"])
    ok(p.returncode == 64, "--tlsrpt-record without --connect: exit 64", p.returncode)
    if os.geteuid() == 0 and shutil.which("setpriv"):
        p = subprocess.run(["env", "-i", "setpriv", "--reuid", "65534", "--regid", "65534",
                            "--clear-groups", MXTLS, "--config", "/dev/null", "check",
                            "--connect", "--tlsrpt-record", "dane-ee.mail.test"],
                           capture_output=True, timeout=60)
        err = p.stderr.decode(errors="replace")
        ok(p.returncode == 78 and "needs a state directory" in err,
           "--tlsrpt-record without a state directory: exit 78", f"{p.returncode} {err}")
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
