#!/usr/bin/python3
"""Integrable PolyVector frame field on cheburashka through the daemon
(shared/reference-values.md section 2): the input field (cheburashka.rawfield) as one face
variable of 4 reals (alpha, beta as complex numbers in each face's frame), smoothness and curl
residuals on every interior edge, closeness and barrier residuals on every face, and 60
Gauss-Newton iterations of the reference schedule (references moved to the iterate after each
iteration, w_s x 0.8 every 5). Writes field.rawfield, iters.jsonl and final.png into --out.

    /usr/bin/python3 clients/python/examples/frame_field.py [-a ADDRESS] [--iters 60] [--constrain 0,..]
                                                            [--out DIR]

The same run is in-process as `build/engine/locad-demo frames`.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import locad  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))


def frames(V, F):
    """Each face's frame: b1 = normalize(x1 - x0), n = normalize(b1 x (x2 - x0)), b2 = n x b1."""
    x0, x1, x2 = V[F[:, 0]], V[F[:, 1]], V[F[:, 2]]
    b1 = x1 - x0
    b1 /= np.linalg.norm(b1, axis=1)[:, None]
    n = np.cross(b1, x2 - x0)
    n /= np.linalg.norm(n, axis=1)[:, None]
    return b1, np.cross(n, b1), n


def read_rawfield(path, b1, b2):
    """The first two vectors of each face as (Re a, Im a, Re b, Im b) in the face frames, beta
    negated where it turns clockwise from alpha (the same field)."""
    with open(path) as f:
        N, nf = (int(t) for t in f.readline().split())
        R = np.loadtxt(f).reshape(nf, 3 * N)
    a, b = R[:, 0:3], R[:, 3:6]
    x = np.stack([(a * b1).sum(1), (a * b2).sum(1), (b * b1).sum(1), (b * b2).sum(1)], axis=1)
    flip = x[:, 3] * x[:, 0] - x[:, 2] * x[:, 1] < 0
    x[flip, 2:] *= -1
    return x


def write_rawfield(path, x, b1, b2):
    """4 vectors per face: alpha, beta, -alpha, -beta in 3D."""
    a = x[:, 0:1] * b1 + x[:, 1:2] * b2
    b = x[:, 2:3] * b1 + x[:, 3:4] * b2
    np.savetxt(path, np.hstack([a, b, -a, -b]), fmt="%.10g", header="4 %d" % len(x), comments="")


def render(path, V, F, x, b1, b2, n):
    """The mesh with the field as crosses (alpha red, beta blue); matplotlib, Agg."""
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
    except ImportError:
        print("no PNG: matplotlib is missing (apt-get install python3-matplotlib)")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection  # pylint: disable=import-outside-toplevel
    elev, azim = np.radians(10), np.radians(80)
    cam = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
    front = n[:, [0, 2, 1]] @ cam > 0  # plotted with y up: (x, z, y); matplotlib has no depth test
    c = V[F].mean(axis=1) + 0.002 * n
    edge = np.linalg.norm(V[F[:, 1]] - V[F[:, 0]], axis=1).mean()
    fig = plt.figure(figsize=(8, 8))
    ax = fig.add_subplot(projection="3d")
    shade = 0.45 + 0.5 * np.abs(n[:, [0, 2, 1]] @ cam)  # flat shading, light from the viewer
    ax.add_collection3d(Poly3DCollection(V[F][front][:, :, [0, 2, 1]], edgecolors="none",
                                         facecolors=np.outer(shade[front], [1, 1, 1]) * 0.9))
    for k, col in ((0, "tab:red"), (2, "tab:blue")):
        d = x[:, k:k + 1] * b1 + x[:, k + 1:k + 2] * b2
        d *= 0.4 * edge / np.linalg.norm(d, axis=1)[:, None]
        seg = np.stack([c - d, c + d], axis=1)[front][:, :, [0, 2, 1]]
        ax.add_collection3d(Line3DCollection(seg, colors=col, linewidths=0.4))
    lo, hi = V.min(0)[[0, 2, 1]], V.max(0)[[0, 2, 1]]
    mid, r = (lo + hi) / 2, 0.6 * (hi - lo).max() / 2
    ax.set_xlim(mid[0] - r, mid[0] + r), ax.set_ylim(mid[1] - r, mid[1] + r), ax.set_zlim(mid[2] - r, mid[2] + r)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=10, azim=80)
    ax.set_axis_off()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main():
    """Runs the schedule on the daemon and writes the outputs."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("-a", "--address", default=os.environ.get("LOCAD_ADDRESS", "127.0.0.1:7878"))
    ap.add_argument("--meshes", default=os.environ.get("LOCAD_MESHES", os.path.join(HERE, "..", "..", "..", "..",
                                                                                 "shared", "meshes")))
    ap.add_argument("--iters", type=int, default=60)
    ap.add_argument("--constrain", default="0", help="comma-separated constrained faces (default 0)")
    ap.add_argument("--out", default="frame-field")
    args = ap.parse_args()
    V, F = locad.read_obj(os.path.join(args.meshes, "cheburashka.obj"))
    b1, b2, n = frames(V, F)
    x = read_rawfield(os.path.join(args.meshes, "cheburashka.rawfield"), b1, b2)
    os.makedirs(args.out, exist_ok=True)
    fixed = np.unique(np.array([int(t) for t in args.constrain.split(",")], dtype=np.int32))
    if fixed.min() < 0 or fixed.max() >= len(F):
        sys.exit("--constrain: faces must be in [0, %d)" % len(F))
    ws, free = 1.0, np.setdiff1d(np.arange(len(F), dtype=np.int32), fixed)
    with locad.Client(args.address, timeout=600) as c, open(os.path.join(args.out, "iters.jsonl"), "w") as rec:
        mid = c.mesh_create(V, F)["mesh"]
        pid = c.problem_create(mid, variables=[{"name": "field", "dim": 4, "loc": "face", "init": x}])["problem"]
        smooth = c.add_term(pid, "ff_smooth", "field", weight=ws)["term"]
        c.add_term(pid, "ff_curl", "field")
        c.add_term(pid, "ff_close", "field", weight=100.0, elements=fixed[:, None], consts=x[fixed])
        close = c.add_term(pid, "ff_close", "field", weight=1e-3, elements=free[:, None], consts=x[free])["term"]
        c.add_term(pid, "ff_barrier", "field")
        t0 = time.perf_counter()
        for k in range(1, args.iters + 1):
            r = c.solve(pid, method="gauss_newton", options={"max_iters": 1, "gtol": 0}, returns=["field"])
            x = r["variables"][0]
            c.set_term(pid, close, consts=x[free])
            im = x[:, 3] * x[:, 0] - x[:, 2] * x[:, 1]
            rec.write(json.dumps({"iter": k, "energy": r["energy"], "w_s": ws, "min_orientation": float(im.min()),
                                  "seconds": time.perf_counter() - t0}) + "\n")
            print("it %2d  E %.6e  min Im(beta conj alpha) %.4f" % (k, r["energy"], im.min()))
            if k % 5 == 0:
                ws *= 0.8
                c.set_term(pid, smooth, weight=ws)
        c.delete(pid)
        c.delete(mid)
    write_rawfield(os.path.join(args.out, "field.rawfield"), x, b1, b2)
    png = render(os.path.join(args.out, "final.png"), V, F, x, b1, b2, n)
    print("wrote %s/{field.rawfield, iters.jsonl%s}" % (args.out, ", final.png" if png else ""))


if __name__ == "__main__":
    main()
