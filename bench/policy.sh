#!/bin/bash
# policy.sh - the W1 face projected-Newton step (locad-bench --what newton)
# under OpenMP wait policies and OpenBLAS thread counts, interleaved round by
# round so that the machine's noise falls on every setting alike.  Prints
# locad-bench's JSON lines with a "policy" field added.
#
#   bash bench/policy.sh [BENCH] [ROUNDS] [RUNS]
#     BENCH   locad-bench binary (default build/bench/locad-bench)
#     ROUNDS  rounds over the settings (default 3); RUNS: --runs (default 15)
#
# Settings: KMP_BLOCKTIME 200 (libomp's default), 5 (the daemon's), 0;
# OMP_WAIT_POLICY=passive; OPENBLAS_NUM_THREADS=2 (its default here: one
# per core) against the engine's one thread.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${1:-$here/../build/bench/locad-bench}
rounds=${2:-3}
runs=${3:-15}
meshes=${LOCAD_MESHES:-$here/../../shared/meshes}
settings=("KMP_BLOCKTIME=200" "KMP_BLOCKTIME=5" "KMP_BLOCKTIME=0" "OMP_WAIT_POLICY=passive"
          "KMP_BLOCKTIME=5 OPENBLAS_NUM_THREADS=2")
for ((r = 0; r < rounds; r++)); do
  for s in "${settings[@]}"; do
    env -u KMP_BLOCKTIME -u OMP_WAIT_POLICY -u OPENBLAS_NUM_THREADS $s \
      "$bench" --workload W1 --mesh face --what newton --threads 2 --runs "$runs" --meshes "$meshes" |
      sed "s/^{/{\"policy\":\"$s\",\"round\":$r,/"
  done
done
