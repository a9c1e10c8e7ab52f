#!/bin/bash
# SPDX-License-Identifier: MIT
# README's test command: installs the Debian packages needed (as root), then configures, builds
# with -Werror and runs the whole test suite twice: a release build in build/ and an
# AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/ (there without the suite
# "vectors", which runs no mxtls code).
# MXTLS_CONFIGS="release" (or "asan") limits the run to one configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh

# run_config NAME DIR [MESON TEST ARGS --] SETUP ARGS...
run_config() {
  local name=$1 dir=$2
  shift 2
  local test_args=()
  if [ "${1:-}" = --test-args ]; then
    shift
    while [ "$1" != -- ]; do test_args+=("$1"); shift; done
    shift
  fi
  echo "== $name configuration ($dir)"
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
  ninja -C "$dir"
  meson test -C "$dir" --print-errorlogs "${test_args[@]}"
}

for config in ${MXTLS_CONFIGS:-release asan}; do
  case $config in
  release) run_config release build -Dwerror=true ;;
  asan)
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    # e2e-queue-crash with 500 messages instead of 2 000 (still at least 10 kills): the
    # sanitizers watch the same code paths, and the release run keeps the full count.  It
    # took 364 s of the ASan run's 962 s with 2 000 (CI has 30 minutes in all).
    export MXTLS_CRASH_MESSAGES=${MXTLS_CRASH_MESSAGES:-500}
    # The suite "vectors" re-derives the DANE vectors' verdicts with the openssl command
    # alone, and the suite "net" checks the test network with unbound-host, curl, openssl and
    # swaks: no mxtls code runs in them, so the sanitizer build has nothing to find there.  The
    # suite "lab" checks the comparison harness (Python) and scores the mxtls binary through
    # paths the e2e suite already runs under the sanitizers (mxtls send, the queue); it takes
    # about three minutes there, which CI's 30 minutes no longer have room for.
    run_config "ASan+UBSan" build-asan --test-args --no-suite vectors --no-suite net \
      --no-suite lab -- \
      -Dwerror=true \
      -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
    ;;
  *) echo "test.sh: unknown configuration '$config' (release, asan)" >&2; exit 64 ;;
  esac
done
echo "test.sh: every configuration passed"
