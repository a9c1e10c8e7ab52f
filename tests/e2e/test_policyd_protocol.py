#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# End to end: the socketmap protocol of `mxtls policyd` (Postfix smtp_tls_policy_maps).
#
# Run inside the test network by run-with-dns.sh --tap --smtp (tests/e2e/meson.build); argument:
# the mxtls binary.  Several daemons run on loopback addresses of the namespace, each with the
# settings one part needs.  Every answer is asserted exactly (the scenario domains are those of
# tests/net/README.md), and so are the netstring framing rules, the order of pipelined replies,
# concurrent connections, the idle timeout, the unix socket, signals and reload, the SQLite
# answer store across a restart, and the command's exit statuses.  Standard library only.
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

MXTLS = sys.argv[1]
# In run-with-dns.sh's work dir, which it removes on exit, failure and interrupt.
TMP = tempfile.mkdtemp(prefix="mxtls-e2e-policyd.", dir=os.environ["MXTLS_TEST_WORKDIR"])
BASE = [MXTLS, "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
        "--ca-file", os.environ["MXTLS_TEST_CA_FILE"]]
T0 = time.monotonic()

results = []
# Checks that a line is absent from a daemon's log: run once that daemon has exited (its whole
# stderr read), since the log pipe and the reply socket are read by different threads.
AFTER_STOP = []
ALL_DAEMONS = []  # killed at the end, whatever happened
_results_lock = threading.Lock()


def check(ok, what, diag="", todo=None):
    """One TAP line.  todo: a known bug (reported, not yet fixed): '# TODO' keeps the suite
    green while the line stays visible."""
    with _results_lock:
        results.append((bool(ok), what, diag, todo))
    return bool(ok)


# ---------------------------------------------------------------- the daemon

class Daemon:
    """One `mxtls policyd` process; its stderr (key=value lines) is collected in a thread."""

    def __init__(self, name, args, state=None, config=None, wait_ready=True):
        self.name = name
        self.state = state or os.path.join(TMP, "state-" + name)
        cmd = BASE + ["--state-dir", self.state]
        if config is not None:
            cmd += ["--config", config]
        cmd += ["policyd"] + list(args)
        self.cmd = cmd
        self.lines = []
        self.cv = threading.Condition()
        self.eof = False
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        ALL_DAEMONS.append(self)
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()
        self.ready = self.wait_log(r"event=ready ", 10) if wait_ready else None

    def _reader(self):
        for raw in self.p.stderr:
            with self.cv:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def mark(self):
        with self.cv:
            return len(self.lines)

    def wait_log(self, regex, timeout, start=0):
        """The first line from index start matching regex, waiting up to timeout s; or None."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        with self.cv:
            i = start
            while True:
                while i < len(self.lines):
                    if rx.search(self.lines[i]):
                        return self.lines[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return None
                self.cv.wait(left)

    def grep(self, regex, start=0):
        rx = re.compile(regex)
        with self.cv:
            return [ln for ln in self.lines[start:] if rx.search(ln)]

    def log(self, start=0, last=8):
        with self.cv:
            return "\n".join(self.lines[start:][-last:])

    def signal(self, sig):
        self.p.send_signal(sig)

    def wait(self, timeout=10):
        """Exit status, or None if it is still running after timeout s."""
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.t.join(2)
        return rc

    def stop(self, timeout=10):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def run_cli(args, timeout=10):
    """A policyd run expected to exit by itself: (status, stderr text)."""
    d = Daemon("cli", args, wait_ready=False)
    rc = d.wait(timeout)
    if rc is None:
        d.kill()
    return rc, d.log(last=20)


# ---------------------------------------------------------------- the client

NS_RX = re.compile(rb"(0|[1-9][0-9]{0,8}):")


def frame(payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return b"%d:%s," % (len(payload), payload)


def req(key, mapname="postfix"):
    return frame("%s %s" % (mapname, key) if isinstance(key, str) else mapname.encode() +
                 b" " + key)


class Client:
    def __init__(self, addr, timeout=10, rcvbuf=None):
        if isinstance(addr, str):
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        elif ":" in addr[0]:
            self.s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        else:
            self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(addr)
        self.buf = b""
        self.bad = None  # a reply that is not a netstring

    def port(self):
        return self.s.getsockname()[1]

    def send(self, data):
        self.s.sendall(data)

    def _parse(self, out, n):
        while len(out) < n:
            m = NS_RX.match(self.buf)
            if m is None:
                if self.buf and not re.fullmatch(rb"[0-9]{0,9}", self.buf):
                    self.bad = self.buf[:80]
                return
            size = int(m.group(1))
            end = m.end() + size
            if len(self.buf) < end + 1:
                return
            if self.buf[end:end + 1] != b",":
                self.bad = self.buf[:80]
                return
            out.append(self.buf[m.end():end].decode(errors="replace"))
            self.buf = self.buf[end + 1:]

    def replies(self, n, timeout=10):
        """Up to n replies (str); fewer on EOF, timeout or a malformed reply."""
        out = []
        deadline = time.monotonic() + timeout
        self._parse(out, n)
        while len(out) < n and self.bad is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.s.settimeout(left)
            try:
                data = self.s.recv(1 << 16)
            except (socket.timeout, OSError):
                break
            if not data:
                break
            self.buf += data
            self._parse(out, n)
        return out

    def ask(self, key, mapname="postfix", timeout=10):
        self.send(req(key, mapname))
        r = self.replies(1, timeout)
        return r[0] if r else None

    def closed_by_server(self, timeout=3):
        """'eof' when recv returns b'' within timeout (after any bytes still unread), else
        'open', 'reset' or 'data: ...'."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "open"
            self.s.settimeout(left)
            try:
                data = self.s.recv(4096)
            except socket.timeout:
                return "open"
            except ConnectionResetError:
                return "reset"
            if data == b"":
                return "eof"
            return "data: %r" % data[:60]

    def close(self):
        self.s.close()


def ask(addr, key, mapname="postfix"):
    c = Client(addr)
    try:
        return c.ask(key, mapname)
    finally:
        c.close()


def temp_ok(got):
    """A TEMP reply: 'TEMP ' and a reason of printable ASCII, at most 200 bytes."""
    return (got is not None and got.startswith("TEMP ") and len(got) > 5 and
            len(got) <= 205 and all(" " <= ch < "\x7f" for ch in got))


# ---------------------------------------------------------------- expected answers

DANE_ONLY = "OK dane-only"
NOTFOUND = "NOTFOUND "
PERM = "PERM malformed request"
TEMP = ("TEMP",)  # a marker: 'TEMP <reason>', checked with temp_ok()


def secure(host):
    return "OK secure match=%s servername=hostname" % host


def tlsrpt_attrs(domain, mode, pattern, max_age=86400):
    return (" policy_type=sts policy_domain=%s policy_ttl=%d mx_host_pattern=%s"
            " { policy_string = version: STSv1 } { policy_string = mode: %s }"
            " { policy_string = mx: %s } { policy_string = max_age: %d }"
            % (domain, max_age, pattern, mode, pattern, max_age))


# The lead's table (tests/net/README.md scenarios).
ANSWERS = [
    ("dane-ee.mail.test", DANE_ONLY),
    ("dane-fallback.mail.test", DANE_ONLY),
    ("dane-encrypt.mail.test", "OK dane"),
    ("implicit.mail.test", DANE_ONLY),
    ("danests.sts.test", DANE_ONLY),
    ("danebad.sts.test", DANE_ONLY),
    # DANE on mx1 only, enforce policy for mx2: one answer for both hosts, the safer dane-only
    # (doc/policyd.md, "Partial DANE and an enforce policy")
    ("danepart.sts.test", DANE_ONLY),
    # D1 (commit 80d188d): no usable TLSA under an enforce policy: Web PKI on top, "secure"
    ("daneencsts.sts.test", "OK secure match=mx1.daneencsts.sts.test servername=hostname"),
    ("enforce.sts.test", secure("mx1.enforce.sts.test")),
    ("stswild.sts.test", secure("mx1.stswild.sts.test")),
    ("stsmismatch.sts.test", secure("mx9.stsmismatch.sts.test")),
    ("testing.sts.test", NOTFOUND),
    ("plain.test", NOTFOUND),
    ("tlsafail.mail.test", NOTFOUND),
    ("nx.mail.test", NOTFOUND),
    ("nullmx.test", NOTFOUND),
    ("bogus.test", TEMP),
    ("refused.test", TEMP),
]

KEY_FORMS = [
    ("DANE-EE.mail.test.", DANE_ONLY, "upper case and the root dot"),
    # "[host]": the host itself, no MX lookup (issue 14 item 4): the DANE MX host's own TLSA
    ("[mx1.dane-ee.mail.test]:25", DANE_ONLY, "[host]:25"),
    ("[mx1.dane-ee.mail.test]", DANE_ONLY, "[host]"),
    ("[dane-ee.mail.test]", TEMP, "[domain] names a host without addresses"),
    ("dane-ee.mail.test:25", DANE_ONLY, "host:25"),
    ("[MX1.DANE-EE.MAIL.TEST.]:25", DANE_ONLY, "[HOST.]:25"),
    (".mail.test", NOTFOUND, "parent-domain probe"),
    ("[127.0.0.1]", NOTFOUND, "[IPv4] literal"),
    ("127.0.0.1", NOTFOUND, "bare IPv4 address"),
    ("[ipv6:::1]", NOTFOUND, "[ipv6:...] literal"),
    ("[ipv6:2001:db8::1]:25", NOTFOUND, "[ipv6:...]:25"),
    ("[2001:db8::1]", NOTFOUND, "[IPv6] without the ipv6: tag"),
    ("2001:db8::1", NOTFOUND, "bare IPv6 address"),
    (".", NOTFOUND, "the root alone"),
    ("dane-ee.mail.test:", NOTFOUND, "host: with an empty port"),
    ("[127.0.0.1]:25", NOTFOUND, "[IPv4]:25"),
    ("[mx1.mail.test]:587", NOTFOUND, "[host]:587 (not port 25)"),
    ("dane-ee.mail.test:587", NOTFOUND, "host:587 (not port 25)"),
    ("[dane-ee.mail.test]:0", NOTFOUND, "bad port 0"),
    ("[dane-ee.mail.test]:65536", NOTFOUND, "bad port 65536"),
    ("[dane-ee.mail.test", NOTFOUND, "'[' without ']'"),
    ("bad_key!", NOTFOUND, "not a domain name"),
    ("dane-ee..mail.test", NOTFOUND, "empty label"),
    ("a" * 64 + ".test", NOTFOUND, "64-byte label"),
    (b"dane-ee.mail.test extra", NOTFOUND, "key with a space"),
    (b"dane-ee.mail.test\x01", NOTFOUND, "key with a control byte"),
    (b"dane-ee.mail.test\t", NOTFOUND, "key with a tab"),
    (b"d\xc3\xa4ne.mail.test", NOTFOUND, "key with non-ASCII bytes"),
    (b"", NOTFOUND, "empty key"),
]


# ---------------------------------------------------------------- 1. answers and key forms

def part_answers(d, addr, addr6):
    c = Client(addr)
    for key, want in ANSWERS:
        got = c.ask(key)
        why = "got %r\n" % got + "\n".join(d.grep(r"domain=%s " % re.escape(key))[-4:])
        if want is TEMP:
            check(temp_ok(got), "answer %s: TEMP <reason>" % key, why)
        else:
            check(got == want, "answer %s: %r" % (key, want), why)
    for key, want, what in KEY_FORMS:
        got = c.ask(key)
        ok = temp_ok(got) if want is TEMP else got == want
        check(ok, "key form %s (%r): %r" % (what, key, want), "got %r" % got)
    # Any map name is accepted; a payload that is not '<name> <key>' is PERM.
    for mapname in ("x", "tls_policy", "smtp_tls_policy_maps", "m" * 64):
        got = c.ask("dane-ee.mail.test", mapname)
        check(got == DANE_ONLY, "map name %r accepted" % mapname[:24], "got %r" % got)
    for payload, what in ((b"dane-ee.mail.test", "no space"),
                          (b" dane-ee.mail.test", "empty map name"),
                          (b"m" * 65 + b" dane-ee.mail.test", "65-byte map name"),
                          (b"post\x01fix dane-ee.mail.test", "control byte in the map name")):
        c.send(frame(payload))
        got = c.replies(1)
        check(got == [PERM], "payload with %s: %r" % (what, PERM), "got %r" % got)
    check(c.closed_by_server(0.2) == "open", "PERM leaves the connection open")
    got = c.ask("enforce.sts.test")
    check(got == secure("mx1.enforce.sts.test"), "after PERM the same connection still answers",
          "got %r" % got)
    check(d.wait_log(r"event=bad-request peer=\d+/127\.0\.0\.1:%d "
                     r"reason=\"request is not '<name> <key>'\"" % c.port(), 2),
          "PERM logged as event=bad-request with its reason", d.log())
    c.close()

    def after_stop():
        # Every key form of dane-ee.mail.test was answered from the one decision.
        n = len(d.grep(r"event=decided domain=dane-ee\.mail\.test "))
        check(n == 1, "key forms share one decision of dane-ee.mail.test", "%d decided lines" % n)
        # "[host]" keys are decided on their own (no MX lookup), the two hosts asked only.
        hosts = d.grep(r"event=decided domain=\[")
        check(sorted(set(re.findall(r"domain=(\S+)", "\n".join(hosts)))) ==
              ["[dane-ee.mail.test]", "[mx1.dane-ee.mail.test]"],
              "[host] keys are decided as hosts, once per host", "\n".join(hosts))
        odd = d.grep(r"event=decided domain=(127|\[[0-9i]|\.|mx1\.mail|bad|dane-ee\.mail\.test:)")
        check(not odd, "IP literals, parent probes, other ports and bad keys start no decision",
              "\n".join(odd))
    AFTER_STOP.append(after_stop)
    # A client that goes away before its (cold) answer: nothing breaks, the answer is cached.
    c = Client(addr)
    c.send(req("crlf.sts.test"))
    c.close()
    time.sleep(0.2)
    got = ask(addr, "crlf.sts.test")
    check(got == secure("mx1.crlf.sts.test"),
          "a client gone before its answer: the server carries on, the answer is kept",
          "got %r" % got)
    # The second listener (IPv6 loopback).
    got = ask(addr6, "dane-ee.mail.test")
    check(got == DANE_ONLY, "the [::1] listener answers too", "got %r" % got)


# ---------------------------------------------------------------- 2. netstrings

def part_netstrings(d, addr):
    side = Client(addr)  # must stay usable through every bad case
    check(side.ask("plain.test") == NOTFOUND, "side connection answers before the bad cases")

    # A request split byte by byte (a cold domain).
    c = Client(addr)
    data = req("wildcard.sts.test")
    early = None
    for i, b in enumerate(data):
        c.send(bytes([b]))
        time.sleep(0.003)
        if i == len(data) - 2:
            c.s.settimeout(0.05)
            try:
                early = c.s.recv(100)
            except socket.timeout:
                early = None
    got = c.replies(1)
    check(early is None and got == [secure("mx1.wildcard.sts.test")],
          "request sent byte by byte (%d sends): one correct reply, none before the last byte"
          % len(data), "early %r got %r" % (early, got))

    # Two requests in one send: a cold domain, then a cache hit.
    c.send(req("nomx.test") + req("dane-ee.mail.test"))
    got = c.replies(2)
    check(got == [NOTFOUND, DANE_ONLY], "two requests in one send, answered in order",
          "got %r" % got)

    # A reply split across the header and the payload: '1024:' first, then exactly 1024 bytes.
    payload = b"postfix " + b"a" * 1016
    c.send(b"1024:")
    time.sleep(0.05)
    c.send(payload + b",")
    got = c.replies(1)
    check(got == [NOTFOUND], "exactly max-request (1024) bytes accepted (key too long: NOTFOUND)",
          "got %r" % got)
    # 0:, is an empty payload: PERM, and the connection stays.
    c.send(b"0:,")
    got = c.replies(1)
    check(got == [PERM], "'0:,' (empty payload): %r" % PERM, "got %r" % got)
    got = c.ask("dane-ee.mail.test")
    check(got == DANE_ONLY, "connection still usable after '0:,'", "got %r" % got)
    c.close()

    # 200 pipelined requests in one send: cold domains (several asked more than once), cache
    # hits, non-domain keys and a PERM, interleaved.
    cold = [("dane-ta.mail.test", DANE_ONLY), ("dane-ta-name.mail.test", DANE_ONLY),
            ("dane-mismatch.mail.test", DANE_ONLY), ("dane-expired.mail.test", DANE_ONLY),
            ("stsnotls.sts.test", secure("mx1.stsnotls.sts.test")),
            ("addrfail.mail.test", NOTFOUND)]
    cold += [("p%d.nx.mail.test" % i, NOTFOUND) for i in range(40)]
    cold += [("p%d.example" % i, NOTFOUND) for i in range(20)]
    cold += [("p%d.refused.test" % i, TEMP) for i in range(15)]
    cached = [("dane-ee.mail.test", DANE_ONLY),
              ("enforce.sts.test", secure("mx1.enforce.sts.test")), ("plain.test", NOTFOUND), ("stswild.sts.test", secure("mx1.stswild.sts.test")),
              ("[mx1.dane-ee.mail.test]:25", DANE_ONLY), (".mail.test", NOTFOUND),
              ("[mx1.mail.test]:587", NOTFOUND), ("bogus.test", TEMP)]
    rng = random.Random(8461)
    items = list(cold)
    # the first six cold scenario domains asked three times each (joined decisions)
    items += cold[:6] * 2
    while len(items) < 199:
        items.append(rng.choice(cached))
    rng.shuffle(items)
    items.insert(100, (None, PERM))
    items = items[:200]
    # a cold domain first, so that every later reply waits behind a decision
    first = [i for i, (k, _) in enumerate(items) if k == "dane-ta.mail.test"][0]
    items[0], items[first] = items[first], items[0]
    blob = b"".join(frame(b"no-space-here") if k is None else req(k) for k, _ in items)
    mark = d.mark()
    c = Client(addr)
    t = time.monotonic()
    c.send(blob)
    got = c.replies(len(items), timeout=20)
    el = time.monotonic() - t
    bad = [(i, items[i][0], got[i] if i < len(got) else None, items[i][1])
           for i in range(len(items))
           if i >= len(got) or not (temp_ok(got[i]) if items[i][1] is TEMP
                                    else got[i] == items[i][1])]
    check(len(got) == 200 and not bad,
          "200 pipelined requests in one send (%d cold, mixed with cache hits): every reply "
          "correct and in order (%.2f s)" % (len(set(k for k, _ in cold)), el),
          "%d replies; first wrong: %r" % (len(got), bad[:3]))
    c.close()

    def after_stop():
        twice = [k for k, _ in cold[:6]
                 if len(d.grep(r"event=decided domain=%s " % re.escape(k), mark)) != 1]
        check(not twice, "a domain asked 3 times in the pipeline is decided once",
              "decided count != 1 for %r" % twice)
    AFTER_STOP.append(after_stop)

    # More than the 1024 requests read ahead: 1500 behind one cold domain.
    seq = [("html.sts.test", NOTFOUND)] + [cached[i % 4] for i in range(1499)]
    c = Client(addr)
    c.send(b"".join(req(k) for k, _ in seq))
    got = c.replies(len(seq), timeout=20)
    check(got == [w for _, w in seq],
          "1500 pipelined requests behind a cold domain (beyond the 1024 read-ahead): all "
          "answered in order", "%d replies; first %r" % (len(got), got[:2]))
    c.close()

    # Bad frames: the server closes the connection (EOF) and logs event=bad-request.
    bad_cases = [
        ("non-digit length", b"x5:hello,", "bad length"),
        ("leading zero", b"05:postfix a,", "bad length"),
        ("'00:'", b"00:,", "bad length"),
        ("no digits before ':'", b":postfix dane-ee.mail.test,", "bad length"),
        ("negative length", b"-5:hello,", "bad length"),
        ("blank before the length", b" 5:hello,", "bad length"),
        ("ten digits, no ':'", b"1234567890", "too long"),
        ("missing comma", b"5:hello!", "missing comma"),
        ("missing comma (payload longer than announced)",
         b"3:postfix dane-ee.mail.test,", "missing comma"),
        ("max-request+1 announced (1025), payload not sent", b"1025:", "too long"),
        ("99999999 announced", b"99999999:", "too long"),
        ("a valid frame, then a bad one", req("plain.test") + b"x:", "bad length"),
    ]
    for what, data, reason in bad_cases:
        c = Client(addr)
        port = c.port()
        c.send(data)
        if what.startswith("a valid frame"):
            got = c.replies(1, timeout=2)
            check(got == [NOTFOUND], "bad frame after a valid one: the valid one is answered",
                  "got %r (the reply was discarded with the connection)" % got)
        state = c.closed_by_server()
        line = d.wait_log(r"event=bad-request peer=\d+/127\.0\.0\.1:%d reason=\"%s\" "
                          r"max-request=1024 action=\"closing after the replies owed\"" % (port, reason), 2)
        check(state == "eof" and line is not None,
              "bad netstring, %s: connection closed (EOF), logged reason=%r" % (what, reason),
              "state %s; log:\n%s" % (state, d.log()))
        c.close()
    got = side.ask("dane-ee.mail.test")
    check(got == DANE_ONLY, "the side connection is unaffected by %d bad frames" % len(bad_cases),
          "got %r" % got)
    side.close()
    return len(bad_cases)


# ---------------------------------------------------------------- 3. concurrency

def part_concurrency(d, addr):
    shared = [("dane-454.mail.test", DANE_ONLY), ("dane-notls.mail.test", DANE_ONLY),
              ("dane-cname.mail.test", DANE_ONLY), ("secure.test", DANE_ONLY),
              ("notfound.sts.test", NOTFOUND), ("expired.test", TEMP),
              ("mxbogus.test", TEMP), ("insecure.test", NOTFOUND)]
    cold = []
    for i in range(50):
        if i < 16:
            cold.append(shared[i % 8])            # each asked by two connections at once
        elif i < 34:
            cold.append(("c%d.nx.mail.test" % i, NOTFOUND))
        elif i < 44:
            cold.append(("c%d.example" % i, NOTFOUND))
        else:
            cold.append(("c%d.refused.test" % i, TEMP))
    hits = [("dane-ee.mail.test", DANE_ONLY), ("enforce.sts.test", secure("mx1.enforce.sts.test")),
            ("plain.test", NOTFOUND), ("[127.0.0.1]", NOTFOUND)]
    conns = [Client(addr) for _ in range(50)]
    barrier = threading.Barrier(50)
    out = [None] * 50
    mark = d.mark()

    def worker(i):
        seq = [cold[i]] + hits[i % 4:] + hits[:i % 4]
        try:
            barrier.wait(10)
            conns[i].send(b"".join(req(k) for k, _ in seq))
            got = conns[i].replies(len(seq), timeout=15)
        except Exception as e:  # noqa: BLE001 -- reported as a failed check
            got = ["exception %r" % e]
        ok = len(got) == len(seq) and all(
            temp_ok(g) if w is TEMP else g == w for g, (_, w) in zip(got, seq))
        out[i] = (ok, seq, got)

    t = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    el = time.monotonic() - t
    wrong = [(i, o[2], [w for _, w in o[1]]) for i, o in enumerate(out) if o is None or not o[0]]
    check(not wrong, "50 connections at once, each a cold domain and 4 cache hits: all 250 "
          "replies correct and in order (%.2f s)" % el, "wrong: %r" % wrong[:3])
    def after_stop():
        multi = [k for k, _ in shared
                 if len(d.grep(r"event=decided domain=%s " % re.escape(k), mark)) != 1]
        check(not multi, "a cold domain asked by two connections at once is decided once",
              repr(multi))
    AFTER_STOP.append(after_stop)
    for c in conns:
        c.close()


# ---------------------------------------------------------------- 4. idle timeout

def part_idle(port):
    d = Daemon("idle", ["--listen", "127.0.0.1:%d" % port, "--idle-timeout", "1", "-vv"])
    addr = ("127.0.0.1", port)
    if not check(d.ready is not None, "--idle-timeout 1 daemon ready", d.log()):
        d.kill()
        return
    warm = Client(addr)
    check(warm.ask("dane-ee.mail.test") == DANE_ONLY, "idle daemon: dane-ee.mail.test cached")
    res = {}

    def idle_conn():
        c = Client(addr)
        t = time.monotonic()
        state = c.closed_by_server(4)
        res["idle"] = (state, time.monotonic() - t, c)

    def partial_conn():
        c = Client(addr)
        c.send(b"30:postfix dane")
        t = time.monotonic()
        state = c.closed_by_server(4)
        res["partial"] = (state, time.monotonic() - t)

    def busy_conn():
        # one request every 0.4 s for 2.4 s: never idle for 1 s
        c = Client(addr)
        ok = True
        for _ in range(6):
            time.sleep(0.4)
            ok = ok and c.ask("dane-ee.mail.test", timeout=2) == DANE_ONLY
        res["busy"] = ok
        c.close()

    def slow_conn():
        # lame.test: the delegation's server never answers, about 2.3 s to a SERVFAIL; the
        # cache hit behind it must wait (order), and the connection must not time out.
        c = Client(addr)
        t = time.monotonic()
        c.send(req("lame.test") + req("dane-ee.mail.test"))
        early = c.replies(1, timeout=1.5)
        got = early + c.replies(2 - len(early), timeout=8)
        el = time.monotonic() - t
        t2 = time.monotonic()
        after = c.closed_by_server(4)
        res["slow"] = (early, got, el, after, time.monotonic() - t2)
        c.close()

    threads = [threading.Thread(target=f) for f in (idle_conn, partial_conn, busy_conn, slow_conn)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(15)
    state, el, c = res.get("idle", ("missing", 0, None))
    check(state == "eof" and 0.8 <= el <= 2.2,
          "an idle connection is closed after about 1 s", "%s after %.2f s" % (state, el))
    if c is not None:
        check(d.wait_log(r"event=idle-timeout peer=\d+/127\.0\.0\.1:%d$" % c.port(), 2),
              "idle close logged as event=idle-timeout (-vv)", d.log())
        c.close()
    state, el = res.get("partial", ("missing", 0))
    check(state == "eof" and 0.8 <= el <= 2.2,
          "a connection silent in the middle of a netstring is closed after about 1 s",
          "%s after %.2f s" % (state, el))
    check(res.get("busy") is True, "a connection asking every 0.4 s stays open for 2.4 s")
    early, got, el, after, el2 = res.get("slow", ([], [], 0, "missing", 0))
    if el < 1.5:
        check(True, "slow answer outlives the idle timeout # SKIP lame.test answered in "
              "%.2f s, not slow" % el)
    else:
        check(early == [] and len(got) == 2 and temp_ok(got[0]) and got[1] == DANE_ONLY,
              "a connection waiting %.1f s for a slow answer is not closed; the cache hit "
              "behind it comes second" % el, "early %r got %r" % (early, got))
        # The idle timer restarts when the last reply owed is written.
        check(after == "eof" and 0.8 <= el2 <= 2.2,
              "once answered, that connection is closed 1 s after its last reply",
              "%s %.2f s after the last reply" % (after, el2))
    warm.close()
    rc = d.stop()
    check(rc == 0, "idle daemon: SIGTERM, exit 0", "rc %r" % rc)


# ---------------------------------------------------------------- 5. unix socket

def part_unix():
    sdir = os.path.join(TMP, "sock")
    os.mkdir(sdir)
    path = os.path.join(sdir, "policyd.sock")
    d = Daemon("unix", ["--socket", path, "--socket-mode", "0600"])
    check(d.ready is not None and "socket=%s " % path in d.ready,
          "unix socket daemon ready, the path in event=ready", d.log())
    st = os.lstat(path) if os.path.lexists(path) else None
    check(st is not None and stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
          "--socket-mode 0600: the socket file has mode 0600",
          "stat %s" % (oct(st.st_mode) if st else None))
    c = Client(path)
    got = [c.ask("dane-ee.mail.test"), c.ask("enforce.sts.test"), c.ask("[127.0.0.1]")]
    check(got == [DANE_ONLY, secure("mx1.enforce.sts.test"), NOTFOUND],
          "answers over the unix socket", "got %r" % got)
    c.send(b"x:")
    check(c.closed_by_server() == "eof", "bad frame over the unix socket: closed")
    c.close()
    rc = d.stop()
    check(rc == 0 and not os.path.lexists(path),
          "SIGTERM: exit 0 and the socket file removed", "rc %r exists %r" % (rc,
                                                                         os.path.lexists(path)))

    # A run killed with SIGKILL leaves its socket; the next run replaces it.
    d = Daemon("unix2", ["--socket", path])
    old = os.lstat(path) if d.ready and os.path.lexists(path) else None
    d.p.kill()
    d.wait()
    check(old is not None and os.path.lexists(path), "SIGKILL leaves the stale socket file")
    time.sleep(0.02)  # a later ctime, should the inode number be reused
    d = Daemon("unix3", ["--socket", path])
    st = os.lstat(path) if os.path.lexists(path) else None
    check(d.ready is not None and st is not None and old is not None and
          stat.S_ISSOCK(st.st_mode) and
          (st.st_ino, st.st_ctime_ns) != (old.st_ino, old.st_ctime_ns),
          "a stale socket file is replaced by the next run (a new socket file)", d.log())
    check(st is not None and stat.S_IMODE(st.st_mode) == 0o660,
          "default --socket-mode is 0660", oct(st.st_mode) if st else "")
    got = ask(path, "dane-ee.mail.test")
    check(got == DANE_ONLY, "the replacing run answers", "got %r" % got)
    d.signal(signal.SIGINT)
    rc = d.wait()
    check(rc == 0 and d.grep(r"event=stopping signal=INT") and not os.path.lexists(path),
          "SIGINT: event=stopping signal=INT, exit 0, socket removed", "rc %r" % rc)

    # A regular file at the path is not ours to delete.
    with open(path, "w", encoding="ascii") as f:
        f.write("keep me\n")
    rc, err = run_cli(["--socket", path])
    with open(path, encoding="ascii") as f:
        content = f.read()
    check(rc == 78 and "exists and is not a socket" in err and content == "keep me\n",
          "a regular file at --socket: exit 78, clear message, file left alone",
          "rc %r: %s" % (rc, err))
    os.unlink(path)


# ---------------------------------------------------------------- --max-connections

def part_maxconn(port):
    """--max-connections 8 (issue 14 item 5): at the limit a new connection closes the
    connection idle the longest (least recently active, not first opened) and is answered;
    only when every connection is busy (a decision owed) is the new one refused."""
    d = Daemon("maxconn", ["--listen", "127.0.0.1:%d" % port, "--max-connections", "8"])
    addr = ("127.0.0.1", port)

    def ask(cl, key, timeout=3):
        """cl.ask(), None when the server has closed the connection (a broken pipe)."""
        try:
            return cl.ask(key, timeout=timeout)
        except OSError:
            return None

    def send(cl, data):
        try:
            cl.send(data)
        except OSError:
            pass
    # Eight clients, each asking once in turn (c[0] the first, so the longest idle), then
    # silent: the limit is full of idle connections.
    c = [Client(addr) for _ in range(8)]
    got = [ask(cl, "dane-ee.mail.test") for cl in c]
    check(got == [DANE_ONLY] * 8, "--max-connections 8: eight clients answered, then idle",
          "got %r" % got)
    ports = [cl.port() for cl in c]

    # A ninth client is answered; the longest-idle connection is the one closed.
    t = time.monotonic()
    n1 = Client(addr)
    got = ask(n1, "dane-ee.mail.test")
    el = (time.monotonic() - t) * 1e3
    check(got == DANE_ONLY, "limit full of idle clients: a ninth client is answered (%.1f ms "
          "from connect to answer)" % el, "got %r\n%s" % (got, d.log()))
    state = c[0].closed_by_server(2)
    line = d.wait_log(r"event=connection-evicted peer=\d+/127\.0\.0\.1:%d idle-seconds=\d+ "
                      r"reason=\"max-connections reached\" new-peer=127\.0\.0\.1:%d$"
                      % (ports[0], n1.port()), 2)
    check(state == "eof" and line is not None,
          "... the longest-idle connection (the first) is closed (EOF), "
          "event=connection-evicted at info", "state %s\n%s" % (state, d.log()))
    states = [cl.closed_by_server(0.1) for cl in c[1:]]
    check(states == ["open"] * 7, "... the other seven stay open", "states %r" % states)

    # Least recently active, not first opened: c[1] asks again, so c[2] is the longest idle.
    got = ask(c[1], "dane-ee.mail.test")
    n2 = Client(addr)
    got2 = ask(n2, "dane-ee.mail.test")
    state1, state2 = c[1].closed_by_server(0.3), c[2].closed_by_server(2)
    check(got == DANE_ONLY and got2 == DANE_ONLY and state2 == "eof" and state1 == "open",
          "a tenth client: the connection idle the longest (the third opened) is closed, not "
          "the second, opened earlier but active since", "got %r %r, second %s, third %s"
          % (got, got2, state1, state2))

    # Every connection busy: each waits for the same slow decision (lame.test, about 2.3 s).
    busy = [c[1]] + c[3:] + [n1, n2]
    mark = d.mark()
    t = time.monotonic()
    for cl in busy:
        send(cl, req("lame.test"))
    time.sleep(0.3)
    n3 = Client(addr)
    p3 = n3.port()
    state = n3.closed_by_server(1)
    early = d.grep(r"event=decided domain=lame\.test ", mark)
    el = time.monotonic() - t
    line = d.wait_log(r"event=connection-refused peer=127\.0\.0\.1:%d "
                      r"reason=\"max-connections reached\" busy=8 idle=0$" % p3, 2, mark)
    if early:
        check(True, "every connection busy: a new one is refused # SKIP lame.test answered "
              "in less than %.2f s, not slow" % el)
    else:
        check(state == "eof" and line is not None and
              not d.grep(r"event=connection-evicted", mark),
              "eight connections each waiting for a decision: a new one is refused (EOF), "
              "none closed, event=connection-refused busy=8 idle=0",
              "state %s\n%s" % (state, d.log(mark)))
    n3.close()
    got = [cl.replies(1, timeout=8) for cl in busy]
    check(all(len(r) == 1 and temp_ok(r[0]) for r in got),
          "... and the eight waiting connections get their answers (TEMP)", "got %r" % got)

    # Answered, the eight are idle again: a new client closes one of them and is answered.
    n4 = Client(addr)
    got = ask(n4, "dane-ee.mail.test")
    states = [cl.closed_by_server(0.3) for cl in busy]
    check(got == DANE_ONLY and states.count("eof") == 1 and states.count("open") == 7,
          "once answered they are idle again: a new client is answered, exactly one of the "
          "eight closed", "got %r states %r" % (got, states))
    for cl in c + [n1, n2, n4]:
        cl.close()
    check(d.stop() == 0, "--max-connections daemon: exit 0")


def part_sts_refresh(port):
    """The proactive MTA-STS refresh inside the daemon (RFC 8461 §3.3, §10.2): with
    --sts-refresh 1 --sts-refresh-age 0 the cached policy is fetched again every second."""
    d = Daemon("stsrefresh", ["-v", "--listen", "127.0.0.1:%d" % port, "--sts-refresh", "1",
                              "--sts-refresh-age", "0"])
    addr = ("127.0.0.1", port)
    got = ask(addr, "enforce.sts.test")
    start = d.mark()
    line = d.wait_log(r"event=sts-refresh due=1 refreshed=1 failed=0", 5, start)
    check(got == secure("mx1.enforce.sts.test") and line is not None,
          "--sts-refresh 1 --sts-refresh-age 0: the policy cached by a decision is re-fetched "
          "by the daemon's own refresh (event=sts-refresh due=1 refreshed=1 failed=0)",
          "got %r\n%s" % (got, d.log(start)))
    check(d.stop() == 0, "--sts-refresh daemon: exit 0")


def part_max_age(port):
    """RFC 8461 §5.1: an answer is not kept past the max_age of the policy it rests on, even
    where --min-ttl (default 10 s) would keep it longer.  maxage.sts.test's policy has max_age
    2 (tests/net/https-up.sh) and a TXT TTL of 1 s."""
    d = Daemon("maxage", ["-v", "--listen", "127.0.0.1:%d" % port])
    start = d.mark()
    got = ask(("127.0.0.1", port), "maxage.sts.test")
    line = d.wait_log(r"event=decided domain=maxage\.sts\.test .*ttl=", 5, start)
    m = re.search(r" ttl=([0-9]+)", line or "")
    check(got == secure("mx1.maxage.sts.test") and m is not None and 1 <= int(m.group(1)) <= 2,
          "a policy with max_age 2: the answer is kept at most 2 s despite --min-ttl 10",
          "got %r\n%s" % (got, d.log(start)))
    check(d.stop() == 0, "max_age daemon: exit 0")


# ---------------------------------------------------------------- 6. signals, tlsrpt, reload

def part_tlsrpt(port):
    d = Daemon("tlsrpt", ["--listen", "127.0.0.1:%d" % port, "--tlsrpt",
                          "--fail-open", "bogus.test", "--fail-open", ".refused.test"])
    addr = ("127.0.0.1", port)
    check(d.ready is not None, "--tlsrpt --fail-open daemon ready", d.log())
    c = Client(addr)
    for key, want in (
            ("testing.sts.test", "OK may" + tlsrpt_attrs("testing.sts.test", "testing",
                                                         "mx1.testing.sts.test")),
            ("enforce.sts.test", secure("mx1.enforce.sts.test") +
             tlsrpt_attrs("enforce.sts.test", "enforce", "mx1.enforce.sts.test")),
            ("stswild.sts.test", secure("mx1.stswild.sts.test") +
             tlsrpt_attrs("stswild.sts.test", "enforce", "*.stswild.sts.test")),
            ("stsmismatch.sts.test", secure("mx9.stsmismatch.sts.test") +
             tlsrpt_attrs("stsmismatch.sts.test", "enforce", "mx9.stsmismatch.sts.test")),
            ("dane-ee.mail.test", DANE_ONLY), ("danests.sts.test", DANE_ONLY),
            ("plain.test", NOTFOUND), ("none.sts.test", NOTFOUND),
            ("bogus.test", NOTFOUND), ("x.refused.test", NOTFOUND)):
        got = c.ask(key)
        check(got == want, "--tlsrpt --fail-open: %s -> %r" % (key, want), "got %r" % got)
    got = c.ask("refused.test")
    check(temp_ok(got), "--fail-open .refused.test covers subdomains only: refused.test TEMP",
          "got %r" % got)
    # A client that does not read: past 1 MiB of unread replies (beyond what the kernel's
    # buffers hold) the server stops reading its requests; it resumes when the client reads,
    # and every reply arrives, in order.
    n = 40000
    long_answer = secure("mx1.enforce.sts.test") + tlsrpt_attrs("enforce.sts.test", "enforce",
                                                               "mx1.enforce.sts.test")
    slow = Client(addr, rcvbuf=32768)
    blob = b"".join(req("enforce.sts.test" if i % 2 else "[127.0.0.1]") for i in range(n))
    sender = threading.Thread(target=slow.send, args=(blob,), daemon=True)
    sender.start()
    time.sleep(0.5)
    # the server's side of this connection: Recv-Q is what it has not read
    ss = subprocess.run(["ss", "-tnH", "state", "established", "( sport = :%d and dport = :%d )"
                         % (port, slow.port())], capture_output=True, text=True).stdout.split()
    unread = int(ss[0]) if ss and ss[0].isdigit() else -1
    check(unread > 0, "a client that does not read: the server stops reading its requests "
          "(%d bytes left unread)" % unread, "ss: %r" % ss)
    got = slow.replies(n, timeout=20)
    sender.join(5)
    want = [long_answer if i % 2 else NOTFOUND for i in range(n)]
    check(got == want, "... and once it reads, all %d replies (%.1f MB) arrive, in order"
          % (n, (n // 2) * (len(long_answer) + 8 + 12) / 1e6), "%d replies" % len(got))
    slow.close()
    got = c.ask("testing.sts.test")
    check(got is not None and got.startswith("OK may policy_type=sts policy_domain="
                                             "testing.sts.test policy_ttl=86400 "
                                             "mx_host_pattern="),
          "--tlsrpt: testing.sts.test starts 'OK may policy_type=sts ...'", "got %r" % got)
    # SIGTERM while a decision is still running (lame.test, about 2.3 s).
    c.send(req("lame.test"))
    time.sleep(0.3)
    t = time.monotonic()
    rc = d.stop(5)
    el = time.monotonic() - t
    state = c.closed_by_server(1)
    check(rc == 0 and el < 1.5 and state == "eof",
          "SIGTERM with a decision in flight: exit 0 at once, the client's connection closed",
          "rc %r after %.2f s, client %s" % (rc, el, state))
    c.close()


def part_reload(port):
    cfg = os.path.join(TMP, "policyd.conf")
    with open(cfg, "w", encoding="ascii") as f:
        f.write("# policyd test\nlisten = 127.0.0.1:%d\ntlsrpt = yes\n" % port)
    d = Daemon("reload", [], config=cfg)
    addr = ("127.0.0.1", port)
    check(d.ready is not None and "listen=127.0.0.1:%d " % port in d.ready,
          "--config with 'listen =' and 'tlsrpt = yes': ready on that address", d.log())
    enforce = secure("mx1.enforce.sts.test")
    enforce_rpt = enforce + tlsrpt_attrs("enforce.sts.test", "enforce", "mx1.enforce.sts.test")
    c = Client(addr)
    got = c.ask("enforce.sts.test")
    check(got == enforce_rpt, "config tlsrpt = yes: enforce.sts.test with TLSRPT attributes",
          "got %r" % got)

    # A plain SIGHUP: event=reload, still answering on the open connection.
    mark = d.mark()
    d.signal(signal.SIGHUP)
    line = d.wait_log(r"event=reload result=\"configuration reloaded\"", 5, mark)
    got = c.ask("dane-ee.mail.test")
    check(line is not None and got == DANE_ONLY,
          "SIGHUP: event=reload, the open connection still answers", "got %r\n%s" %
          (got, d.log(mark)))

    with open(cfg, "w", encoding="ascii") as f:
        f.write("listen = 127.0.0.1:%d\ntlsrpt = no\n" % port)
    mark = d.mark()
    d.signal(signal.SIGHUP)
    line = d.wait_log(r"event=reload result=\"configuration reloaded\"", 5, mark)
    got = c.ask("enforce.sts.test")
    check(line is not None and got == enforce,
          "tlsrpt = no + SIGHUP: enforce.sts.test without TLSRPT attributes", "got %r" % got)
    check(d.wait_log(r"event=decided domain=enforce\.sts\.test ", 2, mark),
          "after the reload enforce.sts.test is decided again (cache forgotten)")
    got = c.ask("testing.sts.test")
    check(got == NOTFOUND, "tlsrpt = no: testing.sts.test NOTFOUND", "got %r" % got)

    # A broken file: reload-failed, the running settings stay.
    with open(cfg, "w", encoding="ascii") as f:
        f.write("listen = 127.0.0.1:%d\ntlsrpt = maybe\n" % port)
    mark = d.mark()
    d.signal(signal.SIGHUP)
    line = d.wait_log(r"event=reload-failed .*tlsrpt", 5, mark)
    got = [c.ask("enforce.sts.test"), ask(addr, "dane-ee.mail.test")]
    check(line is not None and got == [enforce, DANE_ONLY],
          "a broken config + SIGHUP: event=reload-failed, running settings kept",
          "got %r\n%s" % (got, d.log(mark)))
    c.close()
    rc = d.stop()
    stopped = d.grep(r"event=stopped requests=\d+ hits=\d+ ")
    check(rc == 0 and stopped and d.grep(r"event=stopping signal=TERM"),
          "SIGTERM: event=stopping, event=stopped requests=.. hits=.., exit 0",
          "rc %r\n%s" % (rc, d.log()))


# ---------------------------------------------------------------- 7. restart, answer store

def part_restart(port):
    state = os.path.join(TMP, "state-restart")
    addr = ("127.0.0.1", port)
    keys = [("dane-ee.mail.test", DANE_ONLY), ("enforce.sts.test", secure("mx1.enforce.sts.test")),
            ("plain.test", NOTFOUND), ("nx.mail.test", NOTFOUND), ("bogus.test", TEMP),
            ("refused.test", TEMP), (".mail.test", NOTFOUND), ("[127.0.0.1]", NOTFOUND)]
    stored = ["dane-ee.mail.test", "enforce.sts.test", "plain.test", "nx.mail.test"]

    def ask_all(d):
        c = Client(addr)
        got = [c.ask(k) for k, _ in keys]
        c.close()
        return all(temp_ok(g) if w is TEMP else g == w for g, (_, w) in zip(got, keys)), got

    d = Daemon("restart1", ["--listen", "127.0.0.1:%d" % port], state=state)
    check(d.grep(r"event=store-loaded answers=0 ") and d.ready and " cached=0 " in d.ready,
          "fresh state directory: event=store-loaded answers=0", d.log())
    ok, got = ask_all(d)
    check(ok, "before the restart: the %d answers" % len(keys), "got %r" % got)
    rc = d.stop()
    want = ("event=stopped requests=8 hits=0 misses=6 decisions=6 refreshes=0 not-looked-up=2 "
            "temp-decisions=2 bad-frames=0 connections=1 cached=6")
    check(rc == 0 and d.grep(re.escape(want) + "$"), "stop: exit 0, %s" % want[6:],
          "rc %r\n%s" % (rc, d.log(last=2)))

    d = Daemon("restart2", ["--listen", "127.0.0.1:%d" % port], state=state)
    line = d.grep(r"event=store-loaded ")
    check(line and re.search(r"answers=%d " % len(stored), line[0]) and d.ready and
          " cached=%d " % len(stored) in d.ready,
          "restart, same --state-dir: event=store-loaded answers=%d (TEMP answers not stored), "
          "ready cached=%d" % (len(stored), len(stored)), "%r\n%s" % (line, d.log()))
    mark = d.mark()
    ok, got = ask_all(d)
    check(ok, "after the restart: the same answers", "got %r" % got)
    rc = d.stop()
    redecided = [k for k in stored if d.grep(r"event=decided domain=%s " % re.escape(k), mark)]
    check(not redecided, "stored answers are served with no new event=decided",
          "decided again: %r" % redecided)
    temps = [k for k in ("bogus.test", "refused.test")
             if len(d.grep(r"event=decided domain=%s " % re.escape(k), mark)) == 1]
    check(len(temps) == 2, "TEMP answers were not stored: decided again after the restart",
          repr(temps))
    want = ("event=stopped requests=8 hits=4 misses=2 decisions=2 refreshes=0 not-looked-up=2 "
            "temp-decisions=2 bad-frames=0 connections=1 cached=6")
    check(rc == 0 and d.grep(re.escape(want) + "$"), "stop: %s" % want[6:],
          "rc %r\n%s" % (rc, d.log(last=2)))

    # Other settings (--tlsrpt): the stored answers do not apply.
    d = Daemon("restart3", ["--listen", "127.0.0.1:%d" % port, "--tlsrpt"], state=state)
    check(d.grep(r"event=store-loaded answers=0 "),
          "restart with --tlsrpt: answers stored under other settings are dropped (answers=0)",
          d.log())
    got = ask(addr, "enforce.sts.test")
    check(got == secure("mx1.enforce.sts.test") +
          tlsrpt_attrs("enforce.sts.test", "enforce", "mx1.enforce.sts.test"),
          "restart with --tlsrpt: enforce.sts.test decided anew, with TLSRPT attributes",
          "got %r" % got)
    check(d.stop() == 0, "third run: exit 0")


# ---------------------------------------------------------------- 8. usage errors

def part_usage(busy_port):
    rc, err = run_cli([])
    check(rc == 64 and "--listen" in err, "no --listen/--socket: exit 64, says --listen",
          "rc %r: %s" % (rc, err))
    rc, err = run_cli(["--listen", "nonsense"])
    check(rc == 78 and "--listen nonsense: expected HOST:PORT or [IPV6]:PORT" in err,
          "--listen nonsense: exit 78, 'expected HOST:PORT or [IPV6]:PORT'",
          "rc %r: %s" % (rc, err))
    for spec in ("127.0.0.1:", ":10025", "[::1]10025", "127.0.0.1:http"):
        rc, err = run_cli(["--listen", spec])
        check(rc == 78 and ("--listen %s" % spec) in err, "--listen %r: exit 78" % spec,
              "rc %r: %s" % (rc, err))
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", busy_port))
    blocker.listen(1)
    rc, err = run_cli(["--listen", "127.0.0.1:%d" % busy_port])
    check(rc == 78 and "Address already in use" in err and "listen-failed" in err,
          "a port already in use: exit 78, event=listen-failed 'Address already in use'",
          "rc %r: %s" % (rc, err))
    blocker.close()
    for args, what in ((["--socket", "relative.sock"], "--socket relative path"),
                       (["--listen", "127.0.0.1:1", "--socket-mode", "0999"], "--socket-mode 0999"),
                       (["--listen", "127.0.0.1:1", "--max-request", "63"], "--max-request 63"),
                       (["--listen", "127.0.0.1:1", "--idle-timeout", "0"], "--idle-timeout 0"),
                       (["--listen", "127.0.0.1:1", "--tlsrpt=maybe"], "--tlsrpt=maybe"),
                       (["127.0.0.1:10025"], "a positional argument")):
        rc, err = run_cli(args)
        check(rc == 64, "%s: exit 64" % what, "rc %r: %s" % (rc, err))
    # Port numbers out of range are not a port (getaddrinfo takes 99999 as 99999 % 65536).
    d = Daemon("port", ["--listen", "127.0.0.1:99999"], wait_ready=False)
    rc = d.wait(1.5)
    if rc is None:
        d.kill()
    check(rc == 78, "--listen 127.0.0.1:99999: exit 78",
          "rc %r (still running: it listened on port 34463); %s" % (rc, d.log(last=3)))


# ---------------------------------------------------------------- main

def main():
    pa = 10025
    a = Daemon("main", ["--listen", "127.0.0.1:%d" % pa, "--listen", "[::1]:%d" % pa, "-v"])
    addr, addr6 = ("127.0.0.1", pa), ("::1", pa)
    try:
        check(a.ready is not None and "listen=127.0.0.1:%d,[::1]:%d " % (pa, pa) in a.ready,
              "main daemon ready on 127.0.0.1 and [::1] (event=ready)", a.log())
        part_answers(a, addr, addr6)
        nbad = part_netstrings(a, addr)
        part_concurrency(a, addr)
        rc = a.stop()
        check(rc == 0 and a.grep(r"event=stopped .* bad-frames=%d " % nbad),
              "main daemon: exit 0, event=stopped counts bad-frames=%d" % nbad,
              "rc %r\n%s" % (rc, a.log(last=2)))
        for fn in AFTER_STOP:
            fn()
        seen = {}
        for ln in a.grep(r"event=(decided|refreshed) "):
            dom = re.search(r" domain=(\S+)", ln).group(1)
            seen[dom] = seen.get(dom, 0) + 1
        again = sorted(k for k, n in seen.items() if n > 1)
        check(seen and not again, "main daemon: each of %d domains decided once in the whole run "
              "(cache hits and joined decisions)" % len(seen), "more than once: %r" % again)
        part_idle(10026)
        part_unix()
        part_tlsrpt(10027)
        part_reload(10028)
        part_restart(10029)
        part_usage(10030)
        part_maxconn(10031)
        part_sts_refresh(10032)
        part_max_age(10033)
    finally:
        for d in ALL_DAEMONS:
            d.kill()
        if os.environ.get("MXTLS_TEST_KEEP") != "1":
            shutil.rmtree(TMP, ignore_errors=True)
    check(True, "whole run took %.1f s" % (time.monotonic() - T0))

    print("1..%d" % len(results))
    for i, (ok, what, diag, todo) in enumerate(results, 1):
        suffix = " # TODO %s" % todo if todo else ""
        print("%s %d - %s%s" % ("ok" if ok else "not ok", i, what, suffix))
        if not ok and diag:
            for line in diag.splitlines()[:8]:
                print("# " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
