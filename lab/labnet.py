# SPDX-License-Identifier: MIT
"""The long-lived lab network of `mxtls-lab up`, `status`, `shell`, `down`, and `run`'s use of it.

`up` starts tests/net/run-with-dns.sh --smtp in a session of its own, detached, with the
namespace name fixed (MXTLS_LAB_NETNS, default mxtls-lab) so that users can type it.  The
command run-with-dns.sh runs inside the network is `mxtls-lab _hold`: it starts the validating
resolver (resolver-up.sh), installs its resolv.conf as /etc/netns/NETNS/resolv.conf (which
`ip netns exec NETNS` binds over /etc/resolv.conf, so glibc programs started that way use the
lab's resolver and trust anchor), writes the state file and then waits.  The network lives as
long as that run-with-dns.sh: `down` sends it SIGTERM, and its own teardown stops the daemons,
removes the namespace and the work directory, as at the end of any run.  Whatever is still
there afterwards (the keeper was killed with SIGKILL, a user's MTA in the namespace) goes with
netns.sh down, which kills every process inside the namespace.

State, in /run/mxtls-lab/NETNS/ (tmpfs: a reboot forgets a network that a reboot removed):
  keeper.pid   the pid of run-with-dns.sh (written by up)
  state.json   the network: netns, workdir, resolver, trust anchor, lab CA, unbound.conf,
               receivers' record, and "env", the MXTLS_TEST_* variables run-with-dns.sh gives
               a command it runs (written by _hold once everything answers)
  up.log       what run-with-dns.sh and its scripts printed
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

NETNS = os.environ.get("MXTLS_LAB_NETNS", "mxtls-lab")
RUN_DIR = os.path.join("/run/mxtls-lab", NETNS)
STATE = os.path.join(RUN_DIR, "state.json")
KEEPER_PID = os.path.join(RUN_DIR, "keeper.pid")
UP_LOG = os.path.join(RUN_DIR, "up.log")
ETC_NETNS = os.path.join("/etc/netns", NETNS)
RESOLVER = "127.0.53.53"  # tests/net/resolver-up.sh
UP_TIMEOUT = 180  # seconds; the network takes about 10 s on the 2-core CI machine


def _netns_exists():
    return os.path.exists(os.path.join("/run/netns", NETNS))


def _alive(pid):
    """pid is a live process, not a zombie."""
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _keeper():
    """The pid of the run-with-dns.sh that keeps the network, if it is alive (a pid that
    was reused by something else is not it)."""
    try:
        with open(KEEPER_PID, encoding="utf-8") as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) and "run-with-dns.sh" in _cmdline(pid) else None


def _netns_pids():
    p = subprocess.run(["ip", "netns", "pids", NETNS], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split() if x.isdigit()]


def state():
    """The state of the network that is up (a dict), or None when none is."""
    if not (_netns_exists() and _keeper()):
        return None
    try:
        with open(STATE, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _print_state(st, json_out, already):
    if json_out:
        json.dump(dict(st, already_up=already), sys.stdout, indent=1)
        print()
        return
    print("mxtls-lab: the lab network %s %s" % (NETNS, "was already up" if already else "is up"))
    rows = [
        ("namespace", "%s  (a program in it: ip netns exec %s PROGRAM ..., or "
         "mxtls-lab shell PROGRAM ... with the MXTLS_TEST_* variables)" % (NETNS, NETNS)),
        ("resolver", "%s port 53, validating; ip netns exec gives glibc programs %s"
         % (st["resolver"], st["resolv_conf"])),
        ("trust anchor", st["trust_anchor"] + "  (the DS of the lab's root)"),
        ("unbound.conf", st["unbound_conf"] + "  (for libunbound programs: the same anchor)"),
        ("lab CA", st["ca_file"] + "  (the only Web PKI root of the MTA-STS policy hosts)"),
        ("received", st["received"] + "  (one JSON line per message the receivers got)"),
        ("state", STATE),
        ("remove it", "mxtls-lab down  (stops every process inside the namespace)"),
    ]
    for k, v in rows:
        print("  %-13s %s" % (k, v))


def status(json_out):
    """`mxtls-lab status`: exit 0 and the state when a network is up, else 1."""
    st = state()
    if st is None:
        left = _netns_exists() or os.path.exists(RUN_DIR)
        if json_out:
            json.dump({"up": False, "netns": NETNS, "left_behind": left}, sys.stdout)
            print()
        else:
            print("mxtls-lab: no lab network is up%s" % (
                " (%s is left behind by one that stopped: mxtls-lab down removes it)" % NETNS
                if left else ""))
        return 1
    if json_out:
        json.dump(dict(st, up=True), sys.stdout, indent=1)
        print()
    else:
        _print_state(st, False, True)
    return 0


def up(net, script, json_out):
    """`mxtls-lab up`: bring the network up, detached; print what an MTA needs."""
    st = state()
    if st is not None:
        _print_state(st, json_out, True)
        return 0
    if _netns_exists() or _keeper():
        print("mxtls-lab: %s is left behind by a lab that stopped, or is still coming up; "
              "mxtls-lab down removes it" % NETNS, file=sys.stderr)
        return 1
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    os.makedirs(RUN_DIR, mode=0o755)
    with open(UP_LOG, "wb") as log:
        # A session of its own: the network outlives this command and the terminal.
        keeper = subprocess.Popen(
            ["bash", os.path.join(net, "run-with-dns.sh"), "--smtp", sys.executable, script,
             "_hold"], env=dict(os.environ, MXTLS_TEST_NETNS_NAME=NETNS),
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    with open(KEEPER_PID, "w", encoding="utf-8") as f:
        f.write("%d\n" % keeper.pid)
    deadline = time.time() + UP_TIMEOUT
    while time.time() < deadline:
        rc = keeper.poll()
        if rc is not None:
            with open(UP_LOG, encoding="utf-8", errors="replace") as f:
                sys.stderr.write(f.read()[-3000:])
            print("mxtls-lab: the lab network did not come up (exit %d; log above)" % rc,
                  file=sys.stderr)
            down(net, quiet=True)
            return 77 if rc == 77 else 1
        st = state()
        if st is not None:
            _print_state(st, json_out, False)
            return 0
        time.sleep(0.2)
    print("mxtls-lab: the lab network is not up after %d s (see %s); removing it"
          % (UP_TIMEOUT, UP_LOG), file=sys.stderr)
    down(net, quiet=True)
    return 1


def hold(net):
    """`mxtls-lab _hold`, run by run-with-dns.sh inside the network: the resolver, the
    resolv.conf for `ip netns exec`, the state file; then wait for down's SIGTERM."""
    workdir = os.environ["MXTLS_TEST_WORKDIR"]
    subprocess.run(["bash", os.path.join(net, "resolver-up.sh"), NETNS, workdir], check=True)
    os.makedirs(ETC_NETNS, exist_ok=True)
    shutil.copyfile(os.path.join(workdir, "resolv.conf"), os.path.join(ETC_NETNS, "resolv.conf"))
    st = {
        "netns": NETNS,
        "workdir": workdir,
        "resolver": RESOLVER,
        "resolv_conf": os.path.join(ETC_NETNS, "resolv.conf"),
        "trust_anchor": os.path.join(workdir, "root.key"),
        "unbound_conf": os.environ["MXTLS_TEST_UNBOUND_CONF"],
        "ca_file": os.environ["MXTLS_TEST_CA_FILE"],
        "received": os.path.join(os.environ["MXTLS_TEST_SMTP_DIR"], "received.jsonl"),
        "env": {k: v for k, v in os.environ.items() if k.startswith("MXTLS_TEST_")},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp = STATE + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(st, f, indent=1)
        f.write("\n")
    os.rename(tmp, STATE)  # up waits for this file: it appears whole
    while True:
        signal.pause()


def in_network(st, argv):
    """argv inside the network that is up, with the environment run-with-dns.sh gives."""
    return (["ip", "netns", "exec", NETNS, "env"] +
            ["%s=%s" % kv for kv in sorted(st["env"].items())] + argv)


def shell(argv):
    """`mxtls-lab shell [CMD ...]`: CMD (default: a shell) inside the network that is up."""
    st = state()
    if st is None:
        print("mxtls-lab: no lab network is up (mxtls-lab up starts one)", file=sys.stderr)
        return 1
    return subprocess.run(in_network(st, argv or [os.environ.get("SHELL") or "bash"])).returncode


def down(net, quiet=False):
    """`mxtls-lab down` (the network of up): the keeper's own teardown, then netns.sh down
    for whatever is left in the namespace; the resolv.conf and the state go too.  Returns
    (what was removed, the pids that were inside and are still alive)."""
    if not (_netns_exists() or os.path.exists(RUN_DIR) or os.path.exists(ETC_NETNS)):
        return None, []
    inside = _netns_pids() if _netns_exists() else []
    workdir = None
    try:
        with open(STATE, encoding="utf-8") as f:
            workdir = json.load(f)["workdir"]
    except (OSError, ValueError, KeyError):
        pass
    keeper = _keeper()
    if keeper:
        os.kill(keeper, signal.SIGTERM)
        deadline = time.time() + 60  # its teardown takes about 2 s
        while _alive(keeper) and time.time() < deadline:
            time.sleep(0.1)
        if _alive(keeper):
            os.kill(keeper, signal.SIGKILL)
    if _netns_exists():
        inside += [p for p in _netns_pids() if p not in inside]
        subprocess.run(["bash", os.path.join(net, "netns.sh"), "down", NETNS])
    # The keeper removes its work directory; not when it was killed (or MXTLS_TEST_KEEP=1).
    if workdir and os.path.basename(workdir).startswith("mxtls-dns.") and \
            os.environ.get("MXTLS_TEST_KEEP") != "1":
        shutil.rmtree(workdir, ignore_errors=True)
    shutil.rmtree(ETC_NETNS, ignore_errors=True)
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    try:
        os.rmdir(os.path.dirname(RUN_DIR))  # /run/mxtls-lab, when no other network is up
    except OSError:
        pass
    left = [p for p in inside + ([keeper] if keeper else []) if _alive(p)]
    if not quiet:
        print("mxtls-lab: removed the lab network %s (%d processes were inside)%s"
              % (NETNS, len(inside), "; still alive: %s" % left if left else ""))
    return NETNS, left
