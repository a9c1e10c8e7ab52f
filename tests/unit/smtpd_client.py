#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The SMTP client side of test_smtpd_net.c: drives the submission listener with Python's smtplib
# (a real client) or a raw socket where the exact bytes matter, and prints what it saw, one
# item a line, for the test to compare.  Usage: smtpd_client.py MODE HOST PORT [ARGS...]
import smtplib
import socket
import sys
import time


def out(*a):
    print(*a, flush=True)


def raw_until_close(s):
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def read_reply(f):
    """One (possibly multi-line) SMTP reply from a socket file, as bytes."""
    reply = b""
    while True:
        line = f.readline()
        if not line:
            return reply
        reply += line
        if len(line) < 4 or line[3:4] != b"-":
            return reply


def mode_send(host, port, body_file, *rest):
    """EHLO, MAIL FROM (with the options given), RCPTs, DATA of the file's bytes, QUIT."""
    sender = rest[0]
    opts = [o for o in rest[1:] if not o.startswith("to=")]
    rcpts = [o[3:] for o in rest[1:] if o.startswith("to=")]
    body = open(body_file, "rb").read()
    c = smtplib.SMTP(host, int(port), local_hostname="client.test", timeout=20)
    code, _ = c.ehlo()
    out("EHLO", code)
    for ext in ("pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes",
                "starttls", "requiretls"):
        out("EXT", ext, "yes" if c.has_extn(ext) else "no")
    out("SIZE", c.esmtp_features.get("size", ""))
    code, msg = c.mail(sender, opts)
    out("MAIL", code, msg.decode())
    for r in rcpts:
        code, msg = c.rcpt(r)
        out("RCPT", code, msg.decode())
    t0 = time.monotonic()
    code, msg = c.data(body)
    ms = (time.monotonic() - t0) * 1000
    out("DATA", code, msg.decode())
    out("MS %.2f" % ms)
    code, _ = c.docmd("QUIT")
    out("QUIT", code)
    c.close()


def mode_many(host, port, n):
    """n small messages on one connection; prints the mean time from the end of the data to
    the final reply (the synchronous, fsynced enqueue)."""
    c = smtplib.SMTP(host, int(port), local_hostname="client.test", timeout=20)
    c.ehlo()
    total = 0.0
    ok = 0
    for i in range(int(n)):
        c.mail("s@a.test")
        c.rcpt("r%d@b.test" % i)
        t0 = time.monotonic()
        code, _ = c.data(b"Subject: %d\r\n\r\nbody\r\n" % i)
        total += time.monotonic() - t0
        ok += code == 250
    out("OK", ok)
    out("MEAN-MS %.2f" % (total * 1000 / int(n)))
    c.quit()


def mode_raw(host, port, source, *chunks):
    """Connects (from source unless "-"), sends each chunk (\\r \\n escapes; "WAIT" reads one
    reply first, "SHUT" half-closes), then reads everything until the server closes and prints it, escaped."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if source != "-":
        s.bind((source, 0))
    s.settimeout(20)
    s.connect((host, int(port)))
    f = s.makefile("rb")
    got = read_reply(f)
    for ch in chunks:
        if ch == "WAIT":
            got += read_reply(f)
            continue
        if ch == "SHUT":
            s.shutdown(socket.SHUT_WR)
            continue
        if ch.startswith("REPEAT:"):
            _, n, what = ch.split(":", 2)
            data = what.encode() * int(n)
        else:
            data = ch.encode("utf-8").decode("unicode_escape").encode("latin-1")
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            break
    try:
        got += f.read()
    except ConnectionResetError:
        pass
    out(repr(got)[2:-1])


def mode_hold(host, port):
    """Two connections at once: prints each greeting (the second may be refused)."""
    a = socket.create_connection((host, int(port)), timeout=20)
    ga = a.makefile("rb").readline()
    b = socket.create_connection((host, int(port)), timeout=20)
    gb = raw_until_close(b)
    out(repr(ga)[2:-1])
    out(repr(gb)[2:-1])
    a.close()


def main():
    mode, host, port, *args = sys.argv[1:]
    {"send": mode_send, "many": mode_many, "raw": mode_raw, "hold": mode_hold}[mode](
        host, port, *args)


if __name__ == "__main__":
    main()
