#!/bin/bash
# SPDX-License-Identifier: MIT
# The command-line contract of CLI.md: help, version, exit codes, configuration precedence.
# Usage: test-cli.sh PATH/TO/mxtls.  Prints TAP.
set -u
mxtls=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib-nobody.sh"
n=0
failed=0

# expect NAME STATUS PATTERN -- CMD...: runs CMD, checks its exit status and that its combined
# output matches the extended regular expression PATTERN.
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  n=$((n + 1))
  "$@" >"$tmp/out" 2>&1
  local got=$?
  if [ "$got" -eq "$want" ] && grep -Eq -- "$pattern" "$tmp/out"; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name (exit $got, wanted $want; output must match /$pattern/)"
    sed 's/^/#   /' "$tmp/out"
    failed=$((failed + 1))
  fi
}

# The tests must not pick up the machine's /etc/mxtls/mxtls.conf or state directory.
export HOME="$tmp/home" XDG_STATE_HOME="$tmp/state"
none="$tmp/none.conf"
: >"$none"
m() { "$mxtls" --config "$none" "$@"; }

expect "--help exits 0 and lists commands" 0 '^Usage: mxtls .*COMMAND' -- m --help
expect "--help names every exit code" 0 '64 usage error' -- m --help
expect "-h is --help" 0 '^Usage: mxtls' -- m -h
expect "--version prints the version" 0 '^mxtls [0-9]+\.[0-9]+\.[0-9]+$' -- m --version
expect "an unknown option is a usage error (64)" 64 "unknown option '--bogus'" -- m --bogus
expect "an unknown command is a usage error" 64 "unknown command 'frobnicate'" -- m frobnicate
expect "no command is a usage error" 64 'no command given' -- m
expect "a missing option value is a usage error" 64 'needs a value|requires' -- m --ca-file
expect "command --help" 0 '^Usage: mxtls config' -- m config --help

# Help layout: every option is followed by two spaces at least, and the descriptions of one
# help text start in one column (long options such as --connect-timeout SECONDS included).
help_layout() { # help_layout NAME ARGS...: checks the layout of m ARGS...
  local name=$1
  shift
  n=$((n + 1))
  m "$@" >"$tmp/help" 2>&1
  local bad
  bad=$(awk '/^ +(-[a-zA-Z], )?--[a-z]/ {
      line = $0; sub(/^ +/, "", line)
      if (index(line, "  ") == 0) { print "no two spaces: " $0; next }
      col = index($0, line) + index(line, "  ") - 1
      while (substr($0, col, 1) == " ") col++
      if (first == 0) first = col; else if (col != first) print "column " col " not " first ": " $0
    }' "$tmp/help")
  if [ -z "$bad" ]; then echo "ok $n - $name"; else
    echo "not ok $n - $name"; printf '%s\n' "$bad" | sed 's/^/#   /'; failed=$((failed + 1)); fi
}
help_layout "--help: options and descriptions apart and aligned" --help
for c in check send config policyd "dane verify" "dane tlsa" "sts lint" "sts fetch" "sts cache" "sts refresh"; do
  # shellcheck disable=SC2086
  help_layout "$c --help: options and descriptions apart and aligned" $c --help
done
expect "global options after the command" 0 '^Usage: mxtls config' -- m config -v --help

# Configuration file: errors carry file and line, exit 78.
printf 'ca-file = /etc/ssl/certs/ca-certificates.crt\nbogus = 1\n' >"$tmp/bad.conf"
expect "unknown key in config: file:line, exit 78" 78 "bad.conf:2: unknown setting 'bogus'" \
  -- "$mxtls" --config "$tmp/bad.conf" config
printf 'verbose = 9\n' >"$tmp/badv.conf"
expect "bad CLI key value in config" 78 'badv.conf:1: verbose: expected a number' \
  -- "$mxtls" --config "$tmp/badv.conf" config
expect "unreadable config file, exit 78" 78 'nonexistent.conf: No such file' \
  -- "$mxtls" --config "$tmp/nonexistent.conf" config

# --json is UTF-8 (RFC 8259 §8.1): well-formed UTF-8 goes out as it is, a byte that starts no
# well-formed sequence becomes U+FFFD, written as the character itself (jansson writes the
# JSON).  (It used to escape every byte >= 0x80 on its own, turning "ä" into "\u00c3\u00a4".)
printf 'tlsrpt-organization = B\303\244ckerei M\303\274ller \377\342\202 x\n' >"$tmp/utf8.conf"
expect "--json passes UTF-8 through" 0 '"tlsrpt-organization":"Bäckerei Müller ��� x"' \
  -- "$mxtls" --config "$tmp/utf8.conf" --json config

# Precedence: command line > config file > defaults.
mkdir -p "$tmp/sd-file" "$tmp/sd-cli"
printf 'state-dir = %s\nca-file = %s\n' "$tmp/sd-file" "$none" >"$tmp/good.conf"
expect "file value is used" 0 "^state-dir = $tmp/sd-file\$" -- "$mxtls" --config "$tmp/good.conf" config
expect "command line beats the file" 0 "^state-dir = $tmp/sd-cli\$" \
  -- "$mxtls" --config "$tmp/good.conf" config --state-dir "$tmp/sd-cli"
expect "--opt=value form" 0 "^state-dir = $tmp/sd-cli\$" \
  -- "$mxtls" --config "$tmp/good.conf" config --state-dir="$tmp/sd-cli"
if [ "$(id -u)" -eq 0 ]; then
  expect "default state dir as root" 0 "^state-dir = /var/lib/mxtls\$" -- m config
  expect "--help shows the state dir default of root" 0 \
    "^ +--state-dir DIR +where persistent state lives \\(default /var/lib/mxtls\\)\$" -- m --help
  if command -v setpriv >/dev/null; then
    chmod 755 "$tmp"
    expect "default state dir of a user is \$XDG_STATE_HOME/mxtls" 0 \
      "^state-dir = $tmp/state/mxtls\$" -- as_nobody --config "$none" config
    expect "--help shows the state dir default of a user" 0 \
      "^ +--state-dir DIR +where persistent state lives \\(default $tmp/state/mxtls\\)\$" \
      -- as_nobody --config "$none" --help
  fi
else
  expect "default state dir of a user is \$XDG_STATE_HOME/mxtls" 0 \
    "^state-dir = $tmp/state/mxtls\$" -- m config
  expect "--help shows the state dir default of a user" 0 \
    "^ +--state-dir DIR +where persistent state lives \\(default $tmp/state/mxtls\\)\$" -- m --help
fi
printf 'json = yes\n' >"$tmp/json.conf"
expect "json from the file" 0 '^\{"config":.*"json":true' -- "$mxtls" --config "$tmp/json.conf" config
expect "--json output is one JSON object" 0 "\"state-dir\":\"$tmp/sd-file\"" \
  -- "$mxtls" --config "$tmp/good.conf" --json config

# Files named by settings are checked at start-up (exit 78), not at first use.
expect "missing --ca-file is a configuration error" 78 'ca-file /nonexistent.pem: cannot read: No such file' \
  -- m --ca-file /nonexistent.pem config
# A file named in the configuration file: the error names that file and line.
printf '# resolver\n\nunbound-conf = /nonexistent/unbound.conf\n' >"$tmp/ub.conf"
expect "unreadable unbound-conf from a config file: file:line, exit 78" 78 \
  "^mxtls: $tmp/ub.conf:3: unbound-conf /nonexistent/unbound.conf: cannot read: No such file or directory\$" \
  -- "$mxtls" --config "$tmp/ub.conf" config
expect "... also for a command that resolves (check)" 78 \
  "^mxtls: $tmp/ub.conf:3: unbound-conf /nonexistent/unbound.conf: cannot read" \
  -- "$mxtls" --config "$tmp/ub.conf" check example.com
: >"$tmp/empty-unbound.conf"
printf 'unbound-conf = %s\n' "$tmp/empty-unbound.conf" >"$tmp/ub-noanchor.conf"
expect "a readable unbound-conf the resolver refuses: file:line too" 78 \
  "^mxtls: $tmp/ub-noanchor.conf:1: unbound-conf $tmp/empty-unbound.conf: no DNSSEC trust anchor" \
  -- "$mxtls" --config "$tmp/ub-noanchor.conf" config
expect "the command line overrides the file: no file:line" 78 \
  "^mxtls: unbound-conf /nonexistent/cli.conf: cannot read: No such file" \
  -- "$mxtls" --config "$tmp/ub.conf" --unbound-conf /nonexistent/cli.conf config
expect "a directory as --unbound-conf" 78 'unbound-conf /tmp: is a directory' \
  -- m --unbound-conf /tmp config

# Read-only commands create no state directory (issue 14); config warns about one that is
# missing or unusable.  nostate/ exists, nostate/state does not; noparent/ does not exist.
mkdir "$tmp/nostate"
sd="$tmp/nostate/state"
# created NAME: the state directories must still be absent after the command.
created() {
  n=$((n + 1))
  if [ -e "$sd" ] || [ -e "$tmp/noparent" ]; then
    echo "not ok $n - $1: created a state directory"; failed=$((failed + 1))
    ls -la "$tmp/nostate" "$tmp/noparent" 2>&1 | sed 's/^/#   /'; rm -rf "$sd" "$tmp/noparent"
  else echo "ok $n - $1: no state directory created"; fi
}
expect "config: a missing state-dir is a warning, exit 0" 0 \
  "^mxtls: warning: state-dir $sd does not exist: it is created when something is first stored" \
  -- m --state-dir "$sd" config
created "config"
expect "config --json: the warning in warnings[]" 0 \
  "\"warnings\":\\[\"state-dir $tmp/noparent/state does not exist and cannot be created \\($tmp/noparent: No such file or directory\\)" \
  -- m --state-dir "$tmp/noparent/state" --json config
created "config --json"
expect "config: an existing state-dir, no warning" 0 '"warnings":\[\]' -- m --state-dir "$tmp/sd-cli" --json config
printf 'version: STSv1\nmode: none\nmax_age: 1\n' >"$tmp/p.txt"
expect "sts lint with a state-dir" 0 '^valid: yes' -- m --state-dir "$sd" sts lint "$tmp/p.txt"
created "sts lint"
# list_end DIR: sts cache list with that state-dir, then "end" (the list itself is empty).
list_end() { "$mxtls" --config "$none" --state-dir "$1" sts cache list; local s=$?; echo end; return $s; }
expect "sts cache list without a state dir: empty, exit 0" 0 '^end$' -- list_end "$sd"
created "sts cache list"
expect "sts cache list, parent missing too: exit 0" 0 '^end$' -- list_end "$tmp/noparent/state"
created "sts cache list (no parent)"
expect "sts cache show without a state dir: not cached (1)" 1 'no cached policy for x.test' \
  -- m --state-dir "$sd" sts cache show x.test
created "sts cache show"
expect "sts cache purge without a state dir: not cached (1)" 1 'no cached policy for x.test' \
  -- m --state-dir "$sd" sts cache purge x.test
created "sts cache purge"
expect "sts refresh without a state dir: nothing to do (0)" 0 '^refreshed: 0' -- m --state-dir "$sd" sts refresh
created "sts refresh"
expect "-v says the state dir is neither read nor created" 0 \
  "^mxtls: state-dir $sd does not exist: this command neither reads nor creates it" \
  -- m -v --state-dir "$sd" sts cache list
created "sts cache list -v"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  mkdir -m 755 "$tmp/rootonly"
  chmod 755 "$tmp"
  expect "config: a state-dir this user cannot write is a warning" 0 \
    "^mxtls: warning: state-dir $tmp/rootonly is not writable \\(Permission denied\\)" \
    -- as_nobody --config "$none" \
    --state-dir "$tmp/rootonly" config
fi

# The JSON must parse (python3 is present wherever meson is).
n=$((n + 1))
if m --json config | python3 -c 'import json,sys; json.load(sys.stdin)'; then
  echo "ok $n - --json output parses as JSON"
else
  echo "not ok $n - --json output parses as JSON"; failed=$((failed + 1))
fi

echo "1..$n"
exit $((failed > 0))
