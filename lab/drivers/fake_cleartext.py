# SPDX-License-Identifier: MIT
"""a naive MTA for the lab's self-test: the best MX host's first address, never STARTTLS.

It finds the MX hosts through `mxtls check --json` (the lab's validating resolver: a domain
that cannot be resolved is deferred, one that takes no mail bounced) and delivers in cleartext
with smtplib.  It must fail exactly the scenarios whose domain is protected (mxtls-lab
--self-test checks that).
"""
import json
import smtplib
import subprocess

# each mxtls check is a fresh libunbound, without a cache: no wait after a DNS change
DNS_CACHE = False


def describe(env):
    return {"version": "self-test", "config": "cleartext to the first MX address"}


def deliver(env, sender, rcpt, message):
    domain = rcpt.rsplit("@", 1)[1]
    p = subprocess.run([env["mxtls"], "--config", "/dev/null", "--unbound-conf",
                        env["unbound_conf"], "--ca-file", env["ca_file"], "--state-dir",
                        env["state_dir"], "--json", "check", domain], capture_output=True,
                       timeout=120)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        return "deferred", "no answer from mxtls check"
    if doc.get("mode") == "undeliverable":
        return "bounced", "the domain takes no mail"
    last = "no MX host with an address"
    for mx in sorted(doc.get("mx") or [], key=lambda m: m.get("preference", 0)):
        for addr in mx.get("addresses") or []:
            try:
                with smtplib.SMTP(addr, 25, timeout=10, local_hostname="sender.test") as s:
                    s.sendmail(sender, [rcpt], message)
                return "delivered", "cleartext to %s (%s)" % (mx["host"], addr)
            except (OSError, smtplib.SMTPException) as e:
                last = str(e)
                continue
    return "deferred", last
