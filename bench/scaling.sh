#!/bin/bash
# scaling.sh - cost against element count: W5 (implicit-Euler mass-spring
# cloth, shared/benchmarks.md) on n x n grids from about 5k to 400k spring
# elements, gradient, projected Hessian and H v, one locad-bench line per
# (n, mode), then a table of ns per element (flat = linear cost).
#
#   bash bench/scaling.sh [BENCH] [THREADS] [RUNS] > out.jsonl
#     BENCH    locad-bench binary (default build/bench/locad-bench)
#     THREADS  --threads (default 2); RUNS: --runs (default 7)
# The table goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${1:-$here/../build/bench/locad-bench}
threads=${2:-2}
runs=${3:-7}
meshes=${LOCAD_MESHES:-$here/../../shared/meshes}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for n in 40 58 82 116 164 232 366; do
  "$bench" --workload W5 --grid "$n" --what grad,hess,hvp --threads "$threads" --runs "$runs" \
    --meshes "$meshes" | tee -a "$out"
done
/usr/bin/python3 - "$out" >&2 <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
modes = sorted({r["what"] for r in rows})
print(f"{'n_elem':>8} " + " ".join(f"{m + ' ms':>11} {'ns/elem':>8}" for m in modes))
for ne in sorted({r["n_elem"] for r in rows}):
    cells = []
    for m in modes:
        r = next((r for r in rows if r["n_elem"] == ne and r["what"] == m), None)
        cells.append(f"{r['median_ms']:11.3f} {1e6 * r['median_ms'] / ne:8.1f}" if r else f"{'-':>11} {'-':>8}")
    print(f"{ne:8d} " + " ".join(cells))
EOF
