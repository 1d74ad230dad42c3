#!/usr/bin/env bash
# test.sh - the README's test command: installs dependencies, builds, and
# runs every test (CTest: Check suites and integration tests).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/deploy/install-deps.sh"
bash "$root/deploy/build.sh"
cd "$root/build"
ctest --output-on-failure -j 2
