#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# smtp-receiver.py -- every receiving SMTP server of the test network in one aiosmtpd process.
"""Receiving SMTP servers (and the STARTTLS-stripping attacker) of tests/net/.

    /usr/bin/python3 smtp-receiver.py CONFIG SMTPDIR [ATTACKER-CERTS]

CONFIG has one listener per line, "ADDR PORT HOSTNAME BEHAVIOUR CERTFILE KEYFILE" ('#'
starts a comment; CERTFILE and KEYFILE may be "-" for notls; CERTFILE may hold a chain,
leaf first).  ADDR may be an IPv6 address.  BEHAVIOUR is

    starttls     STARTTLS offered (TLS 1.2 or later), not required: cleartext mail is accepted
    notls        no STARTTLS in the EHLO reply; the command gets 502 5.5.1
    starttls454  STARTTLS advertised, the command gets 454 4.7.0 TLS not available

Everything goes under SMTPDIR:

    spool/HOSTNAME/SEQ.eml     each accepted message, as the client sent it after DATA (CRLF
                               line ends, dot-stuffing removed), SEQ = 1, 2, ... per folder
    captured/HOSTNAME/SEQ.eml  the same for messages taken by the attacker
    received.jsonl             one JSON object per accepted message
    connections.jsonl          one JSON object per accepted TCP connection, per STARTTLS
                               handshake (success or failure) and per refused STARTTLS
    receiver.log               log (aiosmtpd's command log included)
    receiver.pid, ready        written once every listener is listening (ready is removed
                               again on exit)
    attack/ADDR                the attacker's switch (tests/net/smtp-attack.sh): when the
                               file exists as a connection is accepted, that connection is
                               served as an on-path attacker, in the mode the file holds
                               (see ATTACKS); mail the attacker can read is "captured"

ATTACKS (the content of attack/ADDR; "attacker": true in received.jsonl when the attacker
got the message, "attack" names the mode in any case):

    strip (or empty)  STARTTLS removed from the EHLO reply; the command gets 502 5.5.1
    intercept         STARTTLS offered and completed with the attacker's own certificate:
                      ATTACKER-CERTS/attacker-untrusted.pem (every host's name, a root nobody
                      trusts); the mail is captured though it came over TLS
    intercept-labca   the same with ATTACKER-CERTS/attacker-labca.pem (from the test CA, for
                      attacker.test)
    inject            the real server, but the attacker appends a plaintext line to the
                      "220 Ready to start TLS" reply, in the same packet: "550 5.7.0 injected
                      before TLS" (RFC 3207 section 4.2: a client must discard it; one that
                      does not reads it as the reply to its EHLO in TLS)
    reply454          STARTTLS advertised, the command answered "454 4.7.0 TLS not available"
    reply554          ... answered "554 5.7.0 STARTTLS refused"
    garbage           ... answered with a line that is no SMTP reply ("TLS go ahead")

A recipient whose local part is "reject5xx" gets "550 5.1.1 no such user", "reject4xx"
gets "451 4.3.0 try later".  SIGTERM or SIGINT stops the process cleanly (exit 0).
"""

import asyncio
import itertools
import json
import logging
import os
import signal
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, TLSSetupException

BEHAVIOURS = ("starttls", "notls", "starttls454")
ATTACKS = ("strip", "intercept", "intercept-labca", "inject", "reply454", "reply554", "garbage")
# what the attacker answers to STARTTLS in the reply modes
ATTACK_REPLIES = {"reply454": "454 4.7.0 TLS not available",
                  "reply554": "554 5.7.0 STARTTLS refused",
                  "garbage": "TLS go ahead"}
INJECTED = "550 5.7.0 injected before TLS"
IDENT = "ESMTP mxtls test receiver"

log = logging.getLogger("mxtls.receiver")


class ConfigError(Exception):
    pass


class Listener:
    """One line of the configuration."""

    def __init__(self, addr, port, hostname, behaviour, certfile, keyfile):
        self.addr = addr
        self.port = port
        self.hostname = hostname
        self.behaviour = behaviour
        self.certfile = certfile
        self.keyfile = keyfile
        self.tls_context = None

    def make_context(self):
        """One SSLContext per listener; its sni_callback records the client's SNI name."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.certfile, self.keyfile)

        def sni_callback(sslobj, server_name, _ctx):
            # sslobj is the connection's ssl.SSLObject: the name travels with it.
            sslobj.mxtls_sni = server_name
            return None

        ctx.sni_callback = sni_callback
        self.tls_context = ctx


def parse_config(path):
    listeners = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            where = f"{path}:{lineno}"
            if len(fields) != 6:
                raise ConfigError(f"{where}: want ADDR PORT HOSTNAME BEHAVIOUR CERTFILE KEYFILE")
            addr, port, hostname, behaviour, certfile, keyfile = fields
            if addr.startswith("[") and addr.endswith("]"):
                addr = addr[1:-1]
            if not port.isdigit() or not 0 < int(port) < 65536:
                raise ConfigError(f"{where}: bad port {port!r}")
            if behaviour not in BEHAVIOURS:
                raise ConfigError(f"{where}: unknown behaviour {behaviour!r}")
            if "/" in hostname or hostname in (".", ".."):
                raise ConfigError(f"{where}: bad host name {hostname!r}")
            if (addr, int(port)) in seen:
                raise ConfigError(f"{where}: {addr} port {port} listed twice")
            seen.add((addr, int(port)))
            lst = Listener(addr, int(port), hostname, behaviour, certfile, keyfile)
            if behaviour == "starttls":
                if certfile == "-" or keyfile == "-":
                    raise ConfigError(f"{where}: starttls needs CERTFILE and KEYFILE")
                try:
                    lst.make_context()
                except (OSError, ssl.SSLError) as e:
                    raise ConfigError(f"{where}: cannot load {certfile} / {keyfile}: {e}")
            listeners.append(lst)
    if not listeners:
        raise ConfigError(f"{path}: no listeners")
    return listeners


class State:
    """Output files shared by all connections (one thread: no locking needed)."""

    def __init__(self, smtpdir, attacker_certs=None):
        self.dir = smtpdir
        self.attacker_certs = attacker_certs
        self.attacker_contexts = {}
        self.attack_dir = os.path.join(smtpdir, "attack")
        for d in ("spool", "captured", "attack"):
            os.makedirs(os.path.join(smtpdir, d), exist_ok=True)
        self.received = open(os.path.join(smtpdir, "received.jsonl"), "a", encoding="utf-8")
        self.connections = open(os.path.join(smtpdir, "connections.jsonl"), "a", encoding="utf-8")
        self.conn_ids = itertools.count(1)
        self.seq = {}
        self.sessions = set()

    @staticmethod
    def _write(f, obj):
        f.write(json.dumps(obj, sort_keys=False) + "\n")
        f.flush()

    def connection_event(self, obj):
        self._write(self.connections, obj)

    def attacking(self, addr):
        """The attack mode switched on for addr (smtp-attack.sh), or None."""
        try:
            with open(os.path.join(self.attack_dir, addr), encoding="ascii") as f:
                mode = f.read().strip() or "strip"
        except FileNotFoundError:
            return None
        if mode not in ATTACKS:
            log.error("attack/%s: unknown mode %r, stripping STARTTLS instead", addr, mode)
            return "strip"
        return mode

    def attacker_context(self, mode):
        """The TLS context of an intercepting attacker (its certificate, not the host's)."""
        if mode not in self.attacker_contexts:
            base = os.path.join(self.attacker_certs or "", "attacker-" +
                                ("labca" if mode == "intercept-labca" else "untrusted"))
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(base + ".pem", base + ".key")
            self.attacker_contexts[mode] = ctx
        return self.attacker_contexts[mode]

    def store(self, kind, hostname, content):
        """Write content to KIND/HOSTNAME/SEQ.eml; returns the path."""
        folder = os.path.join(self.dir, kind, hostname)
        os.makedirs(folder, exist_ok=True)
        if folder not in self.seq:
            used = [int(n[:-4]) for n in os.listdir(folder)
                    if n.endswith(".eml") and n[:-4].isdigit()]
            self.seq[folder] = max(used, default=0)
        self.seq[folder] += 1
        path = os.path.join(folder, f"{self.seq[folder]}.eml")
        with open(path, "wb") as f:
            f.write(content)
        return path

    def message(self, obj):
        self._write(self.received, obj)


class Handler:
    """aiosmtpd hooks; the per-connection state lives on the Session (server)."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        # A receiving MX offers no AUTH here; keep the reply to what the tests are about.
        out = [r for r in responses if not r[4:].upper().startswith("AUTH")]
        if server.advertise_fake_starttls():
            out.insert(len(out) - 1, "250-STARTTLS")
        return out

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rsplit("@", 1)[0].lower()
        if local == "reject5xx":
            return "550 5.1.1 no such user"
        if local == "reject4xx":
            return "451 4.3.0 try later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        return server.deliver(session, envelope)

    async def handle_exception(self, error):
        if isinstance(error, TLSSetupException):
            # already in connections.jsonl; aiosmtpd closes the connection (no reply is sent)
            return "421 4.7.0 TLS handshake failed"
        log.exception("SMTP session exception")
        return "451 4.3.0 internal error in the test receiver"


class Session(SMTP):
    """One SMTP connection on one listener."""

    def __init__(self, listener, state, loop):
        self.listener = listener
        self.state = state
        self.conn_id = None
        self.attack = None      # the attack mode of this connection (State.attacking)
        self.attacker = False   # the attacker, not the host, gets what the client sends
        self.peer = None
        super().__init__(Handler(), hostname=listener.hostname, ident=IDENT,
                         tls_context=listener.tls_context, enable_SMTPUTF8=True, loop=loop)

    # -- connection events
    def _event(self, event, **kw):
        obj = {"event": event, "conn": self.conn_id, "listener": self.listener.addr,
               "port": self.listener.port, "host": self.listener.hostname}
        obj.update(kw)
        obj["time"] = time.time()
        self.state.connection_event(obj)

    def _sslobj(self):
        return getattr(self._tls_protocol, "_sslobj", None)

    def connection_made(self, transport):
        tls_upgrade = self.transport is not None and self._original_transport is not None
        if not tls_upgrade:
            # The attacker switch is read once, when the connection is accepted.
            self.conn_id = next(self.state.conn_ids)
            self.attack = self.state.attacking(self.listener.addr)
            self.attacker = self.attack not in (None, "inject")
            if self.attack in ("intercept", "intercept-labca"):
                try:
                    self.tls_context = self.state.attacker_context(self.attack)
                except (OSError, ssl.SSLError) as e:
                    log.error("no attacker certificate for %s (%s): stripping STARTTLS",
                              self.attack, e)
                    self.attack, self.tls_context = "strip", None
            elif self.attacker:
                self.tls_context = None
            peer = transport.get_extra_info("peername")
            self.peer = peer[0] if peer else None
            self.state.sessions.add(self)
            self._event("connect", peer=self.peer, attacker=self.attacker, attack=self.attack)
        super().connection_made(transport)
        if tls_upgrade:
            sslobj = self._sslobj()
            cipher = sslobj.cipher() if sslobj else None
            self._event("starttls", ok=True, sni=getattr(sslobj, "mxtls_sni", None),
                        tls_version=sslobj.version() if sslobj else None,
                        cipher=cipher[0] if cipher else None, error=None)

    def connection_lost(self, error):
        self.state.sessions.discard(self)
        super().connection_lost(error)

    def advertise_fake_starttls(self):
        if self.attack in ATTACK_REPLIES:
            return self._tls_protocol is None
        return (self.listener.behaviour == "starttls454" and not self.attacker
                and self._tls_protocol is None)

    async def push(self, status):
        # inject: the attacker's line rides in the same write (one TCP segment) as the 220
        if self.attack == "inject" and status == "220 Ready to start TLS":
            status = status + "\r\n" + INJECTED
            self._event("injected", line=INJECTED)
        await super().push(status)

    # -- STARTTLS
    async def smtp_STARTTLS(self, arg):
        if self.attack in ATTACK_REPLIES and self._tls_protocol is None:
            reply = ATTACK_REPLIES[self.attack]
            self._event("starttls-refused", reply=reply[:3])
            await self.push(reply)
            return
        if self.attack == "strip" or self.listener.behaviour == "notls":
            self._event("starttls-refused", reply="502")
            await self.push("502 5.5.1 command not recognized")
            return
        if self.listener.behaviour == "starttls454" and not self.attacker:
            self._event("starttls-refused", reply="454")
            await self.push("454 4.7.0 TLS not available")
            return
        if self._tls_protocol is not None:
            await self.push("503 5.5.1 TLS already active")
            return
        if arg:
            await self.push("501 5.5.4 Syntax: STARTTLS")
            return
        try:
            await super().smtp_STARTTLS(arg)
        except TLSSetupException as e:
            cause = e.__cause__
            sslobj = self._sslobj()
            self._event("starttls", ok=False, sni=getattr(sslobj, "mxtls_sni", None),
                        tls_version=None, cipher=None,
                        error=f"{type(cause).__name__}: {cause}" if cause else "handshake failed")
            log.info("conn %s (%s %s): TLS handshake failed: %r", self.conn_id,
                     self.listener.addr, self.listener.hostname, cause)
            raise

    # -- DATA
    def deliver(self, session, envelope):
        tls = self._tls_protocol is not None and session.ssl is not None
        sslobj = session.ssl.get("ssl_object") if tls else None
        cipher = sslobj.cipher() if sslobj else None
        kind = "captured" if self.attacker else "spool"
        content = envelope.original_content or b""
        path = self.state.store(kind, self.listener.hostname, content)
        self.state.message({
            "listener": self.listener.addr,
            "host": self.listener.hostname,
            "tls": tls,
            "tls_version": sslobj.version() if sslobj else None,
            "cipher": cipher[0] if cipher else None,
            "sni": getattr(sslobj, "mxtls_sni", None) if sslobj else None,
            "helo": session.host_name,
            "mail_from": envelope.mail_from,
            "rcpt_to": list(envelope.rcpt_tos),
            "size": len(content),
            "attacker": self.attacker,
            "attack": self.attack,
            "file": path,
            "time": time.time(),
        })
        log.info("conn %s (%s %s): message %s stored (tls=%s attacker=%s)", self.conn_id,
                 self.listener.addr, self.listener.hostname, path, tls, self.attacker)
        return "250 2.0.0 OK queued as " + os.path.basename(path)[:-4]


async def serve(listeners, smtpdir, attacker_certs=None):
    loop = asyncio.get_running_loop()
    state = State(smtpdir, attacker_certs)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    servers = []
    for lst in listeners:
        try:
            srv = await loop.create_server(
                lambda lst=lst: Session(lst, state, loop), host=lst.addr, port=lst.port,
                reuse_address=True)
        except OSError as e:
            for s in servers:
                s.close()
            raise ConfigError(f"cannot listen on {lst.addr} port {lst.port}: {e}")
        servers.append(srv)
        log.info("listening on %s port %d: %s %s", lst.addr, lst.port, lst.hostname,
                 lst.behaviour)

    pidfile = os.path.join(smtpdir, "receiver.pid")
    ready = os.path.join(smtpdir, "ready")
    with open(pidfile + ".tmp", "w", encoding="ascii") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(pidfile + ".tmp", pidfile)
    with open(ready + ".tmp", "w", encoding="ascii") as f:
        f.write(f"{len(servers)}\n")
    os.replace(ready + ".tmp", ready)
    log.info("ready: %d listeners", len(servers))

    await stop.wait()
    log.info("stopping")
    for s in servers:
        s.close()
    for sess in list(state.sessions):
        if sess.transport is not None:
            sess.transport.close()
    for s in servers:
        await s.wait_closed()
    await asyncio.sleep(0)
    try:
        os.unlink(ready)
    except FileNotFoundError:
        pass
    log.info("stopped")


def main(argv):
    if len(argv) not in (3, 4):
        print(f"usage: {argv[0]} CONFIG SMTPDIR [ATTACKER-CERTS]", file=sys.stderr)
        return 2
    config, smtpdir = argv[1], os.path.abspath(argv[2])
    attacker_certs = os.path.abspath(argv[3]) if len(argv) == 4 else None
    os.makedirs(smtpdir, exist_ok=True)
    logging.basicConfig(
        filename=os.path.join(smtpdir, "receiver.log"), level=logging.INFO,
        format="%(asctime)s.%(msecs)03d %(name)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S")
    # asyncio reports every failed TLS handshake with a traceback; connections.jsonl has it.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    # aiosmtpd names its AUTH mechanisms once per connection: noise here.
    logging.getLogger("mail.log").addFilter(
        lambda rec: not str(rec.msg).startswith("Available AUTH mechanisms"))
    try:
        listeners = parse_config(config)
        asyncio.run(serve(listeners, smtpdir, attacker_certs))
    except ConfigError as e:
        log.error("%s", e)
        print(f"smtp-receiver.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
