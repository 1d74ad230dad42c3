#!/usr/bin/python3
"""Interactive ARAP editing loop: each frame moves a handle vertex and runs one problem.solve
that fixes the handles and returns the positions in the same round trip; prints frame times.
The solver is local_global: the Laplacian is factorised on the first frame and kept, since the
set of handles does not change (--method newton for the projected-Newton path).

    /usr/bin/python3 clients/python/examples/arap_interactive.py [-a ADDRESS] [--n 40]
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import locad  # noqa: E402  pylint: disable=wrong-import-position
from locad.problem import grid_mesh, write_obj  # noqa: E402  pylint: disable=wrong-import-position


def main():
    """Sets up an ARAP sheet, then drags one corner around a circle."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-a", "--address", default=os.environ.get("LOCAD_ADDRESS", "127.0.0.1:7878"))
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--iters", type=int, default=4, help="solver iterations per frame")
    ap.add_argument("--method", default="local_global", choices=["local_global", "newton"])
    ap.add_argument("--obj", default="arap_last.obj", help="where the last frame's mesh goes")
    args = ap.parse_args()
    n = args.n
    V, F = grid_mesh(n)
    anchors = np.arange(n, dtype=np.int32)          # bottom row stays put
    handle = n * n - 1                               # top-right corner is dragged
    times = []
    with locad.Client(args.address, timeout=60) as c:
        mid = c.mesh_create(V, F)["mesh"]
        pid = c.problem_create(mid, variables=[{"name": "x", "dim": 3}])["problem"]
        c.add_term(pid, "arap", "x")
        c.fix(pid, "x", entities=anchors)
        for frame in range(args.frames):
            a = 2 * np.pi * frame / args.frames
            target = V[handle] + 0.3 * np.array([np.cos(a) - 1, np.sin(a), 0.5 * np.sin(a)])
            t0 = time.perf_counter()
            r = c.solve(pid, method=args.method, options={"max_iters": args.iters, "gtol": 0.0,
                                                          "progress_every": 0},
                        fix={"var": "x", "entities": [handle], "values": [target]},
                        returns=["x"])
            dt = time.perf_counter() - t0
            times.append(dt)
            X = r.variables["x"]
            print(f"frame {frame:3d}  {dt * 1e3:7.2f} ms (daemon {r['t_total'] * 1e3:7.2f} ms)"
                  f"  E = {r['energy']:.5g}  handle error = "
                  f"{np.linalg.norm(X[handle] - target):.1e}", flush=True)
        write_obj(args.obj, V, F, X=X)
        c.delete(pid)
        c.delete(mid)
    t = np.array(times) * 1e3
    print(f"{len(t)} frames: p50 {np.percentile(t, 50):.2f} ms, p99 {np.percentile(t, 99):.2f} ms,"
          f" {1e3 / t.mean():.0f} frames/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
