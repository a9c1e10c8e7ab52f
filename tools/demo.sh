#!/bin/bash
# SPDX-License-Identifier: MIT
# README's first quick-start command: installs the packages (as root), builds mxtls, and runs
# the main job that exists so far.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
mxtls=build/cli/mxtls
say() { printf '\n$ %s\n' "$*"; }

say mxtls --help
"$mxtls" --help
say mxtls config
"$mxtls" config
