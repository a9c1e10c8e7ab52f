# SPDX-License-Identifier: MIT
"""bench-queue's MTA-STS policy host for the qsNN.sts.test destinations (bench_queue_zones.sh).

    /usr/bin/python3 bench_queue_policy.py PKI_DIR ADDR

Listens on ADDR:443 (HTTPS) and serves, for the SNI name mta-sts.D with the certificate
PKI_DIR/mta-sts.D.pem (pki-up.sh --add), GET /.well-known/mta-sts.txt: 200, text/plain, an
enforce policy naming mx1.enforce.sts.test.  Any other path is a 404.  Prints "ready" when it
listens; SIGTERM ends it.
"""
import http.server
import os
import ssl
import sys

POLICY = b"version: STSv1\nmode: enforce\nmx: mx1.enforce.sts.test\nmax_age: 86400\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        ok = self.path == "/.well-known/mta-sts.txt"
        body = POLICY if ok else b"not found\n"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    pki, addr = sys.argv[1], sys.argv[2]
    contexts = {}
    for name in os.listdir(pki):
        if name.startswith("mta-sts.qs") and name.endswith(".pem"):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(pki, name), os.path.join(pki, name[:-4] + ".key"))
            contexts[name[:-4]] = ctx
    default = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    first = sorted(contexts)[0]
    default.load_cert_chain(os.path.join(pki, first + ".pem"), os.path.join(pki, first + ".key"))

    def pick(sslobj, server_name, _ctx):
        if server_name in contexts:
            sslobj.context = contexts[server_name]

    default.sni_callback = pick
    srv = http.server.ThreadingHTTPServer((addr, 443), Handler)
    srv.socket = default.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
