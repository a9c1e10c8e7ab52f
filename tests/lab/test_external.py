#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# mxtls-lab up / run --mta external / down (issue 19), end to end, as a user would: `up` leaves
# the lab network running; a real MTA (the mxtls delivery daemon with its SMTP listener) is
# started inside it by hand, as up's output says; `run --mta external --inject` scores it on
# one scenario each of: delivery over DANE, a policy deferral, an attacker deferral, a bounce
# (read from the DSN it returns); then `down` must leave nothing: no namespace, no state, no
# work directory, none of the processes that were inside.
#
# Arguments: mxtls-lab, the mxtls binary.  Exit 0 all checks passed, 1 one failed, 77 cannot
# run here (not root, or the network's tools are missing).  About 35 s.
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

LAB, MXTLS = sys.argv[1], os.path.abspath(sys.argv[2])
# A namespace of its own, so that a lab a user has up (mxtls-lab) is not touched; not of the
# form mxtls-PID-N, which `down` removes once PID is gone.
NETNS = "mxtls-labtest-%d" % os.getpid()
ENV = dict(os.environ, MXTLS_LAB_NETNS=NETNS, MXTLS_LAB_MXTLS=MXTLS)
PORT = 2525
WAIT = "10"  # seconds per scenario: the bounce's DSN takes about 1 s, a deferral all of it
# scenario -> (what arrived, as the scorecard says it; the start of the driver's detail)
EXPECT = {
    "dane-ee": ("delivered to mx1.dane-ee.mail.test over TLS", "arrived at mx1.dane-ee"),
    "dane-mismatch": ("deferred", "nothing arrived and no DSN to dsn-lab-"),
    "strip-dane-ee": ("deferred", "nothing arrived and no DSN to dsn-lab-"),
    "null-mx": ("bounced", "a non-delivery notice from mx1.plain.test: 5.1.10"),
}

failures = []


def check(ok, what, diag=""):
    print("%s: %s%s" % ("ok" if ok else "FAIL", what, "" if ok else " (%s)" % diag))
    if not ok:
        failures.append(what)


def lab(*args, timeout=240):
    t = time.time()
    p = subprocess.run([sys.executable, LAB] + list(args), env=ENV, capture_output=True,
                       text=True, timeout=timeout)
    print("# mxtls-lab %s: exit %d in %.1f s" % (" ".join(args), p.returncode, time.time() - t))
    return p


def alive(pid):
    """pid is a live process (a zombie, waiting for its parent to read its status, is not)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def listening():
    p = subprocess.run(["ip", "netns", "exec", NETNS, "ss", "-Hltn", "sport = :%d" % PORT],
                       capture_output=True, text=True)
    return bool(p.stdout.strip())


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (a network namespace)")
        return 77
    p = lab("up", "--json")
    if p.returncode == 77:
        print("SKIP: the lab network cannot run here: " + p.stderr.strip()[-300:])
        return 77
    check(p.returncode == 0, "up: exit 0", p.stderr[-2000:])
    if p.returncode != 0:
        return 1
    st = json.loads(p.stdout)
    check(st["netns"] == NETNS and not st["already_up"], "up: the network %s, new" % NETNS,
          p.stdout)
    check(os.path.exists("/run/netns/" + NETNS), "up: the namespace stays after up returns")
    with open("/etc/netns/%s/resolv.conf" % NETNS, encoding="utf-8") as f:
        check("nameserver 127.0.53.53" in f.read(), "up: ip netns exec gets the lab resolver")
    p = subprocess.run(["ip", "netns", "exec", NETNS, "getent", "hosts",
                        "mx1.dane-ee.mail.test"], capture_output=True, text=True)
    check(p.stdout.split()[:1] == ["127.0.25.1"],
          "a glibc program in the namespace resolves the lab's names", p.stdout + p.stderr)
    p = lab("up")
    check(p.returncode == 0 and "was already up" in p.stdout, "up again: says it is up, exit 0",
          p.stdout + p.stderr)
    check(lab("status").returncode == 0, "status: up, exit 0")

    # The "external" MTA, started by hand inside the namespace as up's output says.
    qdir = tempfile.mkdtemp(prefix="mxtls-labtest-queue.")
    qlog = open(os.path.join(qdir, "daemon.log"), "wb")
    daemon = subprocess.Popen(
        ["ip", "netns", "exec", NETNS, MXTLS, "--config", "/dev/null", "--unbound-conf",
         st["unbound_conf"], "--ca-file", st["ca_file"], "--state-dir", qdir,
         "--connect-timeout", "3", "--smtp-timeout", "20", "queue", "run", "--helo",
         "sender.test", "--listen", "127.0.0.1:%d" % PORT], stdout=qlog, stderr=qlog)
    end = time.time() + 20
    while not listening() and time.time() < end and daemon.poll() is None:
        time.sleep(0.1)
    check(listening(), "the mxtls queue daemon listens on 127.0.0.1:%d in %s" % (PORT, NETNS))

    args = ["run", "--mta", "external", "--inject", "127.0.0.1:%d" % PORT, "--wait", WAIT,
            "--json"]
    for s in EXPECT:
        args += ["--scenario", s]
    p = lab(*args)
    check(p.returncode == 0, "run --mta external: exit 0", p.stderr[-2000:])
    check("using the lab network %s that is up" % NETNS in p.stderr,
          "run: uses the network that is up", p.stderr[-500:])
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = {"mtas": [], "results": []}
    check([m.get("version", "")[:22] for m in doc["mtas"]] == ["greeting: sender.test "],
          "run: the MTA's greeting is recorded as its version", doc["mtas"])
    got = {r["scenario"]: r for r in doc["results"]}
    check(sorted(got) == sorted(EXPECT), "run: one result per scenario", sorted(got))
    for s, (what, detail) in EXPECT.items():
        r = got.get(s, {})
        check(r.get("pass") is True and r.get("got") == what and
              r.get("detail", "").startswith(detail),
              "%s: pass, %s" % (s, what), json.dumps(r))
    check(lab("status").returncode == 0, "run: the network is still up after it")

    # down: nothing of the lab may remain.
    inside = [int(x) for x in subprocess.run(["ip", "netns", "pids", NETNS], capture_output=True,
                                             text=True).stdout.split()]
    with open("/run/mxtls-lab/%s/keeper.pid" % NETNS, encoding="utf-8") as f:
        keeper = int(f.read())
    check(len(inside) >= 8 and daemon.pid in inside and keeper not in inside,
          "before down: the daemons are in the namespace (%d processes)" % len(inside), inside)
    p = lab("down")
    check(p.returncode == 0, "down: exit 0", p.stdout + p.stderr)
    try:
        daemon.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(0.5)  # the processes' parents (init, for the detached ones) reap them
    left = [pid for pid in inside + [keeper] if alive(pid)]
    check(not left, "down: no process of the lab remains", left)
    for path in ("/run/netns/" + NETNS, "/etc/netns/" + NETNS, "/run/mxtls-lab/" + NETNS,
                 st["workdir"]):
        check(not os.path.exists(path), "down: %s is gone" % path)
    check(NETNS not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                      text=True).stdout, "down: ip netns list does not have it")
    check(lab("status").returncode == 1, "status after down: not up, exit 1")
    qlog.close()
    if failures:
        with open(qlog.name, encoding="utf-8", errors="replace") as f:
            print("# the daemon's log:\n" + f.read()[-3000:])
    shutil.rmtree(qdir, ignore_errors=True)
    return 1 if failures else 0


def on_signal(signum, frame):
    """meson test's timeout or Ctrl-C: SIGTERM, then SIGKILL to our process group 0.5 s later.
    The network lives in a session of its own, out of that group's reach: down, detached too."""
    subprocess.Popen([sys.executable, LAB, "down"], env=ENV, start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
    os._exit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        rc = main()
    finally:
        # Whatever happened, the network goes (idempotent).
        subprocess.run([sys.executable, LAB, "down"], env=ENV, capture_output=True, timeout=120)
    print("%d checks failed" % len(failures) if failures else "all checks passed")
    sys.exit(rc)
