# SPDX-License-Identifier: MIT
"""What the test network's receiving SMTP servers recorded (tests/net/smtp-receiver.py writes
one JSON object per line into MXTLS_TEST_SMTP_DIR): shared by the e2e delivery tests."""
import json
import os


def jsonl(smtp_dir, name):
    """Every record of smtp_dir/name (received.jsonl, connections.jsonl); [] before the first."""
    path = os.path.join(smtp_dir, name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def received(smtp_dir, rcpt):
    """The messages stored for the recipient address rcpt."""
    return [m for m in jsonl(smtp_dir, "received.jsonl") if rcpt in m.get("rcpt_to", [])]
