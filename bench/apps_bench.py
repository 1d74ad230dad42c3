#!/usr/bin/python3
"""apps_bench.py - the application benchmarks of issues 11 and 12, one JSON line each:
contact scene S1 (100 implicit-Euler steps; target <= 10 s on the 2-core CPU), the frame field
on cheburashka (60 Gauss-Newton iterations; target <= 5 s on the 2-core CPU, <= 0.5 s on an
H100/H200) and embedded deformation on armadillo (43k vertices, 12 variables each: seconds per
Gauss-Newton iteration, the median over 5 iterations; target <= 0.5 s on the 2-core CPU). Each
runs `locad-demo` with --out and sums the per-step / per-iteration records.

    /usr/bin/python3 bench/apps_bench.py [--build build] [--device cpu] [--runs 1]
                                         [--apps contact,frames,embedded] [--linear cholmod]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

TARGETS = {("contact", "cpu"): 10.0, ("frames", "cpu"): 5.0, ("frames", "cuda"): 0.5, ("embedded", "cpu"): 0.5}
ED_ITERS = 5  # embedded: Gauss-Newton iterations timed (the first includes the symbolic analysis)


def run_app(demo, app, device, out, linear):
    """Runs one app with its records into out; returns the records."""
    shutil.rmtree(out, ignore_errors=True)
    extra = ["--iters", str(ED_ITERS), "--linear", linear] if app == "embedded" else []
    p = subprocess.run([demo, app, "--device", device, "--quiet", "--out", out] + extra, capture_output=True,
                       text=True, check=False)
    if p.returncode:
        sys.exit("apps_bench: %s %s failed:\n%s%s" % (demo, app, p.stdout, p.stderr))
    name = "steps.jsonl" if app == "contact" else "iters.jsonl"
    with open(os.path.join(out, name)) as f:
        return [json.loads(line) for line in f]


def summary(app, device, recs):
    """One JSON object for a run: total time, its parts and the checks of the app."""
    parts = {}
    for r in recs:
        for k, v in r["time"].items():
            parts[k] = parts.get(k, 0.0) + v
    total = parts.pop("step" if app == "contact" else "iteration")
    line = {"bench": "app", "app": app, "backend": device.split(":")[0], "device": device, "seconds": round(total, 4),
            "parts": {k: round(v, 4) for k, v in parts.items()}}
    if app == "embedded":  # per iteration: the median, and its parts
        its = sorted(recs, key=lambda r: r["time"]["iteration"])
        med = its[len(its) // 2]["time"]
        total = med["iteration"]
        line.update(seconds_per_iter=round(total, 4), parts_median={k: round(v, 4) for k, v in med.items()},
                    iters=len(recs), energy0=recs[0]["energy"], energy=recs[-1]["energy"],
                    first_iter_s=round(recs[0]["time"]["iteration"], 4))
    elif app == "contact":
        line.update(steps=len(recs), newton=sum(r["newton"] for r in recs),
                    min_distance=min(r["min_distance"] for r in recs),
                    intersections=sum(r["intersections"] for r in recs))
    else:
        line.update(iters=len(recs), energy0=recs[0]["energy"], energy=recs[-1]["energy"],
                    min_orientation=min(r["min_orientation"] for r in recs))
    target = TARGETS.get((app, line["backend"]))
    if target is not None:
        line.update(target_s=target, meets_target=total <= target)
    return line


def main():
    """Runs the chosen apps and prints their lines."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--apps", default="contact,frames,embedded")
    ap.add_argument("--linear", default="cholmod", help="embedded: cholmod or pcg")
    args = ap.parse_args()
    demo = os.path.join(args.build, "engine", "locad-demo")
    if not os.access(demo, os.X_OK):
        sys.exit("apps_bench: %s missing: build the locad-demo target" % demo)
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for app in args.apps.split(","):
                recs = run_app(demo, app, args.device, os.path.join(tmp, app), args.linear)
                line = summary(app, args.device, recs)
                if app == "embedded":
                    line["linear"] = args.linear
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
