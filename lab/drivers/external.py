# SPDX-License-Identifier: MIT
"""an MTA you start yourself in the network of mxtls-lab up; the lab injects mail at --inject.

    mxtls-lab up
    ip netns exec mxtls-lab YOUR-MTA ...          (set up as up printed: resolver, lab CA)
    mxtls-lab run --mta external --inject 127.0.0.1:2525 [--wait 30]

--inject HOST:PORT (or MXTLS_LAB_INJECT) is where the MTA accepts mail for relaying from the
lab (the address is reached from inside the namespace).  Each scenario's message is submitted
there with smtplib, plain SMTP; the MTA then delivers it as it would on the Internet, and the
lab judges what the receivers got.

What the MTA did, when nothing arrived, is read from what it tells the sender, because an MTA
outside the lab has no interface the lab could ask:

  * refused at submission: a 5xx reply is "bounced", a 4xx reply "deferred";
  * accepted: the envelope sender is a lab mailbox of its own for each scenario,
    dsn-<recipient's local part>@plain.test (a plain, unsigned domain whose receiver records
    what it gets).  An MTA that gives up on a message it accepted MUST send a non-delivery
    notification to that address (RFC 5321 §6.1), so a DSN there (RFC 3464: Action: failed,
    or any other message that is not a delay notice) is "bounced";
  * nothing arrived and no such DSN within --wait seconds (MXTLS_LAB_WAIT, default 30): the
    message is "deferred".  A bounce slower than the wait is scored as a deferral: raise the
    wait for an MTA that bounces late.

The wait ends as soon as the message or its DSN arrives; a scenario that expects a deferral
always takes the whole wait.  The attacker of a scenario is on only while it runs: a retry
after that may deliver the message, but to the scenario's own recipient, which no later
scenario looks at.  Clear (or flush) the MTA's queue between runs.
"""
import email
import email.policy
import json
import os
import smtplib
import time

DSN_DOMAIN = "plain.test"  # tests/net/smtp-hosts.conf: mx1.plain.test takes any mail
DEFAULT_WAIT = 30.0


def _address(env):
    addr = env.get("inject") or os.environ.get("MXTLS_LAB_INJECT") or ""
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


def _wait(env):
    return float(env.get("wait") or os.environ.get("MXTLS_LAB_WAIT") or DEFAULT_WAIT)


def _records(env, address):
    """What the lab's receivers recorded for address (attacker copies included)."""
    path = os.path.join(env["smtp_dir"], "received.jsonl")
    try:
        with open(path, encoding="utf-8") as f:
            return [m for m in map(json.loads, filter(str.strip, f))
                    if address in m.get("rcpt_to", [])]
    except FileNotFoundError:
        return []


def _notice(rec):
    """(status, detail) of a message sent to the envelope sender: a delay notice is deferred
    (RFC 3464 §2.3.3 Action: delayed); anything else reports a failure (RFC 5321 §6.1)."""
    try:
        with open(rec["file"], "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.default)
    except OSError:
        return "bounced", "a message to the envelope sender (unreadable)"
    actions, detail = [], []
    if msg.get_content_type() == "multipart/report":
        for part in msg.iter_parts():
            if part.get_content_type() == "message/delivery-status":
                for group in part.get_payload()[1:]:  # the first is per message
                    actions.append((group.get("Action") or "").strip().lower())
                    detail += [" ".join(str(group.get(h)).split())  # unfolded
                               for h in ("Status", "Diagnostic-Code") if group.get(h)]
    text = "; ".join(detail) or str(msg.get("Subject", ""))
    if actions and all(a == "delayed" for a in actions):
        return "deferred", "a delay notice (DSN Action: delayed): " + text
    if actions and all(a in ("delivered", "relayed", "expanded") for a in actions):
        return None, None  # a success notice nobody asked for: not a verdict
    return "bounced", "a non-delivery notice from %s: %s" % (rec.get("host"), text)


def describe(env):
    host, port = _address(env)
    try:
        with smtplib.SMTP(timeout=15, local_hostname="sender.test") as s:
            # The greeting is what an MTA says of itself (often its name and version).
            greeting = s.connect(host, port)[1].decode(errors="replace")
            s.ehlo()
    except (OSError, smtplib.SMTPException) as e:
        raise SystemExit("mxtls-lab: external: no MTA answers at %s:%d inside the lab network "
                         "(%s); start it with ip netns exec %s ..." % (
                             host, port, e, env["netns"]))
    return {"version": "greeting: " + greeting,
            "config": "an MTA outside the lab, injected at %s:%d; up to %g s per scenario; "
                      "a DSN to dsn-...@%s is a bounce" % (host, port, _wait(env), DSN_DOMAIN)}


def deliver(env, sender, rcpt, message):
    host, port = _address(env)
    bounce_to = "dsn-%s@%s" % (rcpt.rsplit("@", 1)[0], DSN_DOMAIN)
    try:
        with smtplib.SMTP(host, port, timeout=60, local_hostname="sender.test") as s:
            s.sendmail(bounce_to, [rcpt], message)
    except smtplib.SMTPRecipientsRefused as e:
        code, text = e.recipients[rcpt]
        return ("bounced" if code >= 500 else "deferred",
                "refused at submission: %d %s" % (code, text.decode(errors="replace")))
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
        return ("bounced" if e.smtp_code >= 500 else "deferred",
                "refused at submission: %d %s" % (e.smtp_code,
                                                  e.smtp_error.decode(errors="replace")))
    except (OSError, smtplib.SMTPException) as e:
        return "deferred", "cannot submit to %s:%d: %s" % (host, port, e)
    deadline = time.time() + _wait(env)
    while True:
        got = _records(env, rcpt)
        if got:
            return "delivered", "arrived at %s" % ", ".join(m["host"] for m in got)
        for rec in _records(env, bounce_to):
            status, detail = _notice(rec)
            if status:
                return status, detail
        if time.time() >= deadline:
            return "deferred", "nothing arrived and no DSN to %s within %g s" % (
                bounce_to, _wait(env))
        time.sleep(0.2)
