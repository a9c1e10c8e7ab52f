# SPDX-License-Identifier: MIT
"""Shared by the Postfix drivers (not a driver itself: its name starts with "_").

Debian's Postfix runs as a private instance inside the lab network (tests/net/postfix-up.sh:
DANE with DNSSEC through the lab's validating resolver, the lab CA as its only Web PKI root, a
TLS policy map given by the driver).  A message is submitted with its sendmail, and the
driver waits for the first status line of the recipient in the instance's log; a deferred
message is then removed from the queue, so that a retry after the scenario (its attacker
gone) cannot deliver it later.
"""
import os
import re
import subprocess
import time

STATUS_RE = re.compile(r"postfix/(?:smtp|error|discard)\[\d+\]: [0-9A-F]+: to=<([^>]+)>, "
                       r"relay=([^,]+), .*?status=(\w+) \((.*)\)$")


def net(env, script, *args):
    p = subprocess.run(["bash", os.path.join(env["net"], script)] + list(args),
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("%s %s: %s" % (script, " ".join(args), p.stderr.strip()[-500:]))


def version():
    p = subprocess.run(["postconf", "-d", "-h", "mail_version"], capture_output=True,
                       text=True)
    return p.stdout.strip() or "?"


def start(env, policy_map):
    """The instance with policy_map (resolver-up.sh first: Postfix reads /etc/resolv.conf)."""
    net(env, "resolver-up.sh", env["netns"], env["workdir"])
    net(env, "postfix-up.sh", env["netns"], env["workdir"], policy_map)


def stop(env):
    subprocess.run(["bash", os.path.join(env["net"], "postfix-down.sh"), env["netns"],
                    env["workdir"]], capture_output=True, timeout=60)


def deliver(env, sender, rcpt, message, timeout=90):
    etc = os.path.join(env["workdir"], "postfix", "etc")
    log = os.path.join(env["workdir"], "postfix", "log", "maillog")
    p = subprocess.run(["sendmail", "-C", etc, "-f", sender, rcpt], input=message,
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        return "deferred", "sendmail: " + p.stderr.decode(errors="replace").strip()
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = STATUS_RE.search(line)
                    if m and m.group(1) == rcpt:
                        status = {"sent": "delivered", "bounced": "bounced"}.get(
                            m.group(3), "deferred")
                        if status == "deferred":
                            subprocess.run(["postsuper", "-c", etc, "-d", "ALL", "deferred"],
                                           capture_output=True)
                        return status, "relay=%s: %s" % (m.group(2), m.group(4))
        except FileNotFoundError:
            pass
        time.sleep(0.2)
    subprocess.run(["postsuper", "-c", etc, "-d", "ALL"], capture_output=True)
    return "deferred", "no status in the log after %d s" % timeout
