#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# smtp-receiver.py -- every receiving SMTP server of the test network in one aiosmtpd process.
"""Receiving SMTP servers (and the STARTTLS-stripping attacker) of tests/net/.

    /usr/bin/python3 smtp-receiver.py CONFIG SMTPDIR

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
                               served as an on-path attacker that removed STARTTLS from the
                               EHLO reply: STARTTLS gets 502 5.5.1, the mail is "captured"

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

    def __init__(self, smtpdir):
        self.dir = smtpdir
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
        return os.path.exists(os.path.join(self.attack_dir, addr))

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
        self.attacker = False
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
            self.attacker = self.state.attacking(self.listener.addr)
            if self.attacker:
                self.tls_context = None
            peer = transport.get_extra_info("peername")
            self.peer = peer[0] if peer else None
            self.state.sessions.add(self)
            self._event("connect", peer=self.peer, attacker=self.attacker)
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
        return (self.listener.behaviour == "starttls454" and not self.attacker
                and self._tls_protocol is None)

    # -- STARTTLS
    async def smtp_STARTTLS(self, arg):
        if self.attacker or self.listener.behaviour == "notls":
            self._event("starttls-refused", reply="502")
            await self.push("502 5.5.1 command not recognized")
            return
        if self.listener.behaviour == "starttls454":
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
            "file": path,
            "time": time.time(),
        })
        log.info("conn %s (%s %s): message %s stored (tls=%s attacker=%s)", self.conn_id,
                 self.listener.addr, self.listener.hostname, path, tls, self.attacker)
        return "250 2.0.0 OK queued as " + os.path.basename(path)[:-4]


async def serve(listeners, smtpdir):
    loop = asyncio.get_running_loop()
    state = State(smtpdir)
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
    if len(argv) != 3:
        print(f"usage: {argv[0]} CONFIG SMTPDIR", file=sys.stderr)
        return 2
    config, smtpdir = argv[1], os.path.abspath(argv[2])
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
        asyncio.run(serve(listeners, smtpdir))
    except ConfigError as e:
        log.error("%s", e)
        print(f"smtp-receiver.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
