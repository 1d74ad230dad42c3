"""check_embedded_demo.py - checks what `locad-demo embedded` wrote (CTest demo_embedded).

usage: check_embedded_demo.py DIR NV

DIR/iters.jsonl must hold consecutive records 1..k with finite energy that never rises, ending
with the handles met within 1e-6 and A^T A within 1e-3 of I (the demo runs --rigid);
DIR/deformed.obj must hold NV vertices; DIR/before.png and DIR/after.png must be valid PNGs.
"""
import json
import math
import os
import sys

from check_contact_demo import check_png


def check_records(path):
    recs = [json.loads(line) for line in open(path)]
    assert recs and [r["iter"] for r in recs] == list(range(1, len(recs) + 1)), "records are not iterations 1..k"
    assert all(math.isfinite(r["energy"]) for r in recs)
    assert all(b["energy"] <= a["energy"] for a, b in zip(recs, recs[1:])), "the energy rose"
    assert recs[-1]["handle_err"] <= 1e-6 and recs[-1]["orth_err"] <= 1e-3, recs[-1]
    return len(recs)


def main():
    out, nv = sys.argv[1], int(sys.argv[2])
    iters = check_records(os.path.join(out, "iters.jsonl"))
    with open(os.path.join(out, "deformed.obj")) as f:
        verts = sum(line.startswith("v ") for line in f)
    assert verts == nv, "deformed.obj: %d vertices, expected %d" % (verts, nv)
    check_png(os.path.join(out, "before.png"))
    check_png(os.path.join(out, "after.png"))
    print("embedded demo output ok: %d iterations" % iters)


if __name__ == "__main__":
    main()
