#!/usr/bin/python3
"""test_baselines.py - checks both baselines on small problems, on the CPU.

    /usr/bin/python3 bench/test_baselines.py

PyTorch: every mode of W1 camelhead, W2 spot, W3 armadillo (grad), W4 spot,
W5 and W6 on a 20 x 20 grid, validated against the published check values or
the closed-form W5/W6 reference.  JAX: the same through jax_baseline.Problem,
with real JAX when it is installed, else with the torch-based test double in
bench/jax_double (which exercises jax_baseline's code, not JAX itself).  Also
that the numpy energies reproduce the published energies.  Prints
'N passed, N failed[, N skipped]'; exit 0 when none failed, 77 when torch is
missing (everything skipped)."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import baseline_common as bc  # noqa: E402

CASES = [("W1", "camelhead", None), ("W2", "spot", None), ("W3", "armadillo", ["grad"]),
         ("W4", "spot", None), ("W5", 20, None), ("W6", 20, None)]
MODES = ["energy", "grad", "hvp", "hess", "hess_noproj"]


def main():
    meshes = os.environ.get("LOCAD_MESHES") or os.path.join(HERE, "..", "..", "shared", "meshes")
    passed = failed = 0

    def report(ok, what):
        nonlocal passed, failed
        passed, failed = passed + ok, failed + (not ok)
        print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)

    data = {}
    for w, m, _ in CASES:
        data[(w, m)] = p = bc.build_problem(w, m, meshes)
        ref = bc.CHECK.get((w, m), (None,))[0] or (bc.reference(p) or {}).get("energy")
        E = sum(t.weight * t.fn(p.x.reshape(p.nv, p.D)[t.elems], t.consts, np).sum() for t in p.terms)
        if ref is not None:
            report(bc.rel_err(E, ref) <= 1e-11, "numpy energy %s %s" % (w, m))
    try:
        import torch
    except ImportError:
        print("%d passed, 0 failed, %d skipped (no torch)" % (passed, 2 * len(CASES)))
        return 77
    import torch_baseline as tb
    try:
        import jax
        double = False
    except ImportError:
        sys.path.insert(0, os.path.join(HERE, "jax_double"))
        import jax
        double = True
    import jax.numpy as jnp
    if not double:
        jax.config.update("jax_enable_x64", True)
    import jax_baseline as jb
    label = "jax (test double)" if double else "jax"
    for w, m, modes in CASES:
        p = data[(w, m)]
        tp = tb.Problem(p, torch.device("cpu"))
        jp = jb.Problem(p, jax, jnp, jax.devices("cpu")[0])
        for what in bc.modes_for(p, modes or MODES):
            check, xcheck = bc.validate(p, what, tb.to_numpy(tp.runner(what)()))
            report("FAIL" not in (check, xcheck), "torch %s %s %s (%s/%s)" % (w, m, what, check, xcheck))
            fn, as_dict = jp.runner(what)
            check, xcheck = bc.validate(p, what, jb.to_numpy(as_dict(jax.block_until_ready(fn()))))
            report("FAIL" not in (check, xcheck), "%s %s %s %s (%s/%s)" % (label, w, m, what, check, xcheck))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
