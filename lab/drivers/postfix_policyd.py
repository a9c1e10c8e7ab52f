# SPDX-License-Identifier: MIT
"""Debian's Postfix with mxtls policyd as its TLS policy map (DANE and MTA-STS decided by mxtls).

smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix, on top of Postfix's own DANE.
"""
import os
import subprocess
import time

from _postfix import deliver as _deliver, start, stop, version

PORT = 8461


def describe(env):
    log = open(os.path.join(env["state_dir"], "policyd.log"), "wb")
    env["policyd"] = subprocess.Popen(
        [env["mxtls"], "--config", "/dev/null", "--unbound-conf", env["unbound_conf"],
         "--ca-file", env["ca_file"], "--state-dir", env["state_dir"], "policyd", "--listen",
         "127.0.0.1:%d" % PORT], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    deadline = time.time() + 15
    while time.time() < deadline:
        with open(log.name, "rb") as f:
            if b"event=ready" in f.read():
                break
        time.sleep(0.05)
    start(env, "socketmap:inet:127.0.0.1:%d:postfix" % PORT)
    p = subprocess.run([env["mxtls"], "--version"], capture_output=True, text=True)
    return {"version": "Postfix %s + %s" % (version(), p.stdout.split("\n")[0].strip()),
            "config": "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:%d:postfix" % PORT}


def deliver(env, sender, rcpt, message):
    return _deliver(env, sender, rcpt, message)


def close(env):
    stop(env)
    if env.get("policyd") is not None:
        env["policyd"].terminate()
        env["policyd"].wait(timeout=10)
