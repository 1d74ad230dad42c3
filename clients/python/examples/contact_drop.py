#!/usr/bin/python3
"""Contact scene S1 through the daemon: two icosphere shells fall onto a floor plane and onto each
other (StVK + bending shells, implicit Euler h = 0.01, contact with dhat = 0.01). Writes one OBJ
per step, one JSON record per step and a PNG of the last frame into --out.

    /usr/bin/python3 clients/python/examples/contact_drop.py [-a ADDRESS] [--steps 100] [--out DIR]

The same scene runs in-process as `build/engine/locad-demo contact`.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import locad  # noqa: E402  pylint: disable=wrong-import-position
from locad.problem import write_obj  # noqa: E402  pylint: disable=wrong-import-position


def icosphere(level):
    """Unit icosphere: 12 vertices, each level splits every face in four."""
    t = (1 + 5 ** 0.5) / 2
    V = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t),
         (0, 1, -t), (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    V = [np.array(v, dtype=float) / np.linalg.norm(v) for v in V]
    F = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4),
         (11, 10, 2), (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9),
         (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    for _ in range(level):
        mid, G = {}, []

        def m(a, b):
            key = (min(a, b), max(a, b))
            if key not in mid:
                p = V[a] + V[b]
                V.append(p / np.linalg.norm(p))
                mid[key] = len(V) - 1
            return mid[key]

        for a, b, c in F:
            ab, bc, ca = m(a, b), m(b, c), m(c, a)
            G += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        F = G
    return np.array(V), np.array(F, dtype=np.int32)


def scene():
    """Two spheres of radius 0.5 at y = 0.6 and y = 1.85 as one mesh."""
    V, F = icosphere(3)
    V0 = 0.5 * V + [0, 0.6, 0]
    V1 = 0.5 * V + [0, 1.85, 0]
    return np.vstack([V0, V1]), np.vstack([F, F + len(V)])


def render(path, X, F):
    """The last frame as a PNG (matplotlib, Agg; skipped without it)."""
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
    except ImportError:
        print("no PNG: matplotlib is missing (apt-get install python3-matplotlib)")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection  # pylint: disable=import-outside-toplevel
    fig = plt.figure(figsize=(6, 6))
    ax = fig.add_subplot(projection="3d")
    nf = len(F)
    base = np.array([[0.12, 0.47, 0.71]] * (nf // 2) + [[1.0, 0.5, 0.05]] * (nf - nf // 2))
    tri = X[:, [0, 2, 1]][F]  # y up
    nrm = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    nrm /= np.linalg.norm(nrm, axis=1)[:, None]
    light = np.array([0.4, -0.6, 0.7]) / np.linalg.norm([0.4, -0.6, 0.7])
    shade = np.clip(0.45 + 0.55 * np.abs(nrm @ light), 0, 1)  # flat shading (matplotlib 3.6 has no shade=)
    ax.add_collection3d(Poly3DCollection(tri, facecolors=base * shade[:, None], edgecolors="none"))
    ax.add_collection3d(Poly3DCollection([[[-1.5, -1.5, 0], [1.5, -1.5, 0], [1.5, 1.5, 0], [-1.5, 1.5, 0]]],
                                         facecolors="0.8"))
    ax.set_xlim(-1.2, 1.2), ax.set_ylim(-1.2, 1.2), ax.set_zlim(0, 2.4)
    ax.set_box_aspect((1, 1, 1))
    ax.set_axis_off()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main():
    """Sets up S1 on the daemon and steps it, recording every step."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("-a", "--address", default=os.environ.get("LOCAD_ADDRESS", "127.0.0.1:7878"))
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--out", default="contact-drop")
    ap.add_argument("--friction", type=float, default=0.0, help="friction coefficient (default 0: none)")
    args = ap.parse_args()
    V, F = scene()
    h, area = 0.01, 2 * 4 * np.pi * 0.25 / len(V)
    os.makedirs(os.path.join(args.out, "frames"), exist_ok=True)
    with locad.Client(args.address, timeout=600) as c, open(os.path.join(args.out, "steps.jsonl"), "w") as rec:
        mid = c.mesh_create(V, F)["mesh"]
        pid = c.problem_create(mid, variables=[{"name": "x", "dim": 3}])["problem"]
        # the shells keep exact Hessians (project=False), the contact barriers are projected
        c.add_term(pid, "stvk", "x", weight=h * h, params={"mu": 2e3, "lambda": 1e3}, project=False)
        c.add_term(pid, "bending", "x", weight=h * h, params={"k": 1.0}, project=False)
        inertia = c.add_term(pid, "inertia", "x", params={"density": 1.0})["term"]
        c.add_term(pid, "gravity", "x", weight=h * h, params={"gx": 0, "gy": -9.81, "gz": 0, "density": 1.0})
        c.set_contact(pid, var="x", dhat=0.01, kappa=1e3, planes=[[0, 0, 0, 0, 1, 0]], friction=args.friction)
        options = {"max_iters": 100, "gtol": 1e-2 * h * h * area * 9.81}
        X = V
        for k in range(1, args.steps + 1):
            t0 = time.perf_counter()
            r = c.step(pid, h=h, var="x", inertia_term=inertia, options=options, returns=["x"])
            X = r["variables"][0]
            ct = r["contact"]
            assert ct["min_distance"] > 0, "step %d: distance %g" % (k, ct["min_distance"])
            rec.write(json.dumps({"step": k, "newton": r["iters"], "min_distance": ct["min_distance"],
                                  "active": ct["active"], "kinetic": r["kinetic"],
                                  "seconds": time.perf_counter() - t0}) + "\n")
            write_obj(os.path.join(args.out, "frames", "frame_%04d.obj" % k), X, F)
            print("step %3d  newton %2d  min distance %.3e  active %s" % (k, r["iters"], ct["min_distance"],
                                                                         ct["active"]))
        png = render(os.path.join(args.out, "final.png"), X, F)
        c.delete(pid)
        c.delete(mid)
    print("wrote %s/{frames/, steps.jsonl%s}" % (args.out, ", final.png" if png else ""))


if __name__ == "__main__":
    main()
