#!/usr/bin/env bash
# Every test again, built with AddressSanitizer: an out-of-bounds access or a use after free in the
# unsafe-buffer code fails here at its first bad read or write, where the plain build only corrupts
# the heap now and then (malloc aborts later, somewhere else). Leak reports are off: the Swift
# runtime and Foundation keep allocations to the end on purpose. Run by .ci/run after scripts/test.sh,
# whose set-up (packages, default model) it relies on.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/blas-kernels.sh
scratch=.build/asan
mkdir -p "$scratch"
echo "sanitize: building the tests with AddressSanitizer" >&2
swift build --build-tests --sanitize=address --scratch-path "$scratch" >"$scratch/build.log" 2>&1 \
  || { tail -40 "$scratch/build.log" >&2; echo "sanitize: the build failed (log: $scratch/build.log)" >&2; exit 1; }
# ASan prints its own report and exits non-zero; the Swift backtracer would hang on that exit.
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 SWIFT_BACKTRACE=enable=no
LF_REQUIRE_MODEL=1 swift test --skip-build --sanitize=address --scratch-path "$scratch" "$@"
