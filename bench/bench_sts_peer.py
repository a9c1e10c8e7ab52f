#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_sts's peer: postfix-mta-sts-resolver's policy parser and SQLite cache, timed on request.

bench_sts starts this script as a co-process and sends it one command per line on stdin; each
gets one reply line on stdout.  A reply starts with "ok", "wrong" (a result failed its check:
the benchmark stops) or "error" (the driver itself failed).

  hello                              ok <peer version> | unavailable <reason>
  parse FILE MODE NMX MAXAGE SECS    decode + parse_mta_sts_policy() on FILE's bytes for SECS
                                     of wall time, each result checked (version, mode, number
                                     of mx patterns, max_age); ok OPS CPU WALL
  fill DBFILE N SECS                 SqliteCache(DBFILE).setup(), then set() of domains 0, 1,
                                     ... for SECS (the measured sample), then the remaining of
                                     the N domains inserted directly with the sqlite3 module in
                                     one transaction (the peer's own table and INSERT);
                                     ok SET_OPS SET_CPU SET_WALL BULK_N BULK_WALL
  get N SECS                         SqliteCache.get() of uniformly random domains among the
                                     N filled, each result checked (pol_id, mode);
                                     ok OPS CPU WALL
  absent I                           get() of domain I (never filled); ok when it gives None
  rss                                ok <peak RSS (VmHWM) of this process in KiB>
  quit                               (no reply) closes the cache and exits

CPU is time.process_time() (all threads of this process: aiosqlite runs each SQLite
connection in a thread of its own), WALL is time.perf_counter(), both in seconds.

The domains, ids and policies follow the same rule as bench_sts.c's (see domain_entry below),
so both caches hold the same data, each in its own schema.
"""
import asyncio
import json
import random
import sqlite3
import sys
import time

BATCH = 32  # operations between two looks at the clock

PEER = {}


def peak_rss_kib():
    """VmHWM: the peak resident set of this process (ru_maxrss would include the parent's,
    which Linux carries over execve)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def load_peer():
    """Imports the peer's modules; returns its version string."""
    from postfix_mta_sts_resolver import utils  # noqa: F401  (parse_mta_sts_policy)
    from postfix_mta_sts_resolver import sqlite_cache  # needs aiosqlite
    PEER["parse"] = utils.parse_mta_sts_policy
    PEER["sqlite_cache"] = sqlite_cache
    try:
        from importlib.metadata import version
        return "postfix-mta-sts-resolver " + version("postfix_mta_sts_resolver")
    except Exception:  # metadata is optional
        return "postfix-mta-sts-resolver (version unknown)"


def domain_name(i):
    return "domain%06d.example.com" % i


def expected(i):
    """Domain i's policy id and mode, as bench_sts.c stores them."""
    return "id%06d" % i, "testing" if i % 10 == 0 else "enforce"


def domain_entry(i):
    """What bench_sts.c stores for domain i: (id, mode, parsed policy as the peer keeps it)."""
    pol_id, mode = expected(i)
    pol = {"version": "STSv1", "mode": mode,
           "mx": ["mx1.%s" % domain_name(i), "mx2.%s" % domain_name(i)], "max_age": 604800}
    return pol_id, mode, pol


def cmd_parse(path, mode, nmx, max_age, secs):
    with open(path, "rb") as f:
        body = f.read()
    parse = PEER["parse"]
    nmx, max_age, secs = int(nmx), int(max_age), float(secs)
    ops = 0
    c0, w0 = time.process_time(), time.perf_counter()
    while True:
        for _ in range(BATCH):
            # The resolver decodes the body with the response's charset, then parses it.
            pol = parse(body.decode("utf-8"))
            if (pol.get("version") != "STSv1" or pol.get("mode") != mode
                    or len(pol["mx"]) != nmx or int(pol.get("max_age", "-1")) != max_age):
                return "wrong %r" % (pol,)
        ops += BATCH
        w1 = time.perf_counter()
        if w1 - w0 >= secs:
            break
    return "ok %d %.6f %.6f" % (ops, time.process_time() - c0, w1 - w0)


class Cache:
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.cache = None
        self.rng = random.Random(8461)

    def close(self):
        if self.cache is not None:
            self.loop.run_until_complete(self.cache.teardown())
        self.loop.close()

    def fill(self, path, n, secs):
        n, secs = int(n), float(secs)
        self.cache = PEER["sqlite_cache"].SqliteCache(path)  # default threads and timeout
        self.loop.run_until_complete(self.cache.setup())
        now = int(time.time())

        async def sample():
            i = 0
            c0, w0 = time.process_time(), time.perf_counter()
            while i < n:
                pol_id, _, pol = domain_entry(i)
                await self.cache.set(domain_name(i), (now, pol_id, pol))
                i += 1
                w1 = time.perf_counter()
                if w1 - w0 >= secs:
                    break
            return i, time.process_time() - c0, w1 - w0

        done, cpu, wall = self.loop.run_until_complete(sample())
        # The rest in one transaction, with the peer's own statement and JSON encoding.
        w0 = time.perf_counter()
        db = sqlite3.connect(path)
        with db:
            db.executemany("insert into sts_policy_cache (domain, ts, pol_id, pol_body) "
                           "values (?, ?, ?, ?)",
                           ((domain_name(i), now, domain_entry(i)[0],
                             json.dumps(domain_entry(i)[2])) for i in range(done, n)))
        db.close()
        return "ok %d %.6f %.6f %d %.6f" % (done, cpu, wall, n - done,
                                            time.perf_counter() - w0)

    def get(self, n, secs):
        n, secs = int(n), float(secs)
        rng, cache = self.rng, self.cache

        async def run():
            ops = 0
            c0, w0 = time.process_time(), time.perf_counter()
            while True:
                for _ in range(BATCH):
                    i = rng.randrange(n)
                    e = await cache.get(domain_name(i))
                    pol_id, mode = expected(i)
                    if e is None or e.pol_id != pol_id or e.pol_body.get("mode") != mode:
                        return "wrong domain %d: %r" % (i, e)
                ops += BATCH
                w1 = time.perf_counter()
                if w1 - w0 >= secs:
                    break
            return "ok %d %.6f %.6f" % (ops, time.process_time() - c0, w1 - w0)

        return self.loop.run_until_complete(run())

    def absent(self, i):
        e = self.loop.run_until_complete(self.cache.get(domain_name(int(i))))
        return "ok" if e is None else "wrong absent domain found: %r" % (e,)


def main():
    cache = None
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd, args = words[0], words[1:]
        try:
            if cmd == "quit":
                break
            if cmd == "hello":
                try:
                    reply = "ok " + load_peer()
                except Exception as exc:  # ImportError, or a dependency's own error
                    reply = "unavailable %s: %s" % (type(exc).__name__, exc)
            elif cmd == "parse":
                reply = cmd_parse(*args)
            elif cmd == "fill":
                cache = cache or Cache()
                reply = cache.fill(*args)
            elif cmd == "get":
                reply = cache.get(*args)
            elif cmd == "absent":
                reply = cache.absent(*args)
            elif cmd == "rss":
                reply = "ok %d" % peak_rss_kib()
            else:
                reply = "error unknown command %s" % cmd
        except Exception as exc:  # report it to bench_sts rather than dying silently
            reply = "error %s: %s" % (type(exc).__name__, exc)
        print(reply.replace("\n", " "), flush=True)
    if cache is not None:
        cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
