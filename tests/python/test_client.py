"""Integration tests of the Python client (clients/python/locad) against a real locad daemon:
every method, error paths with their numeric codes, disconnects mid-solve, 100 concurrent
clients, progress callbacks, cancellation and timeouts."""

import json
import os
import socket
import threading
import time

import msgpack
import numpy as np
import pytest

import locad
from conftest import grid, mesh_dir

SHEET_OBJ = """v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
f 1 2 3
f 1 3 4
"""


def cloth(c, n=10, name=None):
    """A cloth problem on an n×n grid (stvk + bending + gravity, two corners fixed)."""
    V, F = grid(n)
    m = c.mesh_create(V, F)
    p = c.problem_create(m["mesh"], variables=[{"name": "x", "dim": 3}], name=name)
    pid = p["problem"]
    c.add_term(pid, "stvk", "x", params={"mu": 100.0, "lambda": 100.0})
    c.add_term(pid, "bending", "x", weight=0.01)
    c.add_term(pid, "gravity", "x")
    c.fix(pid, "x", entities=[0, n - 1])
    return m["mesh"], pid


def slow_problem(c, n=40):
    """A problem whose gradient-descent solve runs for a long time (for cancel/timeout)."""
    V, F = grid(n)
    m = c.mesh_create(V, F)
    pid = c.problem_create(m["mesh"], variables=[{"name": "x", "dim": 3}])["problem"]
    c.add_term(pid, "spring", "x", params={"k": 1.0})
    c.add_term(pid, "gravity", "x")
    c.fix(pid, "x", entities=[0])
    return pid


SLOW = {"max_iters": 10 ** 7, "gtol": 0.0, "time_budget": 30.0}


# -- server methods -------------------------------------------------------------------------

def test_server_methods(client, daemon):
    info = client.info()
    assert info["protocol"] == 1
    assert "problem.solve" in info["methods"]
    assert any(e["name"] == "stvk" for e in info["energies"])
    assert client.health()["ok"] is True
    st = client.stats()
    for k in ("objects", "meshes", "problems", "bytes", "requests", "errors"):
        assert k in st
    with locad.Client(daemon.tcp) as c2:  # TCP "host:port"
        assert c2.health()["ok"]
    host, port = daemon.tcp.split(":")
    with locad.Client((host, int(port))) as c3:
        assert c3.health()["ok"]
    with locad.Client(daemon.unix) as c4:  # bare path
        assert c4.health()["ok"]


def test_lists(client):
    """mesh.list and problem.list: what was created, in creation order, gone once deleted."""
    V, F = grid(4)
    m = client.mesh_create(V, F, name="list-mesh")["mesh"]
    p = client.problem_create(m, name="list-problem", variables=[{"name": "x", "dim": 3}])["problem"]
    meshes = {e["mesh"]: e for e in client.mesh_list()}
    assert meshes[m]["name"] == "list-mesh" and meshes[m]["nv"] == 16 and meshes[m]["nf"] == 18
    problems = {e["problem"]: e for e in client.problem_list()}
    assert problems[p]["name"] == "list-problem" and problems[p]["mesh"] == m
    assert problems[p]["device"] == "cpu"
    client.delete(p)
    client.delete(m)
    assert p not in {e["problem"] for e in client.problem_list()}
    assert m not in {e["mesh"] for e in client.mesh_list()}


def test_solve_results(client):
    """Solve results read as attributes and say how they ended: success, message, warnings."""
    V, F = grid(6)
    m = client.mesh_create(V, F)["mesh"]
    p = client.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
    client.add_term(p, "spring", "x")
    fix = {"var": "x", "entities": np.array([0], dtype=np.int32), "values": np.array([[0.0, 0.0, 0.4]])}
    r = client.solve(p, method="newton", fix=fix, options={"gtol": 1e-9})
    assert isinstance(r, locad.SolveResult) and r.success and r.reason == r["reason"] == "gradient"
    assert "converged" in r.message and r.warnings == []
    r = client.solve(p, method="gauss_newton", options={"max_iters": 1, "gtol": 0.0})
    assert not r.success and "max_iters" not in " ".join(r.warnings)  # one iteration asked for
    assert any("residual" in w for w in r.warnings)
    r = client.solve(p, method="lbfgs", options={"max_iters": 2, "gtol": 0.0})
    assert not r.success and r.message.startswith("stopped: max_iters")
    assert any("max_iters" in w for w in r.warnings)
    with pytest.raises(AttributeError):
        r.no_such_field  # pylint: disable=pointless-statement
    client.delete(p)
    client.delete(m)


def test_devices(client):
    """Device round trip: server.info lists the devices (CPU first); problem.create places the
    problem where asked and says so; cuda:0 works only where the daemon lists it."""
    info = client.info()
    devs = client.devices()
    ids = [d["id"] for d in devs]
    assert ids[0] == "cpu" and devs[0]["compute_capability"] is None
    assert devs[0]["cores"] >= 1 and devs[0]["memory"] > 0 and devs[0]["name"]
    assert info["device"] in ids and info["backend"] in ("cpu", "cuda")
    V, F = grid(4)
    mid = client.mesh_create(V, F)["mesh"]
    p = client.problem_create(mid, variables=[{"name": "x", "dim": 3}], device="cpu")
    assert p["device"] == "cpu"
    assert client.problem_info(p["problem"])["device"] == "cpu"
    client.add_term(p["problem"], "spring", "x")
    client.fix(p["problem"], "x", entities=[0])
    r = client.solve(p["problem"], options={"max_iters": 3})
    assert r["host_syncs"] == 0  # the CPU reads nothing back
    assert client.problem_create(mid)["device"] == info["device"]  # the daemon's default
    if "cuda:0" in ids:
        assert client.problem_create(mid, device="cuda:0")["device"] == "cuda:0"
    else:
        with pytest.raises(locad.InvalidError, match="cuda:0"):
            client.problem_create(mid, device="cuda:0")
    for bad in ("gpu", "cuda:x", 42):
        with pytest.raises(locad.ParamsError, match="device"):
            client.problem_create(mid, device=bad)


def test_parse_address():
    assert locad.parse_address("127.0.0.1:7878") == (socket.AF_INET, ("127.0.0.1", 7878))
    assert locad.parse_address("[::1]:1") == (socket.AF_INET6, ("::1", 1))
    assert locad.parse_address("unix:/a/b") == (socket.AF_UNIX, "/a/b")
    assert locad.parse_address("/a/b") == (socket.AF_UNIX, "/a/b")


# -- meshes ---------------------------------------------------------------------------------

def test_mesh_methods(client, tmp_path):
    V, F = grid(5)
    m = client.mesh_create(V, F, name="py-grid5")
    assert (m["nv"], m["nf"]) == (25, 32)
    info = client.mesh_info("py-grid5", arrays=True)
    assert info["boundary_loops"] == 1
    np.testing.assert_array_equal(info["V"], V)
    np.testing.assert_array_equal(info["F"], F)
    assert info["V"].dtype == np.float64 and info["F"].dtype == np.int32
    # plain lists and integer vertex arrays are accepted too
    m2 = client.mesh_create([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]])
    assert m2["nf"] == 1
    m3 = client.mesh_load_obj(SHEET_OBJ)
    assert (m3["nv"], m3["nf"]) == (4, 2)
    path = tmp_path / "sheet.obj"
    path.write_text(SHEET_OBJ)
    m4 = client.mesh_load_file(path, name="py-sheet")
    assert m4["name"] == "py-sheet"
    for mid in (m["mesh"], m2["mesh"], m3["mesh"], "py-sheet"):
        assert client.mesh_delete(mid) is True
    with pytest.raises(locad.NotFoundError) as e:
        client.mesh_info(m["mesh"])
    assert e.value.code == 4


@pytest.mark.skipif(mesh_dir() is None, reason="shared meshes not found")
def test_load_shared_mesh(client):
    m = client.mesh_load_file(os.path.join(mesh_dir(), "spot.obj"))
    assert m["nf"] == 5856
    client.delete(m["mesh"])


# -- problems -------------------------------------------------------------------------------

def test_problem_methods(client):
    V, F = grid(6)
    mid = client.mesh_create(V, F)["mesh"]
    p = client.problem_create(mid, name="py-prob", variables=[
        {"name": "x", "dim": 3}, {"name": "uv", "dim": 2, "init": V[:, :2] * 2.0}])
    pid = p["problem"]
    assert p["n_dofs"] == 36 * 5
    var = client.add_variable(pid, "f", 1, loc="face")
    assert (var["loc"], var["n"]) == ("face", 50)
    client.add_variable(pid, "s", 1)
    np.testing.assert_allclose(client.get_variable(pid, "uv"), V[:, :2] * 2.0)
    assert client.add_term(pid, "arap", "uv")["n_elems"] == 50
    t1 = client.add_term(pid, "spring", "x", weight=2.0, params={"k": 3.0})
    t2 = client.add_term(pid, "res_position", "x", elements=np.arange(36).reshape(-1, 1))
    t3 = client.add_term(pid, "target", "s", consts=np.ones((36, 1)))
    assert t1["n_elems"] == 85 and t2["n_elems"] == 36
    assert client.remove_term(pid, t3["term"]) is True

    x = V * 1.5
    assert client.set_variable(pid, "x", x) is True
    np.testing.assert_allclose(client.get_variable(pid, 0), x)
    assert client.fix(pid, "x", entities=[0, 5], values=[[0, 0, 0], [1, 0, 0]]) > 0
    assert client.unfix(pid, "x", entities=[5]) >= 0

    info = client.problem_info("py-prob")
    assert info["problem"] == pid and len(info["terms"]) == 3

    e = client.eval(pid)
    assert e["energy"] > 0
    n = p["n_dofs"] + 50 + 36
    r = client.eval(pid, what=["gradient", "hessian", "hvp", "jacobian"], v=np.ones(n))
    assert r["gradient"].shape == (n,)
    H = r["hessian"]
    assert H.shape == (n, n)
    np.testing.assert_allclose(H @ np.ones(n), r["hvp"], rtol=1e-9, atol=1e-9)
    J = r["jacobian"]
    assert J.shape == (r["residual"].shape[0], n)
    r2 = client.eval(pid, x=np.zeros(n))  # another point, state unchanged
    assert r2["energy"] != e["energy"]
    assert client.eval(pid)["energy"] == e["energy"]

    res = client.solve(pid, method="newton", options={"max_iters": 50}, returns=["x", "uv"])
    assert res["reason"] in ("gradient", "decrement", "ftol")
    assert set(res["variables"]) == {"x", "uv"}  # keyed by name; ids still index
    assert res["variables"][0].shape == (36, 3) and res["variables"]["x"] is res["variables"][0]
    np.testing.assert_allclose(res["variables"][0][0], [0, 0, 0])
    for method in ("lbfgs", "gd"):
        client.solve(pid, method=method, options={"max_iters": 5})
    assert client.problem_delete("py-prob") is True
    assert client.mesh_delete(mid) is True


def test_gauss_newton_and_fix_in_solve(client):
    V, F = grid(4)
    mid = client.mesh_create(V, F)["mesh"]
    pid = client.problem_create(mid, variables=[{"name": "x", "dim": 3}])["problem"]
    client.add_term(pid, "res_edge_length", "x")
    client.add_term(pid, "res_position", "x", elements=[[0]])
    r = client.solve(pid, method="lm", fix={"var": "x", "entities": [15],
                                            "values": [[1.0, 1.0, 0.2]]}, returns=True)
    assert r["variables"][0][15].tolist() == [1.0, 1.0, 0.2]
    r = client.solve(pid, method="gauss_newton", unfix={"var": "x"}, options={"max_iters": 3})
    assert r["iters"] <= 3
    client.delete(pid)
    client.delete(mid)


def test_term_constants_and_weight(client):
    """problem.get_term / problem.set_term: move soft targets, change a weight."""
    V, F = grid(3)
    mid = client.mesh_create(V, F)["mesh"]
    pid = client.problem_create(mid, variables=[{"name": "x", "dim": 3}])["problem"]
    t = client.add_term(pid, "target", "x", elements=[[0], [8]])["term"]
    got = client.call("problem.get_term", problem=pid, term=t)
    assert got["energy"] == "target" and got["n_elems"] == 2
    assert np.allclose(got["consts"], V[[0, 8]])
    goal = np.array([[0.5, -0.25, 1.0], [2.0, 2.0, -1.0]])
    assert client.call("problem.set_term", problem=pid, term=t, consts=goal, weight=3.0) is True
    assert np.allclose(client.call("problem.get_term", problem=pid, term=t)["consts"], goal)
    r = client.solve(pid, method="newton", returns=["x"])
    assert np.allclose(r["variables"][0][[0, 8]], goal)
    assert client.eval(pid, what="energy")["energy"] < 1e-16
    with pytest.raises(locad.LocadError) as e:
        client.call("problem.set_term", problem=pid, term=t, consts=np.zeros((3, 3)))
    assert e.value.code == 5
    with pytest.raises(locad.NotFoundError):
        client.call("problem.get_term", problem=pid, term=7)
    client.delete(pid)
    client.delete(mid)


def test_step(client):
    V, F = grid(6)
    mid = client.mesh_create(V, F)["mesh"]
    pid = client.problem_create(mid, variables=[{"name": "x", "dim": 3}])["problem"]
    h = 0.01
    inertia = client.add_term(pid, "inertia", "x")["term"]
    client.add_term(pid, "spring", "x", weight=h * h, params={"k": 100.0})
    client.add_term(pid, "gravity", "x", weight=h * h)
    client.fix(pid, "x", entities=[0, 5])
    r = client.step(pid, h=h, var="x", inertia_term=inertia, steps=3, returns=True)
    assert r["steps"] == 3 and r["max_speed"] > 0
    z = r["variables"][0][:, 2]
    assert z[0] == 0 and z.min() < 0
    r2 = client.step(pid, force=np.zeros((36, 3)))
    assert r2["time"] > r["time"]
    client.delete(pid)
    client.delete(mid)


def test_contact_on_a_plane(client):
    V, F = grid(6)
    V = np.asarray(V, dtype=float).copy()
    V[:, 2] = 0.05
    mid = client.mesh_create(V, F)["mesh"]
    pid = client.problem_create(mid, variables=[{"name": "x", "dim": 3}])["problem"]
    h = 0.01
    inertia = client.add_term(pid, "inertia", "x")["term"]
    client.add_term(pid, "spring", "x", weight=h * h, params={"k": 100.0})
    client.add_term(pid, "gravity", "x", weight=h * h)
    with pytest.raises(locad.InvalidError) as e:  # the sheet lies behind this plane
        client.set_contact(pid, var="x", dhat=0.01, planes=[[0, 0, 0.1, 0, 0, 1]])
    assert "planes[0]" in str(e.value)
    st = client.set_contact(pid, var="x", dhat=0.01, kappa=10.0, planes=np.array([[0, 0, 0, 0, 0, 1.0]]))
    assert st["planes"] == 1 and abs(st["min_distance"] - 0.05) < 1e-12
    r = client.step(pid, h=h, var="x", inertia_term=inertia, steps=40, returns=True)
    z = r["variables"][0][:, 2]
    assert z.min() > 0 and r["contact"]["active"]["plane"] > 0
    st = client.set_contact(pid, var="x", dhat=0.01, adaptive_mass=0.03, planes=[[0, 0, -1, 0, 0, 1]])
    assert st["kappa"] > 0 and st["planes"] == 1
    assert client.set_contact(pid, enabled=False) == {"enabled": False}
    client.delete(pid)
    client.delete(mid)


# -- errors ---------------------------------------------------------------------------------

def test_errors(client):
    V, F = grid(3)
    code = lambda exc: exc.value.code  # noqa: E731
    with pytest.raises(locad.InvalidError) as e:  # NaN
        Vn = V.copy()
        Vn[4, 1] = np.nan
        client.mesh_create(Vn, F)
    assert code(e) == 5 and "V" in e.value.message
    with pytest.raises(locad.LocadError) as e:  # wrong dtype: float faces
        client.mesh_create(V, F.astype(np.float64))
    assert code(e) == 5
    with pytest.raises(locad.LocadError) as e:  # wrong shape
        client.mesh_create(V[:, :2], F)
    assert code(e) == 5
    with pytest.raises(locad.LocadError) as e:  # index out of range
        client.mesh_create(V, F + 100)
    assert code(e) == 5
    bad = {"dtype": "f8", "shape": [9, 3], "data": b"\0" * 10}  # bad payload length
    with pytest.raises(locad.LocadError) as e:
        client.mesh_create(bad, F)
    assert code(e) == 5
    with pytest.raises(locad.LocadError) as e:
        client.mesh_create({"dtype": "f4", "shape": [9, 3], "data": b"\0" * 108}, F)
    assert code(e) == 5
    with pytest.raises(locad.ParamsError) as e:  # missing parameter
        client.call("mesh.create", V=V)
    assert code(e) == 3
    with pytest.raises(locad.MethodError) as e:
        client.call("mesh.frobnicate")
    assert code(e) == 2
    with pytest.raises(locad.ParamsError):
        client.call("contacts.update")  # no problem named
    with pytest.raises(locad.NotFoundError) as e:
        client.eval(987654)
    assert code(e) == 4

    mid = client.mesh_create(V, F)["mesh"]
    pid = client.problem_create(mid, variables=[{"name": "x", "dim": 3}])["problem"]
    with pytest.raises(locad.LocadError) as e:
        client.add_term(pid, "no_such_energy", "x")
    assert code(e) == 4  # SPEC.md: unknown energy names are NOTFOUND
    with pytest.raises(locad.NotFoundError):
        client.get_variable(pid, "nope")
    with pytest.raises(locad.LocadError) as e:
        client.set_variable(pid, "x", np.zeros((8, 3)))  # 9 vertices
    assert code(e) == 5
    with pytest.raises(locad.LocadError) as e:
        client.fix(pid, "x", entities=[99])
    assert code(e) == 5
    with pytest.raises(locad.LocadError) as e:  # unknown option key
        client.solve(pid, options={"max_itres": 3})
    assert code(e) in (3, 5)
    with pytest.raises(locad.LocadError) as e:
        client.solve(pid, method="simplex")
    assert code(e) in (3, 5)
    with pytest.raises(locad.LocadError) as e:
        client.eval(pid, what="hvp")  # needs v
    assert code(e) in (3, 5)
    with pytest.raises(ValueError):  # refused client side: does not fit int32
        client.fix(pid, "x", entities=np.array([2 ** 40]))

    client.problem_delete(pid)
    for fn in (lambda: client.eval(pid), lambda: client.solve(pid),
               lambda: client.get_variable(pid, "x"), lambda: client.problem_delete(pid),
               lambda: client.add_term(pid, "spring", "x")):
        with pytest.raises(locad.NotFoundError) as e:
            fn()
        assert code(e) == 4
    client.mesh_delete(mid)
    with pytest.raises(locad.NotFoundError):
        client.problem_create(mid)
    assert client.health()["ok"]  # the connection survived every error


def test_malformed_request_keeps_connection(daemon):
    """A well-formed MessagePack message that is not a request gets a PARSE error."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(daemon.unix)
        s.sendall(msgpack.packb([0, 7, "server.health"]))
        s.sendall(msgpack.packb([0, 8, "server.health", {}]))
        u = msgpack.Unpacker(raw=False)
        got = []
        s.settimeout(5)
        while len(got) < 2:
            u.feed(s.recv(4096))
            got.extend(u)
        assert got[0][2][0] == 1
        assert got[1][3]["ok"] is True


# -- connections ----------------------------------------------------------------------------

def test_disconnect_mid_solve(daemon):
    """A client that vanishes during a solve does not disturb the daemon."""
    c = locad.Client(daemon.unix)
    pid = slow_problem(c)
    started = threading.Event()
    call = c.solve_async(pid, method="gd", options=SLOW, progress=lambda i: started.set())
    assert started.wait(10)
    c._sock.shutdown(socket.SHUT_RDWR)  # abrupt close under the solve
    c.close()
    with pytest.raises(locad.ConnectionClosed):
        call.result(5)
    with locad.Client(daemon.tcp, timeout=20) as other:
        assert other.health()["ok"]
        _, p2 = cloth(other, 6)
        assert other.solve(p2, options={"max_iters": 5})["iters"] >= 1
        other.cancel(pid)  # the orphaned solve, if still running
        deadline = time.time() + 20
        while other.stats().get("in_flight", 0) > 0 and time.time() < deadline:
            time.sleep(0.05)
        other.delete(pid)


def test_concurrent_clients(daemon):
    """100 concurrent connections × 100 requests each, without any error."""
    with locad.Client(daemon.unix) as c:
        _, pid = cloth(c, 4)
    errors, done = [], []

    def worker(k):
        try:
            addr = daemon.unix if k % 2 else daemon.tcp
            with locad.Client(addr, timeout=60) as cl:
                for i in range(100):
                    if i % 2:
                        assert cl.health()["ok"]
                    else:
                        assert np.isfinite(cl.eval(pid)["energy"])
            done.append(k)
        except Exception as e:  # pylint: disable=broad-except
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(done) == 100


def test_pipelining_one_client(client):
    """Many threads share one client; responses are matched by msgid."""
    V, F = grid(3)
    mid = client.mesh_create(V, F)["mesh"]
    calls = [client.call_async("mesh.info", {"mesh": mid}) for _ in range(200)]
    assert all(c.result(20)["nv"] == 9 for c in calls)
    out = []

    def run():
        out.append(sum(client.mesh_info(mid)["nf"] for _ in range(50)))

    ts = [threading.Thread(target=run) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert out == [400] * 8
    client.delete(mid)


# -- progress, cancellation, timeouts -------------------------------------------------------

def test_progress_callback(client):
    _, pid = cloth(client, 8)
    seen = []
    r = client.solve(pid, options={"max_iters": 8, "gtol": 0.0, "progress_every": 1},
                     progress=seen.append)
    assert len(seen) == r["iters"] > 0
    assert [s["iter"] for s in seen] == list(range(1, r["iters"] + 1))
    assert all(s["problem"] == pid for s in seen)
    seen.clear()
    client.solve(pid, options={"max_iters": 4, "progress_every": 0}, progress=seen.append)
    assert seen == []


def test_cancel_from_other_thread(client):
    pid = slow_problem(client)
    started = threading.Event()
    call = client.solve_async(pid, method="gd", options=SLOW, progress=lambda i: started.set())
    assert started.wait(10)
    threading.Thread(target=client.cancel, args=(pid,)).start()
    t0 = time.time()
    r = call.result(20)
    assert r["reason"] == "cancelled"
    assert time.time() - t0 < 5
    # the handle and a progress callback returning False cancel too
    call = client.solve_async(pid, method="gd", options=SLOW, progress=lambda i: i["iter"] < 3)
    assert call.result(20)["reason"] == "cancelled"
    client.delete(pid)


def test_timeout(client):
    pid = slow_problem(client)
    t0 = time.time()
    with pytest.raises(TimeoutError) as e:  # the builtin, via locad.TimeoutError
        client.solve(pid, method="gd", options=SLOW, timeout=0.3)
    assert isinstance(e.value, locad.TimeoutError)
    assert time.time() - t0 < 2
    # the timed-out solve was cancelled: the next one on the same problem runs at once
    r = client.solve(pid, method="gd", options={"max_iters": 3}, timeout=20)
    assert r["iters"] <= 3
    assert client.health()["ok"]
    client.delete(pid)


def test_connect_errors(tmp_path):
    with pytest.raises(OSError):
        locad.Client("unix:" + str(tmp_path / "missing.sock"))
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)  # accepts but never answers
    try:
        with locad.Client(srv.getsockname(), timeout=0.2) as c:
            with pytest.raises(locad.TimeoutError):
                c.health()
    finally:
        srv.close()


# -- command-line tools ---------------------------------------------------------------------

def test_locadctl_exit_codes_and_json(daemon, tmp_path, capsys):
    """--version; --json on info, health and solve; exit codes: usage 64, unreadable problem file 66
    (named), unreachable daemon 69 (the address named), a daemon error 1."""
    from locad import ctl  # pylint: disable=import-outside-toplevel
    assert ctl.main(["--version"]) == 0
    assert "locadctl 0.1.0" in capsys.readouterr().out
    assert ctl.main(["--frobnicate"]) == 64
    assert ctl.main(["-a", daemon.tcp, "--json", "info"]) == 0
    assert json.loads(capsys.readouterr().out)["protocol"] == 1
    missing = str(tmp_path / "nope.json")
    assert ctl.main(["-a", daemon.tcp, "solve", missing]) == 66
    assert "nope.json" in capsys.readouterr().err
    assert ctl.main(["-a", "127.0.0.1:1", "health"]) == 69
    assert "127.0.0.1:1" in capsys.readouterr().err
    prob = tmp_path / "bad.json"  # a problem the daemon refuses: an unknown energy
    prob.write_text(json.dumps({"mesh": {"grid": {"n": 4}}, "variables": [{"name": "x", "dim": 3}],
                                "terms": [{"energy": "nonsense", "var": "x"}]}))
    assert ctl.main(["-a", daemon.tcp, "solve", str(prob)]) == 1
    assert "answered" in capsys.readouterr().err
    prob.write_text(json.dumps({"mesh": {"grid": {"n": 4}}, "variables": [{"name": "x", "dim": 3}],
                                "terms": [{"energy": "spring", "var": "x"}],
                                "solver": {"method": "gauss_newton", "options": {"max_iters": 3}}}))
    assert ctl.main(["-a", daemon.tcp, "--json", "solve", str(prob), "-o", str(tmp_path / "o.obj")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["success"] and any("residual" in w for w in out["warnings"])


def test_locadctl(daemon, tmp_path, capsys):
    from locad import ctl  # pylint: disable=import-outside-toplevel
    assert ctl.main(["-a", daemon.tcp, "health"]) == 0
    assert ctl.main(["-a", daemon.tcp, "info"]) == 0
    assert "device cpu" in capsys.readouterr().out
    assert ctl.main(["-a", "unix:" + daemon.unix, "stats"]) == 0
    prob = tmp_path / "p.json"
    prob.write_text(json.dumps({
        "mesh": {"grid": {"n": 8}}, "variables": [{"name": "x", "dim": 3}],
        "terms": [{"energy": "stvk", "var": "x", "params": {"mu": 2000, "lambda": 2000}},
                  {"energy": "gravity", "var": "x", "params": {"density": 0.3}}],
        "fixed": [{"var": "x", "entities": {"axis": "y", "side": "max", "every": 7}}],
        "solver": {"method": "newton", "options": {"max_iters": 30}}}))
    out = tmp_path / "out.obj"
    assert ctl.main(["-a", daemon.tcp, "solve", str(prob), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "iter    1" in text and "wrote" in text
    lines = out.read_text().splitlines()
    assert sum(ln.startswith("v ") for ln in lines) == 64
    assert sum(ln.startswith("f ") for ln in lines) == 98
    assert ctl.main(["-a", daemon.tcp, "solve", str(prob), "-o", str(out), "--device", "cpu",
                     "-q"]) == 0
    assert "on cpu" in capsys.readouterr().out
    with locad.Client(daemon.tcp) as c:
        before = c.stats()["objects"]
        listed = [d["id"] for d in c.devices()]
    if "cuda:15" not in listed:  # refused, naming the device; the mesh is not left behind
        assert ctl.main(["-a", daemon.tcp, "solve", str(prob), "--device", "cuda:15"]) == 1  # the daemon's error
        assert "cuda:15" in capsys.readouterr().err
        with locad.Client(daemon.tcp) as c:
            assert c.stats()["objects"] == before
    assert ctl.main(["-a", "unix:" + str(tmp_path / "none.sock"), "health"]) == 69  # unreachable


def test_load_tool(daemon, capsys):
    from locad import load  # pylint: disable=import-outside-toplevel
    assert load.main(["-a", daemon.tcp, "-c", "8", "-n", "40", "--solve-every", "10"]) == 0
    text = capsys.readouterr().out
    assert "320 requests OK, 0 errors" in text
    assert load.main(["-a", "192.0.2.1:7878"]) == 2  # not loopback: refused
