# SPDX-License-Identifier: MIT
"""Debian's Postfix with postfix-mta-sts-resolver as its TLS policy map (the common MTA-STS add-on).

smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8462:postfix (tests/net/peer-resolver.sh: its
DNS through the lab's resolver, HTTPS trusting only the lab CA), on top of Postfix's own DANE.
"""
import subprocess

from _postfix import deliver as _deliver, net, start, stop, version

PORT = 8462


def describe(env):
    net(env, "resolver-up.sh", env["netns"], env["workdir"])
    net(env, "peer-resolver.sh", "start", env["workdir"], str(PORT), "internal")
    start(env, "socketmap:inet:127.0.0.1:%d:postfix" % PORT)
    p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "postfix-mta-sts-resolver"],
                       capture_output=True, text=True)
    return {"version": "Postfix %s + postfix-mta-sts-resolver %s" % (version(), p.stdout),
            "config": "smtp_tls_policy_maps = socketmap:inet:127.0.0.1:%d:postfix" % PORT}


def deliver(env, sender, rcpt, message):
    return _deliver(env, sender, rcpt, message)


def close(env):
    stop(env)
    subprocess.run(["bash", env["net"] + "/peer-resolver.sh", "stop", env["workdir"]],
                   capture_output=True, timeout=60)
