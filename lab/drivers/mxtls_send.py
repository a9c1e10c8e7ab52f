# SPDX-License-Identifier: MIT
"""mxtls send: the mxtls SMTP client, one message per call (DANE, then MTA-STS, else TLS).

A driver is one file in this folder, named after the MTA (dashes become underscores), with:
  describe(env) -> {"version": ..., "config": ...}   what is scored, recorded with the scores
  deliver(env, sender, rcpt, message) -> (status, detail)
     status: "delivered", "deferred" or "bounced" as the MTA reports it; detail: one line.
env holds the lab network: workdir, smtp_dir, unbound_conf (the lab's resolver set-up, trust
anchor included), ca_file (the lab CA, the only Web PKI root), mxtls (the mxtls binary), and
state_dir (a directory of the driver's own for this run).  The lab judges what the receivers
got, not what the driver says; the status matters only when nothing arrived.
Optional: close(env) stops what describe started; DNS_CACHE = False when the MTA asks the DNS
afresh for each message (mxtls-lab then does not wait, after changing DNS records in a phased
scenario, for what a caching resolver holds to expire).  The driver's state (its caches, its
daemons) lasts for the whole run: a phased scenario's two messages go through the same MTA.
"""
import subprocess

# each mxtls send is a fresh libunbound, without a cache: no wait after a DNS change
DNS_CACHE = False


def _base(env):
    return [env["mxtls"], "--config", "/dev/null", "--unbound-conf", env["unbound_conf"],
            "--ca-file", env["ca_file"], "--state-dir", env["state_dir"],
            "--connect-timeout", "3", "--smtp-timeout", "20"]


def describe(env):
    p = subprocess.run([env["mxtls"], "--version"], capture_output=True, text=True)
    version = (p.stdout.split("\n")[0].split() or ["?"])[-1]
    return {"version": version,
            "config": "mxtls send, --unbound-conf (lab trust anchor), --ca-file (lab CA)"}


def deliver(env, sender, rcpt, message):
    p = subprocess.run(_base(env) + ["send", "--from", sender, "--to", rcpt, "--helo",
                                     "sender.test", "-"], input=message, capture_output=True,
                       timeout=180)
    status = {0: "delivered", 75: "deferred", 69: "bounced"}.get(p.returncode, "deferred")
    detail = (p.stdout + p.stderr).decode(errors="replace").strip().splitlines()
    return status, detail[-1] if detail else "exit %d" % p.returncode
