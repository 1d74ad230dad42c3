#!/usr/bin/python3
"""PyTorch baseline for the locad standard workloads W1-W6, on the CPU or a GPU.

This is the side-by-side baseline described in ``shared/benchmarks.md``: the
same workloads, meshes and benchmark states as ``locad-bench``, written the way
a PyTorch user would write them -- elementwise float64 arithmetic, one gather
of the per-element variables (``index_select``) and one scatter (its autograd
backward, ``index_add``) per term, autograd for the gradient and double
backward for the Hessian-vector product.  It prints one JSON object per line
with the fields of ``benchmarks.md`` plus ``"system":"torch"``, so that a
ratio can be taken against ``locad-bench`` run on the same machine.  One code
path serves both devices: ``--device cuda`` puts every tensor on the GPU and
brackets each timed call with ``torch.cuda.synchronize()``.

The numpy parts (meshes, topology, states, constants, check values, the
Hessian pattern, validation, output) and the per-element energies (generic in
the array module) are in ``baseline_common.py``, shared with
``jax_baseline.py``.

Run it with an interpreter that has torch and numpy (Debian's /usr/bin/python3
with python3-torch 1.13 on the CPU machines; plain python3 on the GPU machine)::

    /usr/bin/python3 bench/torch_baseline.py                 # the standard CPU set
    /usr/bin/python3 bench/torch_baseline.py --workload W2 --mesh spot --what grad,hvp
    python3 bench/torch_baseline.py --device cuda            # the standard GPU set

Options (all optional; see ``--help``):
  --workload W   W1..W6, repeatable or comma separated (default: all six).
  --mesh NAME    restrict to these meshes (gridN for W5/W6), repeatable or comma separated.
  --grid N       W5/W6 grid sizes, comma separated (default: on the CPU W5 at
                 100 and 300 and W6 at 1000, as locad-bench's standard set; on
                 a GPU W5 and W6 at 100, 300 and 1000).
  --what MODES   energy, grad, hvp, hess, hess_noproj (comma separated).
                 Default: energy,grad,hvp,hess (W6: energy,grad).
  --device D     cpu (default), cuda or cuda:N.
  --threads T    torch.set_num_threads(T) (default 2, the reference setting).
  --runs R       timed calls after the warm-up calls (default 11).
  --warmup W     warm-up calls (default 3).
  --meshes DIR   mesh folder (default: $LOCAD_MESHES, else <repo>/../shared/meshes).
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

W5 "cloth" (generated n x n grid on [0,1]^2, vertex j n + i at (i, j)/(n-1)),
    three terms: springs on the unique edges, h^2 k/2 (|xa - xb| - L)^2 with
    k = 4e4, h = 0.01; inertia 1/2 m |x - x~|^2 per vertex (x~ = x, lumped
    mass m = rho/3 x incident rest areas, rho = 100); gravity -h^2 m g.x,
    g = (0, 0, -9.8).  State: the grid scaled by 1.3 in x and y.  n_elem
    counts the springs.
W6 "smooth" (same grid): |x_i - x_j|^2 on the unique edges, energy and
    gradient only.  State: the grid with z_v = 0.01 sin(12.9898 v).

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
               symmetric storage) with per-element PSD projection.  Per term,
               the per-element N x N Hessians come from N backward passes of
               the per-element gradient (all elements batched in each pass;
               the elements are independent, so column j of every element's
               Hessian is the gradient of sum_e g_e[j]); they are weighted,
               then batched torch.linalg.eigh, eigenvalues clamped to >= 1e-9,
               Q diag Q^T; then one index_add into the CSR value array through
               an element->slot map computed at setup (the sparsity pattern is
               symbolic and not timed, as in locad).
  hess_noproj  the same without the projection (not in the default set).

Validation.  Before timing, each (workload, mesh, mode) runs once and is
compared with the check values of benchmarks.md (relative tolerance 1e-9 for
energy, |g| and g.v; 1e-8 for |Hv|, v^T H v and the Frobenius norm of the
projected Hessian).  "check" is "ok" when everything the mode produces
matched, "FAIL" otherwise (details on stderr), "none" where no values are
published (W4, W5, W6).  W5 and W6 are compared instead with a closed-form
numpy reference (energy, |g|, g.v, |Hv|, v.Hv; baseline_common.reference):
the extra field "xcheck" is "ok" or "FAIL".  hess_noproj is checked through
|H v| and v^T H v.  Exit status 1 if any check or xcheck failed.

Timing: ``--warmup`` untimed calls, then ``--runs`` timed calls
(time.perf_counter, after torch.cuda.synchronize() on a GPU); median, min and
max in milliseconds.  melem_per_s is n_elem / median seconds / 1e6.  nnz is
the number of stored entries of the full Hessian's sparsity pattern (D^2 (V +
2E) for W1-W3 and W5; the flap stencil for W4), reported for every mode.
"""

import sys
import warnings

import numpy as np
import torch

import baseline_common as bc

DTYPE = torch.float64


class Problem:
    """A ProblemData with its arrays as torch tensors on one device."""

    def __init__(self, data, device):
        self.data, self.dev = data, device
        self.workload, self.mesh = data.workload, data.mesh
        self.nv, self.D, self.n_vars = data.nv, data.D, data.n_vars
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device)
        self.x = t(data.x)
        self.v = t(data.v)
        self.terms = []
        for term in data.terms:
            self.terms.append({
                "fn": term.fn, "w": term.weight, "n": term.n, "K": term.K, "N": term.N,
                "consts": {k: t(v) for k, v in term.consts.items()},
                "vidx": t(term.elems.reshape(-1)),
                "var_idx": t(term.var_idx.reshape(-1)),
            })
        self._pattern = None

    def pattern(self):
        if self._pattern is None:
            crow, cols, nnz, slots = self.data.pattern()
            to = lambda a: torch.from_numpy(a).to(self.dev)
            self._pattern = (to(crow), to(cols), nnz, [to(s) for s in slots])
        return self._pattern

    # -- timed operations ---------------------------------------------------
    def gather(self, x, t):
        return x.view(self.nv, self.D).index_select(0, t["vidx"]).view(t["n"], t["K"], self.D)

    def energy(self, x):
        E = 0.0
        for t in self.terms:
            E = E + t["w"] * t["fn"](self.gather(x, t), t["consts"], torch).sum()
        return E

    def run_energy(self):
        with torch.no_grad():
            return {"energy": self.energy(self.x)}

    def run_grad(self):
        x = self.x.detach().requires_grad_(True)
        E = self.energy(x)
        (g,) = torch.autograd.grad(E, x)
        return {"energy": E.detach(), "g": g}

    def run_hvp(self):
        x = self.x.detach().requires_grad_(True)
        E = self.energy(x)
        (g,) = torch.autograd.grad(E, x, create_graph=True)
        (hv,) = torch.autograd.grad((g * self.v).sum(), x)
        return {"energy": E.detach(), "g": g.detach(), "hv": hv}

    def run_hess(self, project=True):
        crow, cols, nnz, slots = self.pattern()
        E = torch.zeros((), dtype=DTYPE, device=self.dev)
        g = torch.zeros(self.n_vars, dtype=DTYPE, device=self.dev)
        vals = torch.zeros(nnz, dtype=DTYPE, device=self.dev)
        for t, slot in zip(self.terms, slots):
            n, N = t["n"], t["N"]
            with torch.no_grad():
                loc = self.gather(self.x, t).reshape(n, N)
            loc.requires_grad_(True)
            Et = t["fn"](loc.view(n, t["K"], self.D), t["consts"], torch).sum()
            (gl,) = torch.autograd.grad(Et, loc, create_graph=True)
            if gl.requires_grad:
                cols_h = []
                for j in range(N):
                    (hj,) = torch.autograd.grad(gl[:, j].sum(), loc, retain_graph=(j < N - 1))
                    cols_h.append(hj)
                H = torch.stack(cols_h, dim=2)      # H[e, i, j] = d g_i / d x_j
            else:                                    # a linear term (gravity)
                H = torch.zeros(n, N, N, dtype=DTYPE, device=self.dev)
            H = (0.5 * t["w"]) * (H + H.transpose(1, 2))
            if project:
                lam, Q = torch.linalg.eigh(H)
                H = (Q * lam.clamp_min(bc.PSD_EPS).unsqueeze(1)) @ Q.transpose(1, 2)
            E = E + t["w"] * Et.detach()
            g.index_add_(0, t["var_idx"], t["w"] * gl.detach().reshape(-1))
            vals.index_add_(0, slot, H.reshape(-1))
        Hs = torch.sparse_csr_tensor(crow, cols, vals, size=(self.n_vars, self.n_vars))
        return {"energy": E, "g": g, "H": vals, "Hs": Hs}

    def runner(self, what):
        return {
            "energy": self.run_energy,
            "grad": self.run_grad,
            "hvp": self.run_hvp,
            "hess": lambda: self.run_hess(True),
            "hess_noproj": lambda: self.run_hess(False),
        }[what]


def to_numpy(out):
    """The outputs of one call as floats / numpy arrays (for validation)."""
    res = {"energy": float(out["energy"])}
    for k in ("g", "hv", "H"):
        if k in out:
            res[k] = out[k].detach().cpu().numpy()
    return res


def main(argv=None):
    ap = bc.make_parser("PyTorch float64 baseline of the locad workloads W1-W6 "
                        "(see the module docstring).", "cpu (default), cuda or cuda:N")
    args, workloads, meshes, grids, modes = bc.parse_common(ap, argv)
    if args.device == "cpu":
        device, kind, name, sync = torch.device("cpu"), "cpu", bc.cpu_model(), None
    elif args.device == "cuda" or args.device.startswith("cuda:"):
        if not torch.cuda.is_available():
            print("torch_baseline: --device %s: torch sees no CUDA device" % args.device,
                  file=sys.stderr)
            return 2
        device = torch.device(args.device if ":" in args.device else "cuda:0")
        kind, name = "cuda", torch.cuda.get_device_name(device)
        sync = lambda r: torch.cuda.synchronize(device)
    else:
        ap.error("--device: cpu, cuda or cuda:N")

    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    torch.set_num_threads(args.threads)
    any_fail = False
    for w, mesh in bc.problem_list(workloads, meshes, grids, kind):
        prob = Problem(bc.build_problem(w, mesh, args.meshes), device)
        for what in bc.modes_for(prob.data, modes):
            if bc.skip_hess(prob.data, what, args.max_elements):
                continue
            fn = prob.runner(what)
            check, xcheck = bc.validate(prob.data, what, to_numpy(fn()))
            any_fail |= check == "FAIL" or xcheck == "FAIL"
            times = bc.time_calls(fn, args.warmup, args.runs, sync)
            print(bc.record("torch", prob.data, what, kind, name, args.threads, times,
                            check, xcheck), flush=True)
        del prob
        if kind == "cuda":
            torch.cuda.empty_cache()
    return 1 if any_fail else 0


if __name__ == "__main__":
    sys.exit(main())
