#!/usr/bin/env bash
# run-with-dns.sh [--tap] [--https] [--smtp] [--tlsrpt] [--pre SCRIPT] CMD...
#
# Run CMD inside a fresh network namespace that holds the hermetic test DNS
# (an nsd serving the signed test root, test. and the scenario zones on
# 127.0.53.1).  CMD sees
#     MXTLS_TEST_UNBOUND_CONF   WORKDIR/unbound.conf (trusts only the test root)
#     MXTLS_TEST_DNS_DIR        WORKDIR (keys/, zones/, nsd/, root.key, ...)
#     MXTLS_TEST_DNS_SERVER     127.0.53.1
#     MXTLS_TEST_NETNS          the namespace name
#     MXTLS_TEST_TAP            1 with --tap, else 0
# and, with --https only,
#     MXTLS_TEST_CA_FILE        WORKDIR/pki/ca.pem (the test root CA to trust)
#     MXTLS_TEST_PKI_DIR        WORKDIR/pki (CAs, keys and certificates, see pki-up.sh)
#     MXTLS_TEST_HTTPS_DIR      WORKDIR/https (nginx.conf, access.log, www/, ...)
#     MXTLS_TEST_HTTPS_RESOLVE  WORKDIR/https/resolve.txt ("HOST:443:ADDR" lines)
#     MXTLS_TEST_HTTPS_SLOW_SECONDS  how long the slow policy hosts stall
#     MXTLS_TEST_WORKDIR        WORKDIR
# and, with --smtp only,
#     MXTLS_TEST_SMTP_DIR       WORKDIR/smtp (receivers.conf, received.jsonl, spool/, ...)
# and, with --tlsrpt only,
#     MXTLS_TEST_TLSRPT_DIR     WORKDIR/tlsrpt (control, received/, requests.log, ...)
# and the script exits with CMD's status.  Everything is torn down on exit,
# failure or interrupt.
#
#   --tap          CMD speaks TAP (meson protocol 'tap'): "cannot run here" is
#                  reported as "1..0 # SKIP reason" with exit 0, because meson
#                  counts exit 77 as an error for TAP tests
#   --https        also start the MTA-STS policy hosts: pki-up.sh (before the
#                  --pre SCRIPT, so it can use the CA) and https-up.sh (after the
#                  DNS); needs nginx-light and certtool
#   --smtp         also start the receiving SMTP servers (implies --https):
#                  smtp-pki.sh (after pki-up.sh, before the --pre SCRIPT: certificates
#                  and their TLSA records in WORKDIR/zones.d/) and smtp-up.sh (after
#                  https-up.sh); needs python3-aiosmtpd (for /usr/bin/python3) and swaks
#   --tlsrpt       also start the TLS-RPT report collector (implies --https):
#                  tlsrpt-up.sh after https-up.sh (rpt.sts.test on 127.0.44.5:443)
#   --pre SCRIPT   run "SCRIPT WORKDIR" (outside the namespace) before the DNS
#                  is built, e.g. to drop extra records into WORKDIR/zones.d/
#
# Environment:
#   MXTLS_TEST_KEEP=1      keep WORKDIR (its path is printed) for debugging
#   MXTLS_TEST_NETNS_NAME  the namespace's name (default mxtls-PID-RANDOM); mxtls-lab up gives
#                          its long-lived network a fixed name that users type (mxtls-lab)
#   MXTLS_TEST_NO_SKIP=1   turn "cannot run here" (exit 77) into a failure
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    printf 'usage: %s [--tap] [--https] [--smtp] [--tlsrpt] [--pre SCRIPT] CMD...\n' "$prog" >&2
    exit 2
}

tap=0
https=0
smtp=0
tlsrpt=0
pre=""
while (($#)); do
    case $1 in
    --tap)
        tap=1
        shift
        ;;
    --https)
        https=1
        shift
        ;;
    --smtp)
        smtp=1
        https=1
        shift
        ;;
    --tlsrpt)
        tlsrpt=1
        https=1
        shift
        ;;
    --pre)
        (($# >= 2)) || usage
        pre=$2
        shift 2
        ;;
    --)
        shift
        break
        ;;
    *) break ;;
    esac
done
(($# >= 1)) || usage

skip() {
    if [[ ${MXTLS_TEST_NO_SKIP:-0} == 1 ]]; then
        printf '%s: cannot run: %s (MXTLS_TEST_NO_SKIP=1)\n' "$prog" "$*" >&2
        exit 1
    fi
    if ((tap)); then
        printf '1..0 # SKIP %s\n' "$*"
        exit 0
    fi
    printf 'SKIP: %s\n' "$*"
    exit 77
}

((EUID == 0)) || skip "needs root to create a network namespace"
for tool in ip nsd nsd-checkconf ldns-keygen ldns-key2ds ldns-signzone drill; do
    command -v "$tool" >/dev/null || skip "$tool not installed (see tests/net/README.md)"
done
if ((https)); then
    for tool in nginx certtool; do
        command -v "$tool" >/dev/null || skip "$tool not installed (see tests/net/README.md)"
    done
fi
if ((smtp)); then
    for tool in swaks ss; do
        command -v "$tool" >/dev/null || skip "$tool not installed (see tests/net/README.md)"
    done
    if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
        skip "python3-aiosmtpd not installed for /usr/bin/python3 (see tests/net/README.md)"
    fi
fi
if ((tlsrpt)); then
    command -v ss >/dev/null || skip "ss not installed (see tests/net/README.md)"
fi
ip netns list >/dev/null 2>&1 || skip "'ip netns' is not available"

netns=${MXTLS_TEST_NETNS_NAME:-mxtls-$$-$RANDOM}
workdir=""
netns_created=0

# teardown HERE NETNS WORKDIR SMTP HTTPS NETNS_CREATED TLSRPT: stop the daemons, remove the
# namespace and WORKDIR.
# shellcheck disable=SC2317  # invoked from cleanup, possibly through bash -c
teardown() {
    local here=$1 netns=$2 workdir=$3 smtp=$4 https=$5 netns_created=$6 tlsrpt=${7:-0}
    if [[ -n $workdir ]]; then
        if ((tlsrpt)); then
            bash "$here/tlsrpt-down.sh" "$netns" "$workdir" || true
        fi
        if ((smtp)); then
            bash "$here/smtp-down.sh" "$netns" "$workdir" || true
        fi
        if ((https)); then
            bash "$here/https-down.sh" "$netns" "$workdir" || true
        fi
        bash "$here/dns-down.sh" "$netns" "$workdir" || true
    fi
    if ((netns_created)); then
        bash "$here/netns.sh" down "$netns" || true
    fi
    if [[ -n $workdir && -d $workdir ]]; then
        if [[ ${MXTLS_TEST_KEEP:-0} == 1 ]]; then
            printf 'run-with-dns.sh: kept %s\n' "$workdir" >&2
        else
            rm -rf -- "$workdir"
        fi
    fi
}

signalled=0
# shellcheck disable=SC2317  # invoked from the traps below
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    local args=("$here" "$netns" "$workdir" "$smtp" "$https" "$netns_created" "$tlsrpt")
    if ((signalled)); then
        # meson test, on a timeout or Ctrl-C, sends SIGTERM to the test's process group and
        # SIGKILL 0.5 s later; the teardown takes about 2 s.  In a session of its own the
        # SIGKILL does not reach it, so the daemons, the namespace and WORKDIR still go away.
        # Its output goes nowhere: whoever read ours may be gone (a write would be SIGPIPE).
        export -f teardown
        setsid bash -c 'teardown "$@"' teardown "${args[@]}" >/dev/null 2>&1 </dev/null || true
    else
        teardown "${args[@]}"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'signalled=1; exit 130' INT
trap 'signalled=1; exit 143' TERM
trap 'signalled=1; exit 129' HUP

workdir=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-dns.XXXXXX")
chmod 755 "$workdir"

if ! ip netns add "$netns" 2>/dev/null; then
    skip "cannot create a network namespace here (ip netns add failed)"
fi
netns_created=1
bash "$here/netns.sh" up "$netns"

if ((https)); then
    bash "$here/pki-up.sh" "$workdir"
fi
if ((smtp)); then
    bash "$here/smtp-pki.sh" "$workdir"
fi
if [[ -n $pre ]]; then
    "$pre" "$workdir"
fi
bash "$here/dns-up.sh" "$netns" "$workdir"
https_env=()
if ((https)); then
    bash "$here/https-up.sh" "$netns" "$workdir"
    https_env=(
        MXTLS_TEST_CA_FILE="$workdir/pki/ca.pem"
        MXTLS_TEST_PKI_DIR="$workdir/pki"
        MXTLS_TEST_HTTPS_DIR="$workdir/https"
        MXTLS_TEST_HTTPS_RESOLVE="$workdir/https/resolve.txt"
        MXTLS_TEST_HTTPS_SLOW_SECONDS="${MXTLS_TEST_HTTPS_SLOW_SECONDS:-6}"
        MXTLS_TEST_WORKDIR="$workdir"
    )
fi
if ((smtp)); then
    bash "$here/smtp-up.sh" "$netns" "$workdir"
    https_env+=(MXTLS_TEST_SMTP_DIR="$workdir/smtp")
fi
if ((tlsrpt)); then
    bash "$here/tlsrpt-up.sh" "$netns" "$workdir"
    https_env+=(MXTLS_TEST_TLSRPT_DIR="$workdir/tlsrpt")
fi

# CMD runs in the background (with our stdin) so that a signal sent to this
# script is handled at once; the cleanup then kills CMD with the namespace.
ip netns exec "$netns" env \
    MXTLS_TEST_UNBOUND_CONF="$workdir/unbound.conf" \
    MXTLS_TEST_DNS_DIR="$workdir" \
    MXTLS_TEST_DNS_SERVER=127.0.53.1 \
    MXTLS_TEST_NETNS="$netns" \
    MXTLS_TEST_TAP="$tap" \
    ${https_env[@]+"${https_env[@]}"} \
    "$@" <&0 &
status=0
wait "$!" || status=$?
exit "$status"
