#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tlsrpt-collector.py DIR LISTEN... -- the TLS-RPT report collector of the test network.

An HTTPS server for RFC 8460 §5.4 uploads (standard library only: http.server and ssl; run it
with Debian's /usr/bin/python3).  Each LISTEN is ADDR:PORT:CERTFILE:KEYFILE (an IPv6 ADDR in
brackets); one thread per listener, one thread per connection, TLS 1.2 or later.

Every POST is saved under DIR/received/ as NNNN.body (the body bytes, exactly) and NNNN.head
(the request line, then the headers as received, then "X-Collector-Listener: ADDR:PORT" and
"X-Collector-Status: CODE"), numbered from 0001 in arrival order.  NNNN.head is renamed into
place last, so a reader that sees it also sees the whole body.  One line per request of any
method goes to DIR/requests.log.

What a path answers comes from DIR/control, read again at every request.  One line per path:

    PATH STATUS[,STATUS...] [body=BYTES] [nolength] [delay=SECONDS]

The n-th POST to PATH (counting from 1, over the collector's lifetime) gets the n-th STATUS of
the list, the last one repeating: "/flaky 500,200" answers 500 once, then 200 for ever.
body=BYTES sends a response body of that many bytes ("x"), for the response-size tests;
with nolength it goes without a Content-Length header, ended by closing the connection, so the
client learns its size only while reading it.  delay=SECONDS waits that long (after reading
the request) before answering, for timeouts and cancellation.
"#" starts a comment.  A path not in the file gets 404; a method other than POST gets 405
and is not saved.  The request path is compared without its query.

DIR/ready is written once every listener is bound; SIGTERM stops the collector.
"""
import os
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 * 1024 * 1024


class State:
    def __init__(self, root):
        self.root = root
        self.received = os.path.join(root, "received")
        self.lock = threading.Lock()
        self.seq = 0
        self.counts = {}

    def control(self):
        table = {}
        try:
            with open(os.path.join(self.root, "control"), encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return table
        for line in lines:
            words = line.split("#", 1)[0].split()
            if len(words) < 2:
                continue
            statuses = [int(s) for s in words[1].split(",")]
            rule = {"statuses": statuses, "body": 0, "nolength": False, "delay": 0.0}
            for w in words[2:]:
                if w.startswith("body="):
                    rule["body"] = int(w[5:])
                elif w.startswith("delay="):
                    rule["delay"] = float(w[6:])
                elif w == "nolength":
                    rule["nolength"] = True
            table[words[0]] = rule
        return table

    def answer(self, path):
        """The status and the rule (body, nolength, delay) for the next POST to path."""
        with self.lock:
            rule = self.control().get(path)
            n = self.counts.get(path, 0)
            self.counts[path] = n + 1
        if rule is None:
            return 404, {"body": 0, "nolength": False, "delay": 0.0}
        statuses = rule["statuses"]
        return statuses[min(n, len(statuses) - 1)], rule

    def save(self, head, body):
        with self.lock:
            self.seq += 1
            n = self.seq
        base = os.path.join(self.received, "%04d" % n)
        with open(base + ".body", "wb") as f:
            f.write(body)
        with open(base + ".head.tmp", "w", encoding="utf-8") as f:
            f.write(head)
        os.rename(base + ".head.tmp", base + ".head")
        return n

    def log(self, line):
        with self.lock:
            with open(os.path.join(self.root, "requests.log"), "a", encoding="utf-8") as f:
                f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tlsrpt-collector"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, nbody, nolength=False):
        body = b"x" * nbody
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        if not nolength:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_POST(self):
        st = self.server.state
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit() or int(length) > MAX_BODY:
            st.log("%s POST %s -> 411" % (self.server.listener, self.path))
            self.reply(411, 0)
            return
        body = self.rfile.read(int(length))
        path = self.path.split("?", 1)[0]
        status, rule = st.answer(path)
        head = "%s\n%sX-Collector-Listener: %s\nX-Collector-Status: %d\n" % (
            self.requestline, str(self.headers).replace("\r\n", "\n").rstrip("\n") + "\n",
            self.server.listener, status)
        n = st.save(head, body)
        st.log("%04d %s POST %s %d bytes -> %d" % (n, self.server.listener, self.path,
                                                   len(body), status))
        if rule["delay"] > 0:
            time.sleep(rule["delay"])
        self.reply(status, rule["body"], rule["nolength"])

    def refuse(self):
        self.server.state.log("%s %s %s -> 405" % (self.server.listener, self.command, self.path))
        self.reply(405, 0)

    do_GET = do_PUT = do_HEAD = do_DELETE = do_OPTIONS = refuse


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, port, ctx, state, listener):
        self.address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.ctx = ctx
        self.state = state
        self.listener = listener
        super().__init__((addr, port), Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's thread, not in accept(): a client that
        # stalls or refuses the certificate holds up nobody else.
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.state.log("%s handshake failed: %s" % (self.listener, e))
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            # close_notify before the TCP close: a body without Content-Length ends with the
            # connection, and a TLS client must not take a bare close for the end of the data.
            try:
                tls.settimeout(2)
                tls.unwrap()
            except (OSError, ValueError):
                pass

    def handle_error(self, request, client_address):
        self.state.log("%s error: %s" % (self.listener, sys.exc_info()[1]))


def parse_listen(spec):
    if spec.startswith("["):
        addr, rest = spec[1:].split("]:", 1)
    else:
        addr, rest = spec.split(":", 1)
    port, cert, key = rest.split(":", 2)
    return addr, int(port), cert, key


def main():
    if len(sys.argv) < 3:
        print("usage: tlsrpt-collector.py DIR ADDR:PORT:CERT:KEY...", file=sys.stderr)
        return 2
    root = sys.argv[1]
    state = State(root)
    os.makedirs(state.received, exist_ok=True)
    servers = []
    for spec in sys.argv[2:]:
        addr, port, cert, key = parse_listen(spec)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        listener = ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, port)
        servers.append(Server(addr, port, ctx, state, listener))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(os.path.join(root, "collector.pid"), "w", encoding="utf-8") as f:
        f.write("%d\n" % os.getpid())
    with open(os.path.join(root, "ready"), "w", encoding="utf-8") as f:
        f.write(" ".join(s.listener for s in servers) + "\n")
    while not stop.wait(3600):
        pass
    for s in servers:
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
