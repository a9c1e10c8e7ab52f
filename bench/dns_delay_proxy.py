# SPDX-License-Identifier: MIT
"""A DNS proxy that delays every answer by a fixed time, for bench_decision (bench/README.md).

    /usr/bin/python3 dns_delay_proxy.py --listen 127.0.53.7 --upstream 127.0.53.1 \
        --delay-ms 50 [--port 53] [--upstream-port 53] [--log FILE]

It listens on UDP and TCP, forwards each query unchanged to the upstream server (UDP queries
over UDP, TCP queries over TCP), and sends the upstream's answer back --delay-ms milliseconds
after the query arrived (or, with --after-upstream, that long after the upstream answered).  Every answer is delayed on its own (a query
that arrives while another is held is not queued behind it), so the proxy behaves like a
server with a round-trip time of D milliseconds, whatever the number of queries in flight.

When it listens on both transports it prints "ready" on stdout (and flushes), so the process
that started it knows when to send queries.  With --log, it appends one line per answered
query:

    <received> <answered> <udp|tcp> <qname> <qtype> <rcode> <bytes>

where the two times are CLOCK_MONOTONIC seconds (time.monotonic(), the same clock as C's
clock_gettime(CLOCK_MONOTONIC)), qtype is a number and rcode a number (-1: no answer from the
upstream within 5 s; then the client gets nothing, as from a lost packet).  The log is
line-buffered, so a reader sees each line as soon as the answer has been sent.

SIGTERM or SIGINT ends it.
"""

import argparse
import asyncio
import signal
import socket
import struct
import sys
import time

UPSTREAM_TIMEOUT = 5.0


def parse_question(msg):
    """(qname, qtype, rcode) of a DNS message, best effort: ("?", 0, rcode) if unreadable."""
    rcode = msg[3] & 0x0F if len(msg) >= 4 else -1
    if len(msg) < 12 or struct.unpack("!H", msg[4:6])[0] == 0:
        return "?", 0, rcode
    labels = []
    pos = 12
    while pos < len(msg):
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0 or pos + n > len(msg):
            return "?", 0, rcode
        labels.append(msg[pos:pos + n].decode("ascii", "backslashreplace"))
        pos += n
    if pos + 2 > len(msg):
        return "?", 0, rcode
    qtype = struct.unpack("!H", msg[pos:pos + 2])[0]
    return (".".join(labels) or ".").lower(), qtype, rcode


class Proxy:
    def __init__(self, args):
        self.args = args
        self.delay = args.delay_ms / 1000.0
        self.after_upstream = args.after_upstream
        self.upstream = (args.upstream, args.upstream_port)
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def note(self, t0, transport, query, answer):
        if self.log is None:
            return
        qname, qtype, _ = parse_question(query)
        rcode = answer[3] & 0x0F if answer is not None and len(answer) >= 4 else -1
        self.log.write("%.6f %.6f %s %s %d %d %d\n" % (
            t0, time.monotonic(), transport, qname, qtype, rcode,
            len(answer) if answer is not None else 0))

    async def hold(self, t0):
        """Waits until the answer to a query that arrived at t0 is due."""
        if self.after_upstream:
            await asyncio.sleep(self.delay)
        else:
            await asyncio.sleep(max(0.0, t0 + self.delay - time.monotonic()))

    async def ask_udp(self, query):
        loop = asyncio.get_running_loop()
        fut = loop.create_future()

        class Once(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                # Only an answer to this query (same id) counts.
                if not fut.done() and data[:2] == query[:2]:
                    fut.set_result(data)

            def error_received(self, exc):
                if not fut.done():
                    fut.set_exception(exc)

        transport, _ = await loop.create_datagram_endpoint(Once, remote_addr=self.upstream)
        try:
            transport.sendto(query)
            return await asyncio.wait_for(fut, UPSTREAM_TIMEOUT)
        finally:
            transport.close()

    async def ask_tcp(self, query):
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(*self.upstream), UPSTREAM_TIMEOUT)
        try:
            writer.write(struct.pack("!H", len(query)) + query)
            await writer.drain()
            head = await asyncio.wait_for(reader.readexactly(2), UPSTREAM_TIMEOUT)
            return await asyncio.wait_for(
                reader.readexactly(struct.unpack("!H", head)[0]), UPSTREAM_TIMEOUT)
        finally:
            writer.close()

    async def answer_udp(self, transport, query, client, t0):
        try:
            answer = await self.ask_udp(query)
        except (OSError, asyncio.TimeoutError):
            answer = None
        if answer is not None:
            await self.hold(t0)
            transport.sendto(answer, client)
        self.note(t0, "udp", query, answer)

    async def serve_tcp(self, reader, writer):
        lock = asyncio.Lock()
        tasks = set()

        async def one(query, t0):
            try:
                answer = await self.ask_tcp(query)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                answer = None
            if answer is not None:
                await self.hold(t0)
                async with lock:
                    writer.write(struct.pack("!H", len(answer)) + answer)
                    try:
                        await writer.drain()
                    except OSError:
                        pass
            self.note(t0, "tcp", query, answer)

        try:
            while True:
                head = await reader.readexactly(2)
                query = await reader.readexactly(struct.unpack("!H", head)[0])
                task = asyncio.ensure_future(one(query, time.monotonic()))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except (asyncio.IncompleteReadError, OSError):
            pass
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        writer.close()

    async def run(self):
        loop = asyncio.get_running_loop()
        proxy = self

        class Server(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                asyncio.ensure_future(
                    proxy.answer_udp(self.transport, data, addr, time.monotonic()))

        family = socket.AF_INET6 if ":" in self.args.listen else socket.AF_INET
        await loop.create_datagram_endpoint(
            Server, local_addr=(self.args.listen, self.args.port), family=family)
        server = await asyncio.start_server(self.serve_tcp, self.args.listen, self.args.port,
                                            reuse_address=True)
        stop = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        print("ready", flush=True)
        await stop
        server.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", required=True, help="address to listen on")
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--upstream", required=True, help="the real server's address")
    p.add_argument("--upstream-port", type=int, default=53)
    p.add_argument("--delay-ms", type=float, required=True,
                   help="how long each answer is held (milliseconds)")
    p.add_argument("--after-upstream", action="store_true",
                   help="count the delay from the upstream's answer instead of from the "
                   "query's arrival (the round trip is then D plus the upstream's time)")
    p.add_argument("--log", help="append one line per answered query to this file")
    args = p.parse_args()
    asyncio.run(Proxy(args).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
