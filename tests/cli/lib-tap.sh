# SPDX-License-Identifier: MIT
# Shared by the TAP shell tests of tests/cli/ (sourced): a private temporary directory removed on
# exit (also on failure), the daemon started with start_daemon stopped on exit, ok/not_ok, and
# socketmap queries to a policyd.  The caller sets mxtls=PATH first.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-${0##*/}.XXXXXX")
pid=
n=0
fails=0
tap_cleanup() {
	if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null; fi
	rm -rf "$tmp"
}
trap tap_cleanup EXIT
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift
	for l in "$@"; do printf '# %s\n' "$l"; done
}
# start_daemon ARGS...: runs "$mxtls" ARGS in the background as this shell's own child (exec, so
# that "kill $pid" reaches mxtls itself); stderr goes to $tmp/daemon.err.
start_daemon() {
	(exec "$mxtls" "$@") 2>"$tmp/daemon.err" &
	pid=$!
}
stop_daemon() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
	pid=
}
# socketmap PORT KEY...: the answers of the policyd on 127.0.0.1:PORT, one line per key (waits
# up to 5 s for it to listen).
socketmap() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/socketmap_ask.py" "$@"
}
