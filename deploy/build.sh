#!/usr/bin/env bash
# build.sh - configures and builds locad in build/ (Release; CUDA parts when
# nvcc is found).  Extra arguments go to cmake's configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$root/build" -j "$(nproc)"
