#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Peer driver for the MTA-STS differential test: postfix-mta-sts-resolver's own code on the
cases of vectors/sts/cases.txt.

  sts_peer.py peer CASES WORKDIR     run every case through the peer; prints one line per case:
                                     NAME <TAB> KIND <TAB> SUMMARY <TAB> DETAIL
  sts_peer.py synth CASES WORKDIR    write the synthesised policies to WORKDIR/synth/NAME.txt
  sts_peer.py mxtls CASES JSONDIR    summarise mxtls's --json outputs (JSONDIR/NAME.json and
                                     NAME.rc) in the same form, and check them against the
                                     case's expectations: NAME <TAB> KIND <TAB> SUMMARY <TAB>
                                     ok|WRONG <TAB> DETAIL
  sts_peer.py version                the peer's package version ("missing" if not importable)

SUMMARY is "valid mode=M max_age=N mx=P1,P2", "valid id=ID", "invalid", "match", "nomatch" or
"error: ..." (the driver itself failed).

The peer is driven through STSResolver.resolve(), its real discovery path, with the network
replaced: the DNS resolver object answers the case's TXT records and aiohttp's ClientSession
serves the policy body with status 200 and "Content-Type: text/plain; charset=utf-8".  Policy
cases are served behind the TXT record "v=STSv1; id=peerdiff1;"; TXT cases are served the policy
RFC_POLICY below.  The peer has no mx matcher of its own: it hands each pattern to Postfix as a
match= entry with the leading "*" stripped (responder.py), and Postfix matches ".example.com"
against any subdomain at any depth (PEERS.md item 2); "mx" rows emulate exactly that.
"""
import asyncio
import json
import os
import sys

RFC_POLICY = (b"version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
              b"mx: backupmx.example.com\nmax_age: 604800\n")
POLICY_TXT = "v=STSv1; id=peerdiff1;"
SYNTH_BASE = b"version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\n"
SYNTHMX_BASE = b"version: STSv1\nmode: enforce\nmax_age: 86400\n"


def unescape(text):
    """The cases.txt escapes: \\t, \\\\ and \\xHH (as bytes)."""
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", "surrogateescape")
    while i < len(raw):
        c = raw[i:i + 1]
        if c != b"\\":
            out += c
            i += 1
        elif raw[i + 1:i + 2] == b"t":
            out += b"\t"
            i += 2
        elif raw[i + 1:i + 2] == b"\\":
            out += b"\\"
            i += 2
        elif raw[i + 1:i + 2] == b"x":
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError("bad escape in %r" % text)
    return bytes(out)


def load_cases(path):
    cases, cur = [], None
    with open(path, "rb") as f:
        for raw in f:
            line = raw.rstrip(b"\n").decode("utf-8", "surrogateescape")
            if not line or line.startswith("#"):
                continue
            key, _, val = line.partition(" ")
            if key == "case":
                cur = {"name": val, "txt": [], "mx": []}
                cases.append(cur)
            elif key in ("policy", "synth", "synthmx"):
                cur["kind"], cur["input"] = key, val
            elif key == "txt":
                cur["kind"] = "txt"
                cur["txt"].append(unescape(val))
            elif key == "pattern":
                cur["kind"], cur["pattern"] = "mx", unescape(val)
            elif key == "host":
                cur["host"] = unescape(val)
            elif key == "mx":
                cur["mx"].append(val)
            elif key in ("expect", "mode", "max_age", "id", "error", "errors", "warnings"):
                cur[key] = val
    return cases


def synth(size):
    filler = size - len(SYNTH_BASE) - 4
    return SYNTH_BASE + b"x: " + b"a" * filler + b"\n"


def synthmx(count):
    return SYNTHMX_BASE + b"".join(b"mx: mx%d.example.com\n" % i for i in range(count))


def policy_bytes(case, casedir):
    if case["kind"] == "policy":
        with open(os.path.join(casedir, case["input"]), "rb") as f:
            return f.read()
    if case["kind"] == "synth":
        return synth(int(case["input"]))
    return synthmx(int(case["input"]))


# ---- the peer, with its network replaced ----

class FakeTXT:
    """What pycares returns per record: .text is str when ASCII, else bytes."""

    def __init__(self, data):
        try:
            self.text = data.decode("ascii")
        except UnicodeDecodeError:
            self.text = data


class FakeDNS:
    def __init__(self, records):
        self.records = records

    async def query(self, name, qtype):
        assert qtype == "TXT" and name.startswith("_mta-sts."), (name, qtype)
        return [FakeTXT(r) for r in self.records]


class FakeContent:
    def __init__(self, body):
        self.body, self.pos = body, 0

    async def read(self, n):
        chunk = self.body[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk


class FakeResponse:
    status = 200
    charset = "utf-8"

    def __init__(self, body):
        self.headers = {"Content-Type": "text/plain; charset=utf-8",
                        "Content-Length": str(len(body))}
        self.content = FakeContent(body)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


class FakeSession:
    body = b""

    def __init__(self, *args, **kwargs):
        pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    def get(self, url, **kwargs):
        assert url.startswith("https://mta-sts.") and url.endswith("/.well-known/mta-sts.txt")
        assert kwargs.get("allow_redirects") is False
        return FakeResponse(FakeSession.body)


def peer_modules():
    import aiohttp  # noqa: F401  (the peer's dependency)
    from postfix_mta_sts_resolver import resolver
    return resolver


async def peer_resolve(resolver_mod, records, body):
    res = resolver_mod.STSResolver(loop=asyncio.get_running_loop(), timeout=4)
    res._resolver = FakeDNS(records)  # pylint: disable=protected-access
    FakeSession.body = body
    saved = resolver_mod.aiohttp.ClientSession
    resolver_mod.aiohttp.ClientSession = FakeSession
    try:
        return await res.resolve("example.com")
    finally:
        resolver_mod.aiohttp.ClientSession = saved


def summarise_peer(kind, status, result):
    name = status.name
    if name != "VALID":
        return "invalid", "STSFetchResult.%s" % name
    sts_id, pol = result
    if kind == "txt":
        return "valid id=%s" % sts_id, "id=%r" % sts_id
    mx = ",".join(pol.get("mx", []))
    return ("valid mode=%s max_age=%s mx=%s" % (pol.get("mode"), pol.get("max_age"), mx),
            "policy=%r" % pol)


def peer_mx_match(pattern, host):
    """responder.py: match= gets mx.lstrip('*'); Postfix: '.d' matches any subdomain of d."""
    pat = pattern.decode("ascii", "replace").lstrip("*").lower()
    name = host.decode("ascii", "replace").lower()
    name = name[:-1] if name.endswith(".") else name  # one root dot, as a DNS name has
    if pat.startswith("."):
        return name.endswith(pat) and len(name) > len(pat)
    return name == (pat[:-1] if pat.endswith(".") else pat)


def run_peer(cases, casedir):
    resolver_mod = peer_modules()
    loop = asyncio.new_event_loop()
    try:
        for case in cases:
            kind = case["kind"]
            try:
                if kind == "mx":
                    ok = peer_mx_match(case["pattern"], case.get("host", b""))
                    summary = "match" if ok else "nomatch"
                    detail = "postfix match=%s (emulated)" % case["pattern"].decode(
                        "ascii", "replace").lstrip("*")
                elif kind == "txt":
                    status, result = loop.run_until_complete(
                        peer_resolve(resolver_mod, case["txt"], RFC_POLICY))
                    summary, detail = summarise_peer(kind, status, result)
                else:
                    body = policy_bytes(case, casedir)
                    status, result = loop.run_until_complete(
                        peer_resolve(resolver_mod, [POLICY_TXT.encode()], body))
                    summary, detail = summarise_peer("policy", status, result)
            except Exception as exc:  # the driver, not the peer, failed
                summary, detail = "error: %s" % type(exc).__name__, repr(exc)
            print("%s\t%s\t%s\t%s" % (case["name"], kind, escape(summary), clean(detail)))
    finally:
        loop.close()


def escape(text):
    """Control and other unprintable characters as \\xHH / \\uHHHH, so a result is one line."""
    return "".join(c if c.isprintable() else "\\x%02x" % ord(c) if ord(c) < 256 else
                   "\\u%04x" % ord(c) for c in text)


def clean(text):
    """A detail for the report: escaped, at most 300 characters."""
    return escape(text)[:300]


def check_expected(case, doc, summary):
    """Whether mxtls's output meets the case's expectations; returns a reason or None."""
    expect = case.get("expect")
    kind = case["kind"]
    if kind == "mx":
        return None if summary == expect else "expected " + expect
    if (expect == "valid") != summary.startswith("valid"):
        return "expected " + expect
    if expect == "valid" and kind == "txt" and summary != "valid id=" + case.get("id", ""):
        return "expected id " + case.get("id", "")
    if expect == "valid" and kind != "txt":
        pol = doc["policy"]
        if pol["mode"] != case.get("mode") or str(pol["max_age"]) != case.get("max_age"):
            return "expected mode %s max_age %s" % (case.get("mode"), case.get("max_age"))
        if case["mx"] and pol["mx"] != case["mx"]:
            return "expected mx " + ",".join(case["mx"])
        if kind == "synthmx" and len(pol["mx"]) != int(case["input"]):
            return "expected %s mx patterns" % case["input"]
    if "error" in case:
        where, _, text = case["error"].partition(" ")
        line, _, col = where.partition(":")
        first = (doc.get("errors") or [{}])[0]
        got = (first.get("line") or 0, first.get("column") or 0, first.get("reason", ""))
        if got[0] != int(line) or got[1] != int(col) or not got[2].startswith(text):
            return "first error %s:%s %s, expected %s" % (got[0], got[1], got[2], case["error"])
    for key in ("errors", "warnings"):
        if key in case and len(doc.get(key, [])) != int(case[key]):
            return "%d %s, expected %s" % (len(doc.get(key, [])), key, case[key])
    return None


def run_mxtls(cases, jsondir):
    for case in cases:
        base = os.path.join(jsondir, case["name"])
        try:
            with open(base + ".rc", encoding="ascii") as f:
                rc = int(f.read().strip())
            with open(base + ".json", encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as exc:
            print("%s\t%s\terror: %s\tWRONG\tno JSON output" % (case["name"], case["kind"],
                                                             type(exc).__name__))
            continue
        if rc not in (0, 1) or bool(doc.get("valid")) != (rc == 0):
            summary = "error: exit %d" % rc
        elif case["kind"] == "mx":
            matches = doc.get("mx_match") or [{}]
            summary = "match" if matches[0].get("pattern") else "nomatch"
        elif not doc["valid"]:
            summary = "invalid"
        elif case["kind"] == "txt":
            summary = "valid id=%s" % doc["txt"]["id"]
        else:
            pol = doc["policy"]
            summary = "valid mode=%s max_age=%s mx=%s" % (pol["mode"], pol["max_age"],
                                                         ",".join(pol["mx"]))
        wrong = summary if summary.startswith("error") else check_expected(case, doc, summary)
        errors = doc.get("errors") or []
        detail = "%s:%s %s" % (errors[0].get("line"), errors[0].get("column"),
                               errors[0].get("reason")) if errors else ""
        if wrong:
            detail = wrong
        print("%s\t%s\t%s\t%s\t%s" % (case["name"], case["kind"], summary,
                                      "WRONG" if wrong else "ok", clean(detail)))


def main(argv):
    if len(argv) >= 2 and argv[1] == "version":
        try:
            peer_modules()
        except ImportError:
            print("missing")
            return 0
        try:
            from importlib.metadata import version
            print("postfix-mta-sts-resolver " + version("postfix_mta_sts_resolver"))
        except Exception:  # metadata is optional
            print("postfix-mta-sts-resolver (version unknown)")
        return 0
    if len(argv) != 4 or argv[1] not in ("peer", "synth", "mxtls"):
        print(__doc__, file=sys.stderr)
        return 2
    cases = load_cases(argv[2])
    casedir = os.path.dirname(os.path.abspath(argv[2]))
    if argv[1] == "synth":
        os.makedirs(os.path.join(argv[3], "synth"), exist_ok=True)
        for case in cases:
            if case.get("kind") in ("synth", "synthmx"):
                with open(os.path.join(argv[3], "synth", case["name"] + ".txt"), "wb") as f:
                    f.write(policy_bytes(case, casedir))
        return 0
    if argv[1] == "mxtls":
        run_mxtls(cases, argv[3])
        return 0
    run_peer(cases, casedir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
