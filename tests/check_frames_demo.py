"""check_frames_demo.py - checks what `locad-demo frames` wrote (CTest demo_frames).

usage: check_frames_demo.py DIR ITERS

DIR/iters.jsonl must hold ITERS consecutive records with finite, falling energy at
the first and last and every face oriented (min_orientation > 0); DIR/field.rawfield
must hold "4 nf" and nf rows of 12 numbers whose first two vectors are unit-free
tangent directions (alpha, beta, -alpha, -beta); DIR/final.png must be a valid PNG.
"""
import json
import math
import os
import sys

from check_contact_demo import check_png


def check_records(path, iters):
    recs = [json.loads(line) for line in open(path)]
    assert [r["iter"] for r in recs] == list(range(1, iters + 1)), "records are not iterations 1..%d" % iters
    assert all(math.isfinite(r["energy"]) and r["min_orientation"] > 0 for r in recs)
    assert recs[-1]["energy"] < recs[0]["energy"], "the energy did not fall"


def check_rawfield(path):
    with open(path) as f:
        n, nf = (int(t) for t in f.readline().split())
        rows = [[float(t) for t in line.split()] for line in f]
    assert n == 4 and len(rows) == nf > 0, "header %d %d, %d rows" % (n, nf, len(rows))
    for r in rows:
        assert len(r) == 12 and all(math.isfinite(v) for v in r)
        assert all(abs(r[i] + r[6 + i]) < 1e-9 for i in range(6)), "the last two vectors are not -alpha, -beta"


def main():
    out, iters = sys.argv[1], int(sys.argv[2])
    check_records(os.path.join(out, "iters.jsonl"), iters)
    check_rawfield(os.path.join(out, "field.rawfield"))
    check_png(os.path.join(out, "final.png"))
    print("frames demo output ok: %d iterations" % iters)


if __name__ == "__main__":
    main()
