#!/usr/bin/python3
"""PyTorch baseline for the locad standard workloads W1-W4.

This is the side-by-side baseline described in ``shared/benchmarks.md``: the
same workloads, meshes and benchmark states as ``locad-bench``, written the way
a PyTorch user would write them -- elementwise float64 arithmetic on the CPU,
one gather of the per-element variables (``index_select``) and one scatter
(its autograd backward, ``index_add``), autograd for the gradient and double
backward for the Hessian-vector product.  It prints one JSON object per line
with the fields of ``benchmarks.md`` plus ``"system":"torch"``, so that a
ratio can be taken against ``locad-bench`` run on the same machine.

Run it with Debian's interpreter, which has python3-torch (1.13) and numpy::

    /usr/bin/python3 bench/torch_baseline.py                 # the standard set
    /usr/bin/python3 bench/torch_baseline.py --workload W2 --mesh spot --what grad,hvp
    /usr/bin/python3 bench/torch_baseline.py --workload W1,W3 --threads 1 --runs 5

Options (all optional; see ``--help``):
  --workload W   W1..W4, repeatable or comma separated (default: all four).
  --mesh NAME    restrict to these meshes, repeatable or comma separated.
  --what MODES   energy, grad, hvp, hess, hess_noproj (comma separated).
                 Default: energy,grad,hvp,hess.
  --threads T    torch.set_num_threads(T) (default 2, the reference setting).
  --runs R       timed calls after the warm-up calls (default 11).
  --warmup W     warm-up calls (default 3).
  --meshes DIR   mesh folder (default: <repo>/../shared/meshes, resolved from
                 this script's location).
  --max-elements N  skip the hess/hess_noproj modes (with a note on stderr) for
                 problems with more than N elements (default: no limit).

Workloads (notation of benchmarks.md; variables interleaved vertex-major)
-------------------------------------------------------------------------
Rest frame of a 3D triangle (p0, p1, p2): l = |p1-p0|, e1 = (p1-p0)/l,
xi = (p2-p0).e1, eta = |(p2-p0) - xi e1|, Mr = [[l, xi], [0, eta]],
Mr^-1 = [[1/l, -xi/(l eta)], [0, 1/eta]] =: [[a, b], [0, c]], A = l eta / 2.

W1 "param" (camelhead, face, grid_224; state = <mesh>.tutte_uv.txt), D = 2:
    M = [u1-u0, u2-u0], J = M Mr^-1, i.e. J = [a m1, b m1 + c m2];
    E_t = A (|J|_F^2 + |J^-1|_F^2) with |J^-1|_F^2 = |J|_F^2 / det(J)^2,
    det J = det M / (l eta); E_t = +inf where det M <= 0.
W2 "membrane" StVK (spot, armadillo, igea), D = 3:
    F = Ds Dm^-1 = [a d1, b d1 + c d2], d_k = x_k - x0, E = (F^T F - I)/2,
    W_t = A (mu |E|_F^2 + lambda/2 tr(E)^2), mu = lambda = 1.
W3 "springs" (armadillo, igea), one element per unique undirected edge:
    E_e = k/2 (|x_i - x_j| - L_e)^2, k = 1, L_e the rest length.
W4 "bending" (spot, armadillo, igea), one element per interior edge flap
    (x0, x1, x2, x3): x0->x1 is a half-edge of face (x0, x1, x2) and x3 the
    vertex opposite in the other face (x1, x0, x3).  With
        n0 = (x1 - x0) x (x2 - x0),   n1 = (x0 - x1) x (x3 - x1),
        e  = (x1 - x0) / |x1 - x0|,
        theta = atan2((n0 x n1) . e, n0 . n1)      (signed; atan2, not acos)
    E_e = k (theta - theta_bar)^2 |e_bar|^2 / A_bar, k = 1, where theta_bar,
    |e_bar|^2 = |X1 - X0|^2 and A_bar = (A0 + A1) / 3 (A0, A1 the two face
    areas |n0|/2, |n1|/2) come from the rest mesh (the file positions).  This
    is exactly the formula of the C implementation.

States.  W1: the Tutte UVs.  W2-W4, i the 0-based vertex index, (X, Y, Z)
the file position, h the mean rest length over unique undirected edges:
    x_i = (1.2 X_i, 0.9 Y_i, Z_i) + 0.05 h (sin(12.9898 i), sin(78.233 i), sin(37.719 i)).
h is computed from the mesh in full precision: benchmarks.md lists it rounded
to 8 digits (spot 0.047684436, armadillo 0.0067536652, igea 0.00048047161),
and using the rounded values moves the energy by ~4e-9 relative, more than
the check tolerance; the check values were made with the full-precision mean.

Modes ("what"); everything below the state is timed, setup is not:
  energy       total energy (no autograd graph).
  grad         energy and gradient (autograd).
  hvp          energy, gradient and H v by double backward:
               g = grad(E, x, create_graph=True); Hv = grad(g . v, x),
               v_k = sin(0.7 k + 0.3) over the flat variable index k.
  hess         energy, gradient and the assembled sparse Hessian (CSR, full
               symmetric storage) with per-element PSD projection.  The
               per-element N x N Hessians come from N backward passes of the
               per-element gradient (all elements batched in each pass; the
               elements are independent, so column j of every element's
               Hessian is the gradient of sum_e g_e[j]); then batched
               torch.linalg.eigh, eigenvalues clamped to >= 1e-9, Q diag Q^T;
               then one index_add into the CSR value array through an
               element->slot map computed at setup (the sparsity pattern is
               symbolic and not timed, as in locad).
  hess_noproj  the same without the projection (not in the default set).

Validation.  Before timing, each (workload, mesh, mode) runs once and is
compared with the check values of benchmarks.md (relative tolerance 1e-9 for
energy, |g| and g.v; 1e-8 for |Hv|, v^T H v and the Frobenius norm of the
projected Hessian).  "check" is "ok" when everything the mode produces
matched, "FAIL" otherwise (details on stderr), "none" for W4, which has no
check values.  hess_noproj is checked through |H v| and v^T H v.

Timing: ``--warmup`` untimed calls, then ``--runs`` timed calls
(time.perf_counter); median, min and max in milliseconds.  melem_per_s is
n_elem / median seconds / 1e6.  nnz is the number of stored entries of the
full Hessian's sparsity pattern (D^2 (V + 2E) for W1-W3; the flap stencil for
W4), reported for every mode.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
import warnings

import numpy as np
import torch

DTYPE = torch.float64

# ---------------------------------------------------------------------------
# Constants from benchmarks.md
# ---------------------------------------------------------------------------

WORKLOAD_MESHES = {
    "W1": ["camelhead", "face", "grid_224"],
    "W2": ["spot", "armadillo", "igea"],
    "W3": ["armadillo", "igea"],
    "W4": ["spot", "armadillo", "igea"],
}

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


# ---------------------------------------------------------------------------
# Per-element energies (torch, elementwise float64).  loc: n_elem x K x D.
# ---------------------------------------------------------------------------


def energy_w1(loc, c):
    """Symmetric Dirichlet on 2D triangles (see module docstring)."""
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
    return torch.where(detM > 0, e, torch.full_like(e, math.inf))


def energy_w2(loc, c):
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


def energy_w3(loc, c):
    """Springs on edges: k/2 (|xi - xj| - L)^2, k = 1."""
    d = loc[:, 0] - loc[:, 1]
    r = torch.sqrt((d * d).sum(1)) - c["L"]
    return 0.5 * r * r


def _cross(a, b):
    """Row-wise cross product of n x 3 arrays (torch tensors or numpy arrays)."""
    stack = torch.stack if isinstance(a, torch.Tensor) else np.stack
    return stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
                  a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                  a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], 1)


def dihedral(x0, x1, x2, x3):
    """Signed dihedral angle of flaps (atan2 form) and the two face normals.

    Works elementwise on n x 3 torch tensors (timed path) or numpy arrays
    (rest-mesh precomputation), with the same formula.
    """
    if isinstance(x0, torch.Tensor):
        atan2, sqrt = torch.atan2, torch.sqrt
    else:
        atan2, sqrt = np.arctan2, np.sqrt
    n0 = _cross(x1 - x0, x2 - x0)
    n1 = _cross(x0 - x1, x3 - x1)
    ev = x1 - x0
    e = ev / sqrt((ev * ev).sum(1))[:, None]
    return atan2((_cross(n0, n1) * e).sum(1), (n0 * n1).sum(1)), n0, n1


def energy_w4(loc, c):
    """Discrete-shell bending: k (theta - theta_bar)^2 |e_bar|^2 / A_bar, k = 1."""
    theta, _, _ = dihedral(loc[:, 0], loc[:, 1], loc[:, 2], loc[:, 3])
    d = theta - c["theta_bar"]
    return d * d * c["w"]


# ---------------------------------------------------------------------------
# Problem setup (not timed)
# ---------------------------------------------------------------------------


class Problem:
    """Everything a workload needs: element indices, constants, state, v, pattern."""

    def __init__(self, workload, mesh, meshes_dir):
        self.workload, self.mesh = workload, mesh
        X, F = read_obj(os.path.join(meshes_dir, mesh + ".obj"))
        nv = X.shape[0]
        self.nv = nv
        t = lambda arr: torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float64))
        if workload in ("W1", "W2"):
            elems = F
            a, b, cc, A = rest_frames(X[F[:, 0]], X[F[:, 1]], X[F[:, 2]])
            self.consts = {"a": t(a), "b": t(b), "c": t(cc), "A": t(A), "leta": t(2.0 * A)}
        if workload == "W1":
            self.D = 2
            state = read_uv(os.path.join(meshes_dir, mesh + ".tutte_uv.txt"))
            if state.shape != (nv, 2):
                raise ValueError("%s.tutte_uv.txt: expected %d x 2 values, got %s"
                                 % (mesh, nv, state.shape))
            self.fn = energy_w1
        else:
            self.D = 3
            state = deformed_state(X, mean_edge_length(X, F, mesh))
        if workload == "W2":
            self.fn = energy_w2
        elif workload == "W3":
            elems = unique_edges(F, nv)
            self.consts = {"L": t(np.linalg.norm(X[elems[:, 0]] - X[elems[:, 1]], axis=1))}
            self.fn = energy_w3
        elif workload == "W4":
            elems = edge_flaps(F, nv)
            P = [X[elems[:, k]] for k in range(4)]
            theta_bar, n0, n1 = dihedral(*P)
            A_bar = (0.5 * np.linalg.norm(n0, axis=1) + 0.5 * np.linalg.norm(n1, axis=1)) / 3.0
            elen2 = ((P[1] - P[0]) ** 2).sum(1)
            self.consts = {"theta_bar": t(theta_bar), "w": t(elen2 / A_bar)}
            self.fn = energy_w4
        self.elems = elems
        self.n_elem, self.K = elems.shape
        self.N = self.K * self.D
        self.n_vars = nv * self.D
        self.x = t(state.reshape(-1))
        self.vidx = torch.from_numpy(elems.reshape(-1).astype(np.int64))
        k = np.arange(self.n_vars, dtype=np.float64)
        self.v = t(np.sin(0.7 * k + 0.3))
        # Flat variable index of each local variable (n_elem x N), vertex-major.
        self.var_idx = torch.from_numpy(
            (elems[:, :, None] * self.D + np.arange(self.D)[None, None, :]).reshape(self.n_elem, -1))
        self._pattern = None
        self.nnz = self._block_pattern()[2] * self.D * self.D

    # -- sparsity pattern ---------------------------------------------------
    def _block_pattern(self):
        """Vertex-level pattern: (block index per element n x K x K, ptr, n_blocks)."""
        if getattr(self, "_bp", None) is None:
            E, nv, K = self.elems, self.nv, self.K
            keys = (E[:, :, None] * nv + E[:, None, :]).reshape(-1)
            ukeys, inv = np.unique(keys, return_inverse=True)
            rows = ukeys // nv
            ptr = np.zeros(nv + 1, dtype=np.int64)
            np.add.at(ptr, rows + 1, 1)
            ptr = np.cumsum(ptr)
            self._bp = (inv.reshape(-1, K, K), ptr, len(ukeys), ukeys % nv)
        return self._bp

    def pattern(self):
        """CSR pattern of the full Hessian and the element->slot map (n_elem*N*N)."""
        if self._pattern is None:
            binv, ptr, nb, bcols = self._block_pattern()
            D, K, nv = self.D, self.K, self.nv
            deg = np.diff(ptr)
            va = self.elems[:, :, None]                       # n x K x 1
            # slot(va,da,vb,db) = D^2 ptr[va] + da D deg[va] + (bidx - ptr[va]) D + db
            base = (D * D * ptr[va] + (binv - ptr[va]) * D)   # n x K x K
            da = np.arange(D)[None, None, :, None, None]
            db = np.arange(D)[None, None, None, None, :]
            slot = (base[:, :, None, :, None] + da * D * deg[va][:, :, None, :, None] + db)
            slot = slot.reshape(-1)                           # n x (K D) x (K D), vertex-major
            nnz = nb * D * D
            crow = np.zeros(nv * D + 1, dtype=np.int64)
            crow[1:] = np.cumsum(np.repeat(deg * D, D))
            cols = np.empty(nnz, dtype=np.int64)
            # block b = (row vertex r, col vertex bcols[b]); entries per var row
            brow = np.repeat(np.arange(nv), deg)
            for dr in range(D):
                for dc in range(D):
                    s = D * D * ptr[brow] + dr * D * deg[brow] + (np.arange(nb) - ptr[brow]) * D + dc
                    cols[s] = bcols * D + dc
            self._pattern = (torch.from_numpy(crow), torch.from_numpy(cols),
                             torch.from_numpy(slot), nnz)
        return self._pattern

    # -- timed operations ---------------------------------------------------
    def gather(self, x):
        return x.view(self.nv, self.D).index_select(0, self.vidx).view(self.n_elem, self.K, self.D)

    def run_energy(self):
        with torch.no_grad():
            return {"energy": self.fn(self.gather(self.x), self.consts).sum().item()}

    def run_grad(self):
        x = self.x.detach().requires_grad_(True)
        E = self.fn(self.gather(x), self.consts).sum()
        (g,) = torch.autograd.grad(E, x)
        return {"energy": E.item(), "g": g}

    def run_hvp(self):
        x = self.x.detach().requires_grad_(True)
        E = self.fn(self.gather(x), self.consts).sum()
        (g,) = torch.autograd.grad(E, x, create_graph=True)
        (hv,) = torch.autograd.grad((g * self.v).sum(), x)
        return {"energy": E.item(), "g": g.detach(), "hv": hv}

    def run_hess(self, project=True):
        crow, cols, slot, nnz = self.pattern()
        n, N = self.n_elem, self.N
        with torch.no_grad():
            loc = self.gather(self.x).reshape(n, N)
        loc.requires_grad_(True)
        e = self.fn(loc.view(n, self.K, self.D), self.consts)
        E = e.sum()
        (gl,) = torch.autograd.grad(E, loc, create_graph=True)
        cols_h = []
        for j in range(N):
            (hj,) = torch.autograd.grad(gl[:, j].sum(), loc, retain_graph=(j < N - 1))
            cols_h.append(hj)
        H = torch.stack(cols_h, dim=2)          # H[e, i, j] = d g_i / d x_j
        H = 0.5 * (H + H.transpose(1, 2))
        if project:
            lam, Q = torch.linalg.eigh(H)
            H = (Q * lam.clamp_min(PSD_EPS).unsqueeze(1)) @ Q.transpose(1, 2)
        g = torch.zeros(self.n_vars, dtype=DTYPE).index_add_(
            0, self.var_idx.reshape(-1), gl.detach().reshape(-1))
        vals = torch.zeros(nnz, dtype=DTYPE).index_add_(0, slot, H.reshape(-1))
        Hs = torch.sparse_csr_tensor(crow, cols, vals, size=(self.n_vars, self.n_vars))
        return {"energy": E.item(), "g": g, "H": Hs}

    def runner(self, what):
        return {
            "energy": self.run_energy,
            "grad": self.run_grad,
            "hvp": self.run_hvp,
            "hess": lambda: self.run_hess(True),
            "hess_noproj": lambda: self.run_hess(False),
        }[what]


# ---------------------------------------------------------------------------
# Validation and timing
# ---------------------------------------------------------------------------


def rel_err(got, ref):
    if not math.isfinite(got):
        return math.inf
    return abs(got - ref) / max(abs(ref), 1e-300)


def validate(prob, what, out):
    """Compares the outputs of one call with the check values; returns 'ok'/'FAIL'/'none'."""
    key = (prob.workload, prob.mesh)
    if key not in CHECK:
        return "none"
    ref_e, ref_gn, ref_gv, ref_hvn, ref_vhv = CHECK[key]
    got = [("energy", out["energy"], ref_e, TOL_DERIV1)]
    if "g" in out:
        g = out["g"]
        got += [("|g|", torch.linalg.norm(g).item(), ref_gn, TOL_DERIV1),
                ("g.v", torch.dot(g, prob.v).item(), ref_gv, TOL_DERIV1)]
    hv = out.get("hv")
    if what == "hess_noproj":
        # sparse CSR mv needs an MKL build; do it by hand (not timed).
        H = out["H"]
        rows = torch.repeat_interleave(torch.arange(prob.n_vars), H.crow_indices().diff())
        hv = torch.zeros(prob.n_vars, dtype=DTYPE).index_add_(
            0, rows, H.values() * prob.v[H.col_indices()])
    if hv is not None:
        got += [("|Hv|", torch.linalg.norm(hv).item(), ref_hvn, TOL_DERIV2),
                ("vHv", torch.dot(prob.v, hv).item(), ref_vhv, TOL_DERIV2)]
    if what == "hess":
        frob = torch.linalg.norm(out["H"].values()).item()
        got.append(("|H|_F", frob, CHECK_FROB[key], TOL_DERIV2))
    ok = True
    for name, val, ref, tol in got:
        err = rel_err(val, ref)
        if not err <= tol:
            ok = False
            print("check FAIL %s %s %s: %s = %.17g, expected %.17g (rel err %.3g > %.0e)"
                  % (prob.workload, prob.mesh, what, name, val, ref, err, tol), file=sys.stderr)
    return "ok" if ok else "FAIL"


def time_calls(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
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


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    default_meshes = os.path.normpath(os.path.join(here, "..", "..", "shared", "meshes"))
    ap = argparse.ArgumentParser(
        description="PyTorch float64 CPU baseline of the locad workloads W1-W4 "
                    "(see the module docstring).")
    ap.add_argument("--workload", action="append", help="W1..W4, repeatable or comma list")
    ap.add_argument("--mesh", action="append", help="mesh name filter, repeatable or comma list")
    ap.add_argument("--what", action="append",
                    help="modes: " + ",".join(ALL_MODES) + " (default energy,grad,hvp,hess)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--meshes", default=default_meshes)
    ap.add_argument("--max-elements", type=int, default=None,
                    help="skip hess/hess_noproj above this many elements")
    args = ap.parse_args(argv)

    workloads = [w.upper() for w in split_list(args.workload)] or list(WORKLOAD_MESHES)
    meshes = split_list(args.mesh)
    modes = split_list(args.what) or list(DEFAULT_MODES)
    for w in workloads:
        if w not in WORKLOAD_MESHES:
            ap.error("unknown workload %r (W1..W4)" % w)
    for m in modes:
        if m not in ALL_MODES:
            ap.error("unknown mode %r (%s)" % (m, ", ".join(ALL_MODES)))
    if args.runs < 1 or args.threads < 1 or args.warmup < 0:
        ap.error("--runs and --threads must be >= 1, --warmup >= 0")

    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    torch.set_num_threads(args.threads)
    device = cpu_model()
    any_fail = False
    for w in workloads:
        for mesh in WORKLOAD_MESHES[w]:
            if meshes and mesh not in meshes:
                continue
            prob = Problem(w, mesh, args.meshes)
            for what in modes:
                if (what.startswith("hess") and args.max_elements is not None
                        and prob.n_elem > args.max_elements):
                    print("note: %s %s %s skipped: %d elements > --max-elements %d"
                          % (w, mesh, what, prob.n_elem, args.max_elements), file=sys.stderr)
                    continue
                fn = prob.runner(what)
                check = validate(prob, what, fn())
                any_fail |= check == "FAIL"
                med, lo, hi = time_calls(fn, args.warmup, args.runs)
                rec = {
                    "workload": w, "mesh": mesh, "backend": "cpu", "device": device,
                    "threads": args.threads, "what": what, "n_elem": prob.n_elem,
                    "n_vars": prob.n_vars, "nnz": prob.nnz,
                    "median_ms": round(med, 4), "min_ms": round(lo, 4), "max_ms": round(hi, 4),
                    "melem_per_s": round(prob.n_elem / (med / 1e3) / 1e6, 4),
                    "check": check, "system": "torch",
                }
                print(json.dumps(rec), flush=True)
            del prob
    return 1 if any_fail else 0


if __name__ == "__main__":
    sys.exit(main())
