#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# End to end: fleet mode (issue 20).  Four `mxtls policyd` members and the delivery agent share
# one redis-server (shared-store = redis://127.0.0.1:6390/0) on the test network; members 1-3
# also share their answers, sealed with the fleet's key (shared-store-key).
#
# Run inside the test network by run-with-dns.sh --tap --smtp (tests/e2e/meson.build); argument:
# the mxtls binary.  What it proves, in order:
#   0. shared-store-key mistakes (readable by others, too short, no shared-store) exit 78;
#   1. member 1 fetches enforce.sts.test's policy; it is in Redis with a TTL from max_age, and
#      its answer, sealed; the three members then meet a new domain at the same moment: its
#      policy is fetched once;
#   2. the policy hosts stop (policy discovery blocked): members 2 and 3 give member 1's sealed
#      answer, member 4 (no key) decides from the policy member 1 fetched; a policyd outside
#      the fleet answers without it (the control);
#   3. the delivery agent, outside the policy's reach until now, defers a message for the domain
#      while an attacker strips STARTTLS from its MX (it would otherwise go out in cleartext);
#   3b. a forged answer written into Redis is rejected, and replaced by a member's own;
#   4. Redis killed: every member keeps answering correctly (latency printed, not asserted);
#      member 1 learns a new policy meanwhile, into its local file;
#   5. Redis restarted empty: member 1 re-syncs its file, and member 2 then gets the new policy
#      with the policy hosts down again;
#   6. a member killed while it holds a refresh lease: another skips the domain until the lease
#      expires, then refreshes it.
# Standard library and redis-cli only.
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from logged_process import LoggedProcess  # noqa: E402
from redis_server import RedisServer  # noqa: E402
from tap import Tap  # noqa: E402

MXTLS = sys.argv[1]
NETNS = os.environ["MXTLS_TEST_NETNS"]
WORK = os.environ["MXTLS_TEST_WORKDIR"]
NET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "net")
TMP = tempfile.mkdtemp(prefix="mxtls-e2e-fleet.")
REDIS_PORT = 6390
SHARED = "redis://127.0.0.1:%d/0" % REDIS_PORT
PORTS = {1: 10081, 2: 10082, 3: 10083, "alone": 10084, 4: 10085}
KEY = os.path.join(TMP, "fleet.key")  # shared-store-key: members 1-3 share sealed answers
SCOPE = "policyd-v2-tlsrpt=0"
# policyd's answers for an enforce policy whose mx: is mx1.DOMAIN (tests/net/dns/sts.test.zone).
SECURE = {d: "OK secure match=mx1.%s servername=hostname" % d
          for d in ("enforce.sts.test", "stswild.sts.test")}
t = Tap()


def conf(name, shared=True, key=False):
    path = os.path.join(TMP, name + ".conf")
    with open(path, "w") as f:
        if shared:
            f.write("shared-store = %s\n" % SHARED)
        if key:
            f.write("shared-store-key = %s\n" % KEY)
    return path


def base(name, shared=True, sts_timeout=3, key=False):
    return [MXTLS, "--config", conf(name, shared, key), "--unbound-conf",
            os.environ["MXTLS_TEST_UNBOUND_CONF"], "--ca-file", os.environ["MXTLS_TEST_CA_FILE"],
            "--state-dir", os.path.join(TMP, name), "--sts-timeout", str(sts_timeout)]


class Policyd(LoggedProcess):
    """A member: mxtls policyd on 127.0.0.1:PORT, its log kept."""

    def __init__(self, name, port, shared=True, key=False):
        self.port = port
        # --temp-ttl 1: a TEMP answer is not kept (each question is decided again).
        super().__init__(base(name, shared, key=key) + ["-v", "policyd", "--listen",
                                                        "127.0.0.1:%d" % port, "--temp-ttl",
                                                        "1", "--sts-refresh", "0"])
        self.ready = self.wait_log(r"event=ready ", 10) is not None

    def ask(self, domain, timeout=20):
        """The socketmap answer for domain (str), or None."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            payload = ("postfix %s" % domain).encode()
            s.sendall(b"%d:%s," % (len(payload), payload))
            buf = b""
            while True:
                m = re.match(rb"([0-9]+):", buf)
                if m and len(buf) > m.end() + int(m.group(1)):
                    return buf[m.end():m.end() + int(m.group(1))].decode(errors="replace")
                data = s.recv(4096)
                if not data:
                    return None
                buf += data


def fetches(access_log, sni):
    """How many requests the policy hosts' nginx logged for one policy host (by SNI)."""
    try:
        with open(access_log) as f:
            return sum(1 for ln in f if sni in ln and "/.well-known/mta-sts.txt" in ln)
    except OSError:
        return 0


def key_errors(t):
    """shared-store-key mistakes are refused at start (exit 78), with the reason."""
    cases = [("key-open", 0o644, b"x" * 44, True, "readable by group or others"),
             ("key-short", 0o600, b"x" * 31, True, "31 bytes; a key has 32 to 1024"),
             ("key-alone", 0o600, b"x" * 44, False, "needs shared-store")]
    for name, mode, data, shared, want in cases:
        path = os.path.join(TMP, name + ".key")
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        cpath = os.path.join(TMP, name + ".conf")
        with open(cpath, "w") as f:
            if shared:
                f.write("shared-store = %s\n" % SHARED)
            f.write("shared-store-key = %s\n" % path)
        p = subprocess.run([MXTLS, "--config", cpath, "--state-dir", os.path.join(TMP, name),
                            "config"], capture_output=True, text=True, timeout=30)
        t.ok(p.returncode == 78 and want in p.stderr,
             "shared-store-key %s: exit 78, '%s'" % (name, want),
             "exit %d: %s" % (p.returncode, p.stderr))


def https(up):
    p = subprocess.run(["bash", os.path.join(NET, "https-up.sh" if up else "https-down.sh"),
                        NETNS, WORK], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("https-%s.sh: %s" % ("up" if up else "down", p.stderr[-1000:]))


def attack(on, addrs):
    subprocess.run(["bash", os.path.join(NET, "smtp-attack.sh"), WORK, "on" if on else "off"] +
                   addrs, check=True, capture_output=True)


def received(rcpt):
    path = os.path.join(os.environ["MXTLS_TEST_SMTP_DIR"], "received.jsonl")
    if not os.path.exists(path):
        return []
    import json
    with open(path) as f:
        return [m for m in map(json.loads, filter(str.strip, f)) if rcpt in m["rcpt_to"]]


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def hang_listener():
    """Something on the policy hosts' address that accepts and never answers (a stalled host)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.44.1", 443))
    s.listen(16)
    held = []

    def loop():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            held.append(c)
    threading.Thread(target=loop, daemon=True).start()
    return s, held


def main():
    redis = RedisServer(REDIS_PORT, TMP)
    redis_cli = redis.cli
    members = {}
    try:
        if not t.ok(redis.start(), "redis-server answers on 127.0.0.1:%d" % REDIS_PORT,
                    redis.log()):
            return
        with open(KEY, "w") as f:
            f.write("3q2+7wAAAAC6vrq+3q2+7xEiM0RVZneImaq7zN3u/wA=\n")  # 44 bytes
        os.chmod(KEY, 0o600)
        key_errors(t)
        for n in (1, 2, 3):
            members[n] = Policyd("m%d" % n, PORTS[n], key=True)
            t.ok(members[n].ready, "member %d (policyd) is ready" % n, members[n].log())
        # Member 4 shares policies only (no shared-store-key): it decides every answer itself.
        members[4] = Policyd("m4", PORTS[4])
        t.ok(members[4].ready, "member 4 (policyd, policies only) is ready", members[4].log())

        # 1. Member 1 fetches the policy; Redis holds it, with a TTL from max_age.
        got = members[1].ask("enforce.sts.test")
        t.ok(got == SECURE["enforce.sts.test"], "member 1 answers from the policy it fetched",
             "got %r" % got)
        ttl = redis_cli("TTL", "mxtls:sts:enforce.sts.test")
        t.ok(ttl.isdigit() and 0 < int(ttl) <= 86400,
             "Redis holds the policy with a TTL of at most its max_age (86400)", "TTL %r" % ttl)
        fields = redis_cli("HGET", "mxtls:sts:enforce.sts.test", "id")
        t.ok(fields == "20240601T000000", "the shared copy has the TXT record's id",
             "id %r" % fields)
        sealed = ""
        for _ in range(50):
            sealed = redis_cli("GET", "mxtls:answer:%s:enforce.sts.test" % SCOPE)
            if sealed:
                break
            time.sleep(0.05)
        t.ok(re.match(r"mxtls-sealed-v1 \d+ [0-9a-f]{64} " + re.escape(SECURE["enforce.sts.test"])
                      + "$", sealed) is not None,
             "member 1 shares its answer, sealed with the fleet's key", "value %r" % sealed)

        # 1b. The three members meet a new domain at the same moment: one fetch for the fleet
        # (the fetch lease, sts/sts_cache_claim.c); the others wait for it and take it.  Its
        # policy host answers after 1 s (MXTLS_TEST_HTTPS_SLOW_SECONDS, tests/e2e/meson.build),
        # so that every member asks while the first fetch runs, whatever their DNS caches.
        access = os.path.join(WORK, "https", "access.log")
        sni = "sni=mta-sts.slowheaders.sts.test "
        before = fetches(access, sni)
        answers = {}
        go = threading.Barrier(3)

        def ask_at_once(n):
            go.wait()
            answers[n] = members[n].ask("slowheaders.sts.test")
        threads = [threading.Thread(target=ask_at_once, args=(n,)) for n in (1, 2, 3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        got = set(answers.values())
        t.ok(len(got) == 1 and "secure" in (answers.get(1) or ""),
             "three members asked for a new domain at once give the same secure answer",
             repr(answers))
        n_fetch = fetches(access, sni) - before
        t.ok(n_fetch == 1, "... from one fetch of its policy for the fleet",
             "%d fetches\n%s" % (n_fetch, "\n".join(members[n].log(20) for n in (1, 2, 3))))
        learned = sum(1 for n in (1, 2, 3)
                      if members[n].wait_log(r"event=fleet-policy-learned "
                                             r"domain=slowheaders\.sts\.test", 5) is not None)
        t.ok(learned == 2, "the two other members log that they took it from the fleet",
             "%d of 2" % learned)

        # 2. Policy discovery blocked: members that never fetched it still enforce it, from
        # member 1's answer (members 2 and 3) or from its policy (member 4, no key).
        https(False)
        for n in (2, 3):
            got = members[n].ask("enforce.sts.test")
            t.ok(got == SECURE["enforce.sts.test"],
                 "policy hosts down: member %d gives member 1's answer" % n,
                 "got %r\n%s" % (got, members[n].log()))
            t.ok(members[n].wait_log(r"event=decided domain=enforce\.sts\.test mode=fleet ", 5)
                 is not None,
                 "member %d took it from the fleet's shared answers (no lookup)" % n,
                 members[n].log())
        got = members[4].ask("enforce.sts.test")
        t.ok(got == SECURE["enforce.sts.test"],
             "policy hosts down: member 4 enforces the policy member 1 fetched",
             "got %r\n%s" % (got, members[4].log()))
        t.ok(members[4].wait_log(r"event=fleet-policy-learned domain=enforce\.sts\.test", 5)
             is not None,
             "member 4 logs that it learnt the policy from the fleet", members[4].log())
        alone = Policyd("alone", PORTS["alone"], shared=False)
        got = alone.ask("enforce.sts.test")
        t.ok(got is not None and got != SECURE["enforce.sts.test"] and "secure" not in got,
             "control: a policyd outside the fleet, policy hosts down, has no policy to enforce",
             "got %r" % got)
        alone.stop()

        # 3. The delivery agent (a fourth member) defers rather than sending in cleartext.
        attack(True, ["127.0.10.101"])
        try:
            rcpt = "fleet-%d@enforce.sts.test" % os.getpid()
            msg = b"From: a@sender.test\r\nTo: %s\r\nSubject: fleet\r\n\r\nfleet\r\n" % \
                rcpt.encode()
            q = base("queue")
            p = subprocess.run(q + ["sendmail", "-f", "a@sender.test", rcpt], input=msg,
                               capture_output=True, timeout=60)
            t.ok(p.returncode == 0, "the delivery agent accepts the message", p.stderr)
            run = subprocess.run(q + ["-v", "queue", "run", "--once", "--helo", "sender.test"],
                                 capture_output=True, text=True, timeout=120)
            t.ok(received(rcpt) == [],
                 "STARTTLS stripped, policy hosts down: the delivery agent sent nothing "
                 "(the fleet's enforce policy)", "received %r\n%s" % (received(rcpt),
                                                                      run.stderr[-2000:]))
            t.ok(re.search(r"event=queue-deferred .*rcpt=" + re.escape(rcpt), run.stderr)
                 is not None, "the delivery agent defers it", run.stderr[-2000:])
        finally:
            attack(False, ["127.0.10.101"])

        # 3b. A forged answer in Redis (whoever can write to Redis, without the fleet's key) is
        # rejected: member 3 decides for itself, and its own sealed answer replaces the forgery.
        https(True)
        forged_key = "mxtls:answer:%s:wildcard.sts.test" % SCOPE
        redis_cli("SET", forged_key, "mxtls-sealed-v1 9999999999 " + "0" * 64 +
                  " OK secure match=evil.example servername=hostname")
        got = members[3].ask("wildcard.sts.test")
        t.ok(got == "OK secure match=mx1.wildcard.sts.test servername=hostname",
             "a forged shared answer is not given: member 3 decides itself", "got %r" % got)
        t.ok(members[3].wait_log(r"event=fleet-answer-rejected domain=wildcard\.sts\.test "
                                 r"reason=\"MAC does not match", 5) is not None,
             "member 3 logs the forged answer as rejected", members[3].log())
        value = ""
        for _ in range(50):
            value = redis_cli("GET", forged_key)
            if "mx1.wildcard" in value:
                break
            time.sleep(0.05)
        t.ok("evil" not in value and "mx1.wildcard" in value,
             "member 3's own sealed answer replaced the forgery", "value %r" % value)

        # 4. Redis killed: answers stay correct; latency printed.
        redis.kill()
        lat = []
        wrong = []
        for i in range(60):
            for n in (1, 2, 3):
                t0 = time.monotonic()
                got = members[n].ask("enforce.sts.test")
                lat.append((time.monotonic() - t0) * 1000)
                if got != SECURE["enforce.sts.test"]:
                    wrong.append((n, got))
        t.ok(not wrong, "Redis killed: 180 answers from the three members, all correct",
             repr(wrong[:5]))
        t.comment("Redis down: answer latency p50 %.2f ms, p99 %.2f ms, max %.2f ms (180 "
                  "answers)" % (percentile(lat, 50), percentile(lat, 99), max(lat)))
        got = members[1].ask("stswild.sts.test")
        t.ok(got == SECURE["stswild.sts.test"],
             "Redis down: member 1 fetches a new policy into its own file", "got %r" % got)
        t.ok(members[1].wait_log(r"event=fleet-unavailable", 5) is not None,
             "member 1 logs that the shared store is unavailable", members[1].log())

        # 5. Redis back, empty: member 1 re-syncs; member 2 gets the new policy.
        t.ok(redis.start(), "redis-server restarted (empty: no persistence)")
        t.ok(redis_cli("EXISTS", "mxtls:sts:stswild.sts.test") == "0",
             "the restarted Redis does not hold the new policy")
        # Member 1's next cache access reconnects (a domain it has not answered: the answer
        # cache would not touch the policy cache).
        time.sleep(1.1)  # the client's pause after a failure (1 s)
        members[1].ask("testing.sts.test")
        resynced = members[1].wait_log(r"event=fleet-resynced ", 10)
        t.ok(resynced is not None, "member 1 re-syncs its file into the returned Redis",
             members[1].log())
        for _ in range(50):
            if redis_cli("EXISTS", "mxtls:sts:stswild.sts.test") == "1":
                break
            time.sleep(0.1)
        t.ok(redis_cli("EXISTS", "mxtls:sts:stswild.sts.test") == "1",
             "the policy learnt while Redis was down is in Redis again", members[1].log())
        https(False)
        got = members[2].ask("stswild.sts.test")
        t.ok(got == SECURE["stswild.sts.test"],
             "policy hosts down: member 2 enforces the policy member 1 learnt during the outage",
             "got %r\n%s" % (got, members[2].log()))

        # 6. A member killed while it holds a refresh lease.  The policy host stalls, so the
        # refresh of member 6 hangs holding the lease (sts-timeout 2: lease 6 s); it is killed.
        for n in (6, 7):
            p = subprocess.run(base("m%d" % n, sts_timeout=2) + ["sts", "fetch",
                                                                 "enforce.sts.test"],
                               capture_output=True, text=True, timeout=30)
            t.ok("mode: enforce" in p.stdout, "member %d has the policy (from the fleet)" % n,
                 p.stdout + p.stderr)
        hang, held = hang_listener()
        try:
            m6 = subprocess.Popen(base("m6", sts_timeout=2) + ["-v", "sts", "refresh",
                                                               "--older-than", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            lease = ""
            for _ in range(100):
                lease = redis_cli("GET", "mxtls:sts-lease:enforce.sts.test")
                if lease:
                    break
                time.sleep(0.02)
            t.ok("/m6 pid=" in lease,
                 "member 6 holds the refresh lease while it fetches", "lease %r" % lease)
            m6.kill()
            m6.wait()
            t0 = time.monotonic()
            p = subprocess.run(base("m7", sts_timeout=2) + ["-v", "sts", "refresh",
                                                            "--older-than", "0"],
                               capture_output=True, text=True, timeout=30)
            t.ok("refreshed: 0" in p.stdout and
                 "fleet-refresh-skipped domain=enforce.sts.test reason=leased-by-another-member"
                 in p.stderr,
                 "member 7 leaves the domain to the lease holder (killed)", p.stdout + p.stderr)
            pttl = int(redis_cli("PTTL", "mxtls:sts-lease:enforce.sts.test") or -2)
            t.ok(0 < pttl <= 6000, "the dead member's lease expires by itself (PTTL <= 6 s)",
                 "PTTL %d" % pttl)
        finally:
            hang.shutdown(socket.SHUT_RDWR)  # wakes the accept() of its thread; close frees it
            hang.close()
            for c in held:
                c.close()
        https(True)
        time.sleep(pttl / 1000 + 0.2)
        p = subprocess.run(base("m7", sts_timeout=2) + ["-v", "sts", "refresh", "--older-than",
                                                        "0"],
                           capture_output=True, text=True, timeout=30)
        t.ok("refreshed: 1" in p.stdout and "failed: 0" in p.stdout,
             "after the lease expired, member 7 refreshes the domain itself (%.1f s after the "
             "kill)" % (time.monotonic() - t0), p.stdout + p.stderr)
        st = subprocess.run(base("m7") + ["--json", "store", "status"], capture_output=True,
                            text=True, timeout=30)
        import json
        try:
            doc = json.loads(st.stdout)
        except ValueError:
            doc = {}
        sh = doc.get("shared", {})
        names = sorted(m["name"].rsplit("/", 1)[-1] for m in sh.get("members", []))
        t.ok(st.returncode == 0 and doc.get("backend") == "redis" and sh.get("reachable") is True
             and sh.get("policies", 0) >= 2 and "m1" in names and "m7" in names
             and sh.get("shares_answers") is False and sh.get("answers", 0) >= 1,
             "store status: redis, reachable, the shared policies, answers (member 7 has no "
             "key) and the members", st.stdout + st.stderr)
        st = subprocess.run(base("m1", key=True) + ["store", "status"], capture_output=True,
                            text=True, timeout=30)
        t.ok(st.returncode == 0 and "shares answers: yes (shared-store-key)\n" in st.stdout and
             re.search(r"^shared answers: [1-9]\d*$", st.stdout, re.M) is not None,
             "store status of a member with the key: it shares answers; Redis holds some",
             st.stdout + st.stderr)
    finally:
        for m in members.values():
            m.stop()
        redis.kill()
    return


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a crash is a failed check, with its reason
        import traceback
        t.ok(False, "the test ran to its end", traceback.format_exc())
    sys.exit(t.plan())
