#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# End to end: `mxtls policyd` keeps answering while another process holds the MTA-STS cache lock.
#
# Issue 14 item 3.  Run inside the test network by run-with-dns.sh --tap --smtp
# (tests/e2e/meson.build); argument: the mxtls binary.  A first daemon decides some domains and
# stores the answers (policyd.sqlite); it stops.  Another process then takes an exclusive lock
# on STATE_DIR/sts-cache.sqlite (exclusive locking mode, a write in an open transaction: in WAL
# mode no other connection can read), which it can only take while no connection is open, and
# holds it for HOLD seconds, longer than the cache's 5 s busy timeout.  A second daemon starts on
# the same state directory (the stored answers loaded), gets a request for a cold MTA-STS
# domain, whose decision needs the cache, and then, on another connection, requests for the
# stored domains: each must be answered within BOUND_MS, and the cold one must be TEMP (or its
# real answer once the lock is gone), never NOTFOUND.  Standard library only.
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from logged_process import LoggedProcess  # noqa: E402

MXTLS = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="mxtls-e2e-policyd-lock.")
STATE = os.path.join(TMP, "state")
BASE = [MXTLS, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
        "--ca-file", os.environ["MXTLS_TEST_CA_FILE"], "--state-dir", STATE]
PORT = 10071
HOLD = 7          # seconds the lock is held; the cache's busy timeout is 5
BOUND_MS = 200    # generous for a cached answer, far below the busy timeout: proves no blocking

# The answers of tests/net/README.md's scenarios (as in test_policyd_protocol.py).
STORED = [("plain.test", "NOTFOUND "), ("dane-ee.mail.test", "OK dane-only"),
          ("enforce.sts.test", "OK secure match=mx1.enforce.sts.test servername=hostname")]
COLD = ("stswild.sts.test", "OK secure match=mx1.stswild.sts.test servername=hostname")

results = []


def check(ok, what, diag=""):
    results.append((bool(ok), what, diag))
    return bool(ok)


class Daemon(LoggedProcess):
    def __init__(self, name):
        # --temp-ttl 1: a TEMP answer is kept one second, so the retry after the release
        # (part 5) gets a new decision.
        super().__init__(BASE + ["policyd", "--listen", "127.0.0.1:%d" % PORT, "--temp-ttl",
                                 "1"])
        self.ready = self.wait_log(r"event=ready ", 10)

    def log(self, last=8):
        return super().log(last)


class Client:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=20)
        self.buf = b""

    def send(self, key):
        payload = ("postfix %s" % key).encode()
        self.s.sendall(b"%d:%s," % (len(payload), payload))

    def reply(self, timeout=20):
        """One netstring reply (str), or None on timeout or EOF."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.match(rb"([0-9]+):", self.buf)
            if m and len(self.buf) > m.end() + int(m.group(1)):
                end = m.end() + int(m.group(1))
                out, self.buf = self.buf[m.end():end], self.buf[end + 1:]
                return out.decode(errors="replace")
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data = self.s.recv(4096)
            except OSError:
                return None
            if not data:
                return None
            self.buf += data


def hold_lock(path):
    """Another process holding an exclusive lock on path for HOLD seconds."""
    code = ("import sqlite3, sys, time\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)\n"
            "db.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "db.execute(\"INSERT OR REPLACE INTO fetch_failure VALUES"
            " ('lock.invalid', 'x', 0, 'held by the test')\")\n"
            "print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n")
    return subprocess.Popen([sys.executable, "-c", code, path, str(HOLD)],
                            stdout=subprocess.PIPE, text=True)


def main():
    # 1. A daemon decides the stored domains; its answers go to policyd.sqlite at exit.
    d = Daemon("prime")
    check(d.ready, "first daemon ready", d.log())
    c = Client()
    for key, want in STORED:
        c.send(key)
        got = c.reply()
        check(got == want, "primed %s: %s" % (key, want), "got %r" % got)
    d.stop()
    cache = os.path.join(STATE, "sts-cache.sqlite")
    check(os.path.exists(cache), "the MTA-STS cache file exists", cache)

    # 2. Another process locks the MTA-STS cache (no connection is open now).
    holder = hold_lock(cache)
    line = holder.stdout.readline().strip()
    locked_at = time.monotonic()
    check(line == "locked", "another process holds an exclusive lock on sts-cache.sqlite",
          "holder said %r" % line)

    # 3. A second daemon on the same state directory: the stored answers are loaded.
    d = Daemon("locked")
    check(d.ready and " cached=%d " % len(STORED) in d.ready,
          "second daemon ready with the %d stored answers" % len(STORED), "%r" % d.ready)

    # 4. A cold MTA-STS domain first (its decision needs the locked cache) ...
    cold = Client()
    cold.send(COLD[0])
    time.sleep(0.1)  # its decision has started (and, before issue 14, blocked the loop)
    # ... then the stored ones on another connection, each timed.
    warm = Client()
    worst = 0.0
    for key, want in STORED:
        t0 = time.monotonic()
        warm.send(key)
        got = warm.reply()
        ms = (time.monotonic() - t0) * 1e3
        worst = max(worst, ms)
        check(got == want and ms < BOUND_MS,
              "while the cache is locked, %s is answered from memory within %d ms"
              % (key, BOUND_MS), "got %r after %.1f ms" % (got, ms))
    print("# cached answers while the MTA-STS cache was locked: slowest %.2f ms" % worst)
    got = cold.reply(timeout=HOLD + 10)
    released = time.monotonic() - locked_at >= HOLD
    print("# cold %s answered %.1f s after the lock was taken: %r"
          % (COLD[0], time.monotonic() - locked_at, got))
    check(got is not None and (got.startswith("TEMP ") or (released and got == COLD[1])),
          "the cold MTA-STS domain is TEMP while its cache cannot be read (never NOTFOUND)",
          "got %r" % got)
    check(d.wait_log(r"event=sts-cache-read-failed .*domain=%s" % re.escape(COLD[0]), 1),
          "the library logged sts-cache-read-failed for it", d.log())
    holder.wait(HOLD + 5)

    # 5. The lock is gone: the same domain is decided anew once its TEMP answer expires.
    retry = None
    for _ in range(20):
        c = Client()
        c.send(COLD[0])
        retry = c.reply()
        if retry == COLD[1]:
            break
        time.sleep(0.5)
    check(retry == COLD[1], "after the release, %s is %s" % (COLD[0], COLD[1]),
          "got %r" % retry)
    check(d.stop() == 0, "the daemon exits 0 on SIGTERM", d.log())

    for i, (ok, what, diag) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
        if not ok and diag:
            for ln in str(diag).splitlines():
                print("# " + ln)
    print("1..%d" % len(results))
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
