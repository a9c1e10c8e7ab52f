#!/bin/bash
# SPDX-License-Identifier: MIT
# Profiles one row of bench_dane with callgrind and prints the inclusive cost of the hot functions.
#
# Usage: bench/profile.sh [BUILD-DIR] [ROW] [MODE] [IMPL]
#   BUILD-DIR  default build-bench;  ROW ee|ta2|ta1 (default ee);  MODE a|b (default a)
#   IMPL       substring of the implementation name (default mxtls)
# The bench runs a fixed number of operations (-n) under callgrind, so the figures are
# instruction counts (Ir), not times; divide by the operations to get a per-operation cost.
# Needs valgrind.  The output file (and valgrind's log, .log) stay in $TMPDIR for callgrind_annotate.
set -euo pipefail
build=${1:-build-bench}
row=${2:-ee}
mode=${3:-a}
impl=${4:-mxtls}
here=$(cd "$(dirname "$0")/.." && pwd)
exe=$build/bench/bench_dane
[ -x "$exe" ] || { echo "profile.sh: $exe not built (ninja -C $build)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "profile.sh: valgrind is not installed" >&2; exit 2; }
out=$(mktemp "${TMPDIR:-/tmp}/bench_dane.callgrind.XXXXXX")
valgrind --tool=callgrind --callgrind-out-file="$out" \
  "$exe" -n 200 -r 1 -m "$mode" -o "$row" -i "$impl" "$here/vectors/dane" >/dev/null 2>"$out.log"
echo "# callgrind profile: row $row, mode $mode, implementation '$impl', 200 timed operations"
echo "# plus 20 warm-up and 1 negative-control operation per implementation; file $out"
callgrind_annotate --inclusive=yes "$out" | grep -E '^ *[0-9,]+ \(' | head -40
