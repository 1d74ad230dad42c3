#!/usr/bin/env python3
"""JAX baseline for the locad standard workloads W1-W6, on a GPU or the CPU.

The same workloads, meshes, states, modes, validation and JSON lines as
``torch_baseline.py`` (``"system":"jax"``), written the way a JAX user would
write them: the per-element energies of ``baseline_common.py`` (the very
formulas the PyTorch baseline runs) on ``jax.numpy`` in float64
(``jax_enable_x64``), one gather per term (``x[elems]``; its gradient is the
scatter-add), and every timed operation one ``jax.jit``-compiled function:

  energy       E(x).
  grad         jax.value_and_grad(E).
  hvp          E, g and H v by forward-over-reverse:
               jax.jvp(jax.value_and_grad(E), (x,), (v,)).
  hess         per term: the element energies' gradient (value_and_grad of
               their sum w.r.t. the gathered n x N local variables) and the
               per-element N x N Hessians, jax.vmap(jax.hessian(element)),
               weighted, symmetrised; then (hess) batched jnp.linalg.eigh,
               eigenvalues clamped to >= 1e-9, Q diag Q^T; then one
               scatter-add (.at[slot].add) into the value array of the CSR
               pattern through the element->slot map computed at setup, as
               the PyTorch baseline does (the pattern itself is symbolic and
               not timed).  The result is the CSR value array; its row
               pointers and column indices are the precomputed pattern.
  hess_noproj  the same without the projection.

Before timing, each (workload, mesh, mode) runs once (this also compiles it)
and is validated as in the PyTorch baseline: "check" against the published
check values (W1-W3), "xcheck" against the closed-form numpy reference (W5,
W6).  Timing: ``--warmup`` calls, then ``--runs`` calls, each ended by
``jax.block_until_ready`` on its outputs.

Devices: ``--device auto`` (default: the first GPU if JAX has one, else the
CPU), ``cpu``, ``cuda`` or ``cuda:N``.  On the CPU, XLA uses all cores (the
"threads" field reports os.cpu_count()); ``--threads`` applies to nothing
else here.

    python3 bench/jax_baseline.py                       # standard set, GPU if present
    python3 bench/jax_baseline.py --device cpu --workload W2 --mesh spot
"""

import os
import sys

import numpy as np

import baseline_common as bc


def import_jax(device):
    """Imports jax with float64 enabled (and only the CPU for --device cpu)."""
    if device == "cpu":
        os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax
    try:
        jax.config.update("jax_enable_x64", True)
    except Exception as e:  # noqa: BLE001 - reported below through the dtype test
        print("jax_baseline: jax_enable_x64: %s" % e, file=sys.stderr)
    import jax.numpy as jnp
    if jnp.zeros(1).dtype != np.float64:
        raise RuntimeError("jax does not compute in float64 (jax_enable_x64 had no effect)")
    return jax, jnp


def pick_device(jax, spec):
    """The jax device for spec (auto, cpu, cuda, cuda:N), or an error string."""
    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        gpus = []
    if spec == "cpu":
        return jax.devices("cpu")[0]
    if spec == "auto":
        return gpus[0] if gpus else jax.devices("cpu")[0]
    if spec == "cuda" or spec.startswith("cuda:"):
        k = int(spec[5:]) if ":" in spec else 0
        if k >= len(gpus):
            return "--device %s: JAX sees %d GPU(s)" % (spec, len(gpus))
        return gpus[k]
    return "--device: auto, cpu, cuda or cuda:N"


class Problem:
    """A ProblemData on one JAX device, with its jit-compiled operations."""

    def __init__(self, data, jax, jnp, dev):
        self.data = data
        put = lambda a: jax.device_put(np.ascontiguousarray(a), dev)
        self.x = put(data.x)
        self.v = put(data.v)
        nv, D, n_vars = data.nv, data.D, data.n_vars
        meta = [(t.fn, t.weight, t.n, t.K, t.N) for t in data.terms]
        self.terms = [{"elems": put(t.elems.astype(np.int32)),
                       "consts": {k: put(v) for k, v in t.consts.items()},
                       "var_idx": put(t.var_idx.reshape(-1).astype(np.int32))}
                      for t in data.terms]
        self._slots = None
        self._put = put

        def energy(x, terms):
            x2 = x.reshape(nv, D)
            E = 0.0
            for (fn, w, n, K, N), t in zip(meta, terms):
                E = E + w * fn(x2[t["elems"]], t["consts"], jnp).sum()
            return E

        def hvp(x, v, terms):
            (E, g), (_, hv) = jax.jvp(lambda y: jax.value_and_grad(energy)(y, terms), (x,), (v,))
            return E, g, hv

        def hess(x, terms, slots, project):
            x2 = x.reshape(nv, D)
            E = 0.0
            g = jnp.zeros(n_vars)
            vals = jnp.zeros(self.data.nnz)
            for (fn, w, n, K, N), t, slot in zip(meta, terms, slots):
                loc = x2[t["elems"]].reshape(n, N)

                def elem(l, c, fn=fn, K=K):  # one element: l (N,), c its constants
                    return fn(l.reshape(1, K, D), {k: a[None] for k, a in c.items()}, jnp)[0]

                Et, gl = jax.value_and_grad(
                    lambda L, fn=fn, n=n, K=K, c=t["consts"]: fn(L.reshape(n, K, D), c, jnp).sum())(loc)
                H = jax.vmap(jax.hessian(elem))(loc, t["consts"])      # n x N x N
                H = (0.5 * w) * (H + jnp.swapaxes(H, 1, 2))
                if project:
                    lam, Q = jnp.linalg.eigh(H, symmetrize_input=False)
                    H = (Q * jnp.maximum(lam, bc.PSD_EPS)[:, None, :]) @ jnp.swapaxes(Q, 1, 2)
                E = E + w * Et
                g = g.at[t["var_idx"]].add(w * gl.reshape(-1))
                vals = vals.at[slot].add(H.reshape(-1))
            return E, g, vals

        self._energy = jax.jit(energy)
        self._grad = jax.jit(jax.value_and_grad(energy))
        self._hvp = jax.jit(hvp)
        self._hess = jax.jit(hess, static_argnums=(3,))

    def slots(self):
        if self._slots is None:
            _, _, _, slots = self.data.pattern()
            self._slots = [self._put(s.astype(np.int32)) for s in slots]
        return self._slots

    def runner(self, what):
        """(fn, to_dict): the timed call and the conversion of its result."""
        if what == "energy":
            return (lambda: self._energy(self.x, self.terms)), lambda r: {"energy": r}
        if what == "grad":
            return (lambda: self._grad(self.x, self.terms)), lambda r: {"energy": r[0], "g": r[1]}
        if what == "hvp":
            return ((lambda: self._hvp(self.x, self.v, self.terms)),
                    lambda r: {"energy": r[0], "g": r[1], "hv": r[2]})
        project = what == "hess"
        slots = self.slots()
        return ((lambda: self._hess(self.x, self.terms, slots, project)),
                lambda r: {"energy": r[0], "g": r[1], "H": r[2]})


def to_numpy(d):
    return {k: (float(v) if k == "energy" else np.asarray(v)) for k, v in d.items()}


def main(argv=None):
    ap = bc.make_parser("JAX float64 baseline (jit) of the locad workloads W1-W6 "
                        "(see the module docstring).", "auto (default), cpu, cuda or cuda:N")
    ap.set_defaults(device="auto")
    args, workloads, meshes, grids, modes = bc.parse_common(ap, argv)
    if args.device not in ("auto", "cpu", "cuda") and not args.device.startswith("cuda:"):
        ap.error("--device: auto, cpu, cuda or cuda:N")
    try:
        jax, jnp = import_jax(args.device)
    except Exception as e:  # noqa: BLE001 - no jax, or no float64
        print("jax_baseline: %s" % e, file=sys.stderr)
        return 2
    dev = pick_device(jax, args.device)
    if isinstance(dev, str):
        print("jax_baseline: " + dev, file=sys.stderr)
        return 2
    kind = "cpu" if dev.platform == "cpu" else "cuda"
    name = bc.cpu_model() if kind == "cpu" else dev.device_kind
    threads = os.cpu_count() if kind == "cpu" else args.threads
    sync = lambda r: jax.block_until_ready(r) if r is not None else None
    any_fail = False
    for w, mesh in bc.problem_list(workloads, meshes, grids, kind):
        prob = Problem(bc.build_problem(w, mesh, args.meshes), jax, jnp, dev)
        for what in bc.modes_for(prob.data, modes):
            if bc.skip_hess(prob.data, what, args.max_elements):
                continue
            fn, as_dict = prob.runner(what)
            check, xcheck = bc.validate(prob.data, what, to_numpy(as_dict(sync(fn()))))
            any_fail |= check == "FAIL" or xcheck == "FAIL"
            times = bc.time_calls(fn, args.warmup, args.runs, sync)
            print(bc.record("jax", prob.data, what, kind, name, threads, times, check, xcheck),
                  flush=True)
        del prob
    return 1 if any_fail else 0


if __name__ == "__main__":
    sys.exit(main())
