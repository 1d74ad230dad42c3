"""Mesh export against the real daemon: Client.export writes a mesh or a problem's state to OBJ
(plain writer, no dependency; a 2D variable as vt UVs) and PLY (meshio; a clear ImportError
without it), read back and compared; wrong formats, variables and deleted meshes are named."""

import numpy as np
import pytest

import locad
from locad import export
from conftest import grid


def obj_arrays(path):
    """(v rows, vt rows, f rows as given) of an OBJ file."""
    v, vt, f = [], [], []
    with open(path) as fh:
        for line in fh:
            p = line.split()
            if p and p[0] == "v":
                v.append([float(t) for t in p[1:]])
            elif p and p[0] == "vt":
                vt.append([float(t) for t in p[1:]])
            elif p and p[0] == "f":
                f.append(p[1:])
    return np.array(v), np.array(vt), f


@pytest.fixture
def cloth(client):
    """A solved 5×5 cloth (x) with a uv variable; (problem, mesh, V, F, x); deleted after."""
    V, F = grid(5)
    m = client.mesh_create(V, F)["mesh"]
    p = client.problem_create(m, variables=[{"name": "x", "dim": 3},
                                            {"name": "uv", "dim": 2, "init": V[:, :2] * 3}])["problem"]
    client.add_term(p, "spring", "x", params={"k": 50.0})
    client.add_term(p, "gravity", "x")
    client.fix(p, "x", entities=[0, 4])
    x = client.solve(p, returns=["x"], options={"max_iters": 30}).variables["x"]
    assert np.abs(x - V).max() > 1e-3  # the export below must show the moved state
    yield p, m, V, F, x
    client.delete(p)
    client.delete(m)


def test_obj_of_a_mesh_and_of_a_problem(client, cloth, tmp_path):
    p, m, V, F, x = cloth
    assert client.export(tmp_path / "rest.obj", m) == str(tmp_path / "rest.obj")
    v, vt, f = obj_arrays(tmp_path / "rest.obj")
    np.testing.assert_allclose(v, V, atol=1e-9)
    assert len(vt) == 0 and [list(map(int, r)) for r in f] == (F + 1).tolist()
    client.export(tmp_path / "x.obj", p)  # the first 3D variable by default
    np.testing.assert_allclose(obj_arrays(tmp_path / "x.obj")[0], x, atol=1e-8)
    client.export(tmp_path / "uv.obj", p, var="uv")  # UVs on the rest mesh
    v, vt, f = obj_arrays(tmp_path / "uv.obj")
    np.testing.assert_allclose(v, V, atol=1e-9)
    np.testing.assert_allclose(vt, V[:, :2] * 3, atol=1e-8)
    assert f[0] == [f"{k}/{k}" for k in F[0] + 1]
    client.export(tmp_path / "by_id.txt", p, var=0, format="obj")
    np.testing.assert_allclose(obj_arrays(tmp_path / "by_id.txt")[0], x, atol=1e-8)


def test_ply_with_meshio(client, cloth, tmp_path):
    meshio = pytest.importorskip("meshio")
    p, m, V, F, x = cloth
    client.export(tmp_path / "x.ply", p, var="x")
    back = meshio.read(tmp_path / "x.ply")
    np.testing.assert_allclose(back.points, x, atol=1e-12)
    np.testing.assert_array_equal(back.cells_dict["triangle"], F)
    client.export(tmp_path / "uv.ply", p, var="uv")
    back = meshio.read(tmp_path / "uv.ply")
    np.testing.assert_allclose(back.points, V, atol=1e-12)
    np.testing.assert_allclose(np.c_[back.point_data["s"], back.point_data["t"]], V[:, :2] * 3)
    client.export(tmp_path / "rest.ply", m)
    np.testing.assert_allclose(meshio.read(tmp_path / "rest.ply").points, V)


def test_ply_without_meshio_says_so(client, cloth, tmp_path, monkeypatch):
    p, _, _, _, _ = cloth
    monkeypatch.setattr(export, "_meshio", None)
    with pytest.raises(ImportError, match="meshio") as e:
        client.export(tmp_path / "x.ply", p)
    assert "OBJ" in str(e.value) and not (tmp_path / "x.ply").exists()
    client.export(tmp_path / "x.obj", p)  # OBJ needs no meshio
    assert (tmp_path / "x.obj").stat().st_size > 0


def test_export_errors_name_the_cause(client, cloth, tmp_path):
    p, m, V, F, _ = cloth
    with pytest.raises(ValueError, match=r"'stl'.*obj and ply"):
        client.export(tmp_path / "x.stl", p)
    with pytest.raises(KeyError, match="'nope'"):
        client.export(tmp_path / "x.obj", p, var="nope")
    client.add_variable(p, "f", 1, loc="face")
    with pytest.raises(ValueError, match="face variable of dim 1"):
        client.export(tmp_path / "x.obj", p, var="f")
    with pytest.raises(locad.NotFoundError):
        client.export(tmp_path / "x.obj", 987654)
    with pytest.raises(ValueError, match="triangles"):
        locad.write_mesh(tmp_path / "bad.obj", V, F[:, :2])
    m2 = client.mesh_create(V, F)["mesh"]
    q = client.problem_create(m2, variables=[{"name": "x", "dim": 3}])["problem"]
    client.mesh_delete(m2)  # the problem keeps the mesh alive, but its id is gone
    with pytest.raises(locad.NotFoundError, match=f"problem {q}: its mesh {m2} was deleted"):
        client.export(tmp_path / "q.obj", q)
    client.delete(q)
