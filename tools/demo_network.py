#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The demo's second half, run inside the test network by tools/demo.sh: mail to a DANE domain,
# an MTA-STS domain and an unprotected domain, first on an honest network, then with an active
# attacker that strips STARTTLS from all three MX hosts; then the same decisions as Postfix gets
# them from `mxtls policyd`; then the domain owner's side (audit, TLS reports, ready).
import json
import os
import shlex
import socket
import subprocess
import sys
import time

MXTLS = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
SMTP_DIR = os.environ["MXTLS_TEST_SMTP_DIR"]
WORKDIR = os.environ["MXTLS_TEST_WORKDIR"]
# The state (the MTA-STS cache, policyd's answers) lives in the test network's directory, which
# run-with-dns.sh removes on exit, failure or interrupt.
BASE = [MXTLS, "--config", "/dev/null", "--unbound-conf", os.environ["MXTLS_TEST_UNBOUND_CONF"],
        "--ca-file", os.environ["MXTLS_TEST_CA_FILE"], "--state-dir", WORKDIR,
        "--connect-timeout", "5", "--smtp-timeout", "30"]
# BASE as the user types it in a shell inside the test network (run-with-dns.sh sets these).
SHELL_FUNCTION = ('mxtls() { %s --config /dev/null \\\n'
                  '            --unbound-conf "$MXTLS_TEST_UNBOUND_CONF" --ca-file "$MXTLS_TEST_CA_FILE" \\\n'
                  '            --state-dir "$MXTLS_TEST_WORKDIR" --connect-timeout 5 --smtp-timeout 30 "$@"; }'
                  % shlex.quote(MXTLS))
DOMAINS = [("dane-ee.mail.test", "DANE (TLSA 3 1 1, signed zone)", "127.0.25.1"),
           ("enforce.sts.test", "MTA-STS enforce", "127.0.10.101"),
           ("plain.test", "none (unsigned zone, no policy)", "127.0.25.20")]


def show(args, extra=""):
    """Runs args (BASE, or a copy of it with other files, then the command), printing the
    command as typed with the shell function above; extra: the options that differ from it."""
    shown = args[len(BASE):] if args[:1] == BASE[:1] and len(args) > len(BASE) else args
    text = " ".join(a.replace(WORKDIR, "$MXTLS_TEST_WORKDIR") for a in shown)
    print("\n$ mxtls " + (extra + " " if extra else "") + text)
    sys.stdout.flush()
    subprocess.run(args)


def received(rcpt):
    path = os.path.join(SMTP_DIR, "received.jsonl")
    with open(path, encoding="utf-8") as f:
        return [m for m in map(json.loads, filter(str.strip, f)) if rcpt in m["rcpt_to"]]


def send_all(tag):
    rows = []
    for domain, protection, _ in DOMAINS:
        rcpt = "%s@%s" % (tag, domain)
        msg = ("From: alice@sender.test\nTo: %s\nSubject: quarterly figures (%s)\n\n"
               "The numbers are in.\n" % (rcpt, tag))
        p = subprocess.run(BASE + ["--json", "send", "--from", "alice@sender.test", "--to", rcpt,
                                   "--helo", "sender.test", "-"], input=msg.encode(),
                           capture_output=True)
        r = json.loads(p.stdout)["recipients"][0]
        got = received(rcpt)
        rows.append((domain, protection, r, p.returncode, got))
    return rows


def table(headers, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, headers))
    print(line.rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join("%-*s" % (w, c) for w, c in zip(widths, row)).rstrip())


def socketmap(sock, key):
    """One Postfix socketmap lookup (netstring framing), as `postmap -q KEY socketmap:...`."""
    req = ("postfix " + key).encode()
    sock.sendall(b"%d:%s," % (len(req), req))
    buf = b""
    while b":" not in buf or len(buf.split(b":", 1)[1]) <= int(buf.split(b":", 1)[0]):
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("policyd closed the connection")
        buf += chunk
    n, rest = buf.split(b":", 1)
    return rest[:int(n)].decode()


def policyd_part():
    print("\n== 4. The same decisions for Postfix: mxtls policyd (smtp_tls_policy_maps) ==")
    args = BASE + ["policyd", "--listen", "127.0.0.1:8461"]
    print("$ mxtls policyd --listen 127.0.0.1:8461 &")
    sys.stdout.flush()
    d = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                sock = socket.create_connection(("127.0.0.1", 8461), timeout=10)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("policyd did not start")
        rows = []
        long_answers = []
        for domain, what in DOMAINS_POLICYD:
            answer = socketmap(sock, domain)
            if len(answer) > 64:
                long_answers.append((domain, answer))
                answer = answer[:64].rsplit(" ", 1)[0] + " [...]"
            rows.append((domain, what, answer))
        sock.close()
        print()
        print("(each answer is what a Postfix with smtp_tls_policy_maps = "
              "socketmap:inet:127.0.0.1:8461:postfix\ngets when it looks up the next-hop "
              "domain)\n")
        table(["next-hop domain", "what it publishes", "mxtls policyd answers"], rows)
        for domain, answer in long_answers:
            print("\n%s, the whole answer:\n    %s" % (domain, answer))
        print("\nDANE answers come before MTA-STS ones (a matching TLSA record authenticates a "
              "self-signed\ncertificate; a failing one is never rescued by a Web-valid "
              "certificate), a *. pattern\nbecomes the MX names it really matches, and a DNSSEC "
              "failure defers instead of\nfalling back to no policy (doc/policyd.md).")
    finally:
        d.terminate()
        d.wait()


DOMAINS_POLICYD = [
    ("dane-ee.mail.test", "DANE (TLSA on every MX)"),
    ("enforce.sts.test", "MTA-STS enforce"),
    ("plain.test", "nothing"),
    ("danests.sts.test", "DANE + MTA-STS, self-signed cert"),
    ("danebad.sts.test", "TLSA mismatch, Web-valid cert"),
    ("stswild.sts.test", "mx: *.stswild (mx2.sub is 2 deep)"),
    ("bogus.test", "DNSSEC-bogus zone"),
]


def queue_part():
    """The delivery agent under the same attack: protected mail waits in the queue, then goes
    out over TLS once the attacker has left."""
    print("\n== 3. The delivery agent: mail queued during the attack (mxtls sendmail, queue run) ==")
    protected = [(d, a) for d, p, a in DOMAINS if not p.startswith("none")]
    for domain, _ in protected:
        rcpt = "queued@" + domain
        print("\n$ printf 'Subject: sent during the attack\\n\\nhello\\n' | "
              "mxtls sendmail -f alice@sender.test " + rcpt)
        subprocess.run(BASE + ["sendmail", "-f", "alice@sender.test", rcpt],
                       input=b"Subject: sent during the attack\n\nhello\n", check=True)
    run = BASE + ["queue", "run", "--once", "--helo", "sender.test", "--retry-min", "1"]
    show(run)
    show(BASE + ["queue", "list"])
    print("\nThe daemon tried, found no STARTTLS, and kept the mail queued (a failure to meet the"
          "\npolicy is a deferral until the queue lifetime ends, never a cleartext delivery)."
          "\nThe attacker leaves:")
    print('$ bash tests/net/smtp-attack.sh "$MXTLS_TEST_WORKDIR" off ' +
          " ".join(a for _, _, a in DOMAINS))
    subprocess.run(["bash", os.path.join(HERE, "..", "tests", "net", "smtp-attack.sh"),
                    WORKDIR, "off"] + [a for _, _, a in DOMAINS], check=True)
    show(BASE + ["queue", "flush"])
    show(run)
    show(BASE + ["queue", "list"])
    rows = []
    for domain, _ in protected:
        got = received("queued@" + domain)
        rows.append(("queued@" + domain, ", ".join(
            "%s, %s%s" % (m["host"], "TLS " + (m["tls_version"] or "") if m["tls"]
                          else "CLEARTEXT", " (ATTACKER)" if m["attacker"] else "")
            for m in got) or "nothing"))
    print()
    table(["recipient", "receiver got it"], rows)


def owner_part():
    """The other side: the owner of testing.sts.test (an MTA-STS policy in mode testing) audits
    the deployment, reads the TLS reports senders send, and asks whether enforce is safe."""
    domain = "testing.sts.test"
    print("\n== 5. The domain owner: audit, read the TLS reports, ready for enforce? ==")
    print("\n%s publishes an MTA-STS policy in mode testing.  Its owner checks it the way"
          "\nstrict senders will:" % domain)
    show(BASE + ["audit", domain])
    # Senders report what they saw (RFC 8460).  Here the sender is this demo's own mxtls, which
    # recorded each TLS session it made; its report goes to the owner's store.
    conf = os.path.join(WORKDIR, "demo-sender.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write("tlsrpt-organization = mxtls demo sender\ntlsrpt-contact = tlsrpt@sender.test\n")
    sender = [a if a != "/dev/null" else conf for a in BASE]
    print("\nA sender delivers to %s (mode testing: a certificate that fails is reported,"
          "\nnot enforced), then writes its daily TLS report:" % domain)
    msg = "From: alice@sender.test\nTo: bob@%s\nSubject: hello\n\nhi\n" % domain
    for _ in range(2):
        print("\n$ mxtls send --from alice@sender.test --to bob@%s -" % domain)
        sys.stdout.flush()
        subprocess.run(sender + ["send", "--from", "alice@sender.test", "--to", "bob@" + domain,
                                 "--helo", "sender.test", "-"], input=msg.encode())
    day = time.strftime("%Y-%m-%d", time.gmtime())
    reports = os.path.join(WORKDIR, "demo-reports")
    os.makedirs(reports, exist_ok=True)
    show(sender + ["tlsrpt", "report", "--day", day, "--domain", domain, "--out", reports],
         "--config demo-sender.conf")
    owner_state = os.path.join(WORKDIR, "owner")
    os.makedirs(owner_state, exist_ok=True)
    owner = [a if a != WORKDIR else owner_state for a in BASE]
    OWNER = '--state-dir "$MXTLS_TEST_WORKDIR/owner"'
    print("\nThe owner stores the report (mxtls serve --reports-path takes them over HTTPS,"
          "\ntlsrpt ingest from files and mailboxes) and reads them:")
    show(owner + ["tlsrpt", "ingest", reports], OWNER)
    show(owner + ["tlsrpt", "summary", domain, "--days", "1"], OWNER)
    print("\nReady for enforce?  (The defaults want 3 reporting organisations over 14 days; the"
          "\ndemo has one sender and one day, so it asks for those.)")
    show(owner + ["tlsrpt", "ready", domain, "--min-orgs", "1", "--min-days", "1"], OWNER)
    print("\nNot yet: the reports show the certificate of mx1.%s failing for every sender that"
          "\nchecks it, so the owner fixes it (and the audit's warnings) before switching to"
          "\nenforce." % domain)


def main():
    print("\nThe test network is up.  Every command shown below with a $ runs inside it; to type"
          " them\nyourself, open a shell in a fresh test network (as root, in this directory; exit the"
          "\nshell to remove the network):\n"
          "\n    bash tests/net/run-with-dns.sh --smtp bash\n"
          "\nand define mxtls there as this demo runs it:\n\n    " +
          SHELL_FUNCTION.replace("\n", "\n    "))
    print("\n== What the sender must require, per MX host (mxtls check) ==")
    for domain, _, _ in DOMAINS:
        show(BASE + ["check", "--connect", domain])

    print("\n== 1. An honest network: one message to each domain (mxtls send) ==\n")
    rows = []
    for domain, protection, r, rc, got in send_all("before"):
        where = ("%s, %s" % (got[0]["host"], "TLS " + (got[0]["tls_version"] or ""))
                 if got and got[0]["tls"] else got[0]["host"] + ", CLEARTEXT" if got else "-")
        rows.append((domain, protection, "%s (exit %d)" % (r["status"], rc),
                     r["security"] or "-", where))
    table(["recipient domain", "protection", "mxtls send", "MX security", "receiver got it"],
          rows)

    print("\n== 2. An attacker on the path deletes STARTTLS from all three MX hosts ==")
    print('$ bash tests/net/smtp-attack.sh "$MXTLS_TEST_WORKDIR" on ' +
          " ".join(a for _, _, a in DOMAINS) + "\n")
    subprocess.run(["bash", os.path.join(HERE, "..", "tests", "net", "smtp-attack.sh"),
                    WORKDIR, "on"] + [a for _, _, a in DOMAINS], check=True)
    rows = []
    for domain, protection, r, rc, got in send_all("attacked"):
        stolen = [m for m in got if m["attacker"]]
        outcome = "%s (exit %d)" % (r["status"], rc)
        if r.get("result_type"):
            outcome += ", " + r["result_type"]
        rows.append((domain, protection, outcome,
                     "READ THE MAIL (%d bytes, cleartext)" % stolen[0]["size"] if stolen
                     else "nothing"))
    table(["recipient domain", "protection", "mxtls send", "what the attacker got"], rows)
    print("\nDANE and MTA-STS mail is deferred (exit 75: the sender will retry), never sent in the"
          "\nclear; the unprotected domain's mail goes out in cleartext to the attacker."
          "\nThe attacker's copy:\n")
    cap = os.path.join(SMTP_DIR, "captured")
    for host in sorted(os.listdir(cap)) if os.path.isdir(cap) else []:
        for name in sorted(os.listdir(os.path.join(cap, host))):
            with open(os.path.join(cap, host, name), encoding="utf-8", errors="replace") as f:
                print("    " + f.read().replace("\n", "\n    ").rstrip())
    queue_part()
    policyd_part()
    owner_part()
    return 0


if __name__ == "__main__":
    sys.exit(main())
