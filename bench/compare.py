#!/usr/bin/env python3
"""compare.py - runs locad-bench and the PyTorch baseline on the same
workloads, in one run on one machine, and prints a ratio table.

usage: /usr/bin/python3 bench/compare.py [--bench build/bench/locad-bench]
           [--threads T] [--runs R] [--out FILE] [-- ARGS...]
ARGS are passed to both programs (e.g. --workload W2 --mesh armadillo
--what grad,hvp).  Every JSON line of both is written to --out if given.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, label):
    """Runs cmd; returns its JSON lines (stderr passes through), printing each figure to stderr
    as it arrives (a whole workload set takes many minutes)."""
    recs = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            recs.append(r)
            if "median_ms" in r:
                print(f"[{label}] {r.get('workload', '-')} {r.get('mesh', '-')} {r.get('what', '-')}: "
                      f"{r['median_ms']:.3f} ms", file=sys.stderr, flush=True)
    return recs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", default=os.path.join(HERE, "..", "build", "bench", "locad-bench"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--out")
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    extra = [x for x in a.rest if x != "--"]
    common = ["--threads", str(a.threads), "--runs", str(a.runs)] + extra
    print(f"[compare] locad-bench {' '.join(common)}", file=sys.stderr, flush=True)
    loc = run([a.bench] + common, "locad")
    print("[compare] torch_baseline.py (the same workloads)", file=sys.stderr, flush=True)
    tor = run(["/usr/bin/python3", os.path.join(HERE, "torch_baseline.py")] + common, "torch")
    if a.out:
        with open(a.out, "w") as f:
            for r in loc + tor:
                f.write(json.dumps(r) + "\n")
    key = lambda r: (r["workload"], r["mesh"], r["what"])
    tmap = {key(r): r for r in tor}
    print(f"{'workload':8} {'mesh':10} {'what':12} {'locad ms':>10} {'torch ms':>10} {'speed-up':>9}  check")
    for r in loc:
        t = tmap.get(key(r))
        tm = f"{t['median_ms']:10.3f}" if t else f"{'-':>10}"
        ratio = f"{t['median_ms'] / r['median_ms']:8.1f}x" if t and r["median_ms"] > 0 else f"{'-':>9}"
        chk = r["check"] + ("/" + t["check"] if t else "")
        print(f"{r['workload']:8} {r['mesh']:10} {r['what']:12} {r['median_ms']:10.3f} {tm} {ratio}  {chk}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
