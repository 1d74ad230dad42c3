"""Custom energies over the wire (protocol/SPEC.md, "Custom energies"): a description map in
problem.add_term's ``energy`` runs like a built-in (the spring re-expressed matches the built-in
spring's energy, gradient and Hessian and solves to the same state), get_term hands the
description back and it can be added again, and malformed descriptions are refused with the
node named while the daemon keeps serving."""

import numpy as np
import pytest

import locad
from conftest import grid

SPRING = {"element": "edge", "dim": 3, "n_const": 1, "params": ["k"],
          "nodes": [["x", 1], ["x", 0], ["sub", 0, 1], ["norm", 2], ["k", 0], ["sub", 3, 4],
                    ["powc", 5, 2.0], ["p", 0], ["c", 0.5], ["mul", 8, 7], ["mul", 9, 6]],
          "energy": 10}


def _problem(c, V, F, rng):
    """A problem on a new mesh with x at the rest positions plus noise, the first vertices fixed."""
    m = c.mesh_create(V, F)["mesh"]
    p = c.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
    c.set_variable(p, "x", V + rng.uniform(-0.05, 0.05, V.shape))
    c.fix(p, "x", entities=np.arange(4, dtype=np.int32))
    return m, p


def _pair(c, n, seed):
    """Two equal problems (_problem) on an n x n grid: V, then (mesh, problem) twice."""
    V, F = grid(n)
    V = np.asarray(V, dtype=float)
    ma, pa = _problem(c, V, F, np.random.default_rng(seed))
    mb, pb = _problem(c, V, F, np.random.default_rng(seed))
    return V, ma, pa, mb, pb


def test_spring_matches_builtin(client):
    c = client
    _, ma, pa, mb, pb = _pair(c, 6, 5)
    ta = c.add_term(pa, "spring", "x", params={"k": 4.0})["term"]
    rest = c.get_term(pa, ta)["consts"]
    tb = c.add_term(pb, SPRING, "x", params={"k": 4.0}, consts=rest)["term"]
    c.add_term(pa, "gravity", "x")
    c.add_term(pb, "gravity", "x")
    ea = c.eval(pa, ["energy", "gradient", "hessian"])
    eb = c.eval(pb, ["energy", "gradient", "hessian"])
    assert eb["energy"] == pytest.approx(ea["energy"], rel=1e-13)
    np.testing.assert_allclose(eb["gradient"], ea["gradient"], rtol=0, atol=1e-13 * np.abs(ea["gradient"]).max())
    ha, hb = ea["hessian"], eb["hessian"]
    np.testing.assert_allclose(hb.toarray(), ha.toarray(), rtol=0, atol=1e-12 * abs(ha).max())
    ra = c.solve(pa, options={"max_iters": 50})
    rb = c.solve(pb, options={"max_iters": 50})
    assert ra.reason == rb.reason and ra.iters == rb.iters and ra.iters > 5
    assert rb.energy == pytest.approx(ra.energy, rel=1e-10)
    np.testing.assert_allclose(c.get_variable(pb, "x"), c.get_variable(pa, "x"), atol=1e-8)
    info = c.call("problem.info", problem=pb)
    assert [t["energy"] for t in info["terms"]] == ["custom", "gravity"]
    got = c.get_term(pb, tb)
    assert got["energy"] == "custom"
    desc = got["description"]
    assert desc["element"] == "edge" and desc["dim"] == 3 and desc["params"] == ["k"]
    assert all(len(n) >= 2 for n in desc["nodes"])  # scalar program: x nodes carry a component
    # the description read back is a description: added to a new problem it gives the built-in's energy
    x = c.get_variable(pb, "x")
    pc = c.problem_create(mb, variables=[{"name": "x", "dim": 3, "init": x}])["problem"]
    pd = c.problem_create(mb, variables=[{"name": "x", "dim": 3, "init": x}])["problem"]
    c.add_term(pc, desc, "x", params={"k": 4.0}, consts=rest)
    c.add_term(pd, "spring", "x", params={"k": 4.0})
    assert c.eval(pc, "energy")["energy"] == pytest.approx(c.eval(pd, "energy")["energy"], rel=1e-13)
    c.delete(pc)
    c.delete(pd)
    for obj in (pa, pb, ma, mb):
        c.delete(obj)


@pytest.mark.parametrize("desc, want", [
    ({"element": "edge", "dim": 3, "nodes": [["x", 0], ["c", 1], ["add", 0, 1]], "energy": 2},
     "node 2 (add): shapes differ: vector 3 and scalar"),
    ({"element": "edge", "dim": 3, "nodes": [["add", 1, 1], ["c", 1]], "energy": 0},
     "node 0 (add): argument 0 refers to node 1, which is not an earlier node"),
    ({"element": "edge", "dim": 3, "nodes": [["c", 1], ["frob", 0]], "energy": 1},
     "nodes[1]: unknown operation 'frob'"),
    ({"element": "edge", "dim": 3, "nodes": [["c", float("nan")]], "energy": 0},
     "node 0 (c): the literal is not finite"),
    ({"element": "tet", "dim": 3, "nodes": [["c", 1]], "energy": 0},
     "element: 'tet' is not vertex, edge, face, edge_flap, face_pair or list"),
    ({"element": "edge", "dim": 2, "nodes": [["c", 1]], "energy": 0},
     "the custom energy is written for dimension 2; variable 'x' has 3"),
    ({"element": "edge", "dim": 3, "params": ["k"], "nodes": [["p", 0]], "energy": 0},
     "parameter 'k' has no value"),
    ({"element": "edge", "dim": 3, "n_const": 1, "nodes": [["k", 0]], "energy": 0},
     "needs per-element constants"),
])
def test_refused_descriptions(client, desc, want):
    c = client
    V, F = grid(3)
    m = c.mesh_create(V, F)["mesh"]
    p = c.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
    with pytest.raises(locad.LocadError) as ei:
        c.add_term(p, desc, "x")
    assert want in str(ei.value)
    assert c.call("problem.info", problem=p)["terms"] == []
    assert c.call("server.info")["protocol"] == 1  # still serving
    c.delete(p)
    c.delete(m)


def test_custom_term_survives_restart(tmp_path):
    """A custom term is journaled like any add_term and comes back after a restart."""
    from conftest import Daemon
    state = str(tmp_path / "state")
    (tmp_path / "state").mkdir()
    (tmp_path / "a").mkdir()
    V, F = grid(4)
    d = Daemon(str(tmp_path / "a"), extra=("--state-dir", state))
    try:
        with locad.Client("unix:" + d.unix, timeout=30) as c:
            m = c.mesh_create(V, F, name="m")["mesh"]
            p = c.problem_create(m, name="p", variables=[{"name": "x", "dim": 3}])["problem"]
            c.set_variable(p, "x", np.asarray(V, dtype=float) * 1.1)
            rest = np.ones((c.call("mesh.info", mesh=m)["ne"], 1))
            c.add_term(p, SPRING, "x", params={"k": 2.0}, consts=rest)
            e0 = c.eval(p, "energy")["energy"]
    finally:
        d.stop()
    (tmp_path / "b").mkdir()
    d = Daemon(str(tmp_path / "b"), extra=("--state-dir", state))
    try:
        with locad.Client("unix:" + d.unix, timeout=30) as c:
            assert [t["energy"] for t in c.call("problem.info", problem="p")["terms"]] == ["custom"]
            assert c.eval("p", "energy")["energy"] == e0
    finally:
        d.stop()


def test_traced_energies(client):
    """@locad.energy traces ordinary functions: the spring (the issue's example, rest as a
    constant) and StVK through matrices match the built-ins over the wire."""
    from locad.custom import dot, mat, norm, sqnorm, trace, transpose

    @locad.energy(element="edge", dim=3, consts=["rest"])
    def spring(x0, x1, k, rest):
        return 0.5 * k * (norm(x1 - x0) - rest) ** 2

    @locad.energy(element="face", dim=3, consts={"minv": 4, "area": 0})
    def stvk(x0, x1, x2, minv, area, mu, lam):
        d1, d2 = x1 - x0, x2 - x0
        Ds = mat([[d1[0], d2[0]], [d1[1], d2[1]], [d1[2], d2[2]]])
        F = Ds @ mat([[minv[0], minv[1]], [minv[2], minv[3]]])
        E = 0.5 * (transpose(F) @ F - [[1.0, 0.0], [0.0, 1.0]])
        fro = E[0, 0] ** 2 + E[1, 1] ** 2 + 2 * E[0, 1] ** 2
        return area * (mu * fro + 0.5 * lam * trace(E) ** 2)

    assert spring.param_names == ["k"] and spring.const_names == ["rest"]
    assert stvk.param_names == ["mu", "lam"] and stvk.description["n_const"] == 5
    assert "custom energy spring" in repr(spring)
    c = client
    _, ma, pa, mb, pb = _pair(c, 5, 9)
    ts = c.add_term(pa, "spring", "x", params={"k": 3.0})["term"]
    tt = c.add_term(pa, "stvk", "x", params={"mu": 2.0, "lambda": 5.0})["term"]
    c.add_term(pb, spring, "x", params={"k": 3.0}, consts=c.get_term(pa, ts)["consts"])
    c.add_term(pb, stvk, "x", params={"mu": 2.0, "lam": 5.0}, consts=c.get_term(pa, tt)["consts"])
    ea, eb = c.eval(pa, ["energy", "gradient"]), c.eval(pb, ["energy", "gradient"])
    assert eb["energy"] == pytest.approx(ea["energy"], rel=1e-12)
    np.testing.assert_allclose(eb["gradient"], ea["gradient"], rtol=0, atol=1e-12 * np.abs(ea["gradient"]).max())
    for obj in (pa, pb, ma, mb):
        c.delete(obj)


def test_tracing_errors():
    """Tracing refuses what the daemon would, in Python, with the reason."""
    from locad.custom import dot, select

    with pytest.raises(TypeError, match="select"):
        @locad.energy(element="edge", dim=3)
        def branchy(x0, x1):
            return dot(x0, x1) if x0[0] < x1[0] else 0.0 * x0[0]
    with pytest.raises(ValueError, match="shapes differ: a vector of 3 and a scalar"):
        @locad.energy(element="edge", dim=3)
        def mixed(x0, x1):
            return x0 + 1.0
    with pytest.raises(ValueError, match="use dot or cross"):
        @locad.energy(element="edge", dim=3)
        def product(x0, x1):
            return x0 * x1
    with pytest.raises(ValueError, match="must return a scalar"):
        @locad.energy(element="edge", dim=3)
        def vector(x0, x1):
            return x1 - x0
    with pytest.raises(IndexError, match="out of range"):
        @locad.energy(element="edge", dim=3)
        def index(x0, x1):
            return x0[3]

    @locad.energy(element="vertex", dim=1)
    def hinge(x, a):
        return select(x < a, (a - x) ** 2 + (a - x), 0.0 * x)
    d = hinge.description
    assert d["nodes"][0] == ["x", 0] and d["params"] == ["a"]
    assert [n[0] for n in d["nodes"]].count("sub") == 1  # equal nodes are made once


def test_constants_from_the_rest_shape(client):
    """rest= computes the constants in the daemon from the rest positions: the spring then needs
    no consts, and matches the built-in (whose rest lengths come from the same mesh)."""
    from locad.custom import norm

    @locad.energy(element="edge", dim=3, consts=["L"], rest=lambda X0, X1: norm(X1 - X0))
    def spring(x0, x1, k, L):
        return 0.5 * k * (norm(x1 - x0) - L) ** 2

    assert "rest" in spring.description
    c = client
    _, ma, pa, mb, pb = _pair(c, 5, 3)
    ta = c.add_term(pa, "spring", "x", params={"k": 2.0})["term"]
    tb = c.add_term(pb, spring, "x", params={"k": 2.0})["term"]
    np.testing.assert_allclose(c.get_term(pb, tb)["consts"], c.get_term(pa, ta)["consts"], rtol=1e-15)
    assert c.eval(pb, "energy")["energy"] == pytest.approx(c.eval(pa, "energy")["energy"], rel=1e-13)
    with pytest.raises(ValueError, match="rest gives 2 constants; the energy reads 1"):
        locad.energy(element="edge", dim=3, consts=["L"], rest=lambda X0, X1: [norm(X0), norm(X1)])(lambda x0, x1, L: L)
    bad = dict(spring.description, rest={"nodes": [["x", 0]], "consts": [0]})
    with pytest.raises(locad.LocadError, match="rest: gives 3 constants; the energy reads 1"):
        c.add_term(pb, bad, "x", params={"k": 2.0})
    for obj in (pa, pb, ma, mb):
        c.delete(obj)


def test_residual_energy_solves_like_builtin(client):
    """residual=True traces a residual vector: the daemon gives its residuals and Jacobian, and a
    Gauss-Newton and an LM solve end where the built-in residual terms' do, in as many iterations."""
    from locad.custom import norm

    @locad.energy(element="edge", dim=3, consts=["L"], residual=True, rest=lambda X0, X1: norm(X1 - X0))
    def length(x0, x1, L):
        return norm(x1 - x0) - L

    @locad.energy(element="vertex", dim=3, consts={"t": 3}, residual=True)
    def position(x, t):
        return [x - t]

    assert length.description["residuals"] and position.description["residuals"]
    c = client
    V, ma, pa, mb, pb = _pair(c, 5, 8)
    c.add_term(pa, "res_edge_length", "x")
    c.add_term(pb, length, "x")
    tgt = V[:6] + np.array([0.0, 0.0, 0.3])
    c.add_term(pa, "res_position", "x", elements=np.arange(6, dtype=np.int32), consts=tgt, weight=0.1)
    c.add_term(pb, position, "x", elements=np.arange(6, dtype=np.int32), consts=tgt, weight=0.1)
    ea = c.eval(pa, ["energy", "jacobian"])
    eb = c.eval(pb, ["energy", "jacobian"])
    assert eb["energy"] == pytest.approx(ea["energy"], rel=1e-13)
    np.testing.assert_allclose(eb["residual"], ea["residual"], rtol=0, atol=1e-13)
    np.testing.assert_allclose(eb["jacobian"].toarray(), ea["jacobian"].toarray(), rtol=0, atol=1e-13)
    assert c.call("problem.info", problem=pb)["n_residuals"] == ea["residual"].shape[0]
    assert c.get_term(pb, 0)["description"]["residuals"]
    for method in ("gauss_newton", "lm"):
        x0 = c.get_variable(pa, "x")
        c.set_variable(pb, "x", x0)
        ra = c.solve(pa, method, options={"max_iters": 30})
        rb = c.solve(pb, method, options={"max_iters": 30})
        assert ra.reason == rb.reason and ra.iters == rb.iters and ra.iters > 1
        assert rb.energy == pytest.approx(ra.energy, rel=1e-10)
        np.testing.assert_allclose(c.get_variable(pb, "x"), c.get_variable(pa, "x"), atol=1e-9)
    for obj in (pa, pb, ma, mb):
        c.delete(obj)
