#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that #include lines follow the dependency direction of ARCHITECTURE.md; prints TAP.

Rules: cli/ includes only <mxtls/...>, policyd/ and its own files; policyd/ (the Postfix policy
server, built on the public API like cli/) includes only <mxtls/...> and itself; validator/ may
include every module; delivery/ (the delivery agent) includes util/, smtp/, dkim/ and validator/;
dane/, sts/, smtp/, dns/ include util/ and themselves but never one another (sts/ also includes
http/, the HTTPS client; http/ includes only util/ and itself); dkim/ (DKIM
signing, on GnuTLS) includes util/ and itself; tlsrpt/ (RFC 8460 reports; jansson and zlib are
confined to it) includes util/ and itself; delivery/ also includes tlsrpt/ (the public TLS-RPT
API joins the context to it); util/ includes only
util/ (and the public headers it implements); owner/ (audit, publish, serve, reading TLS reports;
libmicrohttpd is confined to it) includes util/, validator/, dane/, sts/, http/, and beyond
ARCHITECTURE.md tlsrpt/, dkim/ and dns/ (see ALLOWED); include/mxtls/ includes only
include/mxtls/.
Each third-party library is confined to its module (convention 8).
"""
import os
import re
import sys

MODULES = ("util", "dns", "dane", "http", "store", "sts", "smtp", "dkim", "tlsrpt", "validator", "delivery",
           "owner", "policyd", "cli", "include/mxtls")
# Project folders each module may include (besides itself and the public <mxtls/...> headers).
ALLOWED = {
    "util": set(),
    "dns": {"util"},
    "dane": {"util"},
    # HTTPS GET and POST pinned to the caller's addresses (http -> util); the only libcurl user.
    "http": {"util"},
    # A fleet's shared state (issue 20): the Redis client and the shared-store setting
    # (store -> util; libhiredis is confined to it).
    "store": {"util"},
    # sts -> store: the policy cache shares its policies with the fleet (ARCHITECTURE.md).
    "sts": {"util", "http", "store"},
    "smtp": {"util"},
    # DKIM signing (RFC 6376): util/ only, with GnuTLS for the crypto (dkim -> util).
    "dkim": {"util"},
    # RFC 8460 reporting: results in SQLite, reports as JSON and gzip (tlsrpt -> util, http;
    # the store/ room it will use does not exist yet).
    "tlsrpt": {"util", "http"},
    # validator/ also joins dns/ with http/ (report_post.c: a report's https host resolved).
    # validator/ reads the shared-store setting (store/store_uri.h) for the cache it opens.
    "validator": {"util", "dns", "dane", "http", "store", "sts", "smtp"},
    # The delivery agent: the context and decisions of validator/, util/, DKIM signing
    # (ARCHITECTURE.md: delivery -> validator, smtp, dkim, tlsrpt, store).
    # store/: fleet TLS-RPT (delivery_tlsrpt_fleet.c, issue 20).
    "delivery": {"util", "validator", "smtp", "dkim", "tlsrpt", "store"},
    # The domain owner's tools: audit, publish, serve (ARCHITECTURE.md: owner -> validator,
    # dane, sts, http); util/ as every module.  Beyond the document (issues 17, 18): tlsrpt/
    # (its pure parsers of the _smtp._tls record, received reports and report mail, and the
    # store of received reports, which ARCHITECTURE.md puts in tlsrpt/ as "reading them"),
    # dkim/ (verifying mailed reports with the module that signs), and dns/ (answers through
    # the context's validating resolver: the audit tells a bogus lookup from a failed one and
    # looks for TLSA behind insecure addresses; ingest looks up DKIM keys).
    "owner": {"util", "validator", "dane", "sts", "http", "tlsrpt", "dkim", "dns"},
    "policyd": set(),
    "cli": {"policyd"},
    "include/mxtls": set(),
}
# Third-party headers and the only modules that may include them.
THIRD_PARTY = [
    (re.compile(r"^unbound(-event)?\.h$"), {"dns"}),
    (re.compile(r"^curl/"), {"http"}),
    (re.compile(r"^sqlite3\.h$"), {"sts", "validator", "delivery", "policyd", "tlsrpt"}),
    # JSON only through jansson, gzip only through zlib, both in tlsrpt/ (ARCHITECTURE.md);
    # and cli/'s --json writer (issue 18: "use the same library for the JSON mxtls writes").
    (re.compile(r"^jansson\.h$"), {"tlsrpt", "cli"}),
    (re.compile(r"^zlib\.h$"), {"tlsrpt"}),
    # The fleet's Redis client, confined to store/.
    (re.compile(r"^hiredis/"), {"store"}),
    # owner/: mxtls serve hands its certificates and keys to libmicrohttpd's GnuTLS callback;
    # store/: the HMAC that seals a fleet's shared answers (store/store_seal.c, issue 20).
    (re.compile(r"^gnutls/"), {"dane", "smtp", "dkim", "owner", "store"}),
    # The HTTPS server library of mxtls serve, confined to owner/.
    (re.compile(r"^microhttpd\.h$"), {"owner"}),
    # delivery/: the daemon's loop, the scheduler and the SMTP submission listener; owner/:
    # the audit's time limit, a timer on the context's loop; store/: the Redis worker's results
    # handed to the loop (store/store_worker.c).
    (re.compile(r"^event2/"), {"dns", "http", "sts", "smtp", "validator", "delivery", "policyd",
                               "cli", "owner", "store"}),
]
# Headers meson generates into the build tree.
GENERATED = {"mxtls_build.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def module_of(rel):
    for m in MODULES:
        if rel.startswith(m + "/"):
            return m
    return None


def check_file(root, rel, mod):
    problems = []
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            kind, target = m.groups()
            where = f"{rel}:{lineno}: {target}"
            if mod == "include/mxtls":
                if kind == '"':
                    problems.append(f"{where}: public headers include only <mxtls/...> and libc")
                for rx, _ in THIRD_PARTY:
                    if rx.search(target):
                        problems.append(f"{where}: no third-party type may appear in the public API")
                continue
            for rx, owners in THIRD_PARTY:
                if rx.search(target) and mod not in owners:
                    problems.append(f"{where}: {target} belongs to {'/'.join(sorted(owners))}")
            if kind != '"':
                continue
            first = target.split("/", 1)[0] if "/" in target else None
            if target in GENERATED:
                continue
            if first is None:
                # A bare "file.h" must live next to the includer.
                if not os.path.exists(os.path.join(root, os.path.dirname(rel), target)):
                    problems.append(f"{where}: not a file of {mod}/")
                continue
            if first == mod:
                continue
            if first not in ALLOWED.get(mod, set()):
                problems.append(f"{where}: {mod}/ may not include {first}/")
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    files = []
    for mod in MODULES:
        top = os.path.join(root, mod)
        for dirpath, _, names in os.walk(top):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    rel = os.path.relpath(os.path.join(dirpath, name), root)
                    files.append((rel, mod))
    files.sort()
    print(f"1..{len(files)}")
    failed = 0
    for i, (rel, mod) in enumerate(files, 1):
        problems = check_file(root, rel, mod)
        if problems:
            failed += 1
            print(f"not ok {i} - {rel}")
            for p in problems:
                print(f"#   {p}")
        else:
            print(f"ok {i} - {rel}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
