# SPDX-License-Identifier: MIT
"""the mxtls delivery agent: mxtls sendmail puts the message in the queue, one queue run delivers.

A recipient the run logs as bounced (event=queue-bounced) bounced; a message still queued after
the run is deferred, and is then deleted, so that a later run cannot deliver it once the
scenario's attacker is gone.  (Interface: mxtls_send.py.)
"""
import json
import subprocess

import mxtls_send

# each queue run is a fresh libunbound, without a cache: no wait after a DNS change
DNS_CACHE = False


def _mxtls(env, *args, message=None):
    return subprocess.run(mxtls_send._base(env) + list(args), input=message,
                          capture_output=True, timeout=180)


def describe(env):
    info = mxtls_send.describe(env)
    info["config"] = "mxtls sendmail, then mxtls queue run --once (same settings as mxtls-send)"
    return info


def deliver(env, sender, rcpt, message):
    p = _mxtls(env, "sendmail", "-f", sender, rcpt, message=message)
    if p.returncode != 0:
        return "deferred", "sendmail: " + p.stderr.decode(errors="replace").strip()
    # The run logs one line per recipient (event=queue-delivered / -bounced / -deferred,
    # rcpt=...), warnings included without -v: the verdict as the queue saw it.
    run = _mxtls(env, "queue", "run", "--once", "--helo", "sender.test")
    for line in run.stderr.decode(errors="replace").splitlines():
        if "rcpt=" + rcpt in line and "event=queue-bounced" in line:
            return "bounced", line.split("reply=", 1)[-1][:200]
    p = _mxtls(env, "--json", "queue", "list")
    try:
        messages = json.loads(p.stdout).get("messages", [])
    except ValueError:
        return "deferred", "queue list: no JSON"
    status, detail = "delivered", "the queue run delivered it"
    for m in messages:
        rcpts = [r for r in m.get("recipients", []) if r.get("recipient") == rcpt]
        if rcpts:
            status = "deferred"
            detail = "still queued: %s" % (rcpts[0].get("last_reply") or rcpts[0].get("state"))
        else:
            continue
        _mxtls(env, "queue", "delete", m["id"])
    return status, detail
