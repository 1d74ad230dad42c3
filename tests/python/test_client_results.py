"""Python client results against the real daemon: solve/step results as SolveResult objects with
each daemon warning surfaced (max_iters, cancelled, unbounded energy, GN without residuals; no
terms is an InvalidError), variables keyed by name (ints still the ids), every call taking a
variable accepting its name, get_term / set_term, list, and writable arrays on request."""

import threading

import numpy as np
import pytest

import locad
from conftest import grid

SLOW = {"max_iters": 10 ** 7, "gtol": 0.0, "time_budget": 30.0}


@pytest.fixture
def sheet(client):
    """A 6×6 grid mesh and a problem on it with variables x (dim 3) and uv (dim 2); deleted after."""
    V, F = grid(6)
    m = client.mesh_create(V, F)["mesh"]
    p = client.problem_create(m, variables=[{"name": "x", "dim": 3},
                                            {"name": "uv", "dim": 2, "init": V[:, :2]}])["problem"]
    yield p, V, F
    client.delete(p)
    client.delete(m)


# -- warnings -------------------------------------------------------------------------------

def test_no_terms_is_an_error_naming_the_cause(client, sheet):
    """A problem without terms has nothing to minimise: the daemon answers INVALID and the
    client raises InvalidError whose message says so."""
    p, _, _ = sheet
    with pytest.raises(locad.InvalidError) as e:
        client.solve(p)
    assert e.value.code == 5
    assert "no terms" in str(e.value) and "nothing to minimise" in str(e.value)


def test_warning_max_iters(client, sheet):
    p, _, _ = sheet
    client.add_term(p, "spring", "x")
    client.fix(p, "x", entities=[0], values=[[0, 0, 0.5]])
    r = client.solve(p, method="gd", options={"max_iters": 3, "gtol": 0.0})
    assert r.reason == "max_iters" and not r.success
    assert len(r.warnings) == 1 and "max_iters" in r.warnings[0]
    assert r.message == "stopped: max_iters reached before a tolerance after 3 iterations"


def test_warning_unbounded_energy(client, sheet):
    """Gravity alone from a start far below: the energy is -inf, reported as unbounded."""
    p, V, _ = sheet
    client.add_term(p, "gravity", "x")
    X = V.copy()
    X[:, 2] = -1e308
    client.set_variable(p, "x", X)
    r = client.solve(p, method="newton")
    assert r.energy == -np.inf and not r.success
    assert any("unbounded" in w for w in r.warnings)
    assert "unbounded below" in r.message


def test_warning_cancelled(client, sheet):
    p, _, _ = sheet
    client.add_term(p, "spring", "x")
    client.add_term(p, "gravity", "x")
    client.fix(p, "x", entities=[0])
    started = threading.Event()
    call = client.solve_async(p, method="gd", options=SLOW, progress=lambda i: started.set())
    assert started.wait(10)
    assert call.cancel()["cancelled"] == 1
    r = call.result(20)
    assert isinstance(r, locad.SolveResult)
    assert r.reason == "cancelled" and not r.success and r.message.startswith("cancelled")
    assert any(w.startswith("cancelled") for w in r.warnings)


def test_warning_gauss_newton_without_residuals_in_step(client, sheet):
    """Step results carry warnings too."""
    p, _, _ = sheet
    h = 0.01
    inertia = client.add_term(p, "inertia", "x")["term"]
    client.add_term(p, "spring", "x", weight=h * h)
    client.add_term(p, "gravity", "x", weight=h * h)
    r = client.step(p, h=h, var="x", inertia_term=inertia, method="gauss_newton")
    assert isinstance(r, locad.SolveResult) and r.steps == 1
    assert any("residual" in w for w in r.warnings)


# -- variables by name ----------------------------------------------------------------------

def test_variables_keyed_by_name(client, sheet):
    p, V, _ = sheet
    client.add_term(p, "spring", "x")
    client.add_term(p, "arap", "uv")
    client.fix(p, "uv", entities=[0, 35])
    r = client.solve(p, returns=["uv", "x"], options={"max_iters": 3})
    assert isinstance(r.variables, locad.Variables) and r.variables is r["variables"]
    assert sorted(r.variables) == ["uv", "x"] and len(r.variables) == 2
    assert r.variables["x"].shape == (36, 3) and r.variables["uv"].shape == (36, 2)
    assert r.variables[0] is r.variables["x"] and r.variables[1] is r.variables["uv"]
    assert "x" in r.variables and 1 in r.variables and "nope" not in r.variables
    assert set(r.variables.ids()) == {0, 1} and r.variables.name_of(1) == "uv"
    with pytest.raises(KeyError, match=r"'nope'.*'x' \(id 0\)"):
        r.variables["nope"]  # pylint: disable=pointless-statement
    assert len(client.solve(p, options={"max_iters": 1}).variables) == 0  # nothing asked for
    # a variable added later is keyed by its name too, in get_variables as well
    client.add_variable(p, "s", 1, init=np.arange(36.0))
    got = client.get_variables(p)
    assert list(got) == ["x", "uv", "s"]
    np.testing.assert_array_equal(got["s"].ravel(), np.arange(36.0))
    assert list(client.get_variables(p, ["s", 0])) == ["s", "x"]


def test_foreign_problem_keys_by_name(client, daemon, sheet):
    """A problem created by another connection: the client learns its variables' names from the
    daemon (problem.info, once), so results are keyed by name there too; ids keep working."""
    p, _, _ = sheet
    client.add_term(p, "spring", "x")
    with locad.Client(daemon.unix, timeout=30) as other:
        r = other.solve(p, returns=True, options={"max_iters": 1})
        assert list(r.variables) == ["x", "uv"]
        np.testing.assert_array_equal(r.variables["x"], r.variables[0])
        info = other.problem_info(p)
        assert [v["name"] for v in info["variables"]] == ["x", "uv"]


def test_every_variable_argument_takes_a_name(client, sheet):
    """add_term, set_variable, get_variable, fix, unfix, solve's fix/unfix/returns/options,
    step's var, set_contact's var and get_variables all accept the variable's name."""
    p, V, _ = sheet
    h = 0.01
    client.set_variable(p, "x", V + [0, 0, 0.01])
    np.testing.assert_allclose(client.get_variable(p, "x")[:, 2], 0.01)
    inertia = client.add_term(p, "inertia", "x")["term"]
    client.add_term(p, "spring", "x", weight=h * h)
    client.add_term(p, "gravity", "x", weight=h * h)
    assert client.add_term(p, "arap", "uv")["n_elems"] == 50
    assert client.fix(p, "x", entities=[0, 5]) == 6  # fixed DOFs
    assert client.unfix(p, "x", entities=[5]) == 3
    r = client.solve(p, fix={"var": "uv", "entities": [0, 35]}, unfix={"var": "x"},
                     returns=["uv"], options={"max_iters": 3})
    assert list(r.variables) == ["uv"]
    st = client.set_contact(p, var="x", dhat=0.005, planes=[[0, 0, -100.0, 0, 0, 1.0]])
    assert st["var"] == 0
    r = client.step(p, h=h, var="x", inertia_term=inertia, steps=2, returns=["x"])
    assert r.variables["x"].shape == (36, 3) and "contact" in r
    assert client.set_contact(p, enabled=False) == {"enabled": False}
    assert list(client.get_variables(p, ["uv"])) == ["uv"]


# -- terms and lists ------------------------------------------------------------------------

def test_get_and_set_term(client, sheet):
    p, _, _ = sheet
    t = client.add_term(p, "target", "x", elements=[[0], [35]])["term"]
    g = client.get_term(p, t)
    assert (g["term"], g["energy"], g["var"], g["n_elems"]) == (t, "target", 0, 2)
    assert g["consts"].shape == (2, 3)
    goal = np.array([[0.0, 0.0, 1.0], [2.0, 2.0, 0.0]])
    assert client.set_term(p, t, weight=2.0, consts=goal) is True
    np.testing.assert_array_equal(client.get_term(p, t)["consts"], goal)
    with pytest.raises(locad.NotFoundError, match="term"):
        client.get_term(p, t + 5)


def test_list(client):
    before = client.list()
    assert set(before) == {"meshes", "problems"}
    V, F = grid(3)
    m = client.mesh_create(V, F, name="list-both")["mesh"]
    p = client.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
    after = client.list()
    assert [e["mesh"] for e in after["meshes"]] == [e["mesh"] for e in before["meshes"]] + [m]
    assert after["problems"][-1]["problem"] == p and after["problems"][-1]["mesh"] == m
    client.delete(p)
    client.delete(m)
    assert client.list() == before


# -- writable arrays ------------------------------------------------------------------------

def test_arrays_read_only_by_default_writable_on_request(client, daemon, sheet):
    p, V, _ = sheet
    client.add_term(p, "spring", "x")
    x = client.get_variable(p, "x")
    assert not x.flags.writeable
    with pytest.raises(ValueError):
        x[0, 0] = 1.0
    y = client.get_variable(p, "x", writable=True)
    y[0, 0] = 7.0  # a copy: the daemon's state is untouched
    assert client.get_variable(p, "x")[0, 0] == V[0, 0]
    r = client.solve(p, returns=True, options={"max_iters": 1}, writable=True)
    assert all(a.flags.writeable for a in r.variables.values())
    e = client.eval(p, what=["gradient", "hessian"], writable=True)
    assert e["gradient"].flags.writeable and e["hessian"].data.flags.writeable
    assert not client.eval(p, what="gradient")["gradient"].flags.writeable
    assert client.mesh_info(client.problem_info(p)["mesh"], arrays=True, writable=True)["V"].flags.writeable
    with locad.Client(daemon.unix, timeout=30, writable=True) as w:
        a = w.get_variable(p, "x")
        assert a.flags.writeable and a.flags.owndata
        assert not w.get_variable(p, "x", writable=False).flags.writeable
