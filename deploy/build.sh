#!/usr/bin/env bash
# build.sh - configures and builds locad in build/ (Release; CUDA parts when
# nvcc is found).  Extra arguments go to cmake's configure step.
#
# clang is preferred: GCC 12 keeps the AD values of element Hessians in
# memory and copies them (rep movs) at every operation, which makes Hessian
# kernels ~20x slower than clang's code from the same source (measured with
# the StVK element: 10.2 us vs 0.49 us per element).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cc=()
if [ -z "${CC:-}" ] && command -v clang >/dev/null; then cc=(-DCMAKE_C_COMPILER=clang); fi
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release "${cc[@]}" "$@" >/dev/null
cmake --build "$root/build" -j "$(nproc)"
