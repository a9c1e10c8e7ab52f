# SPDX-License-Identifier: MIT
"""Debian's Exim 4 (exim4-daemon-light, GnuTLS) with its own DANE and no MTA-STS.

Exim conflicts with Postfix as a Debian package, so it runs from its unpacked .debs
(exim4-daemon-light, exim4-base, exim4-config and libidn12, which the binary needs and a
Postfix machine lacks): the first run downloads them with `apt-get download` (Debian's mirror
must be reachable) and unpacks them into the cache of _unpacked.py; later runs use the cache.

Each message is one `exim4 -odi -f SENDER RCPT` (delivery in the foreground, no daemon), in
a private mount namespace of the lab network (_unpacked.in_private_mounts) where Exim looks
installed: /usr/sbin/exim4 (setuid root; it re-executes itself, so the unpacked libidn12 must
be under /usr/lib, LD_LIBRARY_PATH being ignored for a setuid program), its configuration at
the compiled-in /etc/exim4/exim4.conf (so no -C and no `trusted_configs` question), the lab's
resolv.conf (validating resolver, `options trust-ad`), and /etc/passwd and /etc/group holding
Debian-exim (the user the binary looks up at start).

The configuration is the one an operator of Debian's "internet site" writes to turn DANE on: a
dnslookup router and an smtp transport with `dns_dnssec_ok = 1`, `dnssec_request_domains
= *`, `hosts_try_dane = *`, and the lab CA as the only Web PKI root (`tls_verify_certificates`;
it only decides the log's CV= for hosts without DANE: Exim's TLS is opportunistic there).
Debian's `ignore_target_hosts` list would drop every MX of the lab (127.0.0.0/8); it is left
out.  The status is the recipient's line in Exim's mainlog (=> delivered, == deferred, **
bounced).  A deferred message is removed (`exim4 -Mrm`), and the retry hints are emptied
before each message: each scenario is one first attempt, not a retry of an earlier one's host.
"""
import os
import re
import subprocess

from _unpacked import etc_dir, in_private_mounts, package_version, unpack

PACKAGES = ["exim4-daemon-light", "exim4-base", "exim4-config", "libidn12"]
CACHE_NAME = "exim4-daemon-light"
# "DATE TIME ID => rcpt R=...", "... == rcpt R=... defer (...)", "... ** rcpt: Unrouteable ..."
LOG_RE = re.compile(r"^\S+ \S+ (\S+) (=>|==|\*\*) (\S+?):? (.*)$")

CONFIG = """\
# Exim 4 for the mxtls lab (written by lab/drivers/exim4.py): Debian's "internet site"
# routing (one dnslookup router, one smtp transport) with DANE turned on.
primary_hostname = client.exim.test
qualify_domain = sender.test
spool_directory = {state}/spool
log_file_path = {state}/log/%slog
domainlist local_domains =
# as Debian's template: pass no environment to children
keep_environment =
# RFC 7672 §2.1: DANE needs DNSSEC-validated answers; ask for them (the DO bit) and trust
# the AD bit of the lab's validating resolver.
dns_dnssec_ok = 1
tls_verify_certificates = {ca}

begin routers

dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = remote_smtp
  same_domain_copy_routing = yes
  dnssec_request_domains = *
  # Debian's template ignores MX targets in 127.0.0.0/8 (and the private ranges): the lab's
  # MX hosts are all there, so only the unspecified addresses stay ignored.
  ignore_target_hosts = <; 0.0.0.0 ; ::/128
  no_more

begin transports

remote_smtp:
  driver = smtp
  # RFC 7672 §2.2: DANE wherever a DNSSEC-secure TLSA RRset exists.
  hosts_try_dane = *
  dnssec_request_domains = *
  tls_verify_certificates = {ca}
  interface = 127.0.27.1
  connect_timeout = 5s
  command_timeout = 20s

begin retry

# Debian's default
*                      *           F,2h,15m; G,16h,1h,1.5; F,4d,6h
"""


def _paths(env):
    st = env["state_dir"]
    return {"root": unpack(CACHE_NAME, PACKAGES), "etc": os.path.join(st, "etc"),
            "log": os.path.join(st, "log", "mainlog"), "spool": os.path.join(st, "spool")}


def _exim(env, p, args, message=None, timeout=180):
    argv = in_private_mounts(p["root"], p["etc"], ["/usr/sbin/exim4"] + args)
    return subprocess.run(argv, input=message, capture_output=True, timeout=timeout)


def prepare():
    """Outside the lab network (mxtls-lab calls it first): download and unpack, once."""
    unpack(CACHE_NAME, PACKAGES)


def describe(env):
    p = _paths(env)
    # the lab's resolver (resolver-up.sh): Exim uses the system stub resolver
    subprocess.run(["bash", os.path.join(env["net"], "resolver-up.sh"), env["netns"],
                    env["workdir"]], check=True, capture_output=True, timeout=120)
    _, ids = etc_dir(env, ["Debian-exim"])
    uid = ids["Debian-exim"]
    for d in (p["spool"], os.path.dirname(p["log"])):
        os.makedirs(d, exist_ok=True)
        os.chown(d, uid, uid)
    os.makedirs(os.path.join(p["etc"], "exim4"), exist_ok=True)
    # at the compiled-in path (/etc/exim4/exim4.conf): no -C, so no trusted_configs question
    with open(os.path.join(p["etc"], "exim4", "exim4.conf"), "w", encoding="utf-8") as f:
        f.write(CONFIG.format(state=env["state_dir"], ca=env["ca_file"]))
    v = _exim(env, p, ["-bV"])
    out = v.stdout.decode(errors="replace")
    if v.returncode != 0:
        raise RuntimeError("exim4 -bV: " + (out + v.stderr.decode(errors="replace"))[-500:])
    first = (out.splitlines() or ["?"])[0].split()  # "Exim version 4.96 #2 built ..."
    return {"version": "Exim %s (Debian %s)" % (first[2] if len(first) > 2 else "?",
                                                package_version(CACHE_NAME,
                                                                "exim4-daemon-light")),
            "config": "dns_dnssec_ok = 1, dnssec_request_domains = *, hosts_try_dane = *, "
                      "tls_verify_certificates = lab CA, ignore_target_hosts without "
                      "127.0.0.0/8; no MTA-STS"}


def _status(log, rcpt):
    """(status, exim message id, the line's rest) of the first final line for rcpt."""
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = LOG_RE.match(line.rstrip("\n"))
                if m and m.group(3) == rcpt:
                    return ({"=>": "delivered", "==": "deferred", "**": "bounced"}[m.group(2)],
                            m.group(1), m.group(4))
    except FileNotFoundError:
        pass
    return None, None, None


def deliver(env, sender, rcpt, message):
    p = _paths(env)
    # Each scenario is a first attempt: an earlier scenario's failure with the same host must
    # not make Exim skip it ("retry time not reached").
    db = os.path.join(p["spool"], "db")
    if os.path.isdir(db):
        for n in os.listdir(db):
            os.unlink(os.path.join(db, n))
    r = _exim(env, p, ["-odi", "-oi", "-f", sender, "--", rcpt], message)
    status, msgid, rest = _status(p["log"], rcpt)
    if status is None:
        return "deferred", "no line for %s in Exim's mainlog (exit %d: %s)" % (
            rcpt, r.returncode, r.stderr.decode(errors="replace").strip()[-300:])
    if status == "deferred":
        # so that no later queue run delivers it once the scenario's attacker is gone
        _exim(env, p, ["-Mrm", msgid])
    return status, rest


def close(env):
    # Nothing runs between messages (-odi); the lab network's teardown removes the state.
    subprocess.run(["bash", os.path.join(env["net"], "resolver-down.sh"), env["netns"],
                    env["workdir"]], capture_output=True, timeout=60)
