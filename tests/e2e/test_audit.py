#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`mxtls audit DOMAIN --json` end to end on the test network (TAP).

Run by run-with-dns.sh --tap --smtp --tlsrpt --pre audit-zones.sh (tests/e2e/meson.build);
argument: the mxtls binary.  audit-zones.sh plants exactly one problem per scenario domain
(audok: none).  This script

  1. starts what audit-zones.sh prepared: a second smtp-receiver.py for the extra MX hosts
     (127.0.10.201-207, and fd00:25::3, which it adds to lo), and an HTTPS server of its own
     on 127.0.44.30:443 for the policy hosts of those domains (certificate by SNI, the body
     read from WORKDIR/audit/www/HOST/mta-sts.txt at every request);
  2. checks every scenario without mxtls ("setup:" lines): DNSSEC status with unbound-host,
     certificates with openssl s_client / openssl verify, STARTTLS with smtplib, the policy
     hosts and the report collector with curl;
  3. runs the audit on each domain and asserts the exit status and the exact multiset of
     (severity, code, host) of its error and warning findings (info findings are ignored
     unless named), plus the JSON shape of every answer;
  4. feeds `mxtls publish --out` back: its zone.txt goes into the zones (re-signed with
     dns-up.sh), its mta-sts.txt to the policy host, and the audit must find nothing.

The audit's elapsed_ms for the correct deployment is printed as a TAP comment.
"""
import collections
import http.server
import json
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import time

MXTLS = sys.argv[1]
WORK = os.environ["MXTLS_TEST_WORKDIR"]
CONF = os.environ["MXTLS_TEST_UNBOUND_CONF"]
CA = os.environ["MXTLS_TEST_CA_FILE"]
NETNS = os.environ["MXTLS_TEST_NETNS"]
AUD = os.path.join(WORK, "audit")
HERE = os.path.dirname(os.path.abspath(__file__))
NET = os.path.join(HERE, "..", "net")
POLICY_ADDR = "127.0.44.30"
V6 = "fd00:25::3"
BASE = [MXTLS, "--unbound-conf", CONF, "--ca-file", CA, "--connect-timeout", "3",
        "--smtp-timeout", "10"]

# Every audit gets a state dir: this one does not exist, so nothing is remembered (the
# contract).  Without --state-dir, mxtls would use its default (/var/lib/mxtls as root): the
# host's state, shared between runs.
NOSTATE = os.path.join(AUD, "nostate")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402  (tests/e2e/tap.py)

TAP = tap.Tap(tail=40)
ok, comment = TAP.ok, TAP.comment


def run(cmd, stdin=b"", timeout=60):
    return subprocess.run(cmd, capture_output=True, timeout=timeout, input=stdin)


# ------------------------------------------------------------------ the policy hosts

class PolicyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "audit-policy-host"
    sys_version = ""

    def setup(self):
        self.request.settimeout(10)
        self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *args):
        with open(os.path.join(AUD, "https.log"), "a", encoding="utf-8") as f:
            f.write("%s %s\n" % (self.headers.get("Host") if self.headers else "-",
                                 fmt % args))

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = os.path.join(AUD, "www", host, "mta-sts.txt")
        if self.path != "/.well-known/mta-sts.txt" or "/" in host or not os.path.isfile(path):
            body, status = b"not found\n", 404
        else:
            with open(path, "rb") as f:
                body, status = f.read(), 200
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


class PolicyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass   # failed handshakes (a client refusing the certificate) are expected


def start_policy_hosts():
    ctxs = {}
    with open(os.path.join(AUD, "policy-hosts.conf"), encoding="utf-8") as f:
        for line in f:
            host, cert, key = line.split()
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cert, key)
            ctxs[host] = ctx
    default = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    default.minimum_version = ssl.TLSVersion.TLSv1_2
    default.load_cert_chain(os.path.join(WORK, "pki", "default.pem"),
                            os.path.join(WORK, "pki", "default.key"))

    def sni(sslobj, name, _ctx):
        if name in ctxs:
            sslobj.context = ctxs[name]
        return None

    default.sni_callback = sni
    srv = PolicyServer((POLICY_ADDR, 443), PolicyHandler, bind_and_activate=False)
    srv.socket = default.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    srv.server_bind()
    srv.server_activate()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def start_receivers():
    subprocess.run(["ip", "-6", "addr", "add", f"{V6}/128", "dev", "lo", "nodad"], check=True)
    smtpdir = os.path.join(AUD, "smtp")
    out = open(os.path.join(AUD, "receiver.out"), "ab")
    proc = subprocess.Popen(["/usr/bin/python3", os.path.join(NET, "smtp-receiver.py"),
                             os.path.join(AUD, "receivers.conf"), smtpdir],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    for _ in range(200):
        if os.path.exists(os.path.join(smtpdir, "ready")) or proc.poll() is not None:
            break
        time.sleep(0.05)
    return proc


# ------------------------------------------------------------------ independent checks

def dns(name, rtype):
    """unbound-host -v: (answer lines, status) with status secure/insecure/bogus/other."""
    r = run(["unbound-host", "-C", CONF, "-v", "-t", rtype, name])
    out = r.stdout.decode()
    status = "bogus" if "BOGUS" in out else "secure" if "(secure)" in out else \
        "insecure" if "(insecure)" in out else "other"
    return out, status


def tlsa_of(name):
    out, status = dns(name, "TLSA")
    recs = [m.group(1).lower() for m in re.finditer(r"has TLSA record (\d \d \d \S+)", out)]
    return recs, status


def served_chain(addr, sni):
    target = f"[{addr}]:25" if ":" in addr else f"{addr}:25"
    r = run(["openssl", "s_client", "-starttls", "smtp", "-connect", target, "-servername", sni,
             "-showcerts"])
    return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                      r.stdout.decode(), re.S)


def spki_sha256(pem):
    pub = run(["openssl", "x509", "-pubkey", "-noout"], stdin=pem.encode()).stdout
    der = run(["openssl", "pkey", "-pubin", "-outform", "DER"], stdin=pub).stdout
    return run(["openssl", "dgst", "-sha256", "-r"], stdin=der).stdout.decode().split()[0]


def cert_sha256(pem):
    der = run(["openssl", "x509", "-outform", "DER"], stdin=pem.encode()).stdout
    return run(["openssl", "dgst", "-sha256", "-r"], stdin=der).stdout.decode().split()[0]


def web_valid(chain, host):
    """openssl verify of the served chain against the test CA, for host: (ok, output)."""
    if not chain:
        return False, "no chain"
    d = tempfile.mkdtemp(dir=WORK)
    leaf, rest = os.path.join(d, "leaf.pem"), os.path.join(d, "rest.pem")
    with open(leaf, "w") as f:
        f.write(chain[0])
    with open(rest, "w") as f:
        f.write("".join(chain[1:]))
    cmd = ["openssl", "verify", "-CAfile", CA, "-verify_hostname", host]
    if len(chain) > 1:
        cmd += ["-untrusted", rest]
    r = run(cmd + [leaf])
    shutil.rmtree(d)
    return r.returncode == 0, (r.stdout + r.stderr).decode()


def ehlo(addr):
    """(offers STARTTLS, reply to STARTTLS or None) from a plain smtplib session."""
    s = smtplib.SMTP(timeout=10)
    s.connect(addr, 25)
    s.ehlo("client.test")
    offered = s.has_extn("starttls")
    code = s.docmd("STARTTLS")[0]
    s.close()
    return offered, code


def policy_get(host, insecure=False):
    r = run(["curl", "-sS", "--max-time", "5", "--cacert", CA, "--resolve",
             f"{host}:443:{POLICY_ADDR}", "-w", "\n%{http_code}"] + (["-k"] if insecure else []) +
            [f"https://{host}/.well-known/mta-sts.txt"])
    out = r.stdout.decode()
    body, _, code = out.rpartition("\n")
    return r.returncode, code, body, r.stderr.decode()


def rua_post(path):
    r = run(["curl", "-sS", "--max-time", "5", "--cacert", CA, "--resolve",
             "rpt.sts.test:443:127.0.44.5", "-H", "Content-Type: application/tlsrpt+gzip",
             "--data-binary", "x", "-o", "/dev/null", "-w", "%{http_code}",
             f"https://rpt.sts.test{path}"])
    return r.stdout.decode()


def check_scenarios():
    # 1. audok: every piece right
    out, st = dns("audok.sts.test", "MX")
    ok(st == "secure" and out.count("mail is handled by") == 2, "setup: audok MX secure, 2 hosts",
       out)
    ca_pem = open(CA).read()
    for h, addr in (("mx1.audok.sts.test", "127.0.10.201"), ("mx2.audok.sts.test", "127.0.10.202")):
        recs, st = tlsa_of(f"_25._tcp.{h}")
        chain = served_chain(addr, h)
        good = len(chain) == 2 and st == "secure" and sorted(recs) == sorted(
            ["3 1 1 " + spki_sha256(chain[0]), "2 1 1 " + spki_sha256(chain[1])]) and \
            spki_sha256(chain[1]) == spki_sha256(ca_pem)
        ok(good, f"setup: audok {h}: secure TLSA 3 1 1 of the served key + 2 1 1 of the test CA "
           "it sends", f"{st} {recs} {len(chain)}")
        v, vout = web_valid(chain, h)
        ok(v, f"setup: audok {h}: Web-valid for its name", vout)
    rc, code, body, err = policy_get("mta-sts.audok.sts.test")
    ok(rc == 0 and code == "200" and "mode: enforce" in body and
       "mx: mx1.audok.sts.test" in body and "mx: mx2.audok.sts.test" in body and
       "max_age: 1209600" in body, "setup: audok policy host: enforce, both MX hosts", body + err)
    out, st = dns("_smtp._tls.audok.sts.test", "TXT")
    ok(st == "secure" and "rua=https://rpt.sts.test/ok" in out, "setup: audok _smtp._tls", out)
    ok(rua_post("/ok") == "200" and rua_post("/gone") == "404",
       "setup: collector: /ok answers 200, /gone 404")
    # 2. policy host certificate for another name
    rc, code, body, err = policy_get("mta-sts.audpolcert.sts.test")
    rck, codek, _, _ = policy_get("mta-sts.audpolcert.sts.test", insecure=True)
    ok(rc == 60 and "subject name" in err and rck == 0 and codek == "200",
       "setup: audpolcert: curl rc 60 (name mismatch), with -k 200", f"{rc} {err}")
    # 3. mx2.enforce not in the policy
    out, _ = dns("audnotcov.sts.test", "MX")
    _, _, body, _ = policy_get("mta-sts.audnotcov.sts.test")
    ok("mx2.enforce.sts.test" in out and "mx2" not in body and "mx: mx1.enforce.sts.test" in body,
       "setup: audnotcov: MX mx2.enforce, the policy names only mx1.enforce", out + body)
    chain = served_chain("127.0.10.101", "mx1.enforce.sts.test")
    ok(web_valid(chain, "mx1.enforce.sts.test")[0] and
       web_valid(served_chain("127.0.10.102", "mx2.enforce.sts.test"), "mx2.enforce.sts.test")[0],
       "setup: mx1.enforce and mx2.enforce are Web-valid")
    # 4. self-signed MX under enforce
    chain = served_chain("127.0.10.140", "mx1.stsbadcert.sts.test")
    v, vout = web_valid(chain, "mx1.stsbadcert.sts.test")
    ok(not v and "self-signed" in vout, "setup: mx1.stsbadcert: self-signed, not Web-valid", vout)
    # 5. TLSA mismatch (dane-mismatch.mail.test)
    recs, st = tlsa_of("_25._tcp.mx1.dane-mismatch.mail.test")
    chain = served_chain("127.0.25.4", "mx1.dane-mismatch.mail.test")
    ok(st == "secure" and len(recs) == 1 and chain and
       recs[0] != "3 1 1 " + spki_sha256(chain[0]) and
       web_valid(chain, "mx1.dane-mismatch.mail.test")[0],
       "setup: dane-mismatch: secure 3 1 1 of another key, Web-valid certificate", recs)
    # 6. two _mta-sts records
    out, st = dns("_mta-sts.audtxtmulti.sts.test", "TXT")
    ok(st == "secure" and out.count("v=STSv1") == 2, "setup: audtxtmulti: two v=STSv1 TXT", out)
    # 8. unsigned zone with TLSA
    recs, st = tlsa_of("_25._tcp.mx1.audinsec.plain.test")
    chain = served_chain("127.0.10.207", "mx1.audinsec.plain.test")
    out, mst = dns("audinsec.plain.test", "MX")
    ok(st == "insecure" and mst == "insecure" and chain and
       recs == ["3 1 1 " + spki_sha256(chain[0])] and
       web_valid(chain, "mx1.audinsec.plain.test")[0],
       "setup: audinsec.plain.test: insecure MX and TLSA; the TLSA matches; Web-valid",
       f"{st} {mst} {recs}")
    rc, code, body, _ = policy_get("mta-sts.audinsec.plain.test")
    ok(code == "200" and "mx: mx1.audinsec.plain.test" in body, "setup: audinsec policy host")
    # 9. IPv6 address with another key
    out4, st4 = dns("mx1.audv6.sts.test", "A")
    out6, st6 = dns("mx1.audv6.sts.test", "AAAA")
    recs, st = tlsa_of("_25._tcp.mx1.audv6.sts.test")
    c4 = served_chain("127.0.10.203", "mx1.audv6.sts.test")
    c6 = served_chain(V6, "mx1.audv6.sts.test")
    ok(st4 == st6 == st == "secure" and V6 in out6 and c4 and c6 and
       recs == ["3 1 1 " + spki_sha256(c4[0])] and spki_sha256(c6[0]) != spki_sha256(c4[0]),
       f"setup: audv6: A and AAAA secure; the TLSA matches 127.0.10.203, not {V6}",
       f"{out4}{out6}{recs}")
    ok(web_valid(c4, "mx1.audv6.sts.test")[0] and web_valid(c6, "mx1.audv6.sts.test")[0],
       "setup: audv6: both addresses Web-valid")
    # 10. no STARTTLS, 454
    offered, code = ehlo("127.0.25.8")
    recs, st = tlsa_of("_25._tcp.mx1.dane-notls.mail.test")
    ok(not offered and code == 502 and st == "secure" and recs,
       "setup: dane-notls: no STARTTLS (502), secure TLSA", f"{offered} {code} {recs}")
    offered, code = ehlo("127.0.25.9")
    ok(offered and code == 454, "setup: dane-454: STARTTLS offered, answered 454")
    # 11. only 3 0 1
    recs, st = tlsa_of("_25._tcp.mx1.audrollover.mail.test")
    chain = served_chain("127.0.25.1", "mx1.audrollover.mail.test")
    ok(st == "secure" and chain and recs == ["3 0 1 " + cert_sha256(chain[0])],
       "setup: audrollover: only 3 0 1, matching the served certificate", recs)
    # 12. TLS-RPT
    out, st = dns("_smtp._tls.audrptmissing.sts.test", "TXT")
    ok(st == "secure" and "NXDOMAIN" in out, "setup: audrptmissing: no _smtp._tls (secure)", out)
    out, _ = dns("_smtp._tls.audrptinvalid.sts.test", "TXT")
    ok("rua=ftp://" in out, "setup: audrptinvalid: ftp: rua", out)
    out, _ = dns("_smtp._tls.audrpttwo.sts.test", "TXT")
    ok(out.count("v=TLSRPTv1") == 2, "setup: audrpttwo: two records", out)
    out, _ = dns("_smtp._tls.audrpt404.sts.test", "TXT")
    ok("rua=https://rpt.sts.test/gone" in out, "setup: audrpt404: rua /gone", out)
    out, _ = dns("_smtp._tls.audrptnomail.sts.test", "TXT")
    mx, _ = dns("nullmx.test", "MX")
    ok("rua=mailto:tlsrpt@nullmx.test" in out and "0 ." in mx,
       "setup: audrptnomail: rua mailto:tlsrpt@nullmx.test, nullmx.test MX 0 .", out + mx)
    # 13. bogus
    recs, st = tlsa_of("_25._tcp.mx1.audtlsabogus.sts.test")
    _, ast = dns("mx1.audtlsabogus.sts.test", "A")
    chain = served_chain("127.0.10.205", "mx1.audtlsabogus.sts.test")
    ok(st == "bogus" and ast == "secure" and web_valid(chain, "mx1.audtlsabogus.sts.test")[0],
       "setup: audtlsabogus: TLSA bogus, address secure, Web-valid")
    _, mst = dns("mxbogus.test", "MX")
    _, ast = dns("mx1.bogus.test", "A")
    _, bst = dns("bogus.test", "MX")
    ok(mst == "secure" and ast == "bogus" and bst == "bogus",
       "setup: mxbogus.test MX secure, mx1.bogus.test A bogus; bogus.test MX bogus")
    # 14. nothing published for audpub
    out, st = dns("_mta-sts.audpub.sts.test", "TXT")
    chain = served_chain("127.0.10.206", "mx1.audpub.sts.test")
    recs, tst = tlsa_of("_25._tcp.mx1.audpub.sts.test")
    ok(st == "secure" and "NXDOMAIN" in out and not recs and
       web_valid(chain, "mx1.audpub.sts.test")[0],
       "setup: audpub: no _mta-sts, no TLSA, a Web-valid MX", out)


# ------------------------------------------------------------------ the audit

SEVERITIES = ("error", "warning", "info")
shape_errors = []


def audit(domain, *extra, glob=(), timeout=60):
    """Run the audit; (result, parsed JSON or None, seconds)."""
    if "--state-dir" not in glob:
        glob = ["--state-dir", NOSTATE, *glob]
    t = time.monotonic()
    r = run(BASE + list(glob) + ["audit", domain, "--json", *extra], timeout=timeout)
    secs = time.monotonic() - t
    try:
        j = json.loads(r.stdout)
    except ValueError:
        j = None
    if j is not None and r.returncode in (0, 1, 75):
        check_shape(domain, j)
    return r, j, secs


def check_shape(domain, j):
    where = domain
    if not isinstance(j, dict) or not {"domain", "mode", "elapsed_ms", "findings"} <= set(j):
        shape_errors.append(f"{where}: keys {sorted(j) if isinstance(j, dict) else j}")
        return
    if j["domain"] != domain:
        shape_errors.append(f"{where}: domain {j['domain']!r}")
    if not (j["mode"] is None or isinstance(j["mode"], str)):
        shape_errors.append(f"{where}: mode {j['mode']!r}")
    if not isinstance(j["elapsed_ms"], int) or j["elapsed_ms"] < 0:
        shape_errors.append(f"{where}: elapsed_ms {j['elapsed_ms']!r}")
    last = 0
    for f in j["findings"]:
        if set(f) != {"severity", "code", "host", "message", "fix"}:
            shape_errors.append(f"{where}: finding keys {sorted(f)}")
            continue
        if f["severity"] not in SEVERITIES or not isinstance(f["code"], str) or \
                not (f["host"] is None or isinstance(f["host"], str)) or \
                not isinstance(f["message"], str) or not f["message"] or \
                not isinstance(f["fix"], str):
            shape_errors.append(f"{where}: finding {f}")
            continue
        if f["severity"] != "info" and not f["fix"]:
            shape_errors.append(f"{where}: no fix for {f['severity']} {f['code']}")
        rank = SEVERITIES.index(f["severity"])
        if rank < last:
            shape_errors.append(f"{where}: {f['severity']} {f['code']} after a lower severity")
        last = rank


def summary(j):
    """The error and warning findings as a multiset of (severity, code, host)."""
    return collections.Counter((f["severity"], f["code"], f["host"]) for f in j["findings"]
                               if f["severity"] in ("error", "warning"))


def show(r, j):
    if j is None:
        return f"exit {r.returncode}\nstdout: {r.stdout.decode()}\nstderr: {r.stderr.decode()}"
    return f"exit {r.returncode}\n" + json.dumps(j, indent=1) + "\n" + r.stderr.decode()


def expect(name, domain, code, want, *extra, glob=()):
    r, j, _ = audit(domain, *extra, glob=glob)
    good = j is not None and r.returncode == code and summary(j) == collections.Counter(want)
    ok(good, f"{name}: {domain}: exit {code}, " +
       ("; ".join(f"{s} {c} {h}" for s, c, h in want) or "no error or warning"), show(r, j))
    return r, j


def find(j, code):
    return [f for f in (j or {}).get("findings", []) if f["code"] == code]


def main():
    receiver = start_receivers()
    ok(os.path.exists(os.path.join(AUD, "smtp", "ready")), "setup: extra receivers listening",
       open(os.path.join(AUD, "receiver.out")).read())
    server = start_policy_hosts()
    check_scenarios()

    # 1. correct deployment
    r, j, secs = audit("audok.sts.test")
    # (the usage checks below mean something only when the command exists)
    exists = b"unknown command" not in r.stderr
    ok(j is not None and r.returncode == 0 and not summary(j),
       "correct deployment: audok.sts.test: exit 0, no error or warning", show(r, j))
    if j is not None:
        comment(f"audok.sts.test: elapsed_ms {j.get('elapsed_ms')} (wall {secs * 1000:.0f} ms), "
                f"mode {j.get('mode')}, info: " +
                ", ".join(f"{f['code']} {f['host']}" for f in j["findings"]))
        # "mode" is the delivery mode senders decide today (as mxtls check): DANE first.
        ok(j.get("mode") == "dane", "correct deployment: mode dane", j.get("mode"))
    r = run(BASE + ["--state-dir", NOSTATE, "audit", "audok.sts.test"])
    last = r.stdout.decode().rstrip("\n").rpartition("\n")[2]
    ok(r.returncode == 0 and re.fullmatch(r"0 errors, 0 warnings, \d+ info \(\d+ ms\)", last),
       "correct deployment, text output: last line 'N errors, N warnings, N info (T ms)'",
       r.stdout.decode() + r.stderr.decode())

    # 2-6, 8-13
    expect("policy host certificate for another name", "audpolcert.sts.test", 1,
           [("error", "sts-policy-host-cert", "mta-sts.audpolcert.sts.test")])
    expect("MX host not in the enforce policy", "audnotcov.sts.test", 1,
           [("error", "sts-mx-not-covered", "mx2.enforce.sts.test")])
    expect("self-signed MX certificate under enforce", "audselfsigned.sts.test", 1,
           [("error", "mx-cert-not-trusted", "mx1.stsbadcert.sts.test")])
    r, j = expect("TLSA not matching", "dane-mismatch.mail.test", 1,
                  [("error", "tlsa-mismatch", "mx1.dane-mismatch.mail.test")])
    f = find(j, "tlsa-mismatch")
    ok(len(f) == 1 and "127.0.25.4" in f[0]["message"],
       "TLSA not matching: the message names the address 127.0.25.4", f)
    expect("two _mta-sts records", "audtxtmulti.sts.test", 1,
           [("error", "sts-txt-multiple", "_mta-sts.audtxtmulti.sts.test")])
    expect("unsigned zone with TLSA", "audinsec.plain.test", 0,
           [("warning", "tlsa-insecure", "mx1.audinsec.plain.test")])
    r, j = expect("IPv6 address with another key", "audv6.sts.test", 1,
                  [("error", "tlsa-mismatch", "mx1.audv6.sts.test")])
    f = find(j, "tlsa-mismatch")
    ok(len(f) == 1 and V6 in f[0]["message"] and "127.0.10.203" not in f[0]["message"],
       f"IPv6 address with another key: the message names {V6} (not 127.0.10.203)", f)
    expect("no STARTTLS on a host with TLSA", "dane-notls.mail.test", 1,
           [("error", "mx-starttls-missing", "mx1.dane-notls.mail.test")])
    expect("STARTTLS refused (454) on a host with TLSA", "dane-454.mail.test", 1,
           [("error", "mx-tls-failed", "mx1.dane-454.mail.test")])
    expect("only 3 0 1", "audrollover.mail.test", 0,
           [("warning", "tlsa-rollover-risk", "mx1.audrollover.mail.test")])
    expect("only 1 1 1 (and so no usable TLSA, no MTA-STS)", "dane-encrypt.mail.test", 0,
           [("warning", "tlsa-unusable", "mx1.dane-encrypt.mail.test"),
            ("warning", "sts-txt-missing", "_mta-sts.dane-encrypt.mail.test")])
    expect("DANE-EE 3 1 1 on a self-signed certificate", "dane-ee.mail.test", 0, [])
    expect("no _smtp._tls", "audrptmissing.sts.test", 0,
           [("warning", "tlsrpt-missing", "_smtp._tls.audrptmissing.sts.test")])
    expect("_smtp._tls with an ftp: rua", "audrptinvalid.sts.test", 0,
           [("warning", "tlsrpt-invalid", "_smtp._tls.audrptinvalid.sts.test")])
    expect("two _smtp._tls records", "audrpttwo.sts.test", 0,
           [("warning", "tlsrpt-invalid", "_smtp._tls.audrpttwo.sts.test")])
    expect("https rua answering 404", "audrpt404.sts.test", 0,
           [("warning", "tlsrpt-endpoint", "https://rpt.sts.test/gone")])
    expect("mailto rua whose domain takes no mail", "audrptnomail.sts.test", 0,
           [("warning", "tlsrpt-endpoint", "mailto:tlsrpt@nullmx.test")])
    # Scenarios of the delivery tests, audited as they are (tests/net/README.md):
    # danepart: mx1 DANE (self-signed, so not Web-valid under enforce), mx2 Web-valid without
    # TLSA; testing: mx1's certificate names another host, mx2 is not in the policy.
    expect("partial DANE", "danepart.sts.test", 1,
           [("error", "mx-cert-not-trusted", "mx1.danepart.sts.test"),
            ("warning", "tlsa-partial", "mx2.danepart.sts.test"),
            ("warning", "sts-max-age", "mta-sts.danepart.sts.test"),
            ("warning", "tlsrpt-missing", "_smtp._tls.danepart.sts.test")])
    r, j = expect("testing policy: problems are warnings", "testing.sts.test", 0,
                  [("warning", "mx-cert-name-mismatch", "mx1.testing.sts.test"),
                   ("warning", "sts-mx-not-covered", "mx2.testing.sts.test"),
                   ("warning", "sts-max-age", "mta-sts.testing.sts.test"),
                   ("warning", "tlsrpt-missing", "_smtp._tls.testing.sts.test")])
    ok(len(find(j, "sts-not-ready")) == 1 and not find(j, "sts-ready-for-enforce"),
       "testing.sts.test: info sts-not-ready", show(r, j))
    expect("TLSA lookup bogus", "audtlsabogus.sts.test", 1,
           [("error", "dnssec-bogus", "mx1.audtlsabogus.sts.test")])
    expect("secure MX, bogus address", "mxbogus.test", 1,
           [("error", "dnssec-bogus", "mx1.bogus.test"),
            ("warning", "sts-txt-missing", "_mta-sts.mxbogus.test")])
    # The MX RRset itself is bogus: that one problem, once (the TXT lookups of the zone fail
    # for the same reason and are not separate problems).
    r, j = expect("bogus MX RRset", "bogus.test", 1, [("error", "dnssec-bogus", None)])
    comment("bogus.test: " + show(r, j))
    r, j, _ = audit("refused.test")
    ok(r.returncode == 75, "MX lookup SERVFAIL: refused.test: exit 75", show(r, j))

    # 7. policy id unchanged after an edit
    state = os.path.join(AUD, "state")
    os.mkdir(state)
    body_path = os.path.join(AUD, "www", "mta-sts.audidsame.sts.test", "mta-sts.txt")
    expect("id unchanged, first look (state dir)", "audidsame.sts.test", 0, [],
           glob=["--state-dir", state])
    with open(body_path, "rb") as f:
        body = f.read()
    with open(body_path, "wb") as f:
        f.write(body.replace(b"max_age: 1209600", b"max_age: 2419200"))
    _, _, got, _ = policy_get("mta-sts.audidsame.sts.test")
    ok("max_age: 2419200" in got, "setup: audidsame: the policy host serves the edited body")
    expect("id unchanged after an edit", "audidsame.sts.test", 1,
           [("error", "sts-id-unchanged", "_mta-sts.audidsame.sts.test")],
           glob=["--state-dir", state])
    expect("id unchanged, a state dir that does not exist: nothing remembered",
           "audidsame.sts.test", 0, [])
    # A failed fetch remembered in the state dir must not hide the problem the next time.
    state2 = os.path.join(AUD, "state2")
    os.mkdir(state2)
    for i in (1, 2):
        expect(f"policy host certificate for another name, state dir, audit {i}",
               "audpolcert.sts.test", 1,
               [("error", "sts-policy-host-cert", "mta-sts.audpolcert.sts.test")],
               glob=["--state-dir", state2])

    # Time limit: the policy host of slowheaders stalls 6 s.
    r, j, secs = audit("slowheaders.sts.test", "--time-limit", "1")
    ok(r.returncode == 75 and secs < 4, "--time-limit 1 on a stalling policy host: exit 75 "
       "within a few seconds", f"{secs:.1f} s\n" + show(r, j))
    comment(f"slowheaders.sts.test --time-limit 1: {secs:.2f} s, " + show(r, j))

    # No mail at all: one finding says so, in the JSON document like every other.
    expect("the domain does not exist", "nx.secure.test", 1, [("error", "mx-nxdomain", None)])
    r, j = expect("null MX (RFC 7505): nothing to check", "nullmx.test", 0, [])
    ok(j is not None and [(f["severity"], f["code"]) for f in j["findings"]] ==
       [("info", "mx-null")], "nullmx.test: the one finding is info mx-null", show(r, j))
    # Nothing answers on port 25 at all: every sender defers, an error for the domain.
    expect("no MX, implicit MX where nothing listens", "nomx.test", 1,
           [("error", "mx-unreachable", None),
            ("warning", "sts-txt-missing", "_mta-sts.nomx.test"),
            ("warning", "mx-unreachable", "nomx.test")])

    # Usage: 64 before any lookup.
    for args in ([], ["audok.sts.test", "--time-limit", "0"],
                 ["audok.sts.test", "--time-limit", "abc"],
                 ["audok.sts.test", "--time-limit", "-5"],
                 ["audok.sts.test", "other.sts.test"], ["bad..name"]):
        r = run(BASE + ["audit", *args])
        ok(exists and r.returncode == 64 and r.stdout == b"", f"audit {' '.join(args)}: exit 64",
           f"{r.returncode} {r.stdout.decode()} {r.stderr.decode()}")

    # 14. publish fed back
    expect("publish fed back, before", "audpub.sts.test", 0,
           [("warning", "sts-txt-missing", "_mta-sts.audpub.sts.test")])
    out = tempfile.mkdtemp(prefix="publish.", dir=AUD)
    r = run(BASE + ["publish", "audpub.sts.test", "--mode", "enforce", "--rua",
                    "https://rpt.sts.test/ok", "--out", out])
    ok(r.returncode == 0 and os.path.isfile(os.path.join(out, "zone.txt")) and
       os.path.isfile(os.path.join(out, "mta-sts.txt")),
       "publish fed back: mxtls publish --out: exit 0, zone.txt and mta-sts.txt",
       r.stdout.decode() + r.stderr.decode())
    if r.returncode == 0:
        with open(os.path.join(out, "zone.txt"), encoding="utf-8") as f:
            zone = f.read()
        comment("zone.txt:\n" + zone)
        with open(os.path.join(WORK, "zones.d", "sts.test.zone"), "a", encoding="utf-8") as f:
            f.write("\n; ---- e2e-audit: mxtls publish audpub.sts.test --out (zone.txt)\n" + zone)
        os.makedirs(os.path.join(AUD, "www", "mta-sts.audpub.sts.test"), exist_ok=True)
        shutil.copy(os.path.join(out, "mta-sts.txt"),
                    os.path.join(AUD, "www", "mta-sts.audpub.sts.test", "mta-sts.txt"))
        t = time.monotonic()
        d = run(["bash", os.path.join(NET, "dns-up.sh"), NETNS, WORK])
        ok(d.returncode == 0, f"publish fed back: zones re-signed (dns-up.sh, "
           f"{time.monotonic() - t:.1f} s)", d.stderr.decode())
        txt, st = dns("_mta-sts.audpub.sts.test", "TXT")
        recs, tst = tlsa_of("_25._tcp.mx1.audpub.sts.test")
        _, _, pol, _ = policy_get("mta-sts.audpub.sts.test")
        ok(st == "secure" and "v=STSv1" in txt and tst == "secure" and recs and
           "mode: enforce" in pol,
           "setup: audpub: the published TXT and TLSA are secure, the policy is served",
           txt + str(recs) + pol)
        expect("publish fed back", "audpub.sts.test", 0, [])
        # The rest of the network survived the new keys.
        expect("correct deployment after the re-signing", "audok.sts.test", 0, [])

    ok(not os.path.exists(NOSTATE), "the state dir that does not exist was not created")
    ok(not shape_errors, "every JSON answer: keys, types, a fix for errors and warnings, "
       "ordered errors, warnings, info", "\n".join(shape_errors))
    server.shutdown()
    receiver.terminate()
    receiver.wait(10)
    return TAP.plan()


if __name__ == "__main__":
    sys.exit(main())
