# SPDX-License-Identifier: MIT
# Sourced by tests/cli/ scripts that run mxtls as an unprivileged user (root only):
#   as_nobody ARGS...  runs a copy of $mxtls (and libmxtls) from $tmp/bin as uid/gid 65534.
# The copy is needed because the build tree may sit where that user cannot enter (a checkout
# under /root, mode 0700, as on a CI machine).  Needs $mxtls and $tmp (made world-searchable).
as_nobody() {
	if [ ! -x "$tmp/bin/mxtls" ]; then
		chmod 755 "$tmp"
		mkdir -p "$tmp/bin"
		cp "$mxtls" "$tmp/bin/mxtls"
		local lib
		lib=$(ldd "$mxtls" | awk '$1 ~ /^libmxtls/ {print $3}')
		[ -n "$lib" ] && cp "$lib" "$tmp/bin/"
		chmod -R a+rX "$tmp/bin"
	fi
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env LD_LIBRARY_PATH="$tmp/bin" "$tmp/bin/mxtls" "$@"
}
