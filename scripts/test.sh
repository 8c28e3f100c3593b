#!/usr/bin/env bash
# The test command: installs the system packages, builds, fetches the default model (SmolLM2, for the
# real-model tests) and runs every test. The shared fixtures must be at ../shared (or $LF_SHARED).
set -euo pipefail
cd "$(dirname "$0")/.."

shared=${LF_SHARED:-../shared}
if [ ! -d "$shared/fixtures" ]; then
  echo "test: the shared fixtures are not at $shared/fixtures (set LF_SHARED to their folder)" >&2
  exit 1
fi

bash scripts/setup.sh
bash scripts/fetch-model.sh
source scripts/blas-kernels.sh
# With LF_REQUIRE_MODEL=1, a test that needs the default model fails when it is missing instead of
# being skipped.
LF_REQUIRE_MODEL=1 swift test "$@"
