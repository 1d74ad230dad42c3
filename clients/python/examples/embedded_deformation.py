#!/usr/bin/python3
"""Embedded deformation of armadillo through the daemon (shared/reference-values.md section 3):
every vertex is a node with 12 variables [t(3), A(9) row-major] starting at the identity; fit
residuals on four handle regions (the vertices within 8% of the bounding-box diagonal of the
lowest, highest, leftmost and rightmost vertex, y up), rotation residuals on every node and
regularisation residuals on every edge, solved by Gauss-Newton with the direct solve or PCG. The
lowest region stays, the highest moves forward (+z, 12% of the diagonal), the side ones up (+y,
10%); --rigid moves all four by one rigid motion (exact solution: zero energy). Writes
iters.jsonl, before.png, after.png and deformed.obj into --out. The nodes' matrices are eliminated
from each Gauss-Newton system first (static condensation: options.condense), unless --no-condense.

    /usr/bin/python3 clients/python/examples/embedded_deformation.py [-a ADDRESS] [--mesh armadillo]
        [--iters 20] [--linear cholmod|pcg] [--rigid] [--no-condense] [--out DIR]

The same run is in-process as `build/engine/locad-demo embedded`.
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
COLOURS = ["#3c3cc8", "#c82828", "#28a03c", "#dc8c14"]


def handles(V, rigid):
    """Handle vertices, their regions and targets (as the engine app picks them)."""
    diag = np.linalg.norm(V.max(0) - V.min(0))
    centres = [V[:, 1].argmin(), V[:, 1].argmax(), V[:, 0].argmin(), V[:, 0].argmax()]
    d2 = np.stack([((V - V[c]) ** 2).sum(1) for c in centres], axis=1)
    inside = d2 <= (0.08 * diag) ** 2
    region = np.where(inside.any(1), inside.argmax(1), -1)
    hv = np.nonzero(region >= 0)[0].astype(np.int32)
    reg, P = region[hv], V[hv]
    if rigid:
        a = np.pi / 6
        R = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        Q = P @ R.T + [0.1 * diag, 0, 0]
    else:
        Q = P.copy()
        Q[reg == 1, 2] += 0.12 * diag
        Q[reg >= 2, 1] += 0.10 * diag
    return hv, reg, Q


def errors(nodes, V, hv, Q):
    """max |p + t - q| over the handles and max |A^T A - I| over the nodes."""
    herr = np.abs(V[hv] + nodes[hv, :3] - Q).max()
    A = nodes[:, 3:].reshape(-1, 3, 3)
    orth = np.abs(np.einsum("nki,nkj->nij", A, A) - np.eye(3)).max()
    return float(herr), float(orth)


def render(path, V, F, region_of_face, lo, hi):
    """Flat-shaded mesh, handle regions in colour, seen from the front; matplotlib, Agg."""
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
    except ImportError:
        print("no PNG: matplotlib is missing (apt-get install python3-matplotlib)")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection  # pylint: disable=import-outside-toplevel
    T = V[F][:, :, [0, 2, 1]]  # plotted with y up: (x, z, y)
    n = np.cross(T[:, 1] - T[:, 0], T[:, 2] - T[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1), 1e-300)[:, None]
    elev, azim = np.radians(15), np.radians(-70)
    cam = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
    depth = T.mean(1) @ cam
    order = np.argsort(depth)  # painter's algorithm: far faces first
    shade = 0.35 + 0.6 * np.abs(n @ cam)
    base = np.tile([0.85, 0.85, 0.85], (len(F), 1))
    for g, c in enumerate(COLOURS):
        base[region_of_face == g] = matplotlib.colors.to_rgb(c)
    fig = plt.figure(figsize=(7, 8))
    ax = fig.add_subplot(projection="3d")
    ax.add_collection3d(Poly3DCollection(T[order], edgecolors="none", facecolors=base[order] * shade[order, None]))
    lo, hi = lo[[0, 2, 1]], hi[[0, 2, 1]]
    mid, r = (lo + hi) / 2, 0.62 * (hi - lo).max()
    ax.set_xlim(mid[0] - r, mid[0] + r), ax.set_ylim(mid[1] - r, mid[1] + r), ax.set_zlim(mid[2] - r, mid[2] + r)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=15, azim=-70)
    ax.set_axis_off()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main():
    """Builds the problem on the daemon, runs Gauss-Newton and writes the outputs."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("-a", "--address", default=os.environ.get("LOCAD_ADDRESS", "127.0.0.1:7878"))
    ap.add_argument("--meshes", default=os.environ.get("LOCAD_MESHES", os.path.join(HERE, "..", "..", "..", "..",
                                                                                 "shared", "meshes")))
    ap.add_argument("--mesh", default="armadillo")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--gtol", type=float, default=1e-9)
    ap.add_argument("--linear", choices=["cholmod", "pcg"], default="cholmod")
    ap.add_argument("--rigid", action="store_true", help="move every handle by one rigid motion")
    ap.add_argument("--no-condense", action="store_true",
                    help="solve the full system (default: the nodes' matrices are eliminated first)")
    ap.add_argument("--out", default="embedded-deformation")
    args = ap.parse_args()
    V, F = locad.read_obj(os.path.join(args.meshes, args.mesh + ".obj"))
    hv, reg, Q = handles(V, args.rigid)
    nodes = np.zeros((len(V), 12))
    nodes[:, [3, 7, 11]] = 1.0
    os.makedirs(args.out, exist_ok=True)
    options = {"max_iters": 1, "gtol": args.gtol, "linear": args.linear, "progress_every": 0}
    if not args.no_condense:  # A_i couples to no other node's A_j: a 9 x 9 block per node, eliminated first
        options["condense"] = {"var": "node", "first": 3, "count": 9}
    if args.linear == "pcg":
        # one block per node: 12 x 12, or 3 x 3 once condensed
        options.update(lin_block=3 if not args.no_condense else 12, lin_rtol=1e-10, lin_max_iters=20000)
    with locad.Client(args.address, timeout=3600) as c, open(os.path.join(args.out, "iters.jsonl"), "w") as rec:
        mid = c.mesh_create(V, F)["mesh"]
        pid = c.problem_create(mid, variables=[{"name": "node", "dim": 12, "init": nodes}])["problem"]
        c.add_term(pid, "ed_fit", "node", elements=hv[:, None], consts=np.hstack([V[hv], Q]))
        c.add_term(pid, "ed_rot", "node")
        c.add_term(pid, "ed_reg", "node")
        t0 = time.perf_counter()
        for k in range(1, args.iters + 1):
            r = c.solve(pid, method="gauss_newton", options=options, returns=["node"])
            nodes = r["variables"][0]
            if r["iters"] == 0:  # the gradient tolerance held before this iteration
                break
            herr, orth = errors(nodes, V, hv, Q)
            rec.write(json.dumps({"iter": k, "energy": r["energy"], "gnorm": r["gnorm"], "handle_err": herr,
                                  "orth_err": orth, "t_linear": r["t_linear"], "t_deriv": r["t_deriv"],
                                  "seconds": time.perf_counter() - t0}) + "\n")
            print("it %2d  E %.6e  |g| %.3e  handles %.3e  |A^T A - I| %.3e" % (k, r["energy"], r["gnorm"], herr, orth))
        c.delete(pid)
        c.delete(mid)
    region = np.full(len(V), -1)
    region[hv] = reg
    rf = np.max(region[F], axis=1)
    lo, hi = V.min(0), V.max(0)
    Vd = V + nodes[:, :3]
    png = render(os.path.join(args.out, "before.png"), V, F, rf, lo, hi)
    render(os.path.join(args.out, "after.png"), Vd, F, rf, lo, hi)
    locad.write_obj(os.path.join(args.out, "deformed.obj"), Vd, F)
    print("wrote %s/{iters.jsonl, deformed.obj%s}" % (args.out, ", before.png, after.png" if png else ""))


if __name__ == "__main__":
    main()
