#!/usr/bin/python3
"""locad demo: UV-parameterize a shared test mesh through a running daemon.

    /usr/bin/python3 clients/python/demo.py [-a 127.0.0.1:7878] [--mesh camelhead] [-o out.obj]

Loads the mesh (from $LOCAD_MESHES or ../shared/meshes) with its Tutte UV layout, minimizes the
symmetric Dirichlet energy with projected Newton while printing progress, checks the result (finite,
energy decreased, no flipped triangle) and writes an OBJ with the UVs. Exits non-zero on failure.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import locad  # noqa: E402  pylint: disable=wrong-import-position
from locad.problem import find_file, write_obj  # noqa: E402  pylint: disable=wrong-import-position


def signed_areas(uv, F):
    """Signed areas of the UV triangles."""
    a, b, c = uv[F[:, 0]], uv[F[:, 1]], uv[F[:, 2]]
    return 0.5 * ((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])


def rest_area(V, F):
    """Total area of the 3D mesh."""
    return 0.5 * np.linalg.norm(np.cross(V[F[:, 1]] - V[F[:, 0]], V[F[:, 2]] - V[F[:, 0]]),
                                axis=1).sum()


def run(c, mesh, out, iters):
    """The demo proper; returns 0 on success."""
    t0 = time.perf_counter()
    m = c.mesh_load_file(find_file(mesh + ".obj"))
    info = c.mesh_info(m["mesh"], arrays=True)
    V, F = info["V"], info["F"]
    uv0 = np.loadtxt(find_file(mesh + ".tutte_uv.txt"), ndmin=2)
    p = c.problem_create(m["mesh"], variables=[{"name": "uv", "dim": 2, "init": uv0}])
    pid = p["problem"]
    try:
        c.add_term(pid, "symmetric_dirichlet", "uv")
        e0 = c.eval(pid)["energy"]
        print(f"{mesh}: {m['nv']} vertices, {m['nf']} faces, {info['boundary_loops']} boundary "
              f"loop(s); Tutte energy {e0:.6g} (setup {time.perf_counter() - t0:.2f} s)")
        r = c.solve(pid, method="newton", options={"max_iters": iters, "gtol": 1e-6},
                    returns=["uv"], progress=lambda i: print(
                        f"  iter {i['iter']:3d}  E = {i['energy']:.9g}  |g| = {i['gnorm']:.2e}"
                        f"  step = {i['step']:.3g}", flush=True))
        uv = r["variables"][0]
        write_obj(out, V, F, uv=uv)
    finally:
        c.delete(pid)
        c.delete(m["mesh"])
    lower = 4.0 * rest_area(V, F)
    flipped = int((signed_areas(uv, F) <= 0).sum())
    print(f"{r['reason']} after {r['iters']} iterations in {r['t_total']:.2f} s (daemon): "
          f"E = {r['energy']:.9g} ({r['energy'] / lower:.4f} x the isometric bound 4A), "
          f"|g| = {r['gnorm']:.2e}, flipped triangles: {flipped}")
    print(f"wrote {out}")
    ok = np.all(np.isfinite(uv)) and r["energy"] < e0 and flipped == 0 and \
        r["reason"] not in ("infeasible", "cancelled", "line_search")
    if not ok:
        print("demo: FAILED", file=sys.stderr)
    return 0 if ok else 1


def main():
    """Parses the command line and runs the demo."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-a", "--address", default=os.environ.get("LOCAD_ADDRESS", "127.0.0.1:7878"))
    ap.add_argument("--token", default=os.environ.get("LOCAD_TOKEN"))
    ap.add_argument("--mesh", default="camelhead", help="a mesh with a .tutte_uv.txt file")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("-o", "--output", default=None)
    args = ap.parse_args()
    out = args.output or f"{args.mesh}_uv.obj"
    try:
        with locad.Client(args.address, timeout=600, token=args.token) as c:
            return run(c, args.mesh, out, args.iters)
    except (locad.LocadError, OSError, ValueError) as e:
        print(f"demo: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
