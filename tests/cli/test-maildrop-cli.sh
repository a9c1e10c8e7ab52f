#!/bin/bash
# SPDX-License-Identifier: MIT
# Unprivileged submission through STATE_DIR/queue/maildrop/ (doc/queue-security.md), as root
# with real uids: mxtls sendmail as uid 65534 with no daemon running; what a second
# unprivileged uid (65533) cannot do to that drop file; pickup through the public
# mxtls_queue_pickup() (tests/cli/queue_pickup.c) with the right sender, recipients and body;
# hostile drop files set aside while good ones are queued; a full disk (tmpfs in a mount
# namespace of this test's own) and an unsearchable state directory leave nothing; the durable
# write order seen with strace.  Usage: test-maildrop-cli.sh MXTLS QUEUE_PICKUP.  Prints TAP.
set -u
mxtls=$1
pickup=$2
. "$(dirname "$0")/lib-expect.sh"
# refused NAME CMD...: CMD (a shell command line) run as uid/gid 65533 must fail.
refused() {
  local name=$1; shift
  if setpriv --reuid=65533 --regid=65533 --clear-groups bash -c "$*" >"$tmp/out" 2>&1; then
    bad "uid 65533 $name: it succeeded" "$(cat "$tmp/out")"
  else ok "uid 65533 $name"; fi
}
if [ "$(id -u)" -ne 0 ]; then
  echo "ok 1 # SKIP needs root (runs as uids 65534 and 65533)"; echo "1..1"; exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-maildrop.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
export HOME="$tmp/home" XDG_STATE_HOME="$tmp/xdg"
st="$tmp/state"
md="$st/queue/maildrop"
host=$(hostname)
m() { "$mxtls" --config /dev/null --state-dir "$st" "$@"; }
. "$(dirname "$0")/lib-nobody.sh"
nob() { HOME="$tmp" as_nobody --config /dev/null "$@"; }
# as_nobody_sh CMD [ARG...]: a shell command line as uid/gid 65534 ($1... are the ARGs).
as_nobody_sh() { local c=$1; shift; setpriv --reuid=65534 --regid=65534 --clear-groups bash -c "$c" as-nobody "$@"; }
drops() { ls -A "$md" | tr '\n' ' '; }
ids() { m --json queue list | grep -oE '"id":"[0-9A-F]{20}"' | cut -d'"' -f4; }
# A drop file written by hand (the format of delivery/delivery_drop.h): FLAGS RCPT MESSAGE.
dropfile() {
  printf 'MXTLS-DROP 1\nF%s\nR%d:%s\nM%d:%s' "$1" "${#2}" "$2" "${#3}" "$3"
}

# ---- the installation: the queue owner (root) makes the directories ----
m queue list >/dev/null 2>&1
status "root's first queue command sets the queue up" 0 $?
same "queue/ is searchable, not listable (0711)" "711" "$(stat -c %a "$st/queue")"
same "maildrop/ is 3733 (setgid, sticky, no read for others)" "3733" "$(stat -c %a "$md")"
same "pickup/ and corrupt/ are private (0700)" "700 700" \
  "$(stat -c %a "$st/queue/pickup") $(stat -c %a "$st/queue/corrupt")"
same "the index is private (0600)" "600" "$(stat -c %a "$st/queue/index.sqlite")"

# ---- before the state directory is searchable: refused with 75, nothing left ----
chmod 700 "$st"
printf 'Subject: x\n\nx\n' | nob --state-dir "$st" sendmail a@example.com >"$tmp/out" 2>&1
expect "an unsearchable state directory: 75 and how to fix it" 75 $? "$tmp/out" 'Permission denied.*mode 0711'
same "an unsearchable state directory: nothing left" "" "$(drops)"
chmod 711 "$st" # the installation step of mxtls(1)

# ---- bad submissions are refused at once, as for root ----
printf 'Subject: none\n\nx\n' | nob --state-dir "$st" sendmail -t >"$tmp/out" 2>&1
expect "as nobody, -t and no recipient: 65 at once" 65 $? "$tmp/out" 'no recipient'
printf 'x\n' | nob --state-dir "$st" sendmail 'bad@@example.com' >"$tmp/out" 2>&1
expect "as nobody, a malformed recipient: 64 at once" 64 $? "$tmp/out" "recipient 'bad@@example.com'"
printf 'x\n' | nob --state-dir "$st" sendmail -F $'E\nBcc: x@example.com' a@example.com >"$tmp/out" 2>&1
expect "as nobody, a line break in -F: 64 at once" 64 $? "$tmp/out" 'full name'
same "bad submissions leave no drop file" "" "$(drops)"

# ---- submission as uid 65534, no daemon running ----
printf 'Subject: hi\n\nhello\n' | nob --state-dir "$st" sendmail bob@example.com >"$tmp/out" 2>&1
status "as nobody, sendmail exits 0 with no daemon" 0 $?
[ ! -s "$tmp/out" ] && ok "as nobody, sendmail is silent" || bad "as nobody, sendmail is silent" "$(cat "$tmp/out")"
f1=$(ls -A "$md")
[[ "$f1" =~ ^[0-9a-f]{32}$ ]] && ok "one drop file, complete (no temporary name)" || bad "one drop file, complete (no temporary name)" "$f1"
same "the drop file: nobody's, the maildrop's group, 0640" "65534 0 640" "$(stat -c '%u %g %a' "$md/$f1")"
same "nothing queued before pickup" '{"messages":[]}' "$(m --json queue list)"
m queue list >"$tmp/out" 2>&1
expect "queue list (text) counts the drop file" 0 $? "$tmp/out" '^1 message waiting in the maildrop$'
sum1=$(sha256sum <"$md/$f1")

# ---- what another unprivileged uid cannot do ----
refused "cannot list the maildrop" "ls '$md'"
refused "cannot list the state directory" "ls '$st'"
refused "cannot read the drop file" "cat '$md/$f1'"
refused "cannot rename the drop file" "mv '$md/$f1' '$md/stolen'"
refused "cannot delete the drop file" "rm -f '$md/$f1' && [ ! -e '$md/$f1' ]"
refused "cannot overwrite the drop file" "printf x >'$md/$f1'"
refused "cannot replace it by a file of its own (rename over it)" "printf x >'$md/.mine' && mv -f '$md/.mine' '$md/$f1'"
refused "cannot read the index" "cat '$st/queue/index.sqlite'"
refused "cannot list the spool" "ls '$st/queue/msg'"
same "the drop file is untouched" "$sum1" "$(sha256sum <"$md/$f1")"
as_nobody_sh "ls '$md'" >/dev/null 2>&1
status "the submitter cannot list the maildrop either" 2 $?
rm -f "$md/.mine"

# ---- -f by an unprivileged user: taken, and recorded ----
printf 'Subject: boss\n\nbody\n' | nob --state-dir "$st" sendmail -f boss@example.com -F 'The Boss' carol@example.com,dave
status "as nobody, -f and -F: exit 0" 0 $?

# ---- pickup (the daemon's call) ----
"$pickup" "$st" >"$tmp/out" 2>"$tmp/log"
expect "pickup takes both drop files" 0 $? "$tmp/out" '^taken 2$'
same "the maildrop and pickup/ are empty" "|" "$(drops)|$(ls -A "$st/queue/pickup")"
grep -q 'event=maildrop-queued .*uid=65534 login=nobody' "$tmp/log" && ok "pickup logs the owner uid and login" || bad "pickup logs the owner uid and login" "$(cat "$tmp/log")"
m --json queue list >"$tmp/list"
grep -q "\"sender\":\"nobody@$host\",.*\"recipient\":\"bob@example.com\"" "$tmp/list" &&
  ok "no -f: the sender is the file owner's login, nobody@HOST" || bad "no -f: the sender is the file owner's login, nobody@HOST" "$(cat "$tmp/list")"
grep -q "\"sender\":\"boss@example.com\",.*\"recipient\":\"carol@example.com\".*\"recipient\":\"dave@$host\"" "$tmp/list" &&
  ok "-f: the sender as given, recipients as sendmail takes them" || bad "-f: the sender as given, recipients as sendmail takes them" "$(cat "$tmp/list")"
# id_from SENDER: the id of the message with that envelope sender.
id_from() { for i in $(ids); do m --json queue show "$i" | grep -q "\"sender\":\"$1\"" && echo "$i"; done; }
b1=$(m queue show "$(id_from "nobody@$host")" | tr -d '\r')
b2=$(m queue show "$(id_from boss@example.com)" | tr -d '\r')
printf '%s\n' "$b1" | grep -q "^From: nobody@$host$" && printf '%s\n' "$b1" | grep -q '^hello$' &&
  ok "body: From nobody@HOST added, the text kept" || bad "body: From nobody@HOST added, the text kept" "$b1"
printf '%s\n' "$b2" | grep -q "^X-Authentication-Warning: $host: nobody set sender to boss@example.com using -f$" &&
  ok "-f by an unprivileged user is recorded (X-Authentication-Warning)" || bad "-f by an unprivileged user is recorded (X-Authentication-Warning)" "$b2"
printf '%s\n' "$b2" | grep -q '^From: "The Boss" <boss@example.com>$' && ok "-F makes the From display name" || bad "-F makes the From display name" "$b2"
printf '%s\n' "$b1" | grep -q '^X-Authentication-Warning' && bad "no warning without -f" "$b1" || ok "no warning without -f"

# ---- hostile drop files: set aside, the good ones still queued ----
good=$(dropfile 0 'erin@example.com' $'Subject: by hand\n\nok') # no final line end: $() would drop it
mkdir -p "$tmp/nob" && chown 65534:65534 "$tmp/nob"
as_nobody_sh "set -e; cd '$md'
  printf '%s' \"\$1\" >'$tmp/nob/valid'
  ln -s '$tmp/nob/valid' evil-symlink
  printf '%s' \"\$1\" >'$tmp/nob/linked'; ln '$tmp/nob/linked' evil-hardlink
  mkfifo evil-fifo
  mkdir evil-dir
  { printf '%s' \"\$1\"; } >evil-big; truncate -s 300M evil-big
  printf 'garbage \\377\\000 bytes' >evil-garbage
  printf 'MXTLS-DROP 1\nF1\nM12:Subject: x\n\n' >refused-no-rcpt
  printf '%s' \"\$1\" >good-by-hand" "$good"
status "nobody planted the hostile files" 0 $?
printf 'Subject: after\n\nlast\n' | nob --state-dir "$st" sendmail frank@example.com
"$pickup" "$st" >"$tmp/out" 2>"$tmp/log"
expect "pickup goes on past every bad file" 0 $? "$tmp/out" '^taken 9$'
same "set aside in corrupt/" "evil-big evil-dir evil-fifo evil-garbage evil-hardlink evil-symlink refused-no-rcpt " \
  "$(ls "$st/queue/corrupt" | tr '\n' ' ')"
same "the maildrop and pickup/ are empty" "|" "$(drops)|$(ls -A "$st/queue/pickup")"
for r in 'evil-symlink uid=65534 reason="a symbolic link"' \
         'evil-hardlink uid=65534 reason="hard-linked' \
         'evil-fifo uid=65534 reason="not a regular file"' \
         'evil-dir uid=65534 reason="not a regular file"' \
         'evil-big uid=65534 reason="too large"' \
         'evil-garbage uid=65534 reason="not a drop file:'; do
  grep -q "event=maildrop-set-aside file=$r" "$tmp/log" && ok "logged: ${r%% *}" || bad "logged: ${r%% *}" "$(cat "$tmp/log")"
done
grep -q 'event=maildrop-refused file=refused-no-rcpt uid=65534 login=nobody reason="refused by the sendmail rules: no recipient' "$tmp/log" &&
  ok "refused by the rules: logged with the owner, set aside" || bad "refused by the rules: logged with the owner, set aside" "$(cat "$tmp/log")"
m --json queue list >"$tmp/list"
grep -q '"recipient":"erin@example.com"' "$tmp/list" && grep -q '"recipient":"frank@example.com"' "$tmp/list" &&
  ok "the good drop files were queued" || bad "the good drop files were queued" "$(cat "$tmp/list")"
same "four messages queued in all" "4" "$(ids | wc -l)"

# ---- the durable write order, seen in the system calls ----
nob --state-dir "$st" --help >/dev/null 2>&1 # makes the copy in $tmp/bin
# (LeakSanitizer cannot run under ptrace: off for this one run of a sanitizer build.)
printf 'Subject: s\n\nx\n' | ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -qq -o "$tmp/trace" -e trace=openat,write,fsync,renameat2,syncfs \
  setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$tmp" LD_LIBRARY_PATH="$tmp/bin" \
  "$tmp/bin/mxtls" --config /dev/null --state-dir "$st" sendmail a@example.com
status "under strace: exit 0" 0 $?
order=$(grep -oE '(openat\([^"]*"[^"]*\.tmp-[0-9a-f]{32}"|fsync|renameat2|syncfs)' "$tmp/trace" | sed -E 's/^openat.*/create-temp/' | tr '\n' ' ')
same "create the temporary file, fsync it, rename, syncfs" "create-temp fsync renameat2 syncfs " "$order"
"$pickup" "$st" >/dev/null 2>&1

# ---- a full disk: tmpfs in a mount namespace of this test's own ----
cat >"$tmp/diskfull.sh" <<'INNER'
set -u
mxtls=$1 dir=$2 out=$3 bin=$4
mount --make-rprivate / && mount -t tmpfs -o size=1600k,mode=0755 tmpfs "$dir" || exit 99
m() { "$mxtls" --config /dev/null --state-dir "$dir/st" "$@"; }
nob() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/ LD_LIBRARY_PATH="$bin" "$bin/mxtls" --config /dev/null --state-dir "$dir/st" "$@"; }
m queue list >/dev/null 2>&1; chmod 711 "$dir/st"
printf 'Subject: small\n\nx\n' | nob sendmail a@example.com; echo "small=$?" >"$out"
ls -A "$dir/st/queue/maildrop" >"$out.files.before"
head -c 2000000 /dev/zero | tr '\0' 'a' | fold -w 76 | nob sendmail b@example.com 2>"$out.err"; echo "big=$?" >>"$out"
ls -A "$dir/st/queue/maildrop" >"$out.files.after"
INNER
mkdir -p "$tmp/full"
unshare -m bash "$tmp/diskfull.sh" "$mxtls" "$tmp/full" "$tmp/df" "$tmp/bin"
same "disk full: the small message was dropped first" "small=0" "$(sed -n 1p "$tmp/df")"
same "disk full: the large one is refused with 75" "big=75" "$(sed -n 2p "$tmp/df")"
expect "disk full: a clear message" 0 0 "$tmp/df.err" 'cannot write the drop file: No space left on device'
same "disk full: nothing partial left in the maildrop" "$(cat "$tmp/df.files.before")" "$(cat "$tmp/df.files.after")"
[ "$(wc -l <"$tmp/df.files.after")" -eq 1 ] && ok "disk full: the earlier drop file is still there" || bad "disk full: the earlier drop file is still there" "$(cat "$tmp/df.files.after")"

echo "1..$n"
[ "$failed" -eq 0 ]
