#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# End to end: the delivery daemon (`mxtls queue run`) on the test network's real receivers.
#
# Run inside the network by run-with-dns.sh --tap --smtp (tests/e2e/meson.build); argument: the
# mxtls binary.  Every state transition of a recipient is driven and checked from outside:
# accept (sendmail), deliver (DANE, MTA-STS, opportunistic), defer (a TLSA mismatch, the
# STARTTLS-stripping attacker), retry, hold, release, bounce (NXDOMAIN) and expire, each with
# what the receivers got (over TLS or not, by the attacker or not), `queue list --json`, and the
# DSNs parsed back with Python's email package.  DKIM signatures are checked with python3-dkim.
import email
import email.policy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import dkim_keys
import smtp_records

MXTLS = sys.argv[1]
SMTP_DIR = os.environ["MXTLS_TEST_SMTP_DIR"]
WORK = os.environ["MXTLS_TEST_WORKDIR"]
STATE = tempfile.mkdtemp(prefix="mxtls-e2e-queue.", dir=WORK)
BASE = [MXTLS, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
        "--ca-file", os.environ["MXTLS_TEST_CA_FILE"], "--state-dir", STATE,
        "--connect-timeout", "3", "--smtp-timeout", "20"]
# The sender's domain is deliverable (mx1.plain.test), so its DSNs arrive there.
SENDER = "owner@plain.test"
SELECTOR = "s1"
RUN = ["queue", "run", "--helo", "client.e2e.test", "--retry-min", "1", "--retry-max", "1"]
ATTACK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "net",
                      "smtp-attack.sh")

results = []


def check(ok, what, diag=""):
    results.append((bool(ok), what, diag))


def received(rcpt):
    return smtp_records.received(SMTP_DIR, rcpt)


def body_of(rec):
    with open(rec["file"], "rb") as f:
        return f.read()


def sendmail(rcpt, subject, extra=""):
    msg = ("From: Owner <%s>\nTo: %s\nSubject: %s\n%s\nbody of %s\n.leading dot\n"
           % (SENDER, rcpt, subject, extra, subject))
    p = subprocess.run(BASE + ["sendmail", "-f", SENDER, rcpt], input=msg.encode(),
                       capture_output=True, timeout=60)
    return p.returncode


def queue_list():
    p = subprocess.run(BASE + ["queue", "list", "--json"], capture_output=True, timeout=60)
    try:
        return json.loads(p.stdout)["messages"]
    except (ValueError, KeyError):
        return None


def rcpt_state(rcpt):
    for m in queue_list() or []:
        for r in m["recipients"]:
            if r["recipient"] == rcpt:
                return m["id"], r
    return None, None


def run_once(*extra):
    return subprocess.run(BASE + RUN + ["--once"] + list(extra), capture_output=True,
                          timeout=120)


def dsns(kind):
    """The DSNs the sender's receiver got: parsed (message, delivery-status groups)."""
    out = []
    for rec in received(SENDER):
        msg = email.message_from_bytes(body_of(rec), policy=email.policy.default)
        if msg.get_content_type() != "multipart/report":
            continue
        parts = list(msg.iter_parts())
        status = [p for p in parts if p.get_content_type() == "message/delivery-status"]
        if len(status) != 1:
            continue
        groups = [dict(g.items()) for g in status[0].get_payload()]
        if groups and any(g.get("Action") == kind for g in groups[1:]):
            out.append((rec, msg, groups))
    return out


def dkim_key(tmp):
    return dkim_keys.make_key(tmp)


def dkim_ok(raw, txt):
    return dkim_keys.verifies(raw, "plain.test", SELECTOR, txt)


def wait_for(pred, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def stop(d, log):
    """SIGTERM to the daemon d; its exit status (None: still running after 40 s, killed)."""
    d.send_signal(signal.SIGTERM)
    try:
        rc = d.wait(timeout=40)
    except subprocess.TimeoutExpired:
        d.kill()
        rc = None
    log.close()
    return rc


DISK_FULL_SH = r"""
set -u
out=$1 dir=$2; shift 2
mount --make-rprivate / && mount -t tmpfs -o size=2m tmpfs "$dir" || exit 99
i=0
while [ $i -lt 2000 ]; do
    printf 'From: owner@plain.test\nSubject: full %d\n\n%s\n' $i "$(printf '%0100d\n' 0 1 2 3 4 5 6 7 8 9)" |
        "$@" sendmail -f owner@plain.test "full$i@plain.test" 2>"$out.err"
    rc=$?
    [ $rc -ne 0 ] && break
    i=$((i + 1))
done
echo "queued=$i refused=$rc" >"$out"
"$@" queue run --once --helo client.e2e.test 2>"$out.run"
echo "run=$?" >>"$out"
"$@" --json queue list >"$out.list"
ls -A "$dir/st/queue/msg" >"$out.files"
"""


def disk_full(tmp):
    """Submissions fill a 2 MiB tmpfs (in a mount namespace of this test's own) until one is
    refused with 75; the daemon then delivers every queued message and records it, in the
    space kept free for that (delivery_spool.h's reserve)."""
    out = os.path.join(tmp, "diskfull")
    script = os.path.join(tmp, "diskfull.sh")
    with open(script, "w") as f:
        f.write(DISK_FULL_SH)
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    base = [a if a != STATE else os.path.join(mnt, "st") for a in BASE]
    p = subprocess.run(["unshare", "-m", "bash", script, out, mnt] + base, capture_output=True,
                       timeout=300)
    res = dict(kv.split("=") for kv in open(out).read().split()) if os.path.exists(out) else {}
    n = int(res.get("queued", "0"))
    err = open(out + ".err").read() if os.path.exists(out + ".err") else ""
    check(p.returncode == 0 and n >= 10 and res.get("refused") == "75" and
          "No space left on device" in err,
          "disk full: %d messages queued, the next refused with 75 (no space)" % n,
          repr(res) + err + p.stderr.decode(errors="replace"))
    listed = open(out + ".list").read() if os.path.exists(out + ".list") else ""
    files = open(out + ".files").read() if os.path.exists(out + ".files") else "?"
    check(res.get("run") == "0" and json.loads(listed or "{}").get("messages") == [] and
          files == "", "disk full: queue run --once delivers and records them all (queue empty)",
          repr(res) + listed[:300] + files[:300])
    got = [len(received("full%d@plain.test" % i)) for i in range(n)]
    check(n > 0 and got == [1] * n, "disk full: each of the %d queued messages received once" % n,
          repr(got))


UNRECORDABLE_SH = r"""
set -u
out=$1 st=$2; shift 2
for i in 0 1 2; do
    printf 'From: owner@plain.test\nSubject: unrec %d\n\nx\n' $i |
        "$@" --state-dir "$st" sendmail -f owner@plain.test "unrec$i@plain.test" || exit 98
done
# The index's WAL read-only for the daemon (a bind mount in this mount namespace): it can read
# what is due but cannot record a result.
mount --make-rprivate / &&
    mount --bind "$st/queue/index.sqlite-wal" "$st/queue/index.sqlite-wal" &&
    mount -o remount,ro,bind "$st/queue/index.sqlite-wal" || exit 99
"$@" --state-dir "$st" queue run --once --helo client.e2e.test 2>"$out.run1"
echo "run1=$?" >"$out"
umount "$st/queue/index.sqlite-wal"
"$@" --state-dir "$st" queue run --once --helo client.e2e.test 2>"$out.run2"
echo "run2=$?" >>"$out"
"$@" --state-dir "$st" --json queue list >"$out.list"
"""


def unrecordable(tmp):
    """The daemon delivers while its index refuses every write: the results are parked, tried
    again, then given up at the end of the --once run (exit 75, saying so), and the mail was
    sent once in that run, not again and again.  The next run (index writable) sends it once
    more (the duplicate a lost result costs) and records it."""
    out = os.path.join(tmp, "unrec")
    script = os.path.join(tmp, "unrec.sh")
    with open(script, "w") as f:
        f.write(UNRECORDABLE_SH)
    st = os.path.join(tmp, "unrec-state")
    base = [a for a in BASE]
    i = base.index("--state-dir")
    del base[i:i + 2]
    p = subprocess.run(["unshare", "-m", "bash", script, out, st] + base, capture_output=True,
                       timeout=240)
    res = dict(kv.split("=") for kv in open(out).read().split()) if os.path.exists(out) else {}
    run1 = open(out + ".run1").read() if os.path.exists(out + ".run1") else ""
    got = [len(received("unrec%d@plain.test" % i)) for i in range(3)]
    check(p.returncode == 0 and res.get("run1") == "75" and "could not be recorded" in run1 and
          "queue-result-not-recorded" in run1,
          "index refusing writes: --once exits 75, the results could not be recorded",
          repr(res) + run1[-600:] + p.stderr.decode(errors="replace"))
    listed = open(out + ".list").read() if os.path.exists(out + ".list") else ""
    check(res.get("run2") == "0" and got == [2, 2, 2] and
          json.loads(listed or "{}").get("messages") == [],
          "index refusing writes: sent once per run (no loop), recorded by the next run",
          repr(got) + repr(res) + listed[:200])


def unprivileged(pub):
    """uid 65534 submits with the daemon stopped; the daemon (root) picks it up and delivers.
    pub: a directory outside the test network's (which only root may enter), made searchable;
    it holds a copy of mxtls and libmxtls (the build tree may be in a 0700 checkout) and the
    state directory (0711, as doc/queue-security.md asks)."""
    os.chmod(pub, 0o755)
    bindir = os.path.join(pub, "bin")
    os.mkdir(bindir)
    shutil.copy(MXTLS, bindir)
    for line in subprocess.run(["ldd", MXTLS], capture_output=True, text=True).stdout.split("\n"):
        parts = line.split()
        if parts and parts[0].startswith("libmxtls") and len(parts) >= 3:
            shutil.copy(parts[2], bindir)
    for f in os.listdir(bindir):
        os.chmod(os.path.join(bindir, f), 0o755)
    state = os.path.join(pub, "state")
    os.mkdir(state, 0o711)
    os.chmod(state, 0o711)
    base = [a if a != STATE else state for a in BASE]
    # The queue exists (its owner made it) before anyone drops into it.
    check(subprocess.run(base + ["queue", "list"], capture_output=True).returncode == 0,
          "unprivileged: the queue's owner opens the queue")
    msg = "From: nobody\nTo: drop@plain.test\nSubject: dropped\n\nfrom uid 65534\n"
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env",
                        "LD_LIBRARY_PATH=" + bindir, os.path.join(bindir, "mxtls"),
                        "--config", "/dev/null", "--state-dir", state, "sendmail",
                        "drop@plain.test"], input=msg.encode(), capture_output=True, timeout=60)
    check(p.returncode == 0, "unprivileged: sendmail as uid 65534 exits 0 (daemon stopped)",
          p.stderr.decode(errors="replace"))
    p = subprocess.run(base + RUN + ["--once"], capture_output=True, timeout=120)
    got = received("drop@plain.test")
    ok = p.returncode == 0 and len(got) == 1 and got[0]["tls"]
    if ok:
        raw = body_of(got[0])
        ok = got[0]["mail_from"].startswith("nobody@") and b"from uid 65534" in raw
    check(ok, "unprivileged: the daemon picked it up and delivered it over TLS, from nobody@",
          repr(got) + p.stderr.decode(errors="replace")[-300:])


def main():
    tmp = tempfile.mkdtemp(dir=WORK)
    key, txt = dkim_key(tmp)
    dkim_opt = ["--dkim-key", "plain.test:%s:%s" % (SELECTOR, key)]

    # --- 1. one pass: deliver (DANE, MTA-STS, opportunistic), defer, bounce, TLS-Required: No
    cases = [("rcpt@dane-ee.mail.test", "dane"), ("rcpt@enforce.sts.test", "sts"),
             ("rcpt@plain.test", "plain"), ("rcpt@dane-mismatch.mail.test", "mismatch"),
             ("rcpt@nonexist.mail.test", "nxdomain"), ("rcpt@stsmismatch.sts.test", "stsmx"),
             ("rcpt@refused.test", "lame")]
    for rcpt, subj in cases:
        check(sendmail(rcpt, subj) == 0, "sendmail %s: exit 0" % rcpt)
    check(sendmail("optional@dane-mismatch.mail.test", "optional", "TLS-Required: No\n") == 0,
          "sendmail with TLS-Required: No: exit 0")
    q = queue_list()
    check(q is not None and len(q) == 8 and
          all(r["state"] == "pending" and r["attempts"] == 0 for m in q for r in m["recipients"]),
          "eight messages queued, every recipient pending, 0 attempts", repr(q))
    p = run_once(*dkim_opt)
    check(p.returncode == 0, "queue run --once: exit 0", p.stderr.decode(errors="replace")[-600:])
    for rcpt, host, via_tls in (("rcpt@dane-ee.mail.test", "mx1.dane-ee.mail.test", True),
                                ("rcpt@enforce.sts.test", "mx1.enforce.sts.test", True),
                                ("rcpt@plain.test", "mx1.plain.test", True)):
        got = received(rcpt)
        check(len(got) == 1 and got[0]["host"] == host and got[0]["tls"] == via_tls and
              not got[0]["attacker"] and got[0]["mail_from"] == SENDER,
              "%s delivered once to %s over TLS, MAIL FROM the sender" % (rcpt, host), repr(got))
        if got:
            raw = body_of(got[0])
            check(raw.startswith(b"DKIM-Signature:") and dkim_ok(raw, txt),
                  "%s: DKIM signature (d=plain.test) verified by python3-dkim" % rcpt,
                  raw[:300].decode(errors="replace"))
            changed = raw.replace(b"body of", b"Body of", 1)
            check(not dkim_ok(changed, txt), "%s: one changed body byte fails DKIM" % rcpt)
    check(received("rcpt@dane-mismatch.mail.test") == [],
          "TLSA mismatch: the receiver got nothing")
    _, r = rcpt_state("rcpt@dane-mismatch.mail.test")
    check(r is not None and r["state"] == "deferred" and r["attempts"] == 1 and
          r["result_type"] == "tlsa-invalid" and r["last_host"] == "mx1.dane-mismatch.mail.test"
          and r["last_reply"].startswith("451 4.7.5 "),
          "TLSA mismatch: deferred, 1 attempt, tlsa-invalid, last host, 451 4.7.5", repr(r))
    _, r = rcpt_state("rcpt@stsmismatch.sts.test")
    check(r is not None and r["state"] == "deferred" and r["attempts"] == 1 and
          r["result_type"] == "validation-failure" and received("rcpt@stsmismatch.sts.test") == []
          and r["last_reply"].startswith("451 4.7.5 "),
          "MTA-STS, MX not in the policy: deferred, validation-failure, never contacted", repr(r))
    _, r = rcpt_state("rcpt@refused.test")
    check(r is not None and r["state"] == "deferred" and r["attempts"] == 1 and
          r["last_reply"].startswith("451 4.4.3 "),
          "lame delegation (DNS failure): deferred, 451 4.4.3", repr(r))
    got = received("optional@dane-mismatch.mail.test")
    check(len(got) == 1 and got[0]["tls"] and not got[0]["attacker"],
          "TLS-Required: No: delivered despite the TLSA mismatch, still over TLS", repr(got))
    check(rcpt_state("rcpt@nonexist.mail.test") == (None, None),
          "NXDOMAIN: bounced, no longer queued")
    failed = dsns("failed")
    ok = len(failed) == 1
    if ok:
        rec, msg, groups = failed[0]
        per = groups[1]
        ok = (rec["mail_from"] == "<>" and msg["To"] == SENDER and
              per.get("Final-Recipient") == "rfc822; rcpt@nonexist.mail.test" and
              per.get("Status") == "5.1.2" and per.get("Action") == "failed" and
              groups[0].get("Reporting-MTA") == "dns; client.e2e.test")
    check(ok, "NXDOMAIN: one DSN to the sender from <>: failed, 5.1.2, Final-Recipient",
          repr(failed[:1] and (failed[0][0]["mail_from"], failed[0][1]["To"], failed[0][2])))

    # --- 2. hold, retry, release
    mid, _ = rcpt_state("rcpt@dane-mismatch.mail.test")
    check(subprocess.run(BASE + ["queue", "hold", mid]).returncode == 0, "queue hold: exit 0")
    time.sleep(1.2)
    run_once()
    _, r = rcpt_state("rcpt@dane-mismatch.mail.test")
    check(r is not None and r["state"] == "held" and r["attempts"] == 1,
          "held: the daemon leaves it alone (still 1 attempt)", repr(r))
    check(subprocess.run(BASE + ["queue", "release", mid]).returncode == 0,
          "queue release: exit 0")
    run_once()
    _, r = rcpt_state("rcpt@dane-mismatch.mail.test")
    check(r is not None and r["state"] == "deferred" and r["attempts"] == 2 and
          r["result_type"] == "tlsa-invalid",
          "released: retried and deferred again (2 attempts), never sent", repr(r))

    # --- 3. expire: a security failure becomes a bounce only when the lifetime ends
    time.sleep(1.2)
    p = run_once("--queue-lifetime", "1")
    check(all(rcpt_state(x) == (None, None) for x in (
        "rcpt@dane-mismatch.mail.test", "rcpt@stsmismatch.sts.test", "rcpt@refused.test")),
          "lifetime over: the deferred recipients (DANE, MTA-STS, DNS) leave the queue",
          p.stderr.decode(errors="replace")[-400:])
    check(received("rcpt@dane-mismatch.mail.test") == [],
          "lifetime over: the mail was never sent to the mismatching host")
    failed = [d for d in dsns("failed")
              if d[2][1].get("Final-Recipient") == "rfc822; rcpt@dane-mismatch.mail.test"]
    ok = len(failed) == 1
    if ok:
        per = failed[0][2][1]
        text = failed[0][1].get_body(("plain",)).get_content()
        ok = (per.get("Status") == "4.7.5" and per.get("Action") == "failed" and
              per.get("Remote-MTA") == "dns; mx1.dane-mismatch.mail.test" and
              per.get("X-Mxtls-TLS-Result") == "tlsa-invalid" and "TLSA" in text)
    check(ok, "expired: DSN failed, 4.7.5, Remote-MTA, the RFC 8460 result type in words",
          repr(failed[:1] and failed[0][2]))
    for rcpt, status in (("rcpt@stsmismatch.sts.test", "4.7.5"), ("rcpt@refused.test", "4.4.3")):
        got = [g for _, _, g in dsns("failed") if g[1].get("Final-Recipient") == "rfc822; " + rcpt]
        check(len(got) == 1 and got[0][1].get("Status") == status and
              received(rcpt) == [],
              "expired, %s: one DSN, Status %s, never delivered" % (rcpt, status), repr(got))

    # --- 4. the STARTTLS-stripping attacker: protected mail waits, then goes over TLS
    attacked = ["127.0.25.1", "127.0.10.101"]
    subprocess.run(["bash", ATTACK, WORK, "on"] + attacked, check=True, capture_output=True)
    for rcpt in ("attacked@dane-ee.mail.test", "attacked@enforce.sts.test"):
        check(sendmail(rcpt, "attacked") == 0, "sendmail %s during the attack: exit 0" % rcpt)
    log = open(os.path.join(tmp, "daemon.log"), "wb")
    d = subprocess.Popen(BASE + ["-v"] + RUN + ["--delay-warning", "1"], stderr=log)
    def retried_twice():
        rs = [rcpt_state(x)[1] for x in ("attacked@dane-ee.mail.test",
                                         "attacked@enforce.sts.test")]
        return all(r is not None and r["attempts"] >= 2 for r in rs)
    check(wait_for(retried_twice, 20), "attacker: both recipients retried (>= 2 attempts)")
    for rcpt in ("attacked@dane-ee.mail.test", "attacked@enforce.sts.test"):
        _, r = rcpt_state(rcpt)
        check(r is not None and r["state"] == "deferred" and
              r["result_type"] == "starttls-not-supported",
              "attacker, %s: deferred, starttls-not-supported" % rcpt, repr(r))
        check(received(rcpt) == [], "attacker, %s: nothing sent, not even in cleartext" % rcpt,
              repr(received(rcpt)))
    check(wait_for(lambda: len(dsns("delayed")) == 2, 15),
          "delay-warning 1: one delay DSN per message", repr([g for _, _, g in dsns("delayed")]))
    # A second daemon on the same queue is refused.
    p = subprocess.run(BASE + RUN + ["--once"], capture_output=True, timeout=60)
    check(p.returncode == 75 and b"another mxtls queue run" in p.stderr,
          "a second daemon: exit 75, another one serves the queue", p.stderr.decode()[-300:])
    subprocess.run(["bash", ATTACK, WORK, "off"] + attacked, check=True, capture_output=True)
    check(wait_for(lambda: queue_list() == [], 30), "attacker gone: the queue empties")
    for rcpt, host in (("attacked@dane-ee.mail.test", "mx1.dane-ee.mail.test"),
                       ("attacked@enforce.sts.test", "mx1.enforce.sts.test")):
        got = received(rcpt)
        check(len(got) == 1 and got[0]["tls"] and not got[0]["attacker"] and
              got[0]["host"] == host,
              "attacker gone, %s: delivered once to %s over TLS" % (rcpt, host), repr(got))
    check(len(dsns("delayed")) == 2, "no more delay DSNs than one per message")
    rc = stop(d, log)
    check(rc == 0, "SIGTERM: the daemon exits 0", "exit %r" % rc)
    check(not os.path.exists(os.path.join(STATE, "queue", "wake")),
          "stopped: the wake-up socket is removed")

    # --- 4b. the background MTA-STS refresh (RFC 8461 §10.2): enforce.sts.test's policy is
    # cached since section 1; with a 1 s interval and age the daemon fetches it again by itself.
    log_path = os.path.join(tmp, "refresh.log")
    log = open(log_path, "wb")
    d = subprocess.Popen(BASE + ["-v"] + RUN + ["--sts-refresh", "1", "--sts-refresh-age", "1"],
                         stderr=log)
    def refreshed():
        text = open(log_path, errors="replace").read()
        return any("event=sts-refreshed" in l and "refreshed=0" not in l
                   for l in text.splitlines())
    check(wait_for(refreshed, 20), "the daemon refreshes cached MTA-STS policies in the "
          "background (sts-refresh 1: a refresh with refreshed >= 1 logged)",
          open(log_path, errors="replace").read()[-600:])
    check(stop(d, log) == 0, "the refreshing daemon stops with exit 0")

    # --- 5. a damaged body file is set aside; the rest of the queue goes on
    check(sendmail("damaged@plain.test", "damaged") == 0, "sendmail (to be damaged): exit 0")
    check(sendmail("next@plain.test", "next") == 0, "sendmail (next): exit 0")
    mid, _ = rcpt_state("damaged@plain.test")
    os.unlink(os.path.join(STATE, "queue", "msg", mid))
    p = run_once()
    _, r = rcpt_state("damaged@plain.test")
    check(p.returncode == 0 and r is not None and r["state"] == "held" and
          "body file missing" in (r["last_reply"] or ""),
          "missing body file: set aside (held, why in last_reply), exit 0", repr(r))
    check(len(received("next@plain.test")) == 1, "missing body file: the next message delivered")
    check(b"queue-body-damaged" in p.stderr, "missing body file: logged")

    # A damaged index row (a number column holding text) is set aside; the rest goes on.
    import sqlite3
    check(sendmail("badrow@plain.test", "badrow") == 0, "sendmail (row to be damaged): exit 0")
    check(sendmail("after@plain.test", "after") == 0, "sendmail (after): exit 0")
    db = sqlite3.connect(os.path.join(STATE, "queue", "index.sqlite"))
    db.execute("UPDATE recipients SET attempts = 'x' WHERE recipient = 'badrow@plain.test'")
    db.commit()
    db.close()
    p = run_once()
    db = sqlite3.connect(os.path.join(STATE, "queue", "index.sqlite"))
    row = db.execute("SELECT state, last_reply FROM recipients WHERE "
                     "recipient = 'badrow@plain.test'").fetchall()
    db.close()
    check(p.returncode == 0 and row == [("held", "a number column holds something else")] and
          received("badrow@plain.test") == [],
          "damaged index row: set aside (held, why), not delivered", repr(row))
    check(len(received("after@plain.test")) == 1 and b"queue-row-damaged" in p.stderr,
          "damaged index row: logged, the next message delivered")

    # --- 6. settings
    p = subprocess.run(BASE + RUN + ["--once", "--retry-min", "0"], capture_output=True)
    check(p.returncode == 64 and b"retry-min" in p.stderr, "--retry-min 0: exit 64, named",
          p.stderr.decode())
    p = subprocess.run(BASE + RUN + ["--once", "--dkim-key", "plain.test:s1:/nonexistent"],
                       capture_output=True)
    check(p.returncode == 78 and b"/nonexistent" in p.stderr,
          "an unreadable DKIM key: exit 78, named", p.stderr.decode())
    conf = os.path.join(tmp, "mxtls.conf")
    with open(conf, "w") as f:
        f.write("retry-min = 1\nretry-max = 1\ndkim-key = plain.test:%s:%s\n"
                "dkim-key = example.org:s2:%s\nhelo = client.e2e.test\n" % (SELECTOR, key, key))
    check(sendmail("conf@plain.test", "conf") == 0, "sendmail (config file run): exit 0")
    p = subprocess.run(BASE + ["--config", conf, "queue", "run", "--once"], capture_output=True)
    got = received("conf@plain.test")
    check(p.returncode == 0 and len(got) == 1 and dkim_ok(body_of(got[0]), txt),
          "settings from mxtls.conf (dkim-key twice): delivered and signed",
          p.stderr.decode()[-300:])

    # --- 7. several messages to one domain share one session (one transaction each)
    def sessions(addr):
        return len([c for c in smtp_records.jsonl(SMTP_DIR, "connections.jsonl")
                    if c.get("listener") == addr and c.get("event") == "connect"])
    before = sessions("127.0.25.20")
    for i in range(5):
        check(sendmail("shared%d@plain.test" % i, "shared %d" % i) == 0,
              "sendmail shared%d@plain.test: exit 0" % i)
    p = run_once()
    got = [received("shared%d@plain.test" % i) for i in range(5)]
    check(p.returncode == 0 and all(len(g) == 1 and g[0]["tls"] for g in got),
          "five messages to plain.test: each delivered once over TLS", repr(got))
    check(sessions("127.0.25.20") - before == 1, "five messages to plain.test: one session",
          "sessions: %d" % (sessions("127.0.25.20") - before))

    # --- 8. the SMTP submission listener, and REQUIRETLS (RFC 8689 §4)
    import smtplib
    log = open(os.path.join(tmp, "listener.log"), "wb")
    d = subprocess.Popen(BASE + ["-v"] + RUN + ["--listen", "127.0.0.1:2525"], stderr=log)
    def listening():
        try:
            with smtplib.SMTP("127.0.0.1", 2525, timeout=5) as c:
                return c.noop()[0] == 250
        except OSError:
            return False
    check(wait_for(listening, 20), "queue run --listen 127.0.0.1:2525: serves SMTP")
    def submit(rcpt, subject, options=()):
        msg = ("From: Owner <%s>\r\nTo: %s\r\nSubject: %s\r\n\r\nbody of %s\r\n"
               % (SENDER, rcpt, subject, subject))
        with smtplib.SMTP("127.0.0.1", 2525, timeout=30) as c:
            c.ehlo("app.e2e.test")
            return c.sendmail(SENDER, [rcpt], msg.encode(), mail_options=list(options))
    check(submit("smtp@dane-ee.mail.test", "via smtp") == {}, "listener: a message accepted")
    check(submit("rt@dane-ee.mail.test", "requiretls dane", ["REQUIRETLS"]) == {},
          "listener: a REQUIRETLS message accepted")
    check(submit("rt@plain.test", "requiretls plain", ["REQUIRETLS"]) == {},
          "listener: a REQUIRETLS message to an unauthenticated domain accepted")
    check(wait_for(lambda: len(received("smtp@dane-ee.mail.test")) == 1, 20),
          "listener: delivered to the DANE domain", repr(received("smtp@dane-ee.mail.test")))
    def rt_dsn(rcpt):
        return [g for _, _, g in dsns("failed")
                if g[1].get("Final-Recipient") == "rfc822; " + rcpt]
    check(wait_for(lambda: rt_dsn("rt@dane-ee.mail.test") and rt_dsn("rt@plain.test"), 20),
          "REQUIRETLS: both messages returned to the sender")
    for rcpt in ("rt@dane-ee.mail.test", "rt@plain.test"):
        g = rt_dsn(rcpt)
        check(len(g) == 1 and g[0][1].get("Status") == "5.7.30",
              "REQUIRETLS, %s: returned with 5.7.30" % rcpt, repr(g))
        check(received(rcpt) == [], "REQUIRETLS, %s: never sent (the DANE receiver does not "
              "offer REQUIRETLS; plain.test is not authenticated)" % rcpt, repr(received(rcpt)))
    rc = stop(d, log)
    check(rc == 0 and not listening(), "SIGTERM: exit 0, the listener is closed", "exit %r" % rc)

    # --- 10. a full disk: submission refused, delivery of what is queued goes on
    disk_full(tmp)

    # --- 11. an index that cannot record results: no re-sending loop, exit 75
    unrecordable(tmp)

    # --- 9. an unprivileged user's mail: through the maildrop, picked up by the daemon
    pub = tempfile.mkdtemp(prefix="mxtls-e2e-queue-pub.")
    try:
        unprivileged(pub)
    finally:
        shutil.rmtree(pub, ignore_errors=True)

    print("1..%d" % len(results))
    for i, (ok, what, diag) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
        if not ok and diag:
            for line in str(diag).splitlines()[:8]:
                print("# " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
