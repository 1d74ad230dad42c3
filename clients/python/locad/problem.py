"""Problem files for ``locadctl solve``: a JSON description of a mesh, variables, terms, fixed
vertices and solver options, sent to the daemon with the client; and OBJ output.

Format (see clients/python/README.md)::

    {"mesh": "spot.obj" | {"grid": {"n": 30, "size": 1.0}},
     "device": "cpu" | "cuda:0" | "auto"?,
     "variables": [{"name": "x", "dim": 3, "init": "uv.txt"?}],
     "terms": [{"energy": "stvk", "var": "x", "weight": 1.0, "params": {"mu": 100}}],
     "fixed": [{"var": "x", "entities": [0, 29] | {"axis": "y", "side": "max"},
                "values": [[...], ...]?}],
     "solver": {"method": "newton", "options": {"max_iters": 50}},
     "output": {"path": "out.obj", "var": "x"}}

Relative paths are looked up beside the JSON file, then in $LOCAD_MESHES and ../shared/meshes.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np

_AXES = {"x": 0, "y": 1, "z": 2}


def mesh_dirs(base: Optional[str] = None) -> List[str]:
    """Directories searched for meshes and data files."""
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [base, os.environ.get("LOCAD_MESHES"),
            os.path.join(here, "..", "..", "..", "..", "shared", "meshes"),
            os.path.join(os.getcwd(), "..", "shared", "meshes")]
    return [d for d in dirs if d]


def find_file(name: str, base: Optional[str] = None) -> str:
    """Resolves a relative file name against :func:`mesh_dirs`."""
    if os.path.isabs(name) or os.path.exists(name):
        return name
    for d in mesh_dirs(base):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return os.path.normpath(p)
    raise FileNotFoundError(f"{name}: not found in {', '.join(mesh_dirs(base))}")


def grid_mesh(n: int, size: float = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """An n×n grid in the z = 0 plane: (V [n², 3], F [2(n-1)², 3] int32)."""
    u, v = np.meshgrid(np.linspace(0, size, n), np.linspace(0, size, n))
    V = np.c_[u.ravel(), v.ravel(), np.zeros(n * n)]
    i, j = np.meshgrid(np.arange(n - 1), np.arange(n - 1), indexing="ij")
    a = (i * n + j).ravel()
    F = np.concatenate([np.c_[a, a + 1, a + n + 1], np.c_[a, a + n + 1, a + n]])
    return V, F.astype(np.int32)


def load(path: str) -> Tuple[Dict[str, Any], str]:
    """Reads a problem file; returns (spec dict, directory for relative names)."""
    with open(path) as f:
        spec = json.load(f)
    for key in ("mesh", "variables", "terms"):
        if key not in spec:
            raise ValueError(f"{path}: missing '{key}'")
    return spec, os.path.dirname(os.path.abspath(path))


def select(V: np.ndarray, sel: Union[List[int], Mapping[str, Any]]) -> np.ndarray:
    """Entity indices: a list, or {"axis": "x"|"y"|"z", "side": "min"|"max", "tol"?}."""
    if isinstance(sel, list):
        return np.asarray(sel, dtype=np.int32)
    axis = _AXES.get(sel.get("axis"), sel.get("axis"))
    col = V[:, axis]
    ref = col.max() if sel.get("side", "max") == "max" else col.min()
    tol = sel.get("tol", 1e-6 * max(1.0, float(np.ptp(V))))
    idx = np.nonzero(np.abs(col - ref) <= tol)[0]
    if "every" in sel:
        idx = idx[:: int(sel["every"])]
    return idx.astype(np.int32)


def build(client: Any, spec: Mapping[str, Any], base: Optional[str]) -> Tuple[Any, Any, np.ndarray, np.ndarray]:
    """Creates the mesh and problem in the daemon. Returns (problem id, mesh V, mesh F)."""
    m = spec["mesh"]
    if isinstance(m, dict) and "grid" in m:
        V, F = grid_mesh(int(m["grid"].get("n", 20)), float(m["grid"].get("size", 1.0)))
        mid = client.mesh_create(V, F)["mesh"]
    else:
        mid = client.mesh_load_file(find_file(m, base))["mesh"]
        info = client.mesh_info(mid, arrays=True)
        V, F = info["V"], info["F"]
    variables = []
    for var in spec["variables"]:
        var = dict(var)
        if isinstance(var.get("init"), str):
            var["init"] = np.loadtxt(find_file(var["init"], base), ndmin=2)
        variables.append(var)
    try:
        pid = client.problem_create(mid, variables=variables, device=spec.get("device"))["problem"]
    except Exception:
        client.mesh_delete(mid)  # e.g. a device that cannot be used: leave nothing behind
        raise
    for term in spec["terms"]:
        client.add_term(pid, **term)
    for fx in spec.get("fixed", []):
        ent = fx.get("entities")
        client.fix(pid, fx["var"], entities=None if ent is None else select(V, ent),
                   values=fx.get("values"))
    return pid, mid, V, F


def read_obj(path: Union[str, "os.PathLike[str]"]) -> Tuple[np.ndarray, np.ndarray]:
    """Reads an OBJ's vertices and triangles: (V [nv, 3] float64, F [nf, 3] int32). Face corners may
    be v, v/vt, v//vn or v/vt/vn; negative indices are relative; polygons are fan-triangulated."""
    V, F = [], []
    with open(path) as f:
        for line in f:
            p = line.split()
            if p and p[0] == "v":
                V.append([float(t) for t in p[1:4]])
            elif p and p[0] == "f":
                idx = [int(t.split("/")[0]) for t in p[1:]]
                idx = [k - 1 if k > 0 else len(V) + k for k in idx]
                F.extend([idx[0], idx[j], idx[j + 1]] for j in range(1, len(idx) - 1))
    return np.array(V, dtype=np.float64).reshape(-1, 3), np.array(F, dtype=np.int32).reshape(-1, 3)


def write_obj(path: Union[str, "os.PathLike[str]"], V: np.ndarray, F: np.ndarray,
              X: Optional[np.ndarray] = None, uv: Optional[np.ndarray] = None) -> None:
    """Writes an OBJ: vertices X (or V when X is None), optional per-vertex UVs, faces F."""
    P = V if X is None else X
    with open(path, "w") as f:
        f.write("# written by locad\n")
        np.savetxt(f, P[:, :3] if P.shape[1] >= 3 else np.c_[P, np.zeros(len(P))],
                   fmt="v %.9g %.9g %.9g")
        if uv is not None:
            np.savetxt(f, uv[:, :2], fmt="vt %.9g %.9g")
            np.savetxt(f, np.repeat(F + 1, 2, axis=1), fmt="f %d/%d %d/%d %d/%d")
        else:
            np.savetxt(f, F + 1, fmt="f %d %d %d")
