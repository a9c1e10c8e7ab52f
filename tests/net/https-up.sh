#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# https-up.sh NETNS WORKDIR -- start the MTA-STS policy hosts (nginx, HTTPS) of the test network.
#
#   1. runs pki-up.sh WORKDIR unless WORKDIR/pki/ca.pem already exists,
#   2. writes the policy bodies to WORKDIR/https/www/<scenario>/.well-known/mta-sts.txt,
#   3. writes WORKDIR/https/nginx.conf and starts nginx (daemon off, in the background,
#      its own pid, log and temp files under WORKDIR/https/) inside NETNS, listening on
#        127.0.44.1:443  valid certificates, one server per SNI name
#        127.0.44.2:443  bad certificates (untrusted CA, wrong name, expired, CN only)
#        127.0.44.3:443  TLS 1.0 only
#        [::1]:443       mta-sts.ipv6only.sts.test
#      and waits until it accepts connections,
#   4. writes WORKDIR/https/resolve.txt: one "HOST:443:ADDR" line per policy host
#      (the format of curl --resolve and CURLOPT_RESOLVE).
# The scenarios (names under sts.test., see dns/sts.test.zone) are described in
# tests/net/README.md.  Slow responses use nginx's echo module (echo_sleep), which
# Debian's nginx-light package brings in (libnginx-mod-http-echo).
#
# Environment: MXTLS_TEST_HTTPS_SLOW_SECONDS (default 6) -- how long the slowheaders
# and slowbody hosts stall.  NETNS must exist (netns.sh up).  Stop with https-down.sh.
# Running it again restarts nginx with a fresh configuration (the PKI is kept).
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

GOOD_ADDR=127.0.44.1
BAD_ADDR=127.0.44.2
TLS10_ADDR=127.0.44.3
V6_ADDR='[::1]'
REFUSED_ADDR=127.0.44.99
MAX_AGE=86400

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

(($# == 2)) || {
    printf 'usage: %s NETNS WORKDIR\n' "$prog" >&2
    exit 2
}
netns=$1
mkdir -p "$2"
workdir=$(cd "$2" && pwd)
slow=${MXTLS_TEST_HTTPS_SLOW_SECONDS:-6}
[[ $slow =~ ^[0-9]{1,3}$ ]] || die "MXTLS_TEST_HTTPS_SLOW_SECONDS must be a number of seconds"

[[ -e /run/netns/$netns ]] || die "no such network namespace: $netns"
command -v nginx >/dev/null || die "nginx not found (Debian package nginx-light)"
moddir=$(nginx -V 2>&1 | sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p')
echo_mod=${moddir:-/usr/lib/nginx/modules}/ngx_http_echo_module.so
[[ -f $echo_mod ]] || die "nginx echo module not found at $echo_mod (Debian package libnginx-mod-http-echo, part of nginx-light)"

bash "$here/https-down.sh" "$netns" "$workdir"

pki=$workdir/pki
[[ -f $pki/ca.pem ]] || bash "$here/pki-up.sh" "$workdir"

dir=$workdir/https
www=$dir/www
rm -rf "$dir"
mkdir -p "$www" "$dir/tmp"

# ---------------------------------------------------------------- bodies
# policy MODE MX-PATTERN [EOL]: an RFC 8461 policy, lines ended by EOL (default LF)
policy() {
    local eol=${3:-$'\n'}
    printf 'version: STSv1%smode: %s%smx: %s%smax_age: %s%s' \
        "$eol" "$1" "$eol" "$2" "$eol" "$MAX_AGE" "$eol"
}

# body NAME: prints the path of the body file of scenario NAME (creating its directory)
body() {
    mkdir -p "$www/$1/.well-known"
    printf '%s' "$www/$1/.well-known/mta-sts.txt"
}

# padded SIZE MODE MX: a valid policy padded with "pad: xxx" extension lines to SIZE bytes
padded() {
    local size=$1 head rest line n
    head=$(policy "$2" "$3")$'\n'
    rest=$((size - ${#head}))
    printf '%s' "$head"
    line="pad: $(printf '%*s' 58 '' | tr ' ' x)"  # 63 bytes + LF
    n=$((rest / 64 - 1))
    ((n >= 0)) || die "padded: size $size too small"
    for ((; n > 0; n--)); do
        printf '%s\n' "$line"
    done
    # the last line takes the remainder (64 .. 127 bytes)
    printf 'pad: %s\n' "$(printf '%*s' $((rest % 64 + 64 - 6)) '' | tr ' ' y)"
}

for s in enforce testing none html notype charset params wildcardcert delegated ipv6only tls10 \
    untrusted wrongname expired cnonly; do
    mode=enforce
    [[ $s == testing || $s == none ]] && mode=$s
    policy "$mode" "mx1.$s.sts.test" >"$(body "$s")"
done
policy enforce "*.wildcard.sts.test" >"$(body wildcard)"
# the delivery scenarios (SMTP receivers, smtp-up.sh)
for s in stsnotls danests danebad daneencsts; do
    policy enforce "mx1.$s.sts.test" >"$(body "$s")"
done
printf 'version: STSv1\nmode: enforce\nmx: mx1.stsbadcert.sts.test\nmx: mx2.stsbadcert.sts.test\nmax_age: %s\n' \
    "$MAX_AGE" >"$(body stsbadcert)"
policy enforce mx9.stsmismatch.sts.test >"$(body stsmismatch)"
policy enforce "*.stswild.sts.test" >"$(body stswild)"
policy enforce "*.danepart.sts.test" >"$(body danepart)"
# the lab's phased scenarios (lab/scenarios.json; policy-host.sh changes them during a run)
for s in tofu fetchfail idchange idsame stscharset; do
    policy enforce "mx1.$s.sts.test" >"$(body "$s")"
done
MAX_AGE=2 policy enforce mx1.maxage.sts.test >"$(body maxage)"
policy enforce mx1.crlf.sts.test $'\r\n' >"$(body crlf)"
printf 'version: STSv1\nmode enforce\nmx: mx1.badsyntax.sts.test\nmax_age: %s\n' "$MAX_AGE" \
    >"$(body badsyntax)"
{
    printf 'version: STSv1\nmode: enforce\n'
    for ((i = 1; i <= 999; i++)); do printf 'mx: mx%04d.manymx.sts.test\n' "$i"; done
    printf 'mx: mx1.manymx.sts.test\nmax_age: %s\n' "$MAX_AGE"
} >"$(body manymx)"
padded 64512 enforce mx1.large.sts.test >"$(body large)"
padded 70000 enforce mx1.oversized.sts.test >"$(body oversized)"
[[ $(wc -c <"$www/large/.well-known/mta-sts.txt") == 64512 &&
    $(wc -c <"$www/oversized/.well-known/mta-sts.txt") == 70000 ]] || die "padded bodies have the wrong size"

# nginx string: the policy with "\n" escapes (the config parser turns them into LF)
nginx_str() {
    local s=$1
    s=${s//$'\n'/\\n}
    printf '"%s"' "$s"
}
slow_first=$(nginx_str $'version: STSv1\n')
slow_rest=$(nginx_str "$(policy enforce mx1.slowbody.sts.test | tail -n +2)"$'\n')
slow_all=$(nginx_str "$(policy enforce mx1.slowheaders.sts.test)"$'\n')

# ---------------------------------------------------------------- nginx.conf
# server LISTEN NAME CERT-BASE SCENARIO: a server block; the directives for
# /.well-known/mta-sts.txt come on stdin.  Every other path is a 404.
server() {
    local directives
    directives=$(cat)
    cat <<EOF

    server {
        listen $1:443 ssl;
        server_name $2;
        ssl_certificate $pki/$3.pem;
        ssl_certificate_key $pki/$3.key;
        root $www/$4;
        location = /.well-known/mta-sts.txt {
$directives
        }
        location / {
            return 404;
        }
    }
EOF
}

# default_server LISTEN: answers a missing or unknown SNI name with 421
default_server() {
    cat <<EOF

    server {
        listen $1:443 ssl default_server;
        server_name "";
        ssl_certificate $pki/default.pem;
        ssl_certificate_key $pki/default.key;
        return 421;
    }
EOF
}

# good SCENARIO [CERT-BASE]: a host on GOOD_ADDR with a valid certificate
good() {
    server "$GOOD_ADDR" "mta-sts.$1.sts.test" "${2:-mta-sts.$1.sts.test}" "$1"
}

: >"$dir/resolve.txt"
resolve() {
    printf '%s:443:%s\n' "$1" "$2" >>"$dir/resolve.txt"
}

{
    cat <<EOF
# generated by tests/net/https-up.sh -- MTA-STS policy hosts of the test network
load_module $echo_mod;
daemon off;
master_process on;
worker_processes 1;
user root root;
pid $dir/nginx.pid;
error_log $dir/error.log info;

events {
    worker_connections 256;
}

http {
    log_format sts '\$msec \$server_addr sni=\$ssl_server_name \$ssl_protocol "\$request" '
                   '\$status \$body_bytes_sent inm="\$http_if_none_match" '
                   'ims="\$http_if_modified_since" ua="\$http_user_agent"';
    access_log $dir/access.log sts;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server_tokens off;
    sendfile on;
    keepalive_timeout 10;
    # no file-name extension mapping: each server sets its own Content-Type
    types { }
    default_type text/plain;
    ssl_protocols TLSv1.2 TLSv1.3;
EOF

    default_server "$GOOD_ADDR"
    for s in enforce testing none crlf badsyntax large manymx oversized wildcard \
        stsbadcert stsmismatch stsnotls danests danebad daneencsts stswild danepart; do
        good "$s" <<<""
        resolve "mta-sts.$s.sts.test" "$GOOD_ADDR"
    done
    good redirect301 <<<"            return 301 https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt;"
    good redirect302 <<<"            return 302 https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt;"
    good notfound <<<"            return 404;"
    good servererror <<<"            return 500;"
    good html <<<"            default_type text/html;"
    good notype <<<'            default_type "";'
    good charset <<<'            default_type "text/plain; charset=utf-8";'
    good params <<<'            default_type "text/plain; charset=utf-8; format=flowed";'
    good slowheaders <<EOF
            echo_sleep $slow;
            echo -n $slow_all;
EOF
    good slowbody <<EOF
            echo -n $slow_first;
            echo_flush;
            echo_sleep $slow;
            echo -n $slow_rest;
EOF
    # switchable by policy-host.sh: a flag file in the host's root makes it close the
    # connection without an answer (nginx's 444) or answer 503
    for s in tofu fetchfail idchange idsame maxage; do
        good "$s" <<EOF
            if (-f \$document_root/.lab-down) {
                return 444;
            }
            if (-f \$document_root/.lab-error) {
                return 503;
            }
EOF
        resolve "mta-sts.$s.sts.test" "$GOOD_ADDR"
    done
    good nocache <<<"            return 503;"
    good stsredirect <<<"            return 301 https://mta-sts.stsmismatch.sts.test/.well-known/mta-sts.txt;"
    good stscharset <<<'            default_type "text/plain; charset=utf-8";'
    for s in nocache stsredirect stscharset; do
        resolve "mta-sts.$s.sts.test" "$GOOD_ADDR"
    done
    good wildcardcert wildcard <<<""
    good delegated <<<""
    for s in redirect301 redirect302 notfound servererror html notype charset params \
        slowheaders slowbody wildcardcert delegated; do
        resolve "mta-sts.$s.sts.test" "$GOOD_ADDR"
    done

    default_server "$BAD_ADDR"
    for s in untrusted wrongname expired cnonly; do
        server "$BAD_ADDR" "mta-sts.$s.sts.test" "$s" "$s" <<<""
        resolve "mta-sts.$s.sts.test" "$BAD_ADDR"
    done

    # its own address: a protocol list is per listening socket
    server "$TLS10_ADDR" mta-sts.tls10.sts.test mta-sts.tls10.sts.test tls10 <<<"" |
        sed 's/^\( *\)root /\1ssl_protocols TLSv1;\n\1ssl_ciphers "DEFAULT:@SECLEVEL=0";\n&/'
    resolve mta-sts.tls10.sts.test "$TLS10_ADDR"

    server "$V6_ADDR" mta-sts.ipv6only.sts.test mta-sts.ipv6only.sts.test ipv6only <<<""
    resolve mta-sts.ipv6only.sts.test "$V6_ADDR"
    resolve mta-sts.refused.sts.test "$REFUSED_ADDR"   # nothing listens there

    printf '}\n'
} >"$dir/nginx.conf"

# ---------------------------------------------------------------- start
nginx -t -q -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" 2>"$dir/nginx-t.log" || {
    cat "$dir/nginx-t.log" >&2
    die "nginx -t rejected $dir/nginx.conf"
}
ip netns exec "$netns" nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" \
    </dev/null >>"$dir/nginx.out" 2>&1 &
launcher=$!

# ready: the pid file names a live nginx and every address accepts a TCP connection
ready() {
    local pid a
    [[ -s $dir/nginx.pid ]] || return 1
    read -r pid <"$dir/nginx.pid" || return 1
    [[ -d /proc/$pid ]] || return 1
    for a in "$GOOD_ADDR" "$BAD_ADDR" "$TLS10_ADDR" ::1; do
        ip netns exec "$netns" bash -c "exec 3<>/dev/tcp/$a/443" 2>/dev/null || return 1
    done
}
up=0
for ((i = 0; i < 100; i++)); do
    if ready; then
        up=1
        break
    fi
    if ! kill -0 "$launcher" 2>/dev/null; then
        cat "$dir/nginx.out" "$dir/error.log" >&2 2>/dev/null || true
        die "nginx exited at start-up"
    fi
    sleep 0.05
done
((up)) || {
    cat "$dir/nginx.out" "$dir/error.log" >&2 2>/dev/null || true
    die "nginx in $netns does not accept connections"
}

printf '%s: policy hosts up in netns %s (nginx on %s, %s, %s, %s port 443), files in %s\n' \
    "$prog" "$netns" "$GOOD_ADDR" "$BAD_ADDR" "$TLS10_ADDR" "$V6_ADDR" "$dir" >&2
