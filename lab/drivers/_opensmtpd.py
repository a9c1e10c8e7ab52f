# SPDX-License-Identifier: MIT
"""Shared by the OpenSMTPD drivers (not a driver itself: its name starts with "_").

OpenSMTPD conflicts with Postfix as a Debian package, so it runs from its unpacked .deb (the
first run downloads it with `apt-get download`, Debian's mirror must be reachable; later runs
use the cache of _unpacked.py).  It has neither DANE nor MTA-STS: what is scored is what
Debian ships, and the drivers differ only in the `relay` action.

The daemon runs in the foreground (`smtpd -d`, its log on stderr in STATE/log/smtpd.log) in a
private mount namespace of the lab network (_unpacked.in_private_mounts) where it looks
installed: /usr/sbin/smtpd, /etc/smtpd.conf, /etc/mailname, passwd and group with its users
opensmtpd and opensmtpq, the lab's resolv.conf, and the lab CA as
/etc/ssl/certs/ca-certificates.crt (the CA file compiled into it: the lab CA is its only
root); /var/spool, /var/lib (its chroot /var/lib/opensmtpd/empty) and /run (its control
socket) are directories of the driver's state.  Its resolver (libasr) takes IPv4 for unusable
when the only interface is loopback and then finds no MX at all, so the driver gives the lab
network a veth pair with a documentation address (tests/net/netns-ipv4.sh).

One daemon per message: it starts, takes the message over SMTP on 127.0.0.1:25 ("listen on
localhost", "match from local for any action relay"), and is stopped once its log has the
recipient's result (Ok, TempFail, PermFail), and its spool is then removed.  So every scenario
is one first attempt: no retry can deliver a deferred message after the scenario's attacker is
gone, and no connection or route state (OpenSMTPD reuses sessions and marks routes down)
carries over from one scenario to the next.
"""
import os
import re
import shutil
import smtplib
import socket
import subprocess
import time

from _unpacked import etc_dir, in_private_mounts, package_version, unpack

PACKAGES = ["opensmtpd"]
CACHE_NAME = "opensmtpd"
# smtpd -d writes one line per envelope and delivery attempt, e.g.
# "SESSION mta delivery evpid=... from=<...> to=<rcpt> rcpt=<-> source="..."
#  relay="127.0.25.1 (127.0.25.1)" delay=0s result="Ok" stat="250 2.0.0 OK queued as 1""
RESULT_RE = re.compile(r' mta delivery evpid=\S+ from=<[^>]*> to=<([^>]*)> .* '
                       r'result="(\w+)" stat="(.*)"$')

CONFIG = """\
# OpenSMTPD for the mxtls lab (written by lab/drivers/_opensmtpd.py): Debian's
# /etc/smtpd.conf, with the relay action under test.
table aliases file:/etc/aliases

listen on localhost

action "local" maildir alias <aliases>
action "relay" {relay}

match for local action "local"
match from local for any action "relay"
"""


def prepare():
    """Outside the lab network (mxtls-lab calls it first): download and unpack, once."""
    unpack(CACHE_NAME, PACKAGES)


def _net(env, script, *args):
    subprocess.run(["bash", os.path.join(env["net"], script)] + list(args), check=True,
                   capture_output=True, timeout=120)


def describe(env, relay):
    st = env["state_dir"]
    root = unpack(CACHE_NAME, PACKAGES)
    _net(env, "netns-ipv4.sh", "up", env["netns"])
    _net(env, "resolver-up.sh", env["netns"], env["workdir"])
    etc, _ = etc_dir(env, ["opensmtpd", "opensmtpq"])
    with open(os.path.join(etc, "smtpd.conf"), "w", encoding="utf-8") as f:
        f.write(CONFIG.format(relay=relay))
    with open(os.path.join(etc, "mailname"), "w", encoding="utf-8") as f:
        f.write("client.opensmtpd.test\n")
    with open(os.path.join(etc, "aliases"), "w", encoding="utf-8") as f:
        f.write("postmaster: root\n")
    os.makedirs(os.path.join(etc, "ssl", "certs"), exist_ok=True)
    shutil.copyfile(env["ca_file"], os.path.join(etc, "ssl", "certs", "ca-certificates.crt"))
    os.makedirs(os.path.join(st, "log"), exist_ok=True)
    p = subprocess.run(_argv(env, ["/usr/sbin/smtpd", "-n", "-f", "/etc/smtpd.conf"]),
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("smtpd -n: " + (p.stdout + p.stderr).strip()[-500:])
    # "version: OpenSMTPD 6.8.0p2" is the first line of its usage (-h)
    h = subprocess.run(_argv(env, ["/usr/sbin/smtpd", "-h"]), capture_output=True, text=True,
                       timeout=60)
    first = ((h.stdout + h.stderr).splitlines() or ["?"])[0]
    version = first.split("version: ", 1)[-1].strip()
    return {"version": "%s (Debian %s)" % (version, package_version(CACHE_NAME, "opensmtpd")),
            "config": "Debian's smtpd.conf, action \"relay\" %s; lab CA as "
                      "/etc/ssl/certs/ca-certificates.crt; no DANE, no MTA-STS" % relay}


def _argv(env, argv):
    st = env["state_dir"]
    dirs = [os.path.join(st, d) for d in ("var-spool", "var-lib", "run")]
    os.makedirs(os.path.join(dirs[1], "opensmtpd", "empty"), exist_ok=True)
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    then = "".join('mount --bind "%s" %s || exit 1\n' % (d, t)
                   for d, t in zip(dirs, ("/var/spool", "/var/lib", "/run")))
    return in_private_mounts(unpack(CACHE_NAME, PACKAGES), os.path.join(st, "etc"), argv,
                             then=then)


def _wait_listening(proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", 25), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _result(log, rcpt, start):
    """(status, line) of the first result for rcpt written after offset `start` of the log."""
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            f.seek(start)
            for line in f:
                m = RESULT_RE.search(line)
                if m and m.group(1) == rcpt:
                    return ({"Ok": "delivered", "PermFail": "bounced"}.get(m.group(2),
                                                                           "deferred"),
                            m.group(0).split(" relay=", 1)[-1])
    except FileNotFoundError:
        pass
    return None, None


def deliver(env, sender, rcpt, message, timeout=90):
    st = env["state_dir"]
    log = os.path.join(st, "log", "smtpd.log")
    start = os.path.getsize(log) if os.path.exists(log) else 0
    with open(log, "ab") as out:
        proc = subprocess.Popen(_argv(env, ["/usr/sbin/smtpd", "-d", "-f", "/etc/smtpd.conf"]),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        if not _wait_listening(proc):
            return "deferred", "smtpd did not start (see %s)" % log
        try:
            with smtplib.SMTP("127.0.0.1", 25, local_hostname="sender.test",
                              timeout=30) as s:
                s.sendmail(sender, [rcpt], message)
        except (smtplib.SMTPException, OSError) as e:
            return "deferred", "submission to smtpd failed: %s" % e
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, line = _result(log, rcpt, start)
            if status:
                return status, line
            time.sleep(0.2)
        return "deferred", "no result for %s in smtpd's log after %d s" % (rcpt, timeout)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        # what is left (a deferred message, its bounce) must not be retried later
        shutil.rmtree(os.path.join(st, "var-spool"), ignore_errors=True)


def close(env):
    subprocess.run(["bash", os.path.join(env["net"], "resolver-down.sh"), env["netns"],
                    env["workdir"]], capture_output=True, timeout=60)
    subprocess.run(["bash", os.path.join(env["net"], "netns-ipv4.sh"), "down", env["netns"]],
                   capture_output=True, timeout=60)
