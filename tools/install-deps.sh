#!/bin/bash
# SPDX-License-Identifier: MIT
# Installs every Debian 12 package mxtls needs to build and to run its whole test suite.
# With --list, prints their names instead.
set -euo pipefail
packages=(
  # build
  meson ninja-build pkg-config gcc libc6-dev python3
  libgnutls28-dev libunbound-dev libcurl4-gnutls-dev libevent-dev libsqlite3-dev check
  # build: RFC 8460 reports (tlsrpt/): JSON with jansson, gzip with zlib
  libjansson-dev zlib1g-dev
  # build: mxtls serve's HTTPS server (owner/; Debian's libmicrohttpd is built on GnuTLS)
  libmicrohttpd-dev
  # build: fleet mode's shared store (store/: the Redis client)
  libhiredis-dev
  # run time: the DNSSEC root trust anchor, and the system CA store
  dns-root-data ca-certificates
  # tests: certificate tools, network namespaces, the signed test network (tests/net/)
  gnutls-bin openssl iproute2 util-linux nsd ldnsutils unbound-host
  # tests: the MTA-STS policy hosts (tests/net/https-up.sh; nginx-light brings the echo module)
  nginx-light curl
  # tests: the receiving SMTP servers (tests/net/smtp-receiver.py runs on /usr/bin/python3 with
  # aiosmtpd) and the SMTP client of their self-test (swaks; its TLS needs libnet-ssleay-perl,
  # only a Recommends of swaks)
  python3-aiosmtpd swaks libnet-ssleay-perl
  # the differential test's peers (OpenSSL DANE API; GnuTLS libdane comes with libgnutls28-dev;
  # postfix-mta-sts-resolver: its Python policy parser for diff-sts-peer, and its daemon for
  # e2e-postfix-policyd via tests/net/peer-resolver.sh)
  libssl-dev postfix-mta-sts-resolver
  # tests: a real Postfix delivering through mxtls policyd (tests/net/postfix-up.sh; a private
  # instance, the system one is never configured), and the unbound daemon as the validating
  # resolver that Postfix and the peer use through /etc/resolv.conf (tests/net/resolver-up.sh)
  postfix unbound
  # tests: the independent DKIM verifier (dkimpy) and the Ed25519 support it needs (PyNaCl)
  python3-dkim python3-nacl
  # tests: the RFC 8460 report JSON checked against tests/tlsrpt/rfc8460-report.schema.json
  python3-jsonschema
  # tests: cli-maildrop reads the durable write order of a drop (create, fsync, rename, syncfs)
  # from strace
  strace
  # tests: e2e-tlsrpt-send runs `mxtls tlsrpt send` hours and a day ahead (RFC 8460 §5.5
  # retries) under libfaketime
  faketime
  # tests: cli-tlsrpt-html renders `mxtls tlsrpt summary --html` in headless Chromium
  chromium
  # tests: fleet mode (unit-store, e2e-fleet) start their own redis-server and read it with
  # redis-cli (both in redis-server's dependencies: redis-tools)
  redis-server
  # bench-fleet: postfix-mta-sts-resolver's redis cache calls the aioredis 2 API, which Debian's
  # python3-aioredis (1.3.1) lacks; redis.asyncio from python3-redis stands in
  # (tests/net/peer-resolver.sh)
  python3-redis
  # tests: e2e-serve reads the report store of `mxtls serve --reports-path` with the sqlite3
  # shell
  sqlite3
)
# --list: print the package names only (for .ci/run and for packagers).
if [ "${1:-}" = --list ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Daemons we install only for tests (nsd, nginx, postfix, unbound) must not start on the host:
# tests run their own copy inside a network namespace.  policy-rc.d is Debian's switch for that, removed afterwards.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' >"$guard"
  chmod 755 "$guard"
  trap 'rm -f "$guard"' EXIT
fi
# Postfix's package asks debconf how to configure the system's mail server: "No configuration"
# leaves /etc/postfix/main.cf absent (the tests run their own instance with its own config).
if command -v debconf-set-selections >/dev/null; then
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
