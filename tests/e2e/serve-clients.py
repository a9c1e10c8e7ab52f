#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Hostile clients for tests/e2e/test-serve.sh (mxtls serve); each prints one line of figures.
#   slowloris ADDR PORT HOST CAFILE   TLS, then a request header one byte every 0.5 s; prints
#                                     "closed=1 response_bytes=N seconds=S" when the server
#                                     cuts it (or "closed=0 ..." after 20 s)
#   conns ADDR PORT HOST CAFILE N SAME  N connections at once (SAME=1: all from 127.0.0.1;
#                                     0: from 127.0.1.1.. each), each trying a TLS handshake
#                                     within 1.5 s, all held open; prints "handshakes=K"
#   slowpost ADDR PORT HOST CAFILE PATH  TLS, a complete POST header (Content-Length 4000,
#                                     application/tlsrpt+json), then the body one byte every
#                                     0.5 s; prints as slowloris
#   report OUT ORG ID DOMAIN OK FAIL  a TLS report (RFC 8460 §4.4) of one sts policy with OK
#                                     successful and FAIL failed sessions; OUT ending in .gz is
#                                     gzip-compressed
#   bomb OUT MIB                      gzip of MIB MiB of JSON-looking bytes (about 1000:1)
import gzip
import json
import socket
import ssl
import sys
import threading
import time


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    return ctx


def slowloris(addr, port, host, cafile):
    ctx = tls_context(cafile)
    raw = socket.create_connection((addr, int(port)), timeout=20)
    s = ctx.wrap_socket(raw, server_hostname=host)
    s.settimeout(0.5)
    start = time.monotonic()
    s.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: " + host.encode() + b"\r\n")
    trickle = b"X-Slow: " + b"a" * 1000
    got = b""
    i = 0
    while time.monotonic() - start < 20:
        try:
            s.sendall(trickle[i % len(trickle):i % len(trickle) + 1])
            i += 1
        except (OSError, ssl.SSLError):
            break
        try:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        except socket.timeout:
            continue
        except (OSError, ssl.SSLError):
            break
    else:
        print(f"closed=0 response_bytes={len(got)} seconds={time.monotonic() - start:.1f}")
        return
    print(f"closed=1 response_bytes={len(got)} seconds={time.monotonic() - start:.1f}")


def slowpost(addr, port, host, cafile, path):
    ctx = tls_context(cafile)
    raw = socket.create_connection((addr, int(port)), timeout=20)
    s = ctx.wrap_socket(raw, server_hostname=host)
    s.settimeout(0.5)
    start = time.monotonic()
    s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode() +
              b"\r\nContent-Type: application/tlsrpt+json\r\nContent-Length: 4000\r\n\r\n")
    got = b""
    while time.monotonic() - start < 20:
        try:
            s.sendall(b" ")
        except (OSError, ssl.SSLError):
            break
        try:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        except socket.timeout:
            continue
        except (OSError, ssl.SSLError):
            break
    else:
        print(f"closed=0 response_bytes={len(got)} seconds={time.monotonic() - start:.1f}")
        return
    print(f"closed=1 response_bytes={len(got)} seconds={time.monotonic() - start:.1f}")


def report(out, org, rid, domain, good, bad):
    rep = {
        "organization-name": org,
        "date-range": {"start-datetime": "2026-03-01T00:00:00Z",
                       "end-datetime": "2026-03-01T23:59:59Z"},
        "contact-info": "tlsrpt@" + org,
        "report-id": rid,
        "policies": [{
            "policy": {"policy-type": "sts",
                       "policy-string": ["version: STSv1", "mode: testing",
                                         "mx: mx1." + domain, "max_age: 86400"],
                       "policy-domain": domain,
                       "mx-host": ["mx1." + domain]},
            "summary": {"total-successful-session-count": int(good),
                        "total-failure-session-count": int(bad)},
            "failure-details": [{"result-type": "certificate-expired",
                                 "sending-mta-ip": "192.0.2.7",
                                 "receiving-mx-hostname": "mx1." + domain,
                                 "failed-session-count": int(bad)}] if int(bad) else [],
        }],
    }
    data = json.dumps(rep).encode()
    with open(out, "wb") as f:
        f.write(gzip.compress(data) if out.endswith(".gz") else data)


def bomb(out, mib):
    data = b'{"organization-name":"' + b"a" * (int(mib) * 1024 * 1024) + b'"}'
    with open(out, "wb") as f:
        f.write(gzip.compress(data, 9))


def conns(addr, port, host, cafile, n, same):
    ctx = tls_context(cafile)
    held = []
    ok = []
    lock = threading.Lock()

    def one(i):
        try:
            src = ("127.0.0.1", 0) if same else (f"127.0.1.{i + 1}", 0)
            raw = socket.create_connection((addr, int(port)), timeout=1.5, source_address=src)
            s = ctx.wrap_socket(raw, server_hostname=host)
            with lock:
                ok.append(i)
                held.append(s)
        except (OSError, ssl.SSLError):
            pass

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"handshakes={len(ok)}")
    for s in held:
        s.close()


if __name__ == "__main__":
    if sys.argv[1] == "slowloris":
        slowloris(*sys.argv[2:6])
    elif sys.argv[1] == "slowpost":
        slowpost(*sys.argv[2:7])
    elif sys.argv[1] == "report":
        report(*sys.argv[2:8])
    elif sys.argv[1] == "bomb":
        bomb(*sys.argv[2:4])
    elif sys.argv[1] == "conns":
        conns(*sys.argv[2:6], int(sys.argv[6]), sys.argv[7] == "1")
    else:
        sys.exit(2)
