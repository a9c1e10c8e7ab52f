#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# End to end: TLS-RPT for a fleet (issue 20).  Two members (state directories q1 and q2, one
# shared-store) record sessions to stsbadcert.sts.test (each `mxtls send`: a failure at mx1,
# self-signed under MTA-STS enforce, and a success at mx2); the fleet sends ONE report for the
# day, whose counts are the sum of what each member recorded, also what a member recorded while
# Redis was down; it waits for every member's whole day, and after Redis came back empty (the
# members forgotten) for the deadline.
#
# Run by run-with-dns.sh --tap --smtp --tlsrpt --pre tlsrpt-zones.sh (tests/e2e/meson.build);
# argument: the mxtls binary.  The runs after the day use libfaketime (+1 day, +1 day 21 h).
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from redis_server import RedisServer  # noqa: E402
from tap import Tap  # noqa: E402

MXTLS = sys.argv[1]
RPT_DIR = os.environ["MXTLS_TEST_TLSRPT_DIR"]
TMP = tempfile.mkdtemp(prefix="mxtls-e2e-fleet-tlsrpt.", dir=os.environ["MXTLS_TEST_WORKDIR"])
REDIS_PORT = 6391
# The test needs its day to last a few minutes: close to midnight (UTC), it waits for the next.
if 86400 - int(time.time()) % 86400 < 180:
    time.sleep(86400 - int(time.time()) % 86400 + 5)
DAY = time.strftime("%Y-%m-%d", time.gmtime())
DOMAIN = "stsbadcert.sts.test"
ASAN_LATE = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
t = Tap()


def base(name):
    conf = os.path.join(TMP, name + ".conf")
    with open(conf, "w") as f:
        f.write("tlsrpt-organization = mxtls fleet e2e\ntlsrpt-contact = tlsrpt@sender.test\n"
                "shared-store = redis://127.0.0.1:%d/0\n" % REDIS_PORT)
    return [MXTLS, "--config", conf, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
            "--ca-file", os.environ["MXTLS_TEST_CA_FILE"], "--state-dir",
            os.path.join(TMP, name), "--connect-timeout", "3", "--smtp-timeout", "20"]


def run(args, later=None, timeout=120, stdin=None):
    """args; with later (NEXT_DAY, AFTER_DEADLINE) under libfaketime at that time."""
    env = dict(os.environ)
    if later:
        midnight = (int(time.time()) // 86400 + 1) * 86400
        at = midnight + (600 if later == NEXT_DAY else 21 * 3600)
        env.update(ASAN_LATE)
        args = ["faketime", "-f", "+%ds" % (at - int(time.time()))] + args
    return subprocess.run(args, capture_output=True, text=stdin is None, timeout=timeout,
                          env=env, input=stdin)


def send(member):
    msg = b"From: a@sender.test\r\nSubject: fleet tlsrpt\r\n\r\nhello\r\n"
    return run(base(member) + ["send", "--from", "a@sender.test", "--to", "u@" + DOMAIN],
               stdin=msg).returncode


def tlsrpt_send(member, later):
    return run(base(member) + ["tlsrpt", "send", "--day", DAY], later=later)


def posts():
    d = os.path.join(RPT_DIR, "received")
    if not os.path.isdir(d):
        return []
    out = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".body"):
            with open(os.path.join(d, name), "rb") as f:
                out.append(f.read())
    return out


def own_totals(member):
    """(successes, failures) of the member's own report of the day (`tlsrpt report`)."""
    out = os.path.join(TMP, "own-" + member)
    p = run(base(member) + ["tlsrpt", "report", "--day", DAY, "--out", out])
    succ = fail = 0
    for path in p.stdout.split():
        if DOMAIN not in path:
            continue
        with open(path, "rb") as f:
            doc = json.loads(gzip.decompress(f.read()))
        for pol in doc["policies"]:
            succ += pol["summary"]["total-successful-session-count"]
            fail += pol["summary"]["total-failure-session-count"]
    return succ, fail


# The runs after the day, as offsets from the real clock: 10 minutes after the next midnight
# (UTC), and 21 hours after it (past the 20 h wait for missing copies).
NEXT_DAY = "next day"
AFTER_DEADLINE = "after deadline"


def main():
    with open(os.path.join(RPT_DIR, "control"), "w") as f:
        f.write("/ok 200\n")
    redis = RedisServer(REDIS_PORT, TMP)
    redis_cli = redis.cli
    try:
        t.ok(redis.start(), "redis-server answers")
        # This Redis has held the fleet's state since before the day began (an hour before
        # midnight): the fleet knows its members (the restart below changes that).
        day_start = int(time.time()) // 86400 * 86400
        redis_cli("SET", "mxtls:tlsrpt-epoch", str(day_start - 3600))
        # 1. Sessions of the day at both members.
        codes = [send("q1"), send("q1"), send("q2")]
        t.ok(all(c == 0 for c in codes), "three messages sent (q1 twice, q2 once)", codes)
        # 2. During the day: each member gives its day so far; nobody sends.
        for m in ("q1", "q2"):
            p = tlsrpt_send(m, None)
            t.ok(p.returncode == 75 and "the day is not over" in p.stdout,
                 "%s: tlsrpt send during the day waits (exit 75)" % m, p.stdout + p.stderr)
        t.ok(posts() == [], "nothing sent during the day")
        t.ok(redis_cli("HLEN", "mxtls:tlsrpt-members") == "2",
             "both members are known to the fleet")
        # 3. The day over: q1 gives its whole day, and waits for q2's.
        p = tlsrpt_send("q1", NEXT_DAY)
        t.ok(p.returncode == 75 and "waiting for the day's results of" in p.stdout and
             "/q2" in p.stdout, "q1, the day over: waits for q2's whole day (exit 75)",
             p.stdout + p.stderr)
        t.ok(posts() == [], "nothing sent while q2's copy is missing")
        # 4. Redis down: q2 records one more session; its send run cannot give the day.
        redis.kill()
        t.ok(send("q2") == 0, "q2 sends a message with Redis down (recorded in its own file)")
        p = tlsrpt_send("q2", NEXT_DAY)
        t.ok(p.returncode == 75 and "shared store" in p.stderr,
             "q2, Redis down: tlsrpt send sends nothing (exit 75, the shared store named)",
             p.stdout + p.stderr)
        # 5. Redis back, empty: it forgot the members, so nobody sends before the deadline.
        t.ok(redis.start() and redis_cli("DBSIZE") == "0", "redis-server restarted empty")
        for m in ("q1", "q2"):
            p = tlsrpt_send(m, NEXT_DAY)
            t.ok(p.returncode == 75 and "began after the day did" in p.stdout,
                 "%s: Redis restarted during the day: waits for the deadline (exit 75)" % m,
                 p.stdout + p.stderr)
        t.ok(posts() == [], "nothing sent before the deadline")
        # 6. Past the deadline: the first member to run sends the fleet's report.
        p = tlsrpt_send("q1", AFTER_DEADLINE)
        t.ok(p.returncode == 0 and "%s sent" % DOMAIN in p.stdout,
             "q1, past the deadline: sends the fleet's report", p.stdout + p.stderr)
        got = posts()
        t.ok(len(got) == 1, "the collector received one report", "%d reports" % len(got))
        s1, f1 = own_totals("q1")
        s2, f2 = own_totals("q2")
        t.ok((s1, f1, s2, f2) == (2, 2, 2, 2),
             "each member's own results: q1 2+2, q2 2+2 (one before, one during the outage)",
             ((s1, f1), (s2, f2)))
        if got:
            doc = json.loads(gzip.decompress(got[0]))
            pols = [p for p in doc["policies"] if p["policy"]["policy-domain"] == DOMAIN]
            succ = sum(p["summary"]["total-successful-session-count"] for p in pols)
            fail = sum(p["summary"]["total-failure-session-count"] for p in pols)
            details = sum(d["failed-session-count"] for p in pols
                          for d in p.get("failure-details", []))
            t.ok(len(pols) == 1 and (succ, fail) == (s1 + s2, f1 + f2) and details == fail,
                 "the fleet's report: one sts policy, counts the sum of the members' (%d, %d)"
                 % (s1 + s2, f1 + f2), json.dumps(doc)[:1500])
            t.ok(doc["organization-name"] == "mxtls fleet e2e",
                 "the report is the fleet's organisation's")
        # 7. Later runs: q2 says who sent it; q1 sends nothing twice.
        p = tlsrpt_send("q2", AFTER_DEADLINE)
        t.ok(p.returncode == 0 and "sent by the fleet member" in p.stdout and "/q1" in p.stdout,
             "q2: skipped, sent by the fleet member q1", p.stdout + p.stderr)
        p = tlsrpt_send("q1", AFTER_DEADLINE)
        t.ok(p.returncode == 0 and "already-sent" in p.stdout, "q1 again: already sent",
             p.stdout + p.stderr)
        t.ok(len(posts()) == 1, "still one report at the collector")
    finally:
        redis.kill()


if __name__ == "__main__":
    try:
        main()
    except Exception:
        import traceback
        t.ok(False, "the test ran to its end", traceback.format_exc())
    sys.exit(t.plan())
