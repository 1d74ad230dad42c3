#!/usr/bin/python3
"""UV parameterization: symmetric Dirichlet from the Tutte layout of a shared mesh, with the
convergence recorded from progress notifications. Writes the UV OBJ and, when matplotlib is
installed, PNGs of the UV layout and of the convergence curve.

    /usr/bin/python3 clients/python/examples/uv_param.py [-a ADDRESS] [--mesh camelhead]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import locad  # noqa: E402  pylint: disable=wrong-import-position
from locad.problem import find_file, write_obj  # noqa: E402  pylint: disable=wrong-import-position

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None


def plot(uv, F, curve, prefix):
    """Writes PREFIX_layout.png and PREFIX_convergence.png (needs matplotlib)."""
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.triplot(uv[:, 0], uv[:, 1], F, lw=0.2, color="k")
    ax.set_aspect("equal")
    ax.set_title("UV layout")
    fig.savefig(prefix + "_layout.png", dpi=150)
    fig, ax = plt.subplots(figsize=(6, 4))
    it, e, g = np.array(curve).T
    ax.semilogy(it, e - e.min() + 1e-12, label="E - E_min")
    ax.semilogy(it, g, label="|grad|")
    ax.set_xlabel("iteration")
    ax.legend()
    fig.tight_layout()
    fig.savefig(prefix + "_convergence.png", dpi=120)
    print(f"wrote {prefix}_layout.png, {prefix}_convergence.png")


def main():
    """Loads, solves with progress, writes outputs."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-a", "--address", default=os.environ.get("LOCAD_ADDRESS", "127.0.0.1:7878"))
    ap.add_argument("--mesh", default="camelhead")
    ap.add_argument("--method", default="newton")
    ap.add_argument("--iters", type=int, default=50)
    args = ap.parse_args()
    curve = []
    with locad.Client(args.address, timeout=600) as c:
        m = c.mesh_load_file(find_file(args.mesh + ".obj"))
        F = c.mesh_info(m["mesh"], arrays=True)["F"]
        V = c.mesh_info(m["mesh"], arrays=True)["V"]
        uv0 = np.loadtxt(find_file(args.mesh + ".tutte_uv.txt"), ndmin=2)
        pid = c.problem_create(m["mesh"], variables=[{"name": "uv", "dim": 2,
                                                      "init": uv0}])["problem"]
        c.add_term(pid, "symmetric_dirichlet", "uv")
        r = c.solve(pid, method=args.method, options={"max_iters": args.iters}, returns=True,
                    progress=lambda i: curve.append((i["iter"], i["energy"], i["gnorm"])))
        uv = r["variables"][0]
        c.delete(pid)
        c.delete(m["mesh"])
    print(f"{args.mesh}: {r['reason']} after {r['iters']} iterations, E = {r['energy']:.9g}, "
          f"{r['t_total']:.2f} s")
    write_obj(f"{args.mesh}_uv.obj", V, F, uv=uv)
    if plt is not None and curve:
        plot(uv, F, curve, f"{args.mesh}_uv")
    elif plt is None:
        print("matplotlib not installed: no PNGs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
