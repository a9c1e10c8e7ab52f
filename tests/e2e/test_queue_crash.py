#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Crash safety of the queue (issue 15): at least 2 000 messages are submitted with `mxtls
# sendmail` by several submitters at once, to DANE, MTA-STS and plain domains of the test
# network, while `mxtls queue run` (the daemon) is killed with SIGKILL at random moments (at
# least 10 times) and started again.  Then the daemon runs until the queue is empty.
#
# Asserted: no message whose sendmail exited 0 is lost (every recipient's receiver has it, by
# its unique recipient and Message-ID); duplicates are only recipients that were in flight at a
# kill (the bound is below); nothing reached a DANE or MTA-STS receiver in cleartext or at a
# host the policy does not allow; the daemon never exited on its own; the queue is consistent
# afterwards (no body file left in STATE_DIR/queue/msg/, no index row).
#
# Run inside the network by run-with-dns.sh --tap --smtp (tests/e2e/meson.build); argument: the
# mxtls binary.  The random choices (messages, kill and restart delays) come from one seed,
# printed as a TAP comment; MXTLS_CRASH_SEED=N replays them (the interleaving with the
# daemon's own timing cannot be replayed exactly).  MXTLS_CRASH_MESSAGES changes the count
# (default 2000), MXTLS_CRASH_KILLS the least number of kills (default 10).
import email.parser
import email.policy
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import smtp_records

MXTLS = sys.argv[1]
SMTP_DIR = os.environ["MXTLS_TEST_SMTP_DIR"]
WORK = tempfile.mkdtemp(prefix="mxtls-e2e-crash.", dir=os.environ["MXTLS_TEST_WORKDIR"])
STATE = os.path.join(WORK, "state")
LOGS = os.path.join(WORK, "logs")
os.makedirs(LOGS)
SMTP_TIMEOUT = 20
BASE = [MXTLS, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
        "--ca-file", os.environ["MXTLS_TEST_CA_FILE"], "--state-dir", STATE,
        "--connect-timeout", "3", "--smtp-timeout", str(SMTP_TIMEOUT)]

MESSAGES = int(os.environ.get("MXTLS_CRASH_MESSAGES", "2000"))
MIN_KILLS = int(os.environ.get("MXTLS_CRASH_KILLS", "10"))
SEED = int(os.environ.get("MXTLS_CRASH_SEED") or random.SystemRandom().randrange(1, 2**31))
SUBMITTERS = 4
# Jobs (one message's recipients in one domain) the daemon runs at a time.  Kept small so
# that the duplicate bound below says something.
CONCURRENCY = 10
# Most recipients of one message in one domain (one job): see make_messages().
RCPTS_PER_JOB = 2
# How long the daemon runs between a start and its SIGKILL, and stays down after it (the
# backlog that builds meanwhile makes the next start busy, so kills land on sessions).
ALIVE = (0.05, 2.5)
DOWN = (0.0, 1.5)
STARTUP_KILLS = 0.2
DRAIN_LIMIT = 300  # seconds for the queue to empty after the last submission

# domain -> (class, the receivers that may hold its mail).  DANE and MTA-STS mail must arrive
# over TLS at these hosts only; "plain" is opportunistic (notls.plain.test is cleartext).
DOMAINS = {
    "dane-ee.mail.test": ("dane", {"mx1.dane-ee.mail.test"}),
    "dane-ta.mail.test": ("dane", {"mx1.dane-ta.mail.test"}),
    "implicit.mail.test": ("dane", {"implicit.mail.test"}),
    "danests.sts.test": ("dane", {"mx1.danests.sts.test"}),
    "enforce.sts.test": ("sts", {"mx1.enforce.sts.test"}),
    "stswild.sts.test": ("sts", {"mx1.stswild.sts.test"}),
    "plain.test": ("plain", {"mx1.plain.test"}),
    "notls.plain.test": ("plain", {"mx1.notls.plain.test"}),
    "none.sts.test": ("plain", {"mx1.none.sts.test"}),
}

results = []


def check(ok, what, diag=""):
    results.append((bool(ok), what, diag))


def note(text):
    print("# " + text, flush=True)


def make_messages(rng, count):
    """count message specs: (number, recipients, text).  70 % one recipient, 20 % two in
    different domains (two jobs), 10 % two in the same domain (one job, one transaction)."""
    doms = sorted(DOMAINS)
    out = []
    for i in range(count):
        r = rng.random()
        if r < 0.7:
            ds = [rng.choice(doms)]
        elif r < 0.9:
            ds = rng.sample(doms, 2)
        else:
            ds = [rng.choice(doms)] * 2
        rcpts = ["m%05d.%d@%s" % (i, k, d) for k, d in enumerate(ds)]
        mid = "crash-%05d.%d@e2e.test" % (i, SEED)
        body = "".join("line %d of message %d\n" % (n, i) for n in range(rng.randrange(1, 60)))
        text = ("From: Sender <sender@e2e.test>\nTo: %s\nSubject: crash test %05d\n"
                "Message-ID: <%s>\n\n%s" % (", ".join(rcpts), i, mid, body))
        out.append((i, rcpts, mid, text))
    return out


class Daemon:
    """The daemon's incarnations: each one's start, end, how it ended, and its log."""

    def __init__(self):
        self.proc = None
        self.incarnations = []  # dicts: start, end, how ("kill", "term", "exit N"), log

    def start(self):
        n = len(self.incarnations)
        log = os.path.join(LOGS, "daemon.%03d.log" % n)
        f = open(log, "wb")
        self.proc = subprocess.Popen(
            BASE + ["-v", "queue", "run", "--retry-min", "1", "--retry-max", "4",
                    "--concurrency", str(CONCURRENCY), "--helo", "client.e2e.test",
                    "--shutdown-timeout", "30"],
            stdout=f, stderr=subprocess.STDOUT)
        f.close()
        self.incarnations.append({"start": time.time(), "end": None, "how": None, "log": log,
                                  "pid": self.proc.pid})

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL; returns False when the daemon had already exited on its own."""
        inc = self.incarnations[-1]
        if self.proc.poll() is not None:
            inc["end"], inc["how"] = time.time(), "exit %d" % self.proc.returncode
            return False
        self.proc.send_signal(signal.SIGKILL)
        inc["end"] = time.time()
        self.proc.wait()
        inc["how"] = "kill"
        return True

    def wait_started(self, limit=30):
        """Until the daemon has logged queue-daemon-started: before that its SIGTERM handler
        is not installed yet, and SIGTERM ends it by the default action (nothing is lost,
        but it is not the clean stop the test asks for)."""
        end = time.time() + limit
        while time.time() < end and self.proc.poll() is None:
            with open(self.incarnations[-1]["log"], errors="replace") as f:
                if "queue-daemon-started" in f.read():
                    return True
            time.sleep(0.05)
        return False

    def term(self):
        """SIGTERM, then the exit status (None: it did not stop in time, killed)."""
        inc = self.incarnations[-1]
        self.wait_started()
        if self.proc.poll() is not None:
            inc["end"], inc["how"] = time.time(), "exit %d" % self.proc.returncode
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        inc["end"], inc["how"] = time.time(), "term" if rc == 0 else "term, exit %r" % rc
        return rc


def log_tail(path, n=8):
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-n:])


def queue_list():
    p = subprocess.run(BASE + ["queue", "list", "--json"], capture_output=True, timeout=60)
    if p.returncode != 0:
        return None, p.stderr.decode(errors="replace")
    try:
        return json.loads(p.stdout)["messages"], ""
    except (ValueError, KeyError):
        return None, p.stdout.decode(errors="replace")


def main():
    print("# seed %d (replay: MXTLS_CRASH_SEED=%d)" % (SEED, SEED), flush=True)
    msg_rng = random.Random(SEED)
    kill_rng = random.Random(SEED ^ 0x5EED)
    # Spares in case some submissions are turned away (exit 75): the goal is MESSAGES accepted.
    specs = make_messages(msg_rng, MESSAGES + 500)

    lock = threading.Lock()
    state = {"next": 0, "accepted": [], "tempfail": [], "failed": []}
    submit_done = threading.Event()

    def submitter():
        while True:
            with lock:
                if len(state["accepted"]) >= MESSAGES or state["next"] >= len(specs):
                    return
                spec = specs[state["next"]]
                state["next"] += 1
            i, rcpts, mid, text = spec
            p = subprocess.run(BASE + ["sendmail", "-i", "-f", "sender@e2e.test", "--"] + rcpts,
                               input=text.encode(), capture_output=True, timeout=120)
            with lock:
                if p.returncode == 0:
                    state["accepted"].append(spec)
                elif p.returncode == 75:
                    state["tempfail"].append((i, p.stderr.decode(errors="replace")))
                else:
                    state["failed"].append((i, p.returncode, p.stderr.decode(errors="replace")))

    daemon = Daemon()
    kills, early_exits = [], []
    t0 = time.time()
    daemon.start()
    threads = [threading.Thread(target=submitter) for _ in range(SUBMITTERS)]
    for t in threads:
        t.start()
    waiter = threading.Thread(target=lambda: ([t.join() for t in threads], submit_done.set()))
    waiter.start()

    # The killer: until submission is over and at least MIN_KILLS kills were made.  A share
    # STARTUP_KILLS of the kills is timed from the exec (it may land while the daemon opens
    # the queue and removes orphans); the others from its "queue-daemon-started", so that a
    # slow build (ASan) is still killed while it delivers, not only while it starts.
    while not (submit_done.is_set() and len(kills) >= MIN_KILLS):
        if kill_rng.random() >= STARTUP_KILLS:
            daemon.wait_started()
        time.sleep(kill_rng.uniform(*ALIVE))
        if daemon.kill():
            kills.append(daemon.incarnations[-1]["end"])
        else:
            early_exits.append((daemon.incarnations[-1]["how"],
                                log_tail(daemon.incarnations[-1]["log"])))
        time.sleep(kill_rng.uniform(*DOWN))
        daemon.start()
    waiter.join()
    t_submit = time.time() - t0
    accepted = state["accepted"]
    note("submitted: %d accepted, %d turned away (75), %d failed, in %.1f s; %d kills"
         % (len(accepted), len(state["tempfail"]), len(state["failed"]), t_submit, len(kills)))

    # A clean stop of the last killed-and-restarted daemon (SIGTERM: exit 0), then a fresh one
    # that drains the queue.  The fresh start is also the one that finds the spool alone
    # (no submitter holds it) and removes the body files of messages a kill left settled but
    # not yet unlinked (delivery_queue.c, clean_entry).
    rc = daemon.term()
    check(rc == 0, "the daemon stops on SIGTERM with exit 0", "exit %r; log: %s"
          % (rc, log_tail(daemon.incarnations[-1]["log"])))
    daemon.start()
    deadline = time.time() + DRAIN_LIMIT
    left, why = None, ""
    while time.time() < deadline:
        left, why = queue_list()
        if left == []:
            break
        if not daemon.alive():
            early_exits.append((daemon.incarnations[-1]["how"] or "exit %r" % daemon.proc.poll(),
                                log_tail(daemon.incarnations[-1]["log"])))
            daemon.start()
        time.sleep(0.5)
    t_total = time.time() - t0
    check(left == [], "the queue is empty within %d s after the last submission" % DRAIN_LIMIT,
          "left: %s %s" % (json.dumps(left)[:600] if left is not None else "-", why))
    rc = daemon.term()
    check(rc == 0, "the draining daemon stops on SIGTERM with exit 0",
          "exit %r; log: %s" % (rc, log_tail(daemon.incarnations[-1]["log"])))

    check(len(accepted) >= MESSAGES, "at least %d messages accepted by sendmail" % MESSAGES,
          "accepted %d" % len(accepted))
    check(state["failed"] == [], "no sendmail failed (exit 0, or 75: try later)",
          "; ".join("message %d exit %d: %s" % f for f in state["failed"][:5]))
    check(len(kills) >= MIN_KILLS, "the daemon was killed with SIGKILL at least %d times"
          % MIN_KILLS, "kills %d" % len(kills))
    check(early_exits == [], "the daemon never exited on its own (no crash, no crash loop)",
          "\n".join("%s: %s" % e for e in early_exits[:3]))

    # What the receivers got: per recipient, the copies (time, record).
    records = [r for r in smtp_records.jsonl(SMTP_DIR, "received.jsonl")]
    copies = {}
    parser = email.parser.BytesParser(policy=email.policy.default)
    bad_ids, unknown = [], []
    want_mid = {}
    for i, rcpts, mid, _ in accepted:
        for r in rcpts:
            want_mid[r] = mid
    for _, rcpts, mid, _ in specs:
        for r in rcpts:
            want_mid.setdefault(r, mid)  # turned-away messages may still be known by id
    for rec in records:
        with open(rec["file"], "rb") as f:
            got_mid = str(parser.parse(f, headersonly=True).get("Message-ID", "")).strip("<>")
        for r in rec["rcpt_to"]:
            if r not in want_mid:
                unknown.append(r)
                continue
            if got_mid != want_mid[r]:
                bad_ids.append((r, got_mid))
            copies.setdefault(r, []).append(rec)
    check(unknown == [], "the receivers got mail for the test's recipients only",
          repr(unknown[:5]))
    check(bad_ids == [], "every copy holds its recipient's own message (Message-ID)",
          repr(bad_ids[:5]))

    expected = [r for _, rcpts, _, _ in accepted for r in rcpts]
    lost = [r for r in expected if r not in copies]
    check(lost == [], "0 messages lost: each of the %d recipients of the %d accepted messages "
          "received its message" % (len(expected), len(accepted)),
          "%d lost, e.g. %r" % (len(lost), lost[:8]))

    # Policy: DANE and MTA-STS mail only over TLS, only at the hosts the domain allows, and
    # never through the attacker (switched off here: a record from it is a bug in the setup).
    wrong = []
    for r, cs in copies.items():
        cls, hosts = DOMAINS[r.rsplit("@", 1)[1]]
        for c in cs:
            if c["host"] not in hosts or c["attacker"] or (cls != "plain" and not c["tls"]):
                wrong.append((r, c["host"], c["tls"], c["attacker"]))
    check(wrong == [], "nothing reached a DANE or MTA-STS receiver in cleartext, or a host "
          "the domain does not allow", repr(wrong[:5]))

    # Duplicates.  Why the bound: issue 15 asks that each recipient's result be committed
    # right after the server's reply, so that a crash re-sends only recipients in flight,
    # i.e. whose reply had not come yet.  A session has one transaction in flight at a time
    # (one message's recipients in one domain: at most RCPTS_PER_JOB here), and at most
    # CONCURRENCY (--concurrency) sessions run.  So each kill may re-send at most
    # CONCURRENCY * RCPTS_PER_JOB recipients, and a re-sent recipient's earlier copy arrived
    # shortly before a kill (within the rest of its session, bounded by the SMTP timeout),
    # with the next copy after it.  A daemon that commits later than that (once per session
    # for a batch of messages, or only after QUIT) re-sends messages whose reply it already
    # had; with batches the per-kill bound fails.
    dups = {r: sorted(c["time"] for c in cs) for r, cs in copies.items() if len(cs) > 1}
    ndup = sum(len(t) - 1 for t in dups.values())
    bound = len(kills) * CONCURRENCY * RCPTS_PER_JOB
    note("duplicates: %d copies beyond the first, %d recipients (%d kills, bound %d)"
         % (ndup, len(dups), len(kills), bound))
    check(ndup <= bound, "duplicates (%d) <= kills x concurrency x recipients per job (%d)"
          % (ndup, bound))
    per_kill = {}
    unexplained = []
    slack = 1.0  # the receiver may log a message a moment after the kill was made
    for r, times in dups.items():
        for t, t_next in zip(times, times[1:]):
            k = [k for k in kills if t - slack <= k < t_next and k - t <= SMTP_TIMEOUT + 10]
            if not k:
                unexplained.append((r, t - t0, t_next - t0))
                continue
            per_kill[k[0]] = per_kill.get(k[0], 0) + 1
    check(unexplained == [], "every re-sent recipient was in flight at a kill (its copy came "
          "just before a SIGKILL, the next one after it)",
          "; ".join("%s at %.2f s and %.2f s" % u for u in unexplained[:5]))
    worst = max(per_kill.values(), default=0)
    check(worst <= CONCURRENCY * RCPTS_PER_JOB, "no kill re-sent more than %d recipients"
          % (CONCURRENCY * RCPTS_PER_JOB), "worst %d" % worst)

    # The queue afterwards: nothing in the spool, nothing in the index.
    msg_dir = os.path.join(STATE, "queue", "msg")
    leftovers = sorted(os.listdir(msg_dir))
    check(leftovers == [], "no file left in STATE_DIR/queue/msg/", repr(leftovers[:5]))
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(STATE, "queue", "index.sqlite"),
                         uri=True)
    rows = (db.execute("SELECT COUNT(*) FROM messages").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM recipients").fetchone()[0])
    db.close()
    check(rows == (0, 0), "no row left in the index (messages, recipients)", repr(rows))

    # The daemon's own account: no result it could not record, no row or body it found
    # damaged, no sanitizer report.
    bad_events = []
    for inc in daemon.incarnations:
        with open(inc["log"], errors="replace") as f:
            for line in f:
                if any(w in line for w in ("queue-result-lost", "queue-row-damaged",
                                           "queue-body-damaged", "AddressSanitizer",
                                           "runtime error:", "LeakSanitizer")):
                    bad_events.append("%s: %s" % (os.path.basename(inc["log"]), line.strip()))
    check(bad_events == [], "no daemon reported a lost result, damage or a sanitizer error",
          "\n".join(bad_events[:5]))

    note("figures: %d messages (%d recipients) in %.1f s, %d SIGKILLs, %d daemon starts, "
         "%d duplicates, submission %.1f s" % (len(accepted), len(expected), t_total,
                                                len(kills), len(daemon.incarnations), ndup,
                                                t_submit))
    print("1..%d" % len(results))
    for i, (ok, what, diag) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
        if not ok and diag:
            for line in diag.splitlines()[:8]:
                print("# " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
