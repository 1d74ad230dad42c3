#!/bin/sh
# kernel_budget.sh - compiler launcher for the CUDA kernels: runs the nvcc
# command it is given with ptxas's per-function report (-Xptxas -v), writes
# a table of every kernel's registers, stack frame and spills to
# REPORT_DIR/<source>.txt, prints it, and fails the build when a kernel
# needs more than BUDGET bytes of stack frame.  EXCEPT lists the kernels
# that are known to be over budget, each with the most it may use
# ("name=bytes,name=bytes"; "-" for none): they are reported, and fail the
# build only if they grow further.
#   usage: kernel_budget.sh REPORT_DIR BUDGET EXCEPT nvcc ARGS...
set -u
dir=$1; budget=$2; except=$3; shift 3
src=unknown
for a in "$@"; do case $a in *.cu) src=$(basename "$a" .cu) ;; esac; done
mkdir -p "$dir"
log="$dir/$src.ptxas.log"
"$@" -Xptxas -v 2> "$log"
rc=$?
# everything but ptxas's report goes to stderr as usual
grep -v -e '^ptxas info' -e 'bytes stack frame' -e '^ *Compile time' "$log" >&2
[ $rc -eq 0 ] || exit $rc
table="$dir/$src.txt"
awk -v budget="$budget" -v except="$except" '
  /Compiling entry function/ { match($0, /'"'"'[^'"'"']*'"'"'/); fn = substr($0, RSTART + 1, RLENGTH - 2) }
  /Function properties for/ { cur = $NF; sub(/^_Z[0-9]+/, "", cur) }
  /bytes stack frame/ { stack[fn] = $1; spill[fn] = $5 + $9 }
  /Used [0-9]+ registers/ { for (i = 1; i <= NF; ++i) if ($i == "Used") regs[fn] = $(i + 1); names[fn] = 1 }
  END {
    n = split(except, ex, ",");
    for (i = 1; i <= n; ++i) if (split(ex[i], kv, "=") == 2) allow[kv[1]] = kv[2];
    printf "%-40s %6s %8s %8s\n", "kernel", "regs", "stack", "spill";
    for (f in names) {
      lim = f in allow ? allow[f] : budget;
      note = stack[f] > lim ? "  OVER BUDGET" : (stack[f] > budget ? "  known exception (<= " lim ")" : "");
      printf "%-40s %6d %8d %8d%s\n", f, regs[f], stack[f], spill[f], note;
    }
  }' "$log" | sort -k3 -n -r > "$table.tmp"
status=0
grep -q "OVER BUDGET" "$table.tmp" && status=1
mv "$table.tmp" "$table"
echo "kernel resources of $src.cu (budget $budget B of stack): $table" >&2
sort -k3 -n -r "$table" | head -8 >&2
if [ $status -ne 0 ]; then
  echo "kernel_budget: kernels of $src.cu exceed the $budget-byte stack budget:" >&2
  grep "OVER BUDGET" "$table" >&2
  exit 1
fi
exit 0
