#!/usr/bin/python3
"""torch_frames.py - the PyTorch baseline of the frame-field benchmark (issue 12): integrable
PolyVector fields on cheburashka, shared/reference-values.md section 2, written the way a PyTorch
user would write them, side by side with `locad-demo frames` (bench/apps_bench.py).

The residuals (smoothness and curl per interior edge, closeness and the orientation barrier per
face) are vectorised float64 torch code over all elements; each Gauss-Newton iteration takes the
per-element Jacobians with functorch (vmap of jacrev), assembles J^T J and J^T r with scipy.sparse,
solves with scipy's sparse LU (SuperLU; scipy has no sparse Cholesky) and backtracks on the energy
(Armijo, halving; a step that makes a face's Im(beta conj alpha) <= 0 gives +inf). The schedule is
the app's: the free faces' references move to the iterate after each iteration, w_s x 0.8 every 5;
face 0 is constrained (weight 100), the others weigh 1e-3.

    /usr/bin/python3 bench/torch_frames.py [--iters 60] [--threads 2] [--device cpu] [--meshes DIR]

One JSON line: total seconds, the parts (jacobian, assembly, solve, line search), the energies, the
smallest Im(beta conj alpha), and the value-and-gradient time of the energy alone (autograd).
"""

import argparse
import json
import os
import time

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import torch
import functorch

from baseline_common import read_obj

HERE = os.path.dirname(os.path.abspath(__file__))
WC, WQ, BS, BW = 100.0, 10.0, 0.9, 0.1  # curl/quotient weights, barrier s and w (energy defaults)


def setup(V, F, raw):
    """Face frames, the field in them, the interior face pairs and their edge constants."""
    x0, x1, x2 = V[F[:, 0]], V[F[:, 1]], V[F[:, 2]]
    b1 = (x1 - x0) / np.linalg.norm(x1 - x0, axis=1)[:, None]
    n = np.cross(b1, x2 - x0)
    n /= np.linalg.norm(n, axis=1)[:, None]
    b2 = np.cross(n, b1)
    with open(raw) as f:
        N, nf = (int(t) for t in f.readline().split())
        R = np.loadtxt(f).reshape(nf, 3 * N)
    a, b = R[:, 0:3], R[:, 3:6]
    x = np.stack([(a * b1).sum(1), (a * b2).sum(1), (b * b1).sum(1), (b * b2).sum(1)], axis=1)
    flip = x[:, 3] * x[:, 0] - x[:, 2] * x[:, 1] < 0
    x[flip, 2:] *= -1
    owner = {}
    pairs, edges = [], []
    for f, tri in enumerate(F):
        for k in range(3):
            i, j = int(tri[k]), int(tri[(k + 1) % 3])
            key = (min(i, j), max(i, j))
            if key in owner:
                pairs.append((owner[key], f))
                edges.append(key)
            else:
                owner[key] = f
    pairs, edges = np.array(pairs), np.array(edges)
    u = V[edges[:, 1]] - V[edges[:, 0]]
    u /= np.linalg.norm(u, axis=1)[:, None]
    ef = np.stack([(b1[pairs[:, 0]] * u).sum(1), -(b2[pairs[:, 0]] * u).sum(1)], axis=1)  # conj(edge dir) in f
    eg = np.stack([(b1[pairs[:, 1]] * u).sum(1), -(b2[pairs[:, 1]] * u).sum(1)], axis=1)
    return x, pairs, ef, eg


def cmul(a, b):
    """Complex product of (..., 2) real pairs."""
    return torch.stack([a[..., 0] * b[..., 0] - a[..., 1] * b[..., 1], a[..., 0] * b[..., 1] + a[..., 1] * b[..., 0]], -1)


def r_smooth(xf, xg, t):
    """(C0_f t^4 - C0_g, C2_f t^2 - C2_g) for one pair (8 values in, 4 out; t = ef / eg)."""
    t2 = cmul(t, t)
    t4 = cmul(t2, t2)
    af, bf, ag, bg = cmul(xf[:2], xf[:2]), cmul(xf[2:], xf[2:]), cmul(xg[:2], xg[:2]), cmul(xg[2:], xg[2:])
    c0 = cmul(cmul(af, bf), t4) - cmul(ag, bg)
    c2 = (ag + bg) - cmul(af + bf, t2)
    return torch.cat([c0, c2])


def r_curl(xf, xg, ef, eg):
    """The curl and quotient residuals of one pair (3 values)."""
    af, bf = cmul(xf[:2], ef)[0], cmul(xf[2:], ef)[0]
    ag, bg = cmul(xg[:2], eg)[0], cmul(xg[2:], eg)[0]
    return torch.stack([WC * (af ** 2 * bf ** 2 - ag ** 2 * bg ** 2), WC ** 0.5 * ((ag ** 2 + bg ** 2) - (af ** 2 + bf ** 2)),
                        WQ ** 0.5 * ((bf ** 2 - af ** 2) * ag * bg - (bg ** 2 - ag ** 2) * af * bf)])


def r_barrier(xf):
    """sqrt(w) (1/g - 1) for 0 < Im(beta conj alpha) < s, 0 beyond, +inf at or below 0."""
    im = xf[3] * xf[0] - xf[2] * xf[1]
    y = torch.clamp(im / BS, max=1.0)
    g = 1.0 - (1.0 - y) ** 3
    r = torch.where(im >= BS, torch.zeros_like(im), BW ** 0.5 * (1.0 / g - 1.0))
    return torch.where(im > 0, r, torch.full_like(im, float("inf"))).reshape(1)


class Problem:
    """The frame-field terms on torch tensors, with per-element Jacobians by functorch."""

    def __init__(self, x, pairs, ef, eg, device):
        self.nf = len(x)
        self.pairs = torch.tensor(pairs, device=device)
        self.ef = torch.tensor(ef, device=device)
        self.eg = torch.tensor(eg, device=device)
        self.t = torch.stack([(self.ef[:, 0] * self.eg[:, 0] + self.ef[:, 1] * self.eg[:, 1]),
                              (self.ef[:, 1] * self.eg[:, 0] - self.ef[:, 0] * self.eg[:, 1])], 1) \
            / (self.eg ** 2).sum(1, keepdim=True)
        self.ref = torch.tensor(x, device=device)
        self.wclose = torch.full((self.nf,), 1e-3, dtype=torch.float64, device=device)
        self.wclose[0] = 100.0
        self.ws = 1.0
        self.j_smooth = functorch.vmap(functorch.jacrev(r_smooth, argnums=(0, 1)))
        self.j_curl = functorch.vmap(functorch.jacrev(r_curl, argnums=(0, 1)))
        self.j_bar = functorch.vmap(functorch.jacrev(r_barrier))

    def energy(self, x):
        """The weighted energy sum w/2 |r|^2 (+inf when a face is not oriented)."""
        xf, xg = x[self.pairs[:, 0]], x[self.pairs[:, 1]]
        e = 0.5 * self.ws * (functorch.vmap(r_smooth)(xf, xg, self.t) ** 2).sum()
        e = e + 0.5 * (functorch.vmap(r_curl)(xf, xg, self.ef, self.eg) ** 2).sum()
        e = e + 0.5 * (self.wclose[:, None] * (x - self.ref) ** 2).sum()
        return e + 0.5 * (functorch.vmap(r_barrier)(x) ** 2).sum()

    def normal_equations(self, x):
        """J^T J (scipy CSR) and J^T r (numpy) of the weighted residuals, and the time split."""
        t0 = time.perf_counter()
        xf, xg = x[self.pairs[:, 0]], x[self.pairs[:, 1]]
        blocks = []  # (element DOFs (n, N), J (n, m, N), r (n, m))
        rs = functorch.vmap(r_smooth)(xf, xg, self.t) * self.ws ** 0.5
        js = torch.cat(self.j_smooth(xf, xg, self.t), 2) * self.ws ** 0.5
        rc = functorch.vmap(r_curl)(xf, xg, self.ef, self.eg)
        jc = torch.cat(self.j_curl(xf, xg, self.ef, self.eg), 2)
        ar = torch.arange(4, device=x.device)
        dofs2 = torch.cat([4 * self.pairs[:, :1] + ar, 4 * self.pairs[:, 1:] + ar], 1)
        dofs1 = 4 * torch.arange(self.nf, device=x.device)[:, None] + ar
        sw = self.wclose.sqrt()
        blocks += [(dofs2, js, rs), (dofs2, jc, rc)]
        blocks.append((dofs1, sw[:, None, None] * torch.eye(4, dtype=torch.float64, device=x.device).expand(self.nf, 4, 4),
                       sw[:, None] * (x - self.ref)))
        blocks.append((dofs1, self.j_bar(x), functorch.vmap(r_barrier)(x)))
        if x.is_cuda:
            torch.cuda.synchronize()
        t1 = time.perf_counter()
        rows, cols, vals, g = [], [], [], np.zeros(4 * self.nf)
        for d, J, r in blocks:
            H = torch.einsum("emi,emj->eij", J, J)
            N = d.shape[1]
            rows.append(d[:, :, None].expand(-1, N, N).reshape(-1).cpu().numpy())
            cols.append(d[:, None, :].expand(-1, N, N).reshape(-1).cpu().numpy())
            vals.append(H.reshape(-1).cpu().numpy())
            np.add.at(g, d.reshape(-1).cpu().numpy(), torch.einsum("emi,em->ei", J, r).reshape(-1).cpu().numpy())
        n = 4 * self.nf
        A = scipy.sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                    shape=(n, n)).tocsc()
        return A, g, t1 - t0, time.perf_counter() - t1


def gauss_newton(P, x, iters):
    """The schedule; returns the records and the final field."""
    recs, parts = [], {"jacobian": 0.0, "assembly": 0.0, "solve": 0.0, "line_search": 0.0}
    for k in range(1, iters + 1):
        t0 = time.perf_counter()
        A, g, tj, ta = P.normal_equations(x)
        t1 = time.perf_counter()
        d = scipy.sparse.linalg.spsolve(A + 1e-9 * scipy.sparse.identity(A.shape[0], format="csc"), -g)
        t2 = time.perf_counter()
        e0, step, dt = float(P.energy(x)), 1.0, torch.tensor(d.reshape(-1, 4), device=x.device)
        slope = float(np.dot(g, d))
        while step > 1e-12:
            e1 = float(P.energy(x + step * dt))
            if np.isfinite(e1) and e1 <= e0 + 1e-4 * step * slope:
                break
            step *= 0.5
        x = x + step * dt
        t3 = time.perf_counter()
        parts["jacobian"] += tj
        parts["assembly"] += ta
        parts["solve"] += t2 - t1
        parts["line_search"] += t3 - t2
        P.ref[1:] = x[1:]  # the free faces' references move to the iterate
        im = x[:, 3] * x[:, 0] - x[:, 2] * x[:, 1]
        recs.append({"iter": k, "energy": e1, "step": step, "min_orientation": float(im.min()),
                     "seconds": t3 - t0})
        if k % 5 == 0:
            P.ws *= 0.8
    return recs, parts, x


def main():
    """Runs the baseline and prints its JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--iters", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--meshes", default=os.environ.get("LOCAD_MESHES", os.path.join(HERE, "..", "..", "shared", "meshes")))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    V, F = read_obj(os.path.join(args.meshes, "cheburashka.obj"))
    x0, pairs, ef, eg = setup(V, F, os.path.join(args.meshes, "cheburashka.rawfield"))
    P = Problem(x0, pairs, ef, eg, args.device)
    x = torch.tensor(x0, device=args.device)
    xg = x.clone().requires_grad_(True)
    t0 = time.perf_counter()
    for _ in range(5):
        xg.grad = None
        P.energy(xg).backward()
    t_vg = (time.perf_counter() - t0) / 5
    t0 = time.perf_counter()
    recs, parts, x = gauss_newton(P, x, args.iters)
    total = time.perf_counter() - t0
    print(json.dumps({"bench": "app", "app": "frames", "system": "torch", "torch": torch.__version__,
                      "device": args.device, "threads": args.threads, "iters": len(recs), "seconds": round(total, 3),
                      "parts": {k: round(v, 3) for k, v in parts.items()}, "energy0": recs[0]["energy"],
                      "energy": recs[-1]["energy"], "min_orientation": min(r["min_orientation"] for r in recs),
                      "value_grad_ms": round(1e3 * t_vg, 2)}), flush=True)


if __name__ == "__main__":
    main()
