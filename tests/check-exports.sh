#!/bin/sh
# SPDX-License-Identifier: MIT
# Fails unless the shared library exports exactly the global symbols listed in the linker map
# (ARCHITECTURE.md convention 9).  Usage: check-exports.sh LIBRARY MAPFILE.  Prints TAP.
set -eu
lib=$1
map=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Defined dynamic symbols, without version suffixes; _init/_fini etc. are not ours.
nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' |
  grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' | sort -u >"$tmp/exported"
# Version nodes ("mxtls_0.1 {") appear as absolute symbols; they are names of the map itself.
sed -n 's/^\([A-Za-z_][A-Za-z0-9_.]*\)[[:space:]]*{.*/\1/p' "$map" | sort -u >"$tmp/nodes"
comm -23 "$tmp/exported" "$tmp/nodes" >"$tmp/symbols"
bad=$(grep -v '^mxtls_' "$tmp/exported" || true)
# The names between "global:" and "local:" in the map.
sed -n '/global:/,/local:/p' "$map" | sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);.*/\1/p' |
  sort -u >"$tmp/listed"

echo "1..4"
n=1
if [ -s "$tmp/listed" ]; then echo "ok $n - the map lists symbols"; else
  echo "not ok $n - the map lists no symbols"; fail=1; fi
n=$((n + 1))
extra=$(comm -23 "$tmp/symbols" "$tmp/listed")
if [ -z "$extra" ]; then echo "ok $n - nothing exported beyond the map"; else
  echo "not ok $n - exported but not in the map:"; echo "$extra" | sed 's/^/#   /'; fail=1; fi
n=$((n + 1))
missing=$(comm -13 "$tmp/symbols" "$tmp/listed")
if [ -z "$missing" ]; then echo "ok $n - every mapped symbol is exported"; else
  echo "not ok $n - in the map but not exported:"; echo "$missing" | sed 's/^/#   /'; fail=1; fi
n=$((n + 1))
if [ -z "$bad" ]; then echo "ok $n - every export is an mxtls_ symbol"; else
  echo "not ok $n - exports outside the mxtls_ namespace:"; echo "$bad" | sed 's/^/#   /'; fail=1; fi
exit "${fail:-0}"
