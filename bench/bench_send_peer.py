# SPDX-License-Identifier: MIT
"""bench_send's peer: Python's smtplib sending over STARTTLS, driven by bench_send.c.

    /usr/bin/python3 bench_send_peer.py HOST PORT MSGFILE TXNS

One process is one sender that runs one session at a time (bench_send starts several for
concurrent sessions).  It imports everything and builds its TLS context, prints "ready", then
waits for one line on stdin: "go SECONDS", and sends mail for SECONDS of wall time:

    while time remains:
        s = smtplib.SMTP(HOST, PORT); s.starttls(context); s.ehlo()   (starttls does EHLO first)
        TXNS times: s.sendmail(sender, [rcpt], message)  -> must refuse nobody
        s.quit()

TXNS is 1 for "one connection per message" and 100 for "100 messages per connection".  The
TLS context does not verify the certificate (ssl.CERT_NONE, no host name check), and
smtplib sends one command at a time (no PIPELINING).  When the time is up it prints

    done MESSAGES LAST CPU VERSION CIPHER

MESSAGES accepted messages, LAST seconds from "go" to the last one's 250, CPU the process's
CPU seconds over the same span (time.process_time()), and the TLS version and cipher of the
last session.  Any failure prints "error ..." and exits 1.
"""

import smtplib
import ssl
import sys
import time


def main():
    host, port, msgfile, txns = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    with open(msgfile, "rb") as f:
        message = f.read()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sender, rcpt = "sender@client.bench.test", ["rcpt@bench.test"]
    print("ready", flush=True)
    line = sys.stdin.readline().split()
    if len(line) != 2 or line[0] != "go":
        print("error: expected 'go SECONDS', got %r" % line, flush=True)
        return 1
    duration = float(line[1])
    t0 = time.monotonic()
    c0 = time.process_time()
    deadline = t0 + duration
    count, last, version, cipher = 0, 0.0, "-", "-"
    try:
        while time.monotonic() < deadline:
            s = smtplib.SMTP(host, port, local_hostname="client.bench.test")
            code, _ = s.starttls(context=ctx)
            if code != 220:
                raise RuntimeError("STARTTLS answered %d" % code)
            for _ in range(txns):
                refused = s.sendmail(sender, rcpt, message)
                if refused:
                    raise RuntimeError("refused: %r" % refused)
                count += 1
                last = time.monotonic() - t0
            version, cipher = s.sock.version(), s.sock.cipher()[0]
            s.quit()
    except Exception as e:  # report anything, the C side stops the bench
        print("error: %s: %s" % (type(e).__name__, e), flush=True)
        return 1
    cpu = time.process_time() - c0
    print("done %d %.6f %.6f %s %s" % (count, last, cpu, version, cipher), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
