#!/usr/bin/env bash
# ab.sh - A/B timing of two locad-bench binaries in one run: for each
# workload W1..W6 the two binaries run back to back (A, B, then B, A again),
# and the table gives each row's best median of A and B and the ratio B/A.
# Use it to show that a change keeps the CPU speed ("no row slower than
# before by more than 5%"), side by side on the same noisy machine.
#   usage: bench/ab.sh OLD_BENCH NEW_BENCH [extra locad-bench args]
set -euo pipefail
a=$1 b=$2; shift 2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for w in W1 W2 W3 W4 W5 W6; do
  for order in "$a:A $b:B" "$b:B $a:A"; do
    for run in $order; do
      "${run%:*}" --workload "$w" "$@" | sed "s/^/${run##*:} /" >> "$tmp/all.txt"
    done
  done
done
/usr/bin/python3 - "$tmp/all.txt" <<'PY'
import json, sys
best = {}
for line in open(sys.argv[1]):
    tag, js = line.split(' ', 1)
    r = json.loads(js)
    key = (r['workload'], r['mesh'], r['what'])
    best.setdefault(key, {}).setdefault(tag, float('inf'))
    best[key][tag] = min(best[key][tag], r['median_ms'])
print(f"{'workload':8} {'mesh':12} {'what':12} {'A ms':>10} {'B ms':>10} {'B/A':>6}")
worst = 0.0
for (w, m, what), v in best.items():
    if 'A' in v and 'B' in v:
        ratio = v['B'] / v['A']
        worst = max(worst, ratio)
        print(f"{w:8} {m:12} {what:12} {v['A']:10.3f} {v['B']:10.3f} {ratio:6.3f}")
print(f"slowest row B/A = {worst:.3f}")
PY
