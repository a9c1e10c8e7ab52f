# SPDX-License-Identifier: MIT
"""Shared by the drivers of MTAs that cannot be installed beside Postfix (not a driver itself).

Exim and OpenSMTPD conflict with Postfix as Debian packages (each Provides and Conflicts
mail-transport-agent), and the lab's Postfix drivers need Postfix installed.  So these drivers
run the MTA from its unpacked packages: `apt-get download` of the .debs into a cache, `dpkg -x`
of each into one tree, once (the first run needs Debian's mirror; later runs need nothing).
The driver's prepare() does it: mxtls-lab calls prepare() before it brings up the lab network,
from which nothing can reach the mirror.

The MTA then runs in a private mount namespace (inside the lab's network namespace) where
overlays put the unpacked tree and the driver's own /etc files (configuration, passwd and group
with the MTA's system users, the lab's resolv.conf) at the paths compiled into the MTA (the
host's files are never changed): see in_private_mounts().

The cache is $MXTLS_LAB_CACHE, else /var/cache/mxtls-lab (the lab runs as root; the MTAs'
unprivileged users must reach the tree, which rules out a home directory such as /root); one
directory per set of packages, holding root/ (the unpacked tree) and versions
(package=version, one a line).  Remove a directory to download and unpack again.
"""
import os
import shutil
import subprocess
import tempfile


def cache_dir():
    return os.environ.get("MXTLS_LAB_CACHE") or "/var/cache/mxtls-lab"


def unpack(name, packages):
    """The root of the unpacked tree of `packages` (downloaded and unpacked on first use)."""
    top = os.path.join(cache_dir(), name)
    root = os.path.join(top, "root")
    if os.path.isfile(os.path.join(top, "versions")):
        return root
    os.makedirs(cache_dir(), mode=0o755, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=name + ".", dir=cache_dir())
    try:
        # apt-get drops to the _apt user when that user can write the directory; here it
        # warns and downloads as root (harmless).
        p = subprocess.run(["apt-get", "download"] + packages, cwd=tmp, capture_output=True,
                           text=True, timeout=600)
        if p.returncode != 0:
            why = (p.stderr.strip().splitlines() or ["?"])[-1]
            raise RuntimeError("cannot download %s from Debian's mirror (apt-get download: %s), "
                               "and there is no unpacked copy in %s"
                               % (" ".join(packages), why, top))
        versions = []
        for deb in sorted(f for f in os.listdir(tmp) if f.endswith(".deb")):
            subprocess.run(["dpkg-deb", "-x", deb, "root"], cwd=tmp, check=True)
            # pkg_version_arch.deb; the version's epoch colon is %3a in the file name
            versions.append("=".join(deb.split("_")[:2]).replace("%3a", ":"))
        with open(os.path.join(tmp, "versions"), "w", encoding="utf-8") as f:
            f.write("\n".join(versions) + "\n")
        for deb in os.listdir(tmp):
            if deb.endswith(".deb"):
                os.unlink(os.path.join(tmp, deb))
        shutil.rmtree(top, ignore_errors=True)
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
        os.rename(tmp, top)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def package_version(name, package):
    """The version of `package` as unpacked (from the versions file)."""
    with open(os.path.join(cache_dir(), name, "versions"), encoding="utf-8") as f:
        for line in f:
            p, _, v = line.strip().partition("=")
            if p == package:
                return v
    return "?"


def free_id(start):
    """The first id from `start` down that names nobody in /etc/passwd or /etc/group."""
    used = set()
    for path in ("/etc/passwd", "/etc/group"):
        with open(path, encoding="utf-8") as f:
            used.update(line.split(":")[2] for line in f if line.count(":") >= 3)
    i = start
    while str(i) in used:
        i -= 1
    return i


def user_files(state, users):
    """Copies of /etc/passwd and /etc/group in `state` with `users` (names) added where
    missing, each with a group of its own (ids nobody has).  Returns (passwd path, group path,
    {user: id}): the two files are to be bind-mounted over the host's in the MTA's private
    mount namespace."""
    with open("/etc/passwd", encoding="utf-8") as f:
        passwd = f.read()
    with open("/etc/group", encoding="utf-8") as f:
        group = f.read()
    ids = {line.split(":")[0]: int(line.split(":")[2])
           for line in passwd.splitlines() if line.count(":") >= 3}
    uid = 64991
    for u in users:
        if u not in ids:
            uid = free_id(uid - 1)
            passwd += "%s:x:%d:%d:%s (mxtls lab):/nonexistent:/usr/sbin/nologin\n" % (
                u, uid, uid, u)
            group += "%s:x:%d:\n" % (u, uid)
            ids[u] = uid
    paths = (os.path.join(state, "passwd"), os.path.join(state, "group"))
    for path, text in zip(paths, (passwd, group)):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return paths[0], paths[1], {u: ids[u] for u in users}


def in_private_mounts(root, etc, argv, then=""):
    """argv for running `argv` in a private mount namespace (of the lab network, where the
    driver runs) in which the MTA looks installed: read-only overlays put the unpacked tree
    `root` under /usr, and the directory `etc` (the driver's configuration, passwd, group,
    resolv.conf) over the unpacked /etc over the host's /etc.  A binary at its compiled-in
    path finds its libraries and helpers, and a setuid one that re-executes itself stays
    itself (LD_LIBRARY_PATH is ignored for setuid programs).  `then`: more shell commands to
    run before argv (more mounts).  Nothing is written to the host's /usr or /etc."""
    script = ('mount -t overlay mxtls-lab -o "lowerdir=$1/usr:/usr" /usr || exit 1\n'
              'mount -t overlay mxtls-lab -o "lowerdir=$2:$1/etc:/etc" /etc || exit 1\n'
              + then + 'shift 2\nexec "$@"\n')
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script,
            "sh", root, etc] + argv


def etc_dir(env, users):
    """STATE/etc for in_private_mounts(): passwd and group with `users`, the lab's resolv.conf
    (its validating resolver, tests/net/resolver-up.sh; `options trust-ad`).  Returns (path,
    {user: id})."""
    etc = os.path.join(env["state_dir"], "etc")
    os.makedirs(etc, exist_ok=True)
    _, _, ids = user_files(etc, users)
    shutil.copyfile(os.path.join(env["workdir"], "resolv.conf"),
                    os.path.join(etc, "resolv.conf"))
    return etc, ids
