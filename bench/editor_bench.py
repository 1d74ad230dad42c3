#!/usr/bin/python3
"""editor_bench.py - interactive ARAP editing frames through the daemon, as an editor sends them.

    /usr/bin/python3 bench/editor_bench.py [--bin build/server/locad] [--meshes camelhead,face,...]
                                           [--frames 60] [--lg-iters 4] [--newton-iters 1]

For each mesh it starts from the rest shape with two handle regions (the vertices within 5% of
either end of the longest bounding-box axis), keeps the low one in place and drags the high one
along a path (up to 25% of the bounding-box diagonal sideways and a 30 degree turn) over --frames
frames. Each frame is one problem.solve request that moves the handles ("fix" with values), runs
the solver and returns every position ("return": ["x"]), exactly what the browser editor sends.

Methods, side by side in one run on one daemon:
  local_global  --lg-iters local-global iterations per frame (Anderson-accelerated, --anderson);
                the Laplacian factor is made on the first frame and kept (the handle set stays)
  newton        --newton-iters projected-Newton iterations per frame (the path before local_global)

Per mesh and method, one JSON line: the round trip per frame (client send to positions decoded)
and the daemon's own time (t_total; the p50 of its local steps and energies, t_deriv, and of its
global steps, t_linear), p50 and p95 in ms, over every frame but the first (which makes
the factorisation; its time is reported apart as first_ms), the energy after the last drag frame,
after 20 more frames with the handles held still (energy_held_20), and what 300 Newton iterations
from there reach (energy_converged).  The triangle ARAP energy has no bending stiffness, so its
minimisers form a family: a lower energy_converged than the held one says how far a method still
is from a minimum, not that it heads to the same one.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import locad  # noqa: E402
from locad.problem import read_obj  # noqa: E402
from daemon_bench import cpu_name, start_daemon  # noqa: E402

MESH_DIR = os.environ.get("LOCAD_MESHES", os.path.join(ROOT, "..", "shared", "meshes"))


def handles(V):
    """The low and high handle vertices along the longest axis, and that axis."""
    ext = V.max(0) - V.min(0)
    ax = int(np.argmax(ext))
    t = (V[:, ax] - V[:, ax].min()) / ext[ax]
    return np.nonzero(t < 0.05)[0].astype(np.int32), np.nonzero(t > 0.95)[0].astype(np.int32), ax


def targets(V, hi, ax, s):
    """High-handle positions at drag parameter s in [0, 1]: a turn about the handle centre's
    axis ax and a sideways move."""
    diag = float(np.linalg.norm(V.max(0) - V.min(0)))
    side = (ax + 1) % 3
    c = V[hi].mean(0)
    a = np.radians(30.0) * s
    P = V[hi] - c
    u, w = side, (ax + 2) % 3
    Q = P.copy()
    Q[:, u] = np.cos(a) * P[:, u] - np.sin(a) * P[:, w]
    Q[:, w] = np.sin(a) * P[:, u] + np.cos(a) * P[:, w]
    Q += c
    Q[:, side] += 0.25 * diag * s
    return Q


def positions(r):
    """The returned positions, whichever way the client keys variables."""
    v = r["variables"]
    try:
        return np.asarray(v["x"])
    except (KeyError, TypeError, IndexError):
        return np.asarray(v[0])


def one_method(c, V, F, method, iters, frames, anderson):
    """Runs the drag with one method; returns its record fields."""
    lo, hi, ax = handles(V)
    m = c.mesh_create(V, F)["mesh"]
    p = c.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
    c.add_term(p, "arap", "x")
    c.fix(p, "x", entities=lo)
    rt, dt, dl, dg, first = [], [], [], [], None
    opts = {"max_iters": iters, "progress_every": 0, "gtol": 0.0}
    if method == "local_global":
        opts["anderson"] = anderson
    for f in range(frames):
        H = targets(V, hi, ax, (f + 1) / frames)
        t0 = time.perf_counter()
        r = c.solve(p, method=method, options=opts, fix={"var": "x", "entities": hi, "values": H},
                    returns=["x"])
        X = positions(r)
        t = (time.perf_counter() - t0) * 1e3
        assert X.shape == V.shape and np.isfinite(r["energy"])
        if f == 0:
            first = t
        else:
            rt.append(t)
            dt.append(r["t_total"] * 1e3)
            dl.append(r["t_deriv"] * 1e3)
            dg.append(r["t_linear"] * 1e3)
    e_drag = r["energy"]
    H = targets(V, hi, ax, 1.0)
    for _ in range(20):  # the user holds the handles still: the editor keeps sending frames
        e_hold = c.solve(p, method=method, options=opts, fix={"var": "x", "entities": hi, "values": H})["energy"]
    ref = c.solve(p, method="newton", options={"max_iters": 300, "progress_every": 0})["energy"]
    c.delete(p)
    c.delete(m)
    q = lambda a, pct: round(float(np.percentile(a, pct)), 2)  # noqa: E731
    return {"rt_p50_ms": q(rt, 50), "rt_p95_ms": q(rt, 95), "daemon_p50_ms": q(dt, 50),
            "daemon_p95_ms": q(dt, 95), "daemon_deriv_p50_ms": q(dl, 50), "daemon_linear_p50_ms": q(dg, 50),
            "first_ms": round(first, 1), "energy_drag_end": e_drag,
            "energy_held_20": e_hold, "energy_converged": ref}


def main():
    """Runs every mesh and method; prints one JSON line each."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "server", "locad"))
    ap.add_argument("--meshes", default="camelhead,face,armadillo,grid_224")
    ap.add_argument("--methods", default="local_global,newton")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--lg-iters", type=int, default=4)
    ap.add_argument("--newton-iters", type=int, default=1)
    ap.add_argument("--anderson", type=int, default=5, help="local_global's Anderson history (0: off)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_daemon(a.bin, tmp)
        try:
            with locad.Client(f"127.0.0.1:{port}", timeout=600) as c:
                for name in a.meshes.split(","):
                    V, F = read_obj(os.path.join(MESH_DIR, name + ".obj"))
                    for method in a.methods.split(","):
                        iters = a.lg_iters if method == "local_global" else a.newton_iters
                        rec = {"system": "locad-daemon", "what": "editor_arap_frame", "device": cpu_name(),
                               "mesh": name, "n_vertices": int(V.shape[0]), "method": method,
                               "iters_per_frame": iters, "frames": a.frames,
                               "anderson": a.anderson if method == "local_global" else None}
                        rec.update(one_method(c, V, F, method, iters, a.frames, a.anderson))
                        print(json.dumps(rec), flush=True)
        finally:
            proc.terminate()
            proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
