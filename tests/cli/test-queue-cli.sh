#!/bin/bash
# SPDX-License-Identifier: MIT
# mxtls sendmail and mxtls queue as CLI.md specifies them: -t/-i/-oi/-f/-F/--, headers added
# exactly, Bcc removed, exit codes 0/64/65/75, queue list --json's exact shape, hold, release,
# flush, delete; a full disk (tmpfs in a mount namespace of its own) and a spool the user
# cannot write leave nothing behind.  Usage: test-queue-cli.sh MXTLS.  Prints TAP.
set -u
mxtls=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-queue-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
export HOME="$tmp/home" XDG_STATE_HOME="$tmp/xdg"
: >"$tmp/empty.conf"
st="$tmp/state"
m() { "$mxtls" --config "$tmp/empty.conf" --state-dir "$st" "$@"; }
host=$(hostname)
login=$(id -un)
. "$(dirname "$0")/lib-expect.sh"
# The list with times made "T" and ids "ID", for exact comparison.
shape() {
  sed -E 's/"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"/"T"/g; s/"[0-9A-F]{20}"/"ID"/g'
}
ids() { m --json queue list | grep -oE '"id":"[0-9A-F]{20}"' | cut -d'"' -f4; }
body_of() { cat "$st/queue/msg/$1"; }
spool_files() { ls -A "$1/queue/msg" 2>/dev/null | tr '\n' ' '; }

# ---- hostile and failing submissions first: exit code, message, nothing left ----
printf 'Subject: x\n\nbody\n' | m sendmail >"$tmp/out" 2>&1
expect "no recipients and no -t: usage (64)" 64 $? "$tmp/out" 'no recipients'
printf 'Subject: x\n\nbody\n' | m sendmail 'bad@@example.com' >"$tmp/out" 2>&1
expect "a malformed recipient argument: 64" 64 $? "$tmp/out" "recipient 'bad@@example.com'"
printf 'Subject: x\n\nbody\n' | m sendmail -f 'a b@example.com' x@example.com >"$tmp/out" 2>&1
expect "a malformed -f sender: 64" 64 $? "$tmp/out" "sender 'a b@example.com'"
printf 'Subject: x\n\nbody\n' | m sendmail -F $'Evil\nBcc: x@example.com' x@example.com >"$tmp/out" 2>&1
expect "a line break in -F (header injection): 64" 64 $? "$tmp/out" 'full name'
printf 'Subject: no rcpt\n\nbody\n' | m sendmail -t >"$tmp/out" 2>&1
expect "-t and no recipient: bad message (65)" 65 $? "$tmp/out" 'no recipient'
printf 'To: undisclosed-recipients:;\n\nbody\n' | m sendmail -t >"$tmp/out" 2>&1
expect "-t with an empty group only: 65" 65 $? "$tmp/out" 'no recipient'
printf 'To: a@example.com, (unterminated\n\nbody\n' | m sendmail -t >"$tmp/out" 2>&1
expect "-t with a malformed To: 65" 65 $? "$tmp/out" 'To: an unterminated comment'
printf 'To: a@example.com\n\nnul\0byte\n' | m sendmail -t >"$tmp/out" 2>&1
expect "a NUL byte in the message: 65" 65 $? "$tmp/out" 'NUL byte'
m sendmail --no-such-option x@example.com </dev/null >"$tmp/out" 2>&1
expect "an unknown option: 64" 64 $? "$tmp/out" 'no-such-option'
same "nothing was queued by the failures" "" "$(spool_files "$st")"

# ---- submissions ----
printf 'Subject: t\nTo: Bob <bob@example.com>, "J. D" <jd@example.org>\nCc: team: carol@example.net;\nBcc: (secret) dave@example.com\n\nline 1\n.\nafter the dot\n' |
  m sendmail -t -i >"$tmp/out" 2>&1
status "-t -i: exit 0" 0 $?
[ ! -s "$tmp/out" ] && ok "-t -i: nothing printed" || bad "-t -i: nothing printed" "$(cat "$tmp/out")"
id1=$(ids | tail -1)
body=$(body_of "$id1" | tr -d '\r')
want="Subject: t
To: Bob <bob@example.com>, \"J. D\" <jd@example.org>
Cc: team: carol@example.net;
DATE
From: $login@$host
Message-ID: <$id1@$host>

line 1
.
after the dot"
got=$(printf '%s\n' "$body" | sed -E 's/^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} \+0000$/DATE/')
same "-t -i: Date, From, Message-ID added exactly; Bcc removed; the dot kept" "$want" "$got"
if body_of "$id1" | head -1 | grep -q $'\r$'; then ok "queued with CRLF line ends"; else bad "queued with CRLF line ends"; fi
exp='{"messages":[{"id":"ID","sender":"'$login@$host'","size":SIZE,"queued_at":"T","recipients":[{"recipient":"bob@example.com","state":"pending","attempts":0,"next_attempt":"T","last_host":null,"last_reply":null,"result_type":null},{"recipient":"jd@example.org","state":"pending","attempts":0,"next_attempt":"T","last_host":null,"last_reply":null,"result_type":null},{"recipient":"carol@example.net","state":"pending","attempts":0,"next_attempt":"T","last_host":null,"last_reply":null,"result_type":null},{"recipient":"dave@example.com","state":"pending","attempts":0,"next_attempt":"T","last_host":null,"last_reply":null,"result_type":null}]}]}'
size=$(wc -c <"$st/queue/msg/$id1")
same "queue list --json: the exact shape of CLI.md" "${exp/SIZE/$size}" "$(m --json queue list | shape)"

printf 'Subject: dots\n\nline 1\n.\nnot read\n' | m sendmail -f '<jane@example.com>' -F 'Jane "JJ" Doe' -- x@example.com
status "without -i a lone dot ends the message; -f and -F" 0 $?
id2=$(ids | tail -1)
body=$(body_of "$id2" | tr -d '\r' | grep -v '^Date: ')
same "-F makes a quoted display name, -f the address; the rest after '.' is dropped" \
  "Subject: dots
From: \"Jane \\\"JJ\\\" Doe\" <jane@example.com>
Message-ID: <$id2@$host>

line 1" "$body"
m --json queue show "$id2" | grep -q '"sender":"jane@example.com"' && ok "-f sets the envelope sender" || bad "-f sets the envelope sender"

printf 'From: me@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <keep@example.com>\n\nx\n.\ny\n' |
  m sendmail -oi -- root '<-dash@example.com>'
status "-oi and -- with a recipient without domain" 0 $?
id3=$(ids | tail -1)
body=$(body_of "$id3" | tr -d '\r')
same "existing Date, From, Message-ID kept, nothing added; -oi keeps the dot" \
  "From: me@example.com
Date: Mon, 1 Jan 2024 00:00:00 +0000
Message-ID: <keep@example.com>

x
.
y" "$body"
m --json queue show "$id3" | grep -q "\"recipient\":\"root@$host\",.*\"recipient\":\"-dash@example.com\"" &&
  ok "a local name gets @HOST; '--' ends the options" || bad "a local name gets @HOST; '--' ends the options" "$(m --json queue show "$id3")"

# ---- management ----
m queue hold "$id1"; status "hold: exit 0" 0 $?
m --json queue show "$id1" | grep -o '"state":"[a-z]*"' | sort -u >"$tmp/out"
expect "hold: every recipient held" 0 0 "$tmp/out" '^"state":"held"$'
[ "$(wc -l <"$tmp/out")" -eq 1 ] && ok "hold: no other state left" || bad "hold: no other state left" "$(cat "$tmp/out")"
m queue flush; status "flush (all): exit 0" 0 $?
m --json queue show "$id1" | grep -q '"state":"held"' && ok "flush leaves held recipients held" || bad "flush leaves held recipients held"
m queue release "$id1"; status "release: exit 0" 0 $?
m --json queue show "$id1" | grep -o '"state":"[a-z]*"' | sort -u >"$tmp/out"
expect "release: pending again" 0 0 "$tmp/out" '^"state":"pending"$'
m queue flush "$id2"; status "flush ID: exit 0" 0 $?
m queue show "$id2" >"$tmp/out" 2>&1
expect "queue show: recipients, then the message" 0 $? "$tmp/out" '^Subject: dots'
m queue list >"$tmp/out" 2>&1
expect "queue list (text): one line per message" 0 $? "$tmp/out" "^$id1  [0-9]+ bytes  [0-9T:-]+Z  from <$login@$host>$"
m queue delete "$id2"; status "delete: exit 0" 0 $?
same "delete: the body file is gone" "$id1 $id3 " "$(spool_files "$st")"
m queue delete "$id2" >"$tmp/out" 2>&1
expect "delete again: no such message (1)" 1 $? "$tmp/out" 'no such message'
m queue hold ../../etc/passwd >"$tmp/out" 2>&1
expect "a malformed id: 64" 64 $? "$tmp/out" 'not a queue id'
m queue show >"$tmp/out" 2>&1
expect "queue show without ID: 64" 64 $? "$tmp/out" 'one ID'
m queue run --once --retry-min 0 >"$tmp/out" 2>&1
expect "queue run --retry-min 0: usage (64), the setting named" 64 $? "$tmp/out" "retry-min: '0' is not a number from 1"
"$mxtls" --config /dev/null --state-dir "$tmp/empty-state" queue run --once --helo 'a b' >"$tmp/out" 2>&1
expect "queue run --helo with a space: configuration error (78), before any delivery" 78 $? "$tmp/out" "helo: not a name an EHLO line can carry"
"$mxtls" --config /dev/null --state-dir "$tmp/empty-state" queue run --once >"$tmp/out" 2>&1
status "queue run --once on an empty queue: exit 0" 0 $?
same "queue run --once on an empty queue: silent" "" "$(cat "$tmp/out")"
m --help >"$tmp/out"
expect "--help lists sendmail and the queue commands" 0 $? "$tmp/out" '^  queue run '

# A leftover of an interrupted submission is removed by the next queue command, with a log line.
printf 'partial' >"$st/queue/msg/.tmp-00000000000000000000"
m queue list >/dev/null 2>"$tmp/out"
expect "queue list removes a stale temporary file and says so" 0 $? "$tmp/out" 'event=queue-temp-removed file=.tmp-00000000000000000000'
same "the stale temporary file is gone" "$id1 $id3 " "$(spool_files "$st")"

# ---- a full disk: tmpfs in a mount namespace of this test's own ----
if [ "$(id -u)" -ne 0 ]; then
  n=$((n + 1)); echo "ok $n # SKIP disk full and permissions need root"
else
  cat >"$tmp/diskfull.sh" <<'INNER'
set -u
mxtls=$1 dir=$2 out=$3
mount --make-rprivate / && mount -t tmpfs -o size=1600k tmpfs "$dir" || exit 99
m() { "$mxtls" --config /dev/null --state-dir "$dir/st" "$@"; }
printf 'Subject: small\n\nx\n' | m sendmail a@example.com; echo "small=$?" >"$out"
m --json queue list >"$out.before"
ls -A "$dir/st/queue/msg" >"$out.files.before"
head -c 2000000 /dev/zero | tr '\0' 'a' | fold -w 76 | m sendmail b@example.com 2>"$out.err"; echo "big=$?" >>"$out"
ls -A "$dir/st/queue/msg" >"$out.files.after"
m --json queue list >"$out.after"
INNER
  mkdir -p "$tmp/full"
  unshare -m bash "$tmp/diskfull.sh" "$mxtls" "$tmp/full" "$tmp/df"
  same "disk full: the small message was queued first" "small=0" "$(sed -n 1p "$tmp/df")"
  same "disk full: the large one is refused with 75" "big=75" "$(sed -n 2p "$tmp/df")"
  expect "disk full: a clear message" 0 0 "$tmp/df.err" 'No space left on device'
  same "disk full: no file left in the spool" "$(cat "$tmp/df.files.before")" "$(cat "$tmp/df.files.after")"
  same "disk full: the index unchanged, the earlier message still listed" \
    "$(cat "$tmp/df.before")" "$(cat "$tmp/df.after")"
  grep -q '"recipient":"a@example.com"' "$tmp/df.after" && ok "disk full: earlier message listed" || bad "disk full: earlier message listed"

  # ---- permissions ----
  . "$(dirname "$0")/lib-nobody.sh"
  nob() { HOME="$tmp" as_nobody --config /dev/null "$@"; }
  # Another user's spool whose state directory is private (0700): the maildrop cannot be
  # reached (test-maildrop-cli.sh covers the searchable set-up).
  printf 'x\n' | nob --state-dir "$st" sendmail a@example.com >"$tmp/out" 2>&1
  expect "another user's private spool: 75 with a clear message" 75 $? "$tmp/out" 'maildrop: Permission denied .*mode 0711'
  same "another user's spool: nothing left" "$id1 $id3 " "$(spool_files "$st")"
  # The user's own spool, but its msg/ not writable.
  ro="$tmp/ro"; mkdir -p "$ro/queue/msg"; chown -R 65534:65534 "$ro"; chmod 500 "$ro/queue/msg"
  printf 'x\n' | nob --state-dir "$ro" sendmail a@example.com >"$tmp/out" 2>&1
  expect "a spool the user cannot write: 75" 75 $? "$tmp/out" 'cannot create a spool file: Permission denied'
  same "a spool the user cannot write: nothing left" "" "$(spool_files "$ro")"
  nob --state-dir "$ro" --json queue list >"$tmp/out" 2>&1
  expect "a spool the user cannot write: still listed, empty" 0 $? "$tmp/out" '^\{"messages":\[\]\}$'
fi

echo "1..$n"
[ "$failed" -eq 0 ]
