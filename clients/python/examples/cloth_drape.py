#!/usr/bin/python3
"""Cloth drape with implicit Euler (problem.step): a square cloth pinned at two corners falls
under gravity; prints per-frame kinetic energy and writes frames as OBJ.

    /usr/bin/python3 clients/python/examples/cloth_drape.py [-a ADDRESS] [--n 30] [--frames 30]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import locad  # noqa: E402  pylint: disable=wrong-import-position
from locad.problem import grid_mesh, write_obj  # noqa: E402  pylint: disable=wrong-import-position


def main():
    """Builds the cloth, steps it and writes OBJ frames."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-a", "--address", default=os.environ.get("LOCAD_ADDRESS", "127.0.0.1:7878"))
    ap.add_argument("--n", type=int, default=30, help="grid vertices per side")
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--h", type=float, default=1 / 30, help="time step (s)")
    ap.add_argument("--out", default="drape", help="OBJ prefix ('' writes only the last)")
    args = ap.parse_args()
    n, h = args.n, args.h
    V, F = grid_mesh(n)
    V[:, 2] = 1.0  # horizontal at height 1
    with locad.Client(args.address, timeout=120) as c:
        mid = c.mesh_create(V, F)["mesh"]
        pid = c.problem_create(mid, variables=[{"name": "x", "dim": 3}])["problem"]
        inertia = c.add_term(pid, "inertia", "x", params={"density": 0.3})["term"]
        c.add_term(pid, "stvk", "x", weight=h * h, params={"mu": 2000.0, "lambda": 2000.0})
        c.add_term(pid, "bending", "x", weight=h * h * 0.05)
        c.add_term(pid, "gravity", "x", weight=h * h, params={"density": 0.3})
        c.fix(pid, "x", entities=[0, n - 1])
        for frame in range(1, args.frames + 1):
            t0 = time.perf_counter()
            # the first call creates the stepper; later ones continue it (velocity kept)
            setup = dict(h=h, var="x", inertia_term=inertia) if frame == 1 else {}
            r = c.step(pid, returns=["x"], options={"max_iters": 20}, **setup)
            X = r["variables"][0]
            print(f"frame {frame:3d}  t = {r['time']:.3f} s  kinetic = {r['kinetic']:.4g}  "
                  f"max speed = {r['max_speed']:.3f}  iters = {r['iters']:2d}  "
                  f"{(time.perf_counter() - t0) * 1e3:6.1f} ms", flush=True)
            if args.out and (frame == args.frames or frame % 10 == 0):
                write_obj(f"{args.out}_{frame:03d}.obj", V, F, X=X)
        c.delete(pid)
        c.delete(mid)
    print(f"lowest point z = {X[:, 2].min():.3f} (pinned at z = 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
