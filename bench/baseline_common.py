"""baseline_common.py - what the PyTorch and JAX baselines share (numpy only).

The workloads W1-W6 of ``shared/benchmarks.md`` as plain data: meshes,
topology (unique edges, edge flaps, the generated grids), rest-frame
constants, benchmark states, the direction v, the terms of each problem, the
sparsity pattern of the full Hessian with an element->slot map per term, the
published check values and a closed-form numpy reference for W5 and W6 (which
have none published).  The per-element energies are written once, generic in
the array module ``xp`` (numpy, torch or jax.numpy), so the two baselines
evaluate the very same formulas and the numpy path can test them here.  Also
the validation, timing, argument parsing and JSON output of both baselines.

Nothing in this module is timed.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

# ---------------------------------------------------------------------------
# Constants from benchmarks.md
# ---------------------------------------------------------------------------

WORKLOAD_MESHES = {
    "W1": ["camelhead", "face", "grid_224"],
    "W2": ["spot", "armadillo", "igea"],
    "W3": ["armadillo", "igea"],
    "W4": ["spot", "armadillo", "igea"],
}
ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6")
# Grid sizes n (n x n vertices) of W5 / W6: the standard CPU set of
# locad-bench, and the GPU set (W5 and W6 at 100, 300 and 1000).
GRID_SIZES = {
    "cpu": {"W5": [100, 300], "W6": [1000]},
    "cuda": {"W5": [100, 300, 1000], "W6": [100, 300, 1000]},
}
GRAD_ONLY = ("W6",)  # W6: energy and gradient only

MEAN_EDGE_H = {"spot": 0.047684436, "armadillo": 0.0067536652, "igea": 0.00048047161}

# (energy, |g|, g.v, |Hv|, v^T H v)
CHECK = {
    ("W1", "camelhead"): (144.95861683552215, 15524.632818107197, -5478.6122094870,
                          1.0793640470785e9, 6.7851940983135e9),
    ("W1", "face"): (207280.16619477276, 2250350.405536436, 457798.97202399,
                     1.1971679475016e10, 1.2069129925271e11),
    ("W1", "grid_224"): (6.3415424499927671, 122692.72055612195, -1034.2470692459,
                         9.3476909914079e9, 3.8817985255091e9),
    ("W2", "spot"): (0.26097729242595624, 1.664173105000498, -0.23005442245649,
                     774.46355025343, 33541.813762077),
    ("W2", "armadillo"): (0.077404359076258283, 0.93224401659849543, 0.47545723944025,
                          2774.3952504200, 442448.38392796),
    ("W2", "igea"): (9.2958398798186e-4, 0.11043679653144527, -6.2841355503876e-3,
                     6225.2801442192, 1651330.7774115),
    ("W3", "armadillo"): (0.0318032004098876, 0.27969310578993895, 0.036785873571352,
                          763.03894092558, 140208.04315707),
    ("W3", "igea"): (3.9113537926081619e-4, 0.028450157132175344, 4.8606374117678e-3,
                     1525.4871700533, 519081.80930590),
}

# Frobenius norm of the projected Hessian (hess mode).
CHECK_FROB = {
    ("W1", "camelhead"): 1.9627681979629e9,
    ("W1", "face"): 1.5557626728865e10,
    ("W1", "grid_224"): 3.2566097600105e10,
    ("W2", "spot"): 1055.0286894765,
    ("W2", "armadillo"): 4068.7391434925,
    ("W2", "igea"): 9867.6659903227,
    ("W3", "armadillo"): 1083.6302399533,
    ("W3", "igea"): 1902.3796980874,
}

TOL_DERIV1 = 1e-9  # energy, |g|, g.v
TOL_DERIV2 = 1e-8  # |Hv|, v^T H v, Frobenius norm
PSD_EPS = 1e-9
ALL_MODES = ("energy", "grad", "hvp", "hess", "hess_noproj")
DEFAULT_MODES = ("energy", "grad", "hvp", "hess")

# W5 cloth: spring stiffness, density, time step, gravity.
CLOTH_K = 4.0e4
CLOTH_RHO = 100.0
CLOTH_H = 0.01
CLOTH_G = (0.0, 0.0, -9.8)

# ---------------------------------------------------------------------------
# Mesh input and topology (numpy; not timed)
# ---------------------------------------------------------------------------


def read_obj(path):
    """Returns (V float64 nv x 3, F int64 nf x 3) from the v and f lines of an OBJ.

    Face corners may be v, v/vt, v//vn or v/vt/vn (the index before the first
    '/' is used); negative indices are relative; polygons are fan-triangulated.
    """
    verts, faces = [], []
    with open(path, "r") as fh:
        for line in fh:
            if line.startswith("v "):
                p = line.split()
                verts.append((float(p[1]), float(p[2]), float(p[3])))
            elif line.startswith("f "):
                idx = []
                for tok in line.split()[1:]:
                    k = int(tok.split("/", 1)[0])
                    idx.append(k - 1 if k > 0 else len(verts) + k)
                for j in range(1, len(idx) - 1):
                    faces.append((idx[0], idx[j], idx[j + 1]))
    return np.asarray(verts, dtype=np.float64), np.asarray(faces, dtype=np.int64)


def read_uv(path):
    """Tutte UV file: one comment line, then one 'u v' line per vertex."""
    return np.loadtxt(path, dtype=np.float64, comments="#", ndmin=2)


def grid_mesh(n):
    """The n x n grid of W5/W6 on [0,1]^2, z = 0: vertex j n + i at (i, j)/(n-1);
    quad (i, j) split into (a, a+1, a+n+1) and (a, a+n+1, a+n), a = j n + i
    (as meshes/grid_224.obj and the engine's lc_app_grid)."""
    if n < 2:
        raise ValueError("grid: n = %d < 2" % n)
    v = np.arange(n * n, dtype=np.int64)
    X = np.zeros((n * n, 3))
    X[:, 0] = (v % n) / (n - 1)
    X[:, 1] = (v // n) / (n - 1)
    q = np.arange((n - 1) * (n - 1), dtype=np.int64)
    a = (q // (n - 1)) * n + q % (n - 1)
    F = np.stack([a, a + 1, a + n + 1, a, a + n + 1, a + n], axis=1).reshape(-1, 3)
    return X, F


def unique_edges(F, nv):
    """Unique undirected edges (e0 < e1), sorted lexicographically."""
    a = F.reshape(-1)
    b = F[:, [1, 2, 0]].reshape(-1)
    key = np.unique(np.minimum(a, b) * nv + np.maximum(a, b))
    return np.stack([key // nv, key % nv], axis=1)


def edge_flaps(F, nv):
    """Interior-edge flaps (x0, x1, x2, x3), one per interior edge in edge order.

    x0 < x1, x0->x1 is a half-edge of face (x0, x1, x2), and x3 is the vertex
    opposite the edge in the other face (x1, x0, x3).
    """
    src = F.reshape(-1)
    dst = F[:, [1, 2, 0]].reshape(-1)
    opp = F[:, [2, 0, 1]].reshape(-1)
    key = src * nv + dst
    order = np.argsort(key, kind="stable")
    skey = key[order]
    sel = np.nonzero(src < dst)[0]  # one half-edge per undirected edge: x0 < x1
    twin_key = dst[sel] * nv + src[sel]
    pos = np.searchsorted(skey, twin_key)
    pos_c = np.minimum(pos, len(skey) - 1)
    has_twin = skey[pos_c] == twin_key
    sel, pos_c = sel[has_twin], pos_c[has_twin]
    flaps = np.stack([src[sel], dst[sel], opp[sel], opp[order[pos_c]]], axis=1)
    flaps = flaps[np.argsort(flaps[:, 0] * nv + flaps[:, 1], kind="stable")]
    return flaps


def rest_frames(P0, P1, P2):
    """Per-triangle (a, b, c, A): Mr^-1 = [[a, b], [0, c]] and the rest area."""
    d1 = P1 - P0
    d2 = P2 - P0
    l = np.linalg.norm(d1, axis=1)
    e1 = d1 / l[:, None]
    xi = np.einsum("ij,ij->i", d2, e1)
    eta = np.linalg.norm(d2 - xi[:, None] * e1, axis=1)
    return 1.0 / l, -xi / (l * eta), 1.0 / eta, 0.5 * l * eta


def mean_edge_length(X, F, mesh=None):
    """h: the mean rest length over unique undirected edges, computed from the mesh.

    benchmarks.md lists h rounded to 8 significant digits; the check values were
    computed with the full-precision mean (the rounded constant perturbs the
    state enough to move the energy by ~4e-9 relative), so h is computed here
    and only compared with the listed value as a sanity check.
    """
    E = unique_edges(F, X.shape[0])
    h = float(np.linalg.norm(X[E[:, 0]] - X[E[:, 1]], axis=1).mean())
    listed = MEAN_EDGE_H.get(mesh)
    if listed is not None and abs(h - listed) > 1e-8 * listed:
        print("warning: %s: mean edge length %.17g differs from the listed h %.9g"
              % (mesh, h, listed), file=sys.stderr)
    return h


def deformed_state(X, h):
    """W2-W4 state: anisotropic scale plus a deterministic 0.05 h perturbation."""
    i = np.arange(X.shape[0], dtype=np.float64)
    noise = np.stack([np.sin(12.9898 * i), np.sin(78.233 * i), np.sin(37.719 * i)], axis=1)
    return X * np.array([1.2, 0.9, 1.0]) + 0.05 * h * noise


def lumped_mass(X, F, rho):
    """rho * (one third of the incident rest triangle areas) per vertex."""
    A = 0.5 * np.linalg.norm(np.cross(X[F[:, 1]] - X[F[:, 0]], X[F[:, 2]] - X[F[:, 0]]), axis=1)
    return rho * np.bincount(F.reshape(-1), np.repeat(A / 3.0, 3), minlength=X.shape[0])


# ---------------------------------------------------------------------------
# Per-element energies, generic in the array module xp (numpy, torch,
# jax.numpy).  loc: n_elem x K x D; c: per-element constants (arrays of
# length n_elem, or n_elem x D).  Each returns the n_elem element energies.
# ---------------------------------------------------------------------------


def energy_w1(loc, c, xp):
    """Symmetric Dirichlet on 2D triangles (see torch_baseline's docstring)."""
    u0, u1, u2 = loc[:, 0], loc[:, 1], loc[:, 2]
    m1 = u1 - u0
    m2 = u2 - u0
    a, b, cc, A, leta = c["a"], c["b"], c["c"], c["A"], c["leta"]
    j11 = a * m1[:, 0]
    j21 = a * m1[:, 1]
    j12 = b * m1[:, 0] + cc * m2[:, 0]
    j22 = b * m1[:, 1] + cc * m2[:, 1]
    fro2 = j11 * j11 + j21 * j21 + j12 * j12 + j22 * j22
    detM = m1[:, 0] * m2[:, 1] - m1[:, 1] * m2[:, 0]
    detJ = detM / leta
    e = A * (fro2 + fro2 / (detJ * detJ))
    return xp.where(detM > 0, e, math.inf)


def energy_w2(loc, c, xp):
    """StVK membrane on 3D triangles, mu = lambda = 1."""
    x0, x1, x2 = loc[:, 0], loc[:, 1], loc[:, 2]
    d1 = x1 - x0
    d2 = x2 - x0
    a, b, cc, A = c["a"], c["b"], c["c"], c["A"]
    f1 = a[:, None] * d1
    f2 = b[:, None] * d1 + cc[:, None] * d2
    e11 = 0.5 * ((f1 * f1).sum(1) - 1.0)
    e22 = 0.5 * ((f2 * f2).sum(1) - 1.0)
    e12 = 0.5 * (f1 * f2).sum(1)
    mu, lam = 1.0, 1.0
    tr = e11 + e22
    return A * (mu * (e11 * e11 + e22 * e22 + 2.0 * e12 * e12) + 0.5 * lam * tr * tr)


def _spring(loc, L, k, xp):
    d = loc[:, 1] - loc[:, 0]
    r = xp.sqrt((d * d).sum(1)) - L
    return (0.5 * k) * r * r


def energy_w3(loc, c, xp):
    """Springs on edges: k/2 (|xi - xj| - L)^2, k = 1."""
    return _spring(loc, c["L"], 1.0, xp)


def cross(a, b, xp):
    """Row-wise cross product of n x 3 arrays."""
    return xp.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
                     a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                     a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], 1)


def dihedral(x0, x1, x2, x3, xp):
    """Signed dihedral angle of flaps (atan2 form) and the two face normals."""
    n0 = cross(x1 - x0, x2 - x0, xp)
    n1 = cross(x0 - x1, x3 - x1, xp)
    ev = x1 - x0
    e = ev / xp.sqrt((ev * ev).sum(1))[:, None]
    return xp.arctan2((cross(n0, n1, xp) * e).sum(1), (n0 * n1).sum(1)), n0, n1


def energy_w4(loc, c, xp):
    """Discrete-shell bending: k (theta - theta_bar)^2 |e_bar|^2 / A_bar, k = 1."""
    theta, _, _ = dihedral(loc[:, 0], loc[:, 1], loc[:, 2], loc[:, 3], xp)
    d = theta - c["theta_bar"]
    return d * d * c["w"]


def energy_cloth_spring(loc, c, xp):
    """W5 springs: k/2 (|xa - xb| - L)^2, k = 4e4 (weight h^2 on the term)."""
    return _spring(loc, c["L"], CLOTH_K, xp)


def energy_inertia(loc, c, xp):
    """W5 inertia: 1/2 m |x - x~|^2 on vertices."""
    d = loc[:, 0] - c["xt"]
    return 0.5 * c["m"] * (d * d).sum(1)


def energy_gravity(loc, c, xp):
    """W5 gravity: -m g.x on vertices, g = (0, 0, -9.8) (weight h^2 on the term)."""
    x = loc[:, 0]
    return -c["m"] * (CLOTH_G[0] * x[:, 0] + CLOTH_G[1] * x[:, 1] + CLOTH_G[2] * x[:, 2])


def energy_dirichlet(loc, c, xp):
    """W6: |x_i - x_j|^2 on edges."""
    d = loc[:, 1] - loc[:, 0]
    return (d * d).sum(1)


# ---------------------------------------------------------------------------
# Problems as data
# ---------------------------------------------------------------------------


class Term:
    """One energy over elements: fn(loc, consts, xp) per element, times weight."""

    def __init__(self, name, fn, elems, consts, weight=1.0):
        self.name, self.fn, self.weight = name, fn, float(weight)
        self.elems = np.ascontiguousarray(elems, dtype=np.int64)
        self.n, self.K = self.elems.shape
        self.consts = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in consts.items()}


class ProblemData:
    """A workload on one mesh: terms, state x, direction v, Hessian pattern.

    Built with ``build_problem``; ``name`` is the mesh ("face") or "gridN"."""

    def __init__(self, workload, name, D, nv, terms, state):
        self.workload, self.mesh, self.D, self.nv, self.terms = workload, name, D, nv, terms
        self.n_elem = terms[0].n                 # elements of the main term
        self.n_vars = nv * D
        self.x = np.ascontiguousarray(state.reshape(-1), dtype=np.float64)
        k = np.arange(self.n_vars, dtype=np.float64)
        self.v = np.sin(0.7 * k + 0.3)
        self.grad_only = workload in GRAD_ONLY
        for t in terms:
            t.N = t.K * D
            # Flat variable index of each local variable (n x N), vertex-major.
            t.var_idx = (t.elems[:, :, None] * D + np.arange(D)[None, None, :]).reshape(t.n, -1)
        self._pattern = None
        self._blocks = None
        self.nnz = self._block_pattern()[2] * D * D

    def _block_pattern(self):
        """Vertex-level pattern over all terms: (inverse index per key, ptr, n_blocks, cols)."""
        if self._blocks is None:
            nv = self.nv
            keys = np.concatenate([(t.elems[:, :, None] * nv + t.elems[:, None, :]).reshape(-1)
                                   for t in self.terms])
            ukeys, inv = np.unique(keys, return_inverse=True)
            rows = ukeys // nv
            ptr = np.zeros(nv + 1, dtype=np.int64)
            ptr[1:] = np.cumsum(np.bincount(rows, minlength=nv))
            self._blocks = (inv.reshape(-1), ptr, len(ukeys), ukeys % nv)
        return self._blocks

    def pattern(self):
        """CSR pattern of the full Hessian (crow, cols, nnz) and, per term, the
        element->slot map (n x N x N flattened, element-local row-major)."""
        if self._pattern is None:
            inv, ptr, nb, bcols = self._block_pattern()
            D, nv = self.D, self.nv
            deg = np.diff(ptr)
            slots, off = [], 0
            for t in self.terms:
                n, K = t.n, t.K
                binv = inv[off:off + n * K * K].reshape(n, K, K)
                off += n * K * K
                va = t.elems[:, :, None]                          # n x K x 1
                # slot(va,da,vb,db) = D^2 ptr[va] + da D deg[va] + (bidx - ptr[va]) D + db
                base = D * D * ptr[va] + (binv - ptr[va]) * D     # n x K x K
                da = np.arange(D)[None, None, :, None, None]
                db = np.arange(D)[None, None, None, None, :]
                slot = base[:, :, None, :, None] + da * D * deg[va][:, :, None, :, None] + db
                slots.append(slot.reshape(-1))
            nnz = nb * D * D
            crow = np.zeros(nv * D + 1, dtype=np.int64)
            crow[1:] = np.cumsum(np.repeat(deg * D, D))
            cols = np.empty(nnz, dtype=np.int64)
            brow = np.repeat(np.arange(nv), deg)
            bidx = np.arange(nb) - ptr[brow]
            for dr in range(D):
                for dc in range(D):
                    s = D * D * ptr[brow] + dr * D * deg[brow] + bidx * D + dc
                    cols[s] = bcols * D + dc
            self._pattern = (crow, cols, nnz, slots)
        return self._pattern

    def csr_matvec(self, vals, v):
        """H v for the values of the pattern (numpy; validation only)."""
        crow, cols, _, _ = self.pattern()
        rows = np.repeat(np.arange(self.n_vars), np.diff(crow))
        return np.bincount(rows, vals * v[cols], minlength=self.n_vars)


def build_problem(workload, name, meshes_dir):
    """The ProblemData of workload (W1..W6) on mesh name (W1-W4) or grid size
    name (an int, or "gridN", for W5/W6)."""
    if workload in ("W5", "W6"):
        n = int(str(name)[4:] if str(name).startswith("grid") else name)
        return _build_grid(workload, n)
    X, F = read_obj(os.path.join(meshes_dir, name + ".obj"))
    nv = X.shape[0]
    if workload in ("W1", "W2"):
        a, b, cc, A = rest_frames(X[F[:, 0]], X[F[:, 1]], X[F[:, 2]])
        consts = {"a": a, "b": b, "c": cc, "A": A}
    if workload == "W1":
        state = read_uv(os.path.join(meshes_dir, name + ".tutte_uv.txt"))
        if state.shape != (nv, 2):
            raise ValueError("%s.tutte_uv.txt: expected %d x 2 values, got %s"
                             % (name, nv, state.shape))
        consts["leta"] = 2.0 * A
        return ProblemData("W1", name, 2, nv, [Term("symmetric_dirichlet", energy_w1, F, consts)],
                           state)
    state = deformed_state(X, mean_edge_length(X, F, name))
    if workload == "W2":
        term = Term("stvk", energy_w2, F, consts)
    elif workload == "W3":
        E = unique_edges(F, nv)
        term = Term("spring", energy_w3, E, {"L": np.linalg.norm(X[E[:, 0]] - X[E[:, 1]], axis=1)})
    elif workload == "W4":
        E = edge_flaps(F, nv)
        P = [X[E[:, k]] for k in range(4)]
        theta_bar, n0, n1 = dihedral(*P, np)
        A_bar = (0.5 * np.linalg.norm(n0, axis=1) + 0.5 * np.linalg.norm(n1, axis=1)) / 3.0
        elen2 = ((P[1] - P[0]) ** 2).sum(1)
        term = Term("bending", energy_w4, E, {"theta_bar": theta_bar, "w": elen2 / A_bar})
    else:
        raise ValueError("unknown workload %r" % workload)
    return ProblemData(workload, name, 3, nv, [term], state)


def _build_grid(workload, n):
    X, F = grid_mesh(n)
    nv = X.shape[0]
    E = unique_edges(F, nv)
    name = "grid%d" % n
    if workload == "W6":
        state = X.copy()
        state[:, 2] = 0.01 * np.sin(12.9898 * np.arange(nv, dtype=np.float64))
        return ProblemData("W6", name, 3, nv, [Term("dirichlet", energy_dirichlet, E, {})], state)
    state = X * np.array([1.3, 1.3, 1.0])
    m = lumped_mass(X, F, CLOTH_RHO)
    h2 = CLOTH_H * CLOTH_H
    verts = np.arange(nv, dtype=np.int64)[:, None]
    terms = [
        Term("spring", energy_cloth_spring, E,
             {"L": np.linalg.norm(X[E[:, 0]] - X[E[:, 1]], axis=1)}, weight=h2),
        Term("inertia", energy_inertia, verts, {"m": m, "xt": state}),  # x~ = x
        Term("gravity", energy_gravity, verts, {"m": m}, weight=h2),
    ]
    return ProblemData("W5", name, 3, nv, terms, state)


def problem_list(workloads, meshes, grids, device_kind):
    """(workload, mesh name or grid size) pairs of the run, in the standard order."""
    out = []
    for w in workloads:
        if w in WORKLOAD_MESHES:
            out += [(w, m) for m in WORKLOAD_MESHES[w] if not meshes or m in meshes]
        else:
            sizes = grids or GRID_SIZES[device_kind][w]
            out += [(w, n) for n in sizes
                    if not meshes or ("grid%d" % n) in meshes or str(n) in meshes]
    return out


# ---------------------------------------------------------------------------
# Closed-form numpy reference for W5 and W6 (no published check values)
# ---------------------------------------------------------------------------


def reference(prob):
    """Energy, gradient and H v (unprojected) of a W5/W6 problem in closed form,
    independently of any automatic differentiation; None for W1-W4."""
    if prob.workload not in ("W5", "W6"):
        return None
    nv, x, v = prob.nv, prob.x.reshape(-1, 3), prob.v.reshape(-1, 3)
    E, g, hv = 0.0, np.zeros((nv, 3)), np.zeros((nv, 3))

    def scatter(arr, idx, vals):
        for k in range(3):
            arr[:, k] += np.bincount(idx, vals[:, k], minlength=nv)

    for t in prob.terms:
        w = t.weight
        if t.name in ("spring", "dirichlet"):
            a, b = t.elems[:, 0], t.elems[:, 1]
            d = x[b] - x[a]
            dv = v[b] - v[a]
            if t.name == "dirichlet":
                E += w * float((d * d).sum())
                ge, he = 2.0 * w * d, 2.0 * w * dv
            else:
                l = np.sqrt((d * d).sum(1))
                L = t.consts["L"]
                E += w * float((0.5 * CLOTH_K * (l - L) ** 2).sum())
                u = d / l[:, None]
                ge = (w * CLOTH_K * (l - L))[:, None] * u
                # K = w k ((1 - L/l) I + (L/l) u u^T), applied to dv
                s = (w * CLOTH_K * (1.0 - L / l))[:, None]
                he = s * dv + (w * CLOTH_K * L / l * (u * dv).sum(1))[:, None] * u
            scatter(g, b, ge)
            scatter(g, a, -ge)
            scatter(hv, b, he)
            scatter(hv, a, -he)
        elif t.name == "inertia":
            m, d = t.consts["m"], x - t.consts["xt"]
            E += w * float((0.5 * m * (d * d).sum(1)).sum())
            g += (w * m)[:, None] * d
            hv += (w * m)[:, None] * v
        elif t.name == "gravity":
            m = t.consts["m"]
            gvec = np.array(CLOTH_G)
            E += w * float((-m * (x @ gvec)).sum())
            g += -(w * m)[:, None] * gvec[None, :]
        else:
            raise ValueError("no reference for term %r" % t.name)
    return {"energy": E, "g": g.reshape(-1), "hv": hv.reshape(-1)}


# ---------------------------------------------------------------------------
# Validation, timing, output
# ---------------------------------------------------------------------------


def rel_err(got, ref):
    if not math.isfinite(got):
        return math.inf
    return abs(got - ref) / max(abs(ref), 1e-300)


def _compare(prob, what, got, label):
    ok = True
    for name, val, ref, tol in got:
        err = rel_err(val, ref)
        if not err <= tol:
            ok = False
            print("%s FAIL %s %s %s: %s = %.17g, expected %.17g (rel err %.3g > %.0e)"
                  % (label, prob.workload, prob.mesh, what, name, val, ref, err, tol),
                  file=sys.stderr)
    return ok


def _quantities(prob, what, out):
    """(name, value) pairs of one mode's outputs (numpy arrays / floats)."""
    q = [("energy", float(out["energy"]))]
    if out.get("g") is not None:
        g = np.asarray(out["g"], dtype=np.float64)
        q += [("|g|", float(np.linalg.norm(g))), ("g.v", float(g @ prob.v))]
    hv = out.get("hv")
    if what == "hess_noproj":
        hv = prob.csr_matvec(np.asarray(out["H"], dtype=np.float64), prob.v)
    if hv is not None:
        hv = np.asarray(hv, dtype=np.float64)
        q += [("|Hv|", float(np.linalg.norm(hv))), ("vHv", float(prob.v @ hv))]
    if what == "hess":
        q.append(("|H|_F", float(np.linalg.norm(np.asarray(out["H"], dtype=np.float64)))))
    return q


_TOL = {"energy": TOL_DERIV1, "|g|": TOL_DERIV1, "g.v": TOL_DERIV1,
        "|Hv|": TOL_DERIV2, "vHv": TOL_DERIV2, "|H|_F": TOL_DERIV2}


def validate(prob, what, out):
    """Compares one call's outputs with the check values of benchmarks.md.

    out: "energy" (float), and as the mode produces them "g", "hv" (numpy
    vectors) and "H" (numpy values of the CSR pattern of ``prob.pattern()``).
    Returns (check, xcheck): check is "ok"/"FAIL" against the published values
    or "none" where none exist; xcheck is "ok"/"FAIL" against the closed-form
    reference for W5/W6 (energy, |g|, g.v, |Hv|, v.Hv; the projected Hessian
    is not covered) and None elsewhere."""
    q = _quantities(prob, what, out)
    key = (prob.workload, prob.mesh)
    check, xcheck = "none", None
    if key in CHECK:
        ref = dict(zip(("energy", "|g|", "g.v", "|Hv|", "vHv"), CHECK[key]))
        ref["|H|_F"] = CHECK_FROB.get(key)
        got = [(n, val, ref[n], _TOL[n]) for n, val in q if ref.get(n) is not None]
        check = "ok" if _compare(prob, what, got, "check") else "FAIL"
    r = reference(prob)
    if r is not None:
        ref = {"energy": r["energy"], "|g|": float(np.linalg.norm(r["g"])),
               "g.v": float(r["g"] @ prob.v), "|Hv|": float(np.linalg.norm(r["hv"])),
               "vHv": float(prob.v @ r["hv"])}
        got = [(n, val, ref[n], _TOL[n]) for n, val in q if n in ref]
        xcheck = "ok" if _compare(prob, what, got, "xcheck") else "FAIL"
    return check, xcheck


def time_calls(fn, warmup, runs, sync=None):
    """Median, min and max milliseconds of fn over runs calls after warmup calls.

    sync(result) waits until the device has finished what fn queued (the
    timer stops after it); None for synchronous calls."""
    sync = sync or (lambda r: None)
    for _ in range(warmup):
        sync(fn())
    ts = []
    for _ in range(runs):
        sync(None)
        t0 = time.perf_counter()
        sync(fn())
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts), min(ts), max(ts)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def split_list(values):
    out = []
    for v in values or []:
        out += [s.strip() for s in v.split(",") if s.strip()]
    return out


def make_parser(description, device_help):
    here = os.path.dirname(os.path.abspath(__file__))
    default_meshes = os.environ.get("LOCAD_MESHES") or os.path.normpath(
        os.path.join(here, "..", "..", "shared", "meshes"))
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--workload", action="append", help="W1..W6, repeatable or comma list")
    ap.add_argument("--mesh", action="append",
                    help="mesh name filter (or gridN for W5/W6), repeatable or comma list")
    ap.add_argument("--grid", action="append",
                    help="W5/W6 grid sizes n, comma list (default: the device's standard set)")
    ap.add_argument("--what", action="append",
                    help="modes: " + ",".join(ALL_MODES) + " (default energy,grad,hvp,hess;"
                         " W6 energy,grad)")
    ap.add_argument("--device", default="cpu", help=device_help)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--meshes", default=default_meshes,
                    help="mesh folder (default $LOCAD_MESHES or <repo>/../shared/meshes)")
    ap.add_argument("--max-elements", type=int, default=None,
                    help="skip hess/hess_noproj above this many elements")
    return ap


def parse_common(ap, argv):
    """Parses argv; returns (args, workloads, meshes, grids, modes)."""
    args = ap.parse_args(argv)
    workloads = [w.upper() for w in split_list(args.workload)] or list(ALL_WORKLOADS)
    meshes = split_list(args.mesh)
    modes = split_list(args.what)
    for w in workloads:
        if w not in ALL_WORKLOADS:
            ap.error("unknown workload %r (W1..W6)" % w)
    for m in modes:
        if m not in ALL_MODES:
            ap.error("unknown mode %r (%s)" % (m, ", ".join(ALL_MODES)))
    try:
        grids = [int(g) for g in split_list(args.grid)]
    except ValueError:
        ap.error("--grid takes integers")
    if any(g < 2 for g in grids):
        ap.error("--grid: n >= 2")
    if args.runs < 1 or args.threads < 1 or args.warmup < 0:
        ap.error("--runs and --threads must be >= 1, --warmup >= 0")
    return args, workloads, meshes, grids, modes


def modes_for(prob, modes):
    """The modes run on prob: those asked for (default: DEFAULT_MODES), energy
    and grad only for a gradient-only workload (W6)."""
    ms = modes or list(DEFAULT_MODES)
    if prob.grad_only:
        ms = [m for m in ms if m in ("energy", "grad")]
    return ms


def skip_hess(prob, what, max_elements):
    if what.startswith("hess") and max_elements is not None and prob.n_elem > max_elements:
        print("note: %s %s %s skipped: %d elements > --max-elements %d"
              % (prob.workload, prob.mesh, what, prob.n_elem, max_elements), file=sys.stderr)
        return True
    return False


def record(system, prob, what, backend, device, threads, times, check, xcheck):
    """The JSON line of one figure (fields of benchmarks.md)."""
    med, lo, hi = times
    rec = {
        "workload": prob.workload, "mesh": prob.mesh, "backend": backend, "device": device,
        "threads": threads, "what": what, "n_elem": prob.n_elem, "n_vars": prob.n_vars,
        "nnz": prob.nnz, "median_ms": round(med, 4), "min_ms": round(lo, 4),
        "max_ms": round(hi, 4), "melem_per_s": round(prob.n_elem / (med / 1e3) / 1e6, 4),
        "check": check, "system": system,
    }
    if xcheck is not None:
        rec["xcheck"] = xcheck
    return json.dumps(rec)
