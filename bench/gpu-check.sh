#!/usr/bin/env bash
# gpu-check.sh OUTDIR - the unattended GPU check of the CUDA backend: device,
# GPU tests, locad-bench --backend cuda, the interactive-frame benchmark
# through the daemon (locad-bench-frame --device cuda:0), the PyTorch and JAX
# baselines on the GPU, the ratio table and a summary.  Runs from the repository root of a
# checkout on the GPU machine, on a build made and packed on the CPU machine
# (bench/gpu-pack.sh; see bench/README.md, "GPU check").
#
# The carried shared libraries (carry-libs) are put on LD_LIBRARY_PATH for the
# locad binaries only.  Writes OUTDIR/summary.md (device, date, commit, each command with its exit
# status and time, the GPU tests' results, the targets, the frame line),
# OUTDIR/table.md (the ratio table), OUTDIR/locad.jsonl, OUTDIR/solve.jsonl
# (locad-bench-solve), OUTDIR/frame.jsonl
# (locad-bench-frame's JSON line), OUTDIR/torch.jsonl, OUTDIR/jax.jsonl and
# OUTDIR/log.txt (every step's stderr and the tests' output): eight files.
#
# Environment:
#   LOCAD_BUILD        the build folder (default build-gpu): either unpacked
#                      carry-bin/, carry-libs/, carry-meshes/ or the archive
#                      gpu-carry.tar.xz that gpu-pack.sh made
#   LOCAD_PYTHON       the interpreter with torch / jax (default: python3 if it
#                      has numpy, else /usr/bin/python3)
#   GPU_CHECK_BUDGET   seconds for the whole check (default 450); each step
#                      has its own timeout, cut to what is left
#   GPU_CHECK_RUNS     timed calls per figure (default 11)
#   GPU_CHECK_DRY=1    run as without a GPU (no benchmarks), as the check
#                      does by itself when nvidia-smi finds no GPU
#   GPU_CHECK_CPU_PLUMBING=1  test of this script on a CPU machine: the
#                      benchmark steps run on the CPU, on W2 spot only (the
#                      frame benchmark on a 100 x 100 grid)
# Exit status: 0 when every step that ran succeeded (GPU tests passed or
# were skipped), 1 otherwise; summary.md is written in every case.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: bench/gpu-check.sh OUTDIR" >&2; exit 2; }
mkdir -p "$1" || exit 2
out=$(cd "$1" && pwd)
build=${LOCAD_BUILD:-build-gpu}
case $build in /*) ;; *) build="$root/$build" ;; esac
budget=${GPU_CHECK_BUDGET:-450}
runs=${GPU_CHECK_RUNS:-11}
t_start=$(date +%s)
log="$out/log.txt" summary="$out/summary.md"
: > "$log"
rm -f "$out/locad.jsonl" "$out/solve.jsonl" "$out/frame.jsonl" "$out/torch.jsonl" "$out/jax.jsonl" "$out/table.md"
steps=()      # summary lines, one per command
failed=0

note() { echo "[gpu-check $(date -u +%T)] $*" | tee -a "$log" >&2; }

# Seconds for a step: its cap, cut to what is left of the budget less a
# reserve for the table and the summary; 0 when nothing is left.
allot() {
  local left=$((budget - ($(date +%s) - t_start) - 20))
  local t=$(($1 < left ? $1 : left))
  echo $((t < 5 ? 0 : t))
}

# step NAME CAP STDOUT CMD...: runs CMD under its own timeout, stdout to
# STDOUT (or the log when "-"), stderr to the log; records the outcome and
# returns CMD's exit status (125 when the budget left no time for it).
step() {
  local name=$1 cap=$2 dest=$3; shift 3
  local t; t=$(allot "$cap")
  if [ "$t" -eq 0 ]; then
    steps+=("| $name | \`$*\` | not run: budget spent | - |")
    return 125
  fi
  note "$name: $* (timeout ${t}s)"
  local t0 rc; t0=$(date +%s)
  echo "===== $name: $*" >> "$log"
  if [ "$dest" = "-" ]; then
    timeout -k 10 "$t" "$@" >> "$log" 2>&1; rc=$?
  else
    timeout -k 10 "$t" "$@" > "$dest" 2>> "$log"; rc=$?
  fi
  local dt=$(($(date +%s) - t0)) what="exit $rc"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && what="TIMEOUT after ${t}s"
  steps+=("| $name | \`$*\` | $what | ${dt}s |")
  return $rc
}

# --- the carried build ------------------------------------------------------
py=${LOCAD_PYTHON:-}
if [ -z "$py" ]; then
  py=python3
  "$py" -c "import numpy" 2>/dev/null || py=/usr/bin/python3
fi
if [ ! -d "$build/carry-bin" ] && [ -f "$build/gpu-carry.tar.xz" ]; then
  dest=$build
  [ -w "$build" ] || dest=$(mktemp -d)
  note "unpacking $build/gpu-carry.tar.xz into $dest"
  tar -C "$dest" -xJf "$build/gpu-carry.tar.xz" >> "$log" 2>&1 ||
    "$py" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
      "$build/gpu-carry.tar.xz" "$dest" >> "$log" 2>&1 || note "unpacking failed"
  build=$dest
fi
bin="$build/carry-bin"
# The carried libraries serve the locad binaries only (run through "env
# LD_LIBRARY_PATH=$ldp"), not Python, whose wheels bring their own.
ldp=${LD_LIBRARY_PATH:-}
if [ -d "$bin" ]; then
  ldp="$build/carry-libs${ldp:+:$ldp}"
  export LOCAD_MESHES="$build/carry-meshes"
  bench_bin="$bin/locad-bench" frame_bin="$bin/locad-bench-frame" locad_bin="$bin/locad"
  solve_bin="$bin/locad-bench-solve"
else  # a build made on this machine: its own binaries, the shared meshes
  note "no carry-bin in $build: using the build folder itself"
  export LOCAD_MESHES="${LOCAD_MESHES:-$root/../shared/meshes}"
  bench_bin="$build/bench/locad-bench" frame_bin="$build/bench/locad-bench-frame" locad_bin="$build/server/locad"
  solve_bin="$build/bench/locad-bench-solve"
fi

# --- device -------------------------------------------------------------------
gpu=""
if [ "${GPU_CHECK_DRY:-0}" != 1 ] && command -v nvidia-smi > /dev/null; then
  step "nvidia-smi" 30 - nvidia-smi || failed=1
  gpu=$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>> "$log" | head -n 1)
fi
backend=cuda lbargs=() pyargs=() frameargs=(--device cuda:0) solveargs=()
if [ "${GPU_CHECK_CPU_PLUMBING:-0}" = 1 ]; then
  gpu="cpu (GPU_CHECK_CPU_PLUMBING: a test of gpu-check.sh, not a GPU check)"
  backend=cpu lbargs=(--workload 2 --mesh spot) pyargs=(--workload W2 --mesh spot)
  frameargs=(--device cpu --grid 100) solveargs=(--grid 30 --runs 1)
fi
[ -n "$gpu" ] || note "no GPU (nvidia-smi missing or found none${GPU_CHECK_DRY:+, or GPU_CHECK_DRY=$GPU_CHECK_DRY}): benchmarks not run"

# --- GPU tests ----------------------------------------------------------------
# From carry-bin/gpu-tests.sh (made from `ctest -L gpu` by gpu-pack.sh, with
# the CPU machine's paths replaced): each test binary runs directly with its
# ctest environment; its skip code (77) means "no usable device".
tests_summary=()
tests_pass=0 tests_fail=0 tests_skip=0
gpu_test_names=()
if [ -f "$bin/gpu-tests.sh" ]; then
  # shellcheck disable=SC1091
  . "$bin/gpu-tests.sh"
  work=$(mktemp -d)
  for i in "${!gpu_test_names[@]}"; do
    name=${gpu_test_names[$i]}
    declare -n cmd="gpu_test_cmd_$i" envs="gpu_test_env_$i" skip="gpu_test_skip_$i"
    argv=() envv=()
    for a in "${cmd[@]}"; do a=${a//@BIN@/$bin}; a=${a//@MESHES@/$LOCAD_MESHES}; argv+=("${a//@BUILD@/$build}"); done
    for a in "${envs[@]}"; do a=${a//@BIN@/$bin}; a=${a//@MESHES@/$LOCAD_MESHES}; envv+=("${a//@BUILD@/$build}"); done
    mkdir -p "$work/$name"
    step "test $name" 150 - env -C "$work/$name" LD_LIBRARY_PATH="$ldp" "${envv[@]}" "${argv[@]}"
    rc=$?
    if [ $rc = 0 ]; then result=passed; tests_pass=$((tests_pass + 1))
    elif [ $rc = "$skip" ] && [ -n "$gpu" ]; then  # nvidia-smi sees a GPU that locad cannot use
      result="SKIPPED although nvidia-smi found a GPU (exit $rc; see log.txt)"; tests_skip=$((tests_skip + 1)); failed=1
    elif [ $rc = "$skip" ]; then result="skipped (exit $rc: no usable device)"; tests_skip=$((tests_skip + 1))
    else result="FAILED (exit $rc)"; tests_fail=$((tests_fail + 1)); failed=1
    fi
    tests_summary+=("- $name: $result")
    unset -n cmd envs skip
  done
  rm -rf "$work"
  [ ${#gpu_test_names[@]} -gt 0 ] || tests_summary+=("- the build has no gpu-labelled tests")
elif [ -f "$build/CTestTestfile.cmake" ]; then  # a build made on this machine
  step "ctest -L gpu" 300 - ctest --test-dir "$build" -L gpu --output-on-failure
  rc=$?
  tests_summary+=("- ctest -L gpu: exit $rc (skipped tests count as passed; see log.txt)")
  [ $rc -eq 0 ] || { tests_fail=1; failed=1; }
else
  tests_summary+=("- no gpu-tests.sh and no CTestTestfile.cmake in $build: GPU tests not run")
  failed=1
fi

# --- benchmarks ---------------------------------------------------------------
bench_state="not run (no GPU)"
if [ -n "$gpu" ]; then
  bench_fail=0
  step "locad-bench" 130 "$out/locad.jsonl" env LD_LIBRARY_PATH="$ldp" "$bench_bin" --backend $backend --breakdown --runs "$runs" \
    --threads "$(nproc)" --meshes "$LOCAD_MESHES" "${lbargs[@]}" || bench_fail=$((bench_fail + 1))
  # whole solver iterations: W5 Newton-PCG and L-BFGS, W6 L-BFGS, launch overhead
  step "solve" 120 "$out/solve.jsonl" env LD_LIBRARY_PATH="$ldp" "$solve_bin" --backend $backend \
    --meshes "$LOCAD_MESHES" "${solveargs[@]}" || bench_fail=$((bench_fail + 1))
  # one problem.step (one Newton-PCG iteration) per frame on a 100k-vertex cloth, through the daemon
  step "frame" 60 "$out/frame.jsonl" env LD_LIBRARY_PATH="$ldp" "$frame_bin" "${frameargs[@]}" \
    --locad "$locad_bin" || bench_fail=$((bench_fail + 1))
  step "torch baseline" 130 "$out/torch.jsonl" env PYTHONUNBUFFERED=1 "$py" "$root/bench/torch_baseline.py" \
    --device $backend --runs "$runs" --threads "$(nproc)" --meshes "$LOCAD_MESHES" "${pyargs[@]}" || bench_fail=$((bench_fail + 1))
  step "jax baseline" 170 "$out/jax.jsonl" env PYTHONUNBUFFERED=1 "$py" "$root/bench/jax_baseline.py" \
    --device $backend --runs "$runs" --meshes "$LOCAD_MESHES" "${pyargs[@]}" || bench_fail=$((bench_fail + 1))
  step "table" 30 - "$py" "$root/bench/gpu_table.py" --backend $backend --out "$out/table.md" \
    "$out/locad.jsonl" "$out/torch.jsonl" "$out/jax.jsonl" || bench_fail=$((bench_fail + 1))
  [ $bench_fail -eq 0 ] || failed=1
  bench_state="run, $bench_fail of 6 steps failed (exit status in the commands below; a check that
failed makes its step fail)"
else
  printf '# locad vs PyTorch vs JAX on the GPU\n\nBenchmarks not run: no GPU on this machine.\n' > "$out/table.md"
fi

# --- summary ------------------------------------------------------------------
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || true)
{
  echo "# GPU check, $(date -u +%FT%TZ)"
  echo
  echo "- device: ${gpu:-none (no GPU found)}"
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; $(uname -sr)"
  echo "- checkout: ${commit:-unknown (no git here)}"
  [ -f "$bin/BUILD_INFO" ] && sed 's/^/- build /' "$bin/BUILD_INFO"
  echo "- python: $py ($("$py" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo missing))"
  echo "- elapsed: $(($(date +%s) - t_start)) s of a ${budget} s budget"
  echo
  echo "## GPU tests: $tests_pass passed, $tests_fail failed, $tests_skip skipped"
  echo
  printf '%s\n' "${tests_summary[@]}"
  echo
  echo "## Benchmarks: $bench_state"
  echo
  for f in locad torch jax; do
    [ -f "$out/$f.jsonl" ] || continue
    n=$(grep -c '^{' "$out/$f.jsonl" || true)
    bad=$(grep -c '"FAIL"' "$out/$f.jsonl" || true)
    echo "- $f.jsonl: $n figures, $bad with a failed check"
  done
  if [ -s "$out/solve.jsonl" ]; then
    echo
    echo "## Solver iterations (locad-bench-solve; targets: 0 host reads inside an iteration, W6 1000^2 L-BFGS iteration <= 0.5 ms)"
    echo
    echo '```'
    cat "$out/solve.jsonl"
    echo '```'
  fi
  if [ -s "$out/frame.jsonl" ]; then
    echo
    echo "## Interactive frame (locad-bench-frame: one problem.step = one Newton-PCG iteration through the daemon; target p50 <= 16 ms)"
    echo
    echo '```'
    cat "$out/frame.jsonl"
    echo '```'
    "$py" -c 'import json, sys; r = json.loads(open(sys.argv[1]).readline())
print("- p50 %.3f ms for %d vertices on %s: %s the 16 ms target; %d host syncs per frame, %d PCG iterations (p50)" % (r["p50_ms"], r["vertices"], r["device"], "meets" if r["p50_ms"] <= r["target_ms"] else "MISSES", r["host_syncs_per_frame"], r["lin_iters_p50"]))' \
      "$out/frame.jsonl" 2>> "$log" || true
  fi
  if [ -n "$gpu" ] && [ -f "$out/table.md" ]; then
    echo
    sed -n '/^## Targets/,$p' "$out/table.md"
  fi
  echo
  echo "## Commands"
  echo
  echo "| step | command | result | time |"
  echo "|---|---|---|---|"
  printf '%s\n' "${steps[@]}"
} > "$summary"
note "wrote $summary"
exit $failed
