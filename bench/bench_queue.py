# SPDX-License-Identifier: MIT
"""bench-queue: the delivery queue end to end, mxtls against Debian's Postfix (bench/README.md).

    run-with-dns.sh --smtp --pre bench_queue_zones.sh /usr/bin/python3 bench_queue.py MXTLS

N messages (MXTLS_BENCH_QUEUE_MESSAGES, default 10 000), one recipient each, round robin over
the 100 destinations of bench_queue_zones.sh (34 DANE, 33 MTA-STS enforce, 33 opportunistic),
are submitted through the sendmail interface by SUBMITTERS parallel submitters while the
delivery daemon runs, to the test network's receivers (tests/net/smtp-receiver.py, which
records the arrival time of each message):

  mxtls     `mxtls sendmail`, `mxtls queue run` (default settings)
  Postfix   Debian's sendmail(1)/postdrop, a private Postfix 3.7 (tests/net/postfix-up.sh): its
            own DANE (smtp_tls_security_level = dane, DNSSEC through resolver-up.sh's unbound)
            and `mxtls policyd` as smtp_tls_policy_maps for MTA-STS

Figures per MTA: durable submissions/s (a submission counts when sendmail has exited 0: the
message is on disk), end-to-end deliveries/s (N / from the first submission to the last
arrival) and the p50/p99 latency from a message's submission (sendmail's exit) to its arrival.
Then a drain: N more messages queued while the MTA is stopped, one start, and the delivery
rate from the first arrival to the last (no submitter competes for the CPU then; start-up is
left out).  Then the ratios mxtls / Postfix.

Last, the daemon's memory with 100 000 messages queued (MXTLS_BENCH_QUEUE_BACKLOG): the index
rows and body files are written directly (sendmail at its durable rate would take longer than
the benchmark), to the deferring destination refused.test (lame delegation: SERVFAIL in about
10 ms), all due at once; the daemon runs for BACKLOG_SECONDS and its VmHWM is read from /proc.
"""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time

MXTLS = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
NET = os.path.join(os.path.dirname(HERE), "tests", "net")
NETNS = os.environ["MXTLS_TEST_NETNS"]
WORK = os.environ["MXTLS_TEST_WORKDIR"]
SMTP_DIR = os.environ["MXTLS_TEST_SMTP_DIR"]
CA = os.environ["MXTLS_TEST_CA_FILE"]
UNBOUND = os.environ["MXTLS_TEST_UNBOUND_CONF"]
N = int(os.environ.get("MXTLS_BENCH_QUEUE_MESSAGES", "10000"))
BACKLOG = int(os.environ.get("MXTLS_BENCH_QUEUE_BACKLOG", "100000"))
BACKLOG_SECONDS = float(os.environ.get("MXTLS_BENCH_QUEUE_BACKLOG_SECONDS", "30"))
SUBMITTERS = int(os.environ.get("MXTLS_BENCH_QUEUE_SUBMITTERS", "8"))
WAIT_LIMIT = 1800
PF_ETC = os.path.join(WORK, "postfix", "etc")
POLICYD_PORT = 8461

DOMAINS = (["d%02d.qd.mail.test" % i for i in range(34)] +
           ["qs%02d.sts.test" % i for i in range(33)] +
           ["d%02d.qp.plain.test" % i for i in range(33)])


def net(script, *args):
    subprocess.run(["bash", os.path.join(NET, script)] + list(args), check=True,
                   stdout=subprocess.DEVNULL)


def arrivals(prefix):
    """rcpt -> arrival time, for the recipients whose local part starts with prefix."""
    out = {}
    path = os.path.join(SMTP_DIR, "received.jsonl")
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            if prefix not in line:
                continue
            rec = json.loads(line)
            for r in rec["rcpt_to"]:
                if r.startswith(prefix):
                    out.setdefault(r, rec["time"])
    return out


def submit_all(cmd_for, prefix):
    """Submits N messages with SUBMITTERS threads; returns (t0, t_end, {rcpt: submitted_at},
    failures)."""
    lock = threading.Lock()
    nxt = [0]
    done, failed = {}, []

    def worker():
        while True:
            with lock:
                i = nxt[0]
                if i >= N:
                    return
                nxt[0] += 1
            rcpt = "%s%06d@%s" % (prefix, i, DOMAINS[i % len(DOMAINS)])
            msg = ("From: bench@bench.test\nTo: %s\nSubject: bench %d\n"
                   "Message-ID: <%s%06d@bench.test>\n\nbench message %d\n"
                   % (rcpt, i, prefix, i, i)).encode()
            p = subprocess.run(cmd_for(rcpt), input=msg, capture_output=True)
            t = time.time()
            with lock:
                if p.returncode == 0:
                    done[rcpt] = t
                else:
                    failed.append((rcpt, p.returncode, p.stderr[-300:]))

    t0 = time.time()
    threads = [threading.Thread(target=worker) for _ in range(SUBMITTERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return t0, time.time(), done, failed


def wait_arrivals(prefix, want):
    deadline = time.time() + WAIT_LIMIT
    got = {}
    while time.time() < deadline:
        got = arrivals(prefix)
        if len(got) >= want:
            break
        time.sleep(1)
    return got


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")


def figures(name, t0, t_sub, done, failed, got):
    lat = [got[r] - done[r] for r in done if r in got]
    last = max(got.values()) if got else t0
    f = {
        "submitted": len(done), "failed": len(failed), "delivered": len(got),
        "submit_s": t_sub - t0, "submit_rate": len(done) / (t_sub - t0),
        "e2e_s": last - t0, "deliver_rate": len(got) / (last - t0) if got else 0.0,
        "p50": pct(lat, 50), "p99": pct(lat, 99),
    }
    print("%-8s submitted %d (%d failed) in %.1f s: %.1f durable submissions/s" %
          (name, f["submitted"], f["failed"], f["submit_s"], f["submit_rate"]))
    print("%-8s delivered %d of %d in %.1f s end to end: %.1f deliveries/s; submit-to-delivered "
          "p50 %.3f s, p99 %.3f s" % (name, f["delivered"], f["submitted"], f["e2e_s"],
                                       f["deliver_rate"], f["p50"], f["p99"]))
    for r, rc, err in failed[:3]:
        print("%-8s failed: %s exit %d %s" % (name, r, rc, err.decode(errors="replace").strip()))
    sys.stdout.flush()
    return f


def drain_figures(name, t1, got, queued):
    """The rate from the first arrival to the last: the start-up (Postfix's "postfix check",
    the daemon's exec) is left out of both."""
    if len(got) < 2:
        return 0.0
    first, last = min(got.values()), max(got.values())
    rate = (len(got) - 1) / (last - first)
    print("%-8s drain: %d queued while stopped, %d delivered, first %.1f s after the start, "
          "last %.1f s: %.1f deliveries/s" % (name, queued, len(got), first - t1, last - t1,
                                              rate), flush=True)
    return rate


def vm(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def bench_mxtls():
    state = os.path.join(WORK, "bench-mxtls")
    base = [MXTLS, "--unbound-conf", UNBOUND, "--ca-file", CA, "--state-dir", state,
            "--connect-timeout", "3", "--smtp-timeout", "20"]
    log = open(os.path.join(WORK, "bench-mxtls-daemon.log"), "wb")
    d = subprocess.Popen(base + ["queue", "run", "--retry-min", "5", "--retry-max", "30",
                                 "--helo", "client.bench.test"], stdout=log, stderr=log)
    time.sleep(0.5)
    t0, t_sub, done, failed = submit_all(
        lambda r: base + ["sendmail", "-i", "-f", "bench@bench.test", "--", r], "x")
    got = wait_arrivals("x", len(done))
    hwm = vm(d.pid, "VmHWM")
    d.send_signal(signal.SIGTERM)
    d.wait(timeout=60)
    f = figures("mxtls", t0, t_sub, done, failed, got)
    print("mxtls    daemon VmHWM during the run: %.1f MB" % (hwm / 1024.0))
    # Drain: the same number queued while the daemon is stopped, then one start.
    _, _, done2, _ = submit_all(
        lambda r: base + ["sendmail", "-i", "-f", "bench@bench.test", "--", r], "y")
    t1 = time.time()
    d = subprocess.Popen(base + ["queue", "run", "--retry-min", "5", "--retry-max", "30",
                                 "--helo", "client.bench.test"], stdout=log, stderr=log)
    got2 = wait_arrivals("y", len(done2))
    d.send_signal(signal.SIGTERM)
    d.wait(timeout=60)
    f["drain_rate"] = drain_figures("mxtls", t1, got2, len(done2))
    return f


def bench_postfix():
    for tool in ("/usr/sbin/postfix", "/usr/sbin/unbound"):
        if not os.access(tool, os.X_OK):
            print("postfix  skipped: %s not installed" % tool)
            return None
    net("resolver-up.sh", NETNS, WORK)
    state = os.path.join(WORK, "bench-policyd")
    os.makedirs(state, exist_ok=True)
    plog_path = os.path.join(WORK, "bench-policyd.log")
    plog = open(plog_path, "wb")
    policyd = subprocess.Popen([MXTLS, "--unbound-conf", UNBOUND, "--ca-file", CA,
                                "--state-dir", state, "policyd", "--listen",
                                "127.0.0.1:%d" % POLICYD_PORT],
                               stdin=subprocess.DEVNULL, stdout=plog, stderr=plog)
    try:
        deadline = time.time() + 15
        while time.time() < deadline:
            with open(plog_path, "rb") as f:
                if re.search(rb"\bevent=ready\b", f.read()):
                    break
            time.sleep(0.05)
        # The same limits as mxtls's defaults: 100 sessions in all, 20 per destination.
        env = dict(os.environ, MXTLS_TEST_POSTFIX_MAIN_CF_EXTRA=(
            "default_process_limit = 100\n"
            "default_destination_concurrency_limit = 20\n"))
        subprocess.run(["bash", os.path.join(NET, "postfix-up.sh"), NETNS, WORK,
                        "socketmap:inet:127.0.0.1:%d:postfix" % POLICYD_PORT], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        pf_sendmail = lambda r: ["/usr/sbin/sendmail", "-C", PF_ETC, "-i", "-f",
                                 "bench@bench.test", r]
        t0, t_sub, done, failed = submit_all(pf_sendmail, "p")
        got = wait_arrivals("p", len(done))
        f = figures("postfix", t0, t_sub, done, failed, got)
        # Drain: queued while Postfix is stopped (postdrop's maildrop files are durable;
        # pickup and cleanup then run in the measured span), then one start, as postfix-up.sh
        # starts it (in the namespace, with the test resolver).
        subprocess.run(["postfix", "-c", PF_ETC, "stop"], check=True, capture_output=True)
        _, _, done2, _ = submit_all(pf_sendmail, "q")
        t1 = time.time()
        subprocess.run(["ip", "netns", "exec", NETNS, "bash",
                        os.path.join(NET, "with-resolver.sh"), WORK, "postfix", "-c", PF_ETC,
                        "start"], check=True, capture_output=True)
        got2 = wait_arrivals("q", len(done2))
        f["drain_rate"] = drain_figures("postfix", t1, got2, len(done2))
        return f
    finally:
        net("postfix-down.sh", NETNS, WORK)
        policyd.send_signal(signal.SIGTERM)
        policyd.wait(timeout=30)


def bench_backlog():
    """VmHWM of the daemon with BACKLOG messages queued (see the module's docstring)."""
    state = os.path.join(WORK, "bench-backlog")
    base = [MXTLS, "--unbound-conf", UNBOUND, "--ca-file", CA, "--state-dir", state,
            "--connect-timeout", "3", "--smtp-timeout", "20"]
    # One real submission: it creates the spool and the index (schema and all) and gives the
    # body file the daemon reads, used for every other message.
    p = subprocess.run(base + ["sendmail", "-f", "bench@bench.test", "r0@refused.test"],
                       input=b"Subject: backlog\n\nx\n", capture_output=True)
    if p.returncode != 0:
        print("backlog  skipped: sendmail exit %d" % p.returncode)
        return None
    qdir = os.path.join(state, "queue")
    db = sqlite3.connect(os.path.join(qdir, "index.sqlite"))
    mid, size, queued = db.execute("SELECT id, size, queued_at FROM messages").fetchone()
    with open(os.path.join(qdir, "msg", mid), "rb") as f:
        body = f.read()
    t = time.time()
    rows = []
    for i in range(1, BACKLOG):
        nid = "%020X" % (0xB0000000000000000000 + i)
        with open(os.path.join(qdir, "msg", nid), "wb") as f:
            f.write(body)
        rows.append((nid, i))
    with db:
        db.executemany("INSERT INTO messages (id, sender, size, queued_at) VALUES "
                       "(?, 'bench@bench.test', %d, %d)" % (size, queued), [(r[0],) for r in rows])
        db.executemany("INSERT INTO recipients (message_id, seq, recipient, state, next_attempt)"
                       " VALUES (?, 0, ?, 'pending', %d)" % queued,
                       [(r[0], "r%d@refused.test" % r[1]) for r in rows])
    db.close()
    print("backlog  %d messages queued (to refused.test, all due) in %.1f s" %
          (BACKLOG, time.time() - t))
    log = open(os.path.join(WORK, "bench-backlog-daemon.log"), "wb")
    d = subprocess.Popen(base + ["queue", "run", "--retry-min", "600", "--retry-max", "600",
                                 "--helo", "client.bench.test"], stdout=log, stderr=log)
    t = time.time()
    rss_max = 0
    while time.time() - t < BACKLOG_SECONDS and d.poll() is None:
        rss_max = max(rss_max, vm(d.pid, "VmRSS"))
        time.sleep(0.2)
    hwm = vm(d.pid, "VmHWM")
    d.send_signal(signal.SIGTERM)
    rc = d.wait(timeout=60)
    db = sqlite3.connect(os.path.join(qdir, "index.sqlite"))
    tried = db.execute("SELECT COUNT(*) FROM recipients WHERE attempts > 0").fetchone()[0]
    db.close()
    print("backlog  daemon over %.0f s: %d of %d recipients attempted, VmHWM %.1f MB "
          "(goal < 50 MB), exit %d" % (BACKLOG_SECONDS, tried, BACKLOG, hwm / 1024.0, rc))
    return hwm


def main():
    print("bench-queue: %d messages to %d destinations (%d submitters), backlog %d" %
          (N, len(DOMAINS), SUBMITTERS, BACKLOG), flush=True)
    policy = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "bench_queue_policy.py"),
                               os.path.join(WORK, "pki"), "127.0.44.9"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        if policy.stdout.readline().strip() != b"ready":
            print("the policy host did not start")
            return 1
        m = bench_mxtls()
        pf = bench_postfix()
        if m is not None and pf is not None and pf["deliver_rate"] > 0:
            print("ratio mxtls/postfix: durable submissions/s %.2f, end-to-end deliveries/s "
                  "%.2f, drain deliveries/s %.2f (goal >= 1.5), p99 latency %.2f (lower is "
                  "better)" %
                  (m["submit_rate"] / pf["submit_rate"], m["deliver_rate"] / pf["deliver_rate"],
                   m["drain_rate"] / pf["drain_rate"] if pf["drain_rate"] else float("nan"),
                   m["p99"] / pf["p99"]))
        bench_backlog()
    finally:
        policy.send_signal(signal.SIGTERM)
        policy.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
