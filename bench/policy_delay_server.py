# SPDX-License-Identifier: MIT
"""An MTA-STS policy host whose every round trip takes D ms, for bench_decision (bench/README.md).

    /usr/bin/python3 policy_delay_server.py --listen 127.0.44.9 --cert C.pem --key K.pem \
        --mx mx1.rtt.sts.test --delay-ms 50

It answers GET /.well-known/mta-sts.txt over HTTPS (TLS 1.3, HTTP/1.1, then it closes) with
200, Content-Type text/plain and an enforce policy naming the --mx hosts.  The kernel
completes TCP handshakes at once, so the server adds the round trips itself, as a host D ms
away would cost them:

    SYN -> SYN/ACK                 (1 round trip)  \\  its TLS flight goes out 2 D after
    ClientHello -> server flight   (1 round trip)  /  the connection was accepted
    Finished + GET -> response     (1 round trip)     the response goes out D after the
                                                      request arrived

so a fetch takes 3 D plus the work.  No session tickets are sent (num_tickets = 0), so
every fetch is a full handshake, as a cold sender's is.

It prints "ready" on stdout when it listens.  SIGTERM or SIGINT ends it.
"""

import argparse
import asyncio
import signal
import ssl
import sys
import time


class Server:
    def __init__(self, args):
        self.delay = args.delay_ms / 1000.0
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        self.ctx.num_tickets = 0
        self.ctx.load_cert_chain(args.cert, args.key)
        body = "version: STSv1\nmode: enforce\n" + "".join(
            "mx: %s\n" % mx for mx in args.mx) + "max_age: 86400\n"
        self.ok = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n%s" % (len(body), body)).encode()
        self.not_found = (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
                          b"Content-Length: 0\r\nConnection: close\r\n\r\n")

    async def at(self, when):
        await asyncio.sleep(max(0.0, when - time.monotonic()))

    async def serve(self, reader, writer):
        accepted = time.monotonic()
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.ctx.wrap_bio(inc, out, server_side=True)
        first = True
        try:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    pass
                flight = out.read()
                if flight:
                    # the answer to the client's flight: one round trip after it arrived
                    # (two after the accept for the first one: TCP's own handshake)
                    await self.at((accepted + self.delay if first else arrived) + self.delay)
                    first = False
                    writer.write(flight)
                    await writer.drain()
                chunk = await reader.read(65536)
                if not chunk:
                    return
                arrived = time.monotonic()
                inc.write(chunk)
            pending = out.read()
            if pending:
                writer.write(pending)
            request = b""
            while b"\r\n\r\n" not in request:
                try:
                    request += tls.read(65536)
                    continue
                except ssl.SSLWantReadError:
                    pass
                chunk = await reader.read(65536)
                if not chunk:
                    return
                arrived = time.monotonic()
                inc.write(chunk)
            line = request.split(b"\r\n", 1)[0].split()
            ok = len(line) >= 2 and line[0] == b"GET" and line[1] == b"/.well-known/mta-sts.txt"
            tls.write(self.ok if ok else self.not_found)
            try:
                tls.unwrap()
            except ssl.SSLError:
                pass
            await self.at(arrived + self.delay)
            writer.write(out.read())
            await writer.drain()
        except (ssl.SSLError, OSError, ConnectionError):
            pass
        finally:
            writer.close()

    async def run(self, listen, port):
        server = await asyncio.start_server(self.serve, listen, port, reuse_address=True)
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        print("ready", flush=True)
        await stop
        server.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", required=True)
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--cert", required=True, help="PEM certificate (chain) for the host name")
    p.add_argument("--key", required=True)
    p.add_argument("--mx", action="append", required=True, help="an mx: line of the policy")
    p.add_argument("--delay-ms", type=float, required=True, help="the round-trip time D")
    args = p.parse_args()
    asyncio.run(Server(args).run(args.listen, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
