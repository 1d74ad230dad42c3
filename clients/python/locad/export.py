"""Mesh export to OBJ and PLY: :func:`write_mesh` for arrays, used by ``Client.export`` /
``AsyncClient.export`` for a mesh or a problem's variable in the daemon.

OBJ is written by the plain writer :func:`locad.problem.write_obj` (no dependency; a 2D variable
becomes ``vt`` texture coordinates on the rest mesh). PLY needs meshio (optional: Debian
``python3-meshio`` or ``pip install meshio``); a 2D variable becomes the per-vertex properties
``s`` and ``t`` on the rest mesh.
"""

from __future__ import annotations

import os
from typing import Any, List, Mapping, Optional, Tuple, Union

import numpy as np

from .problem import write_obj

try:  # meshio is optional
    import meshio as _meshio
except ImportError:  # pragma: no cover - depends on the environment
    _meshio = None

#: A file path.
PathArg = Union[str, "os.PathLike[str]"]

FORMATS = ("obj", "ply")


def mesh_format(path: PathArg, fmt: Optional[str] = None) -> str:
    """The export format: ``fmt`` when given, else the file's extension (obj or ply)."""
    f = (fmt or os.path.splitext(os.fspath(path))[1].lstrip(".")).lower()
    if f not in FORMATS:
        raise ValueError(f"{os.fspath(path)}: unknown mesh format {f or '(no extension)'!r}; "
                         f"export writes {' and '.join(FORMATS)} (pass format='obj' or 'ply')")
    return f


def write_mesh(path: PathArg, V: np.ndarray, F: np.ndarray,
               X: Optional[np.ndarray] = None, uv: Optional[np.ndarray] = None,
               format: Optional[str] = None) -> str:  # pylint: disable=redefined-builtin
    """Writes triangles ``F`` with vertices ``X`` (or the rest positions ``V``) and optional
    per-vertex ``uv`` to an OBJ or PLY file; returns the format written."""
    fmt = mesh_format(path, format)
    V = np.asarray(V, dtype=np.float64)
    F = np.asarray(F, dtype=np.int64)
    if F.ndim != 2 or F.shape[1] != 3:
        raise ValueError(f"F must be (nf, 3) triangles, got shape {F.shape}")
    P = V if X is None else np.asarray(X, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != V.shape[0] or P.shape[1] not in (2, 3):
        raise ValueError(f"positions must be ({V.shape[0]}, 3), got shape {P.shape}")
    if uv is not None:
        uv = np.asarray(uv, dtype=np.float64)
        if uv.shape != (V.shape[0], 2):
            raise ValueError(f"uv must be ({V.shape[0]}, 2), got shape {uv.shape}")
    if fmt == "obj":
        write_obj(os.fspath(path), V, F, X=X if X is None else P, uv=uv)
        return fmt
    if _meshio is None:
        raise ImportError(f"{os.fspath(path)}: writing PLY needs meshio, which is not installed "
                          "(apt-get install python3-meshio, or pip install meshio); "
                          "OBJ export works without it")
    if P.shape[1] == 2:
        P = np.c_[P, np.zeros(len(P))]
    point_data = {} if uv is None else {"s": uv[:, 0].copy(), "t": uv[:, 1].copy()}
    mesh = _meshio.Mesh(P, [("triangle", F)], point_data=point_data)
    _meshio.write(os.fspath(path), mesh, file_format="ply", binary=True)
    return fmt


def pick_variable(variables: List[Mapping[str, Any]], names: Mapping[int, str],
                  var: Any) -> Tuple[Optional[int], Optional[int]]:
    """(id, dim) of the variable to export from problem.info's ``variables``: ``var`` (a name or
    an id) when given, else the first vertex variable of dim 3, else of dim 2; (None, None) when
    there is none (the rest mesh is written)."""
    if var is not None:
        ids = {n: i for i, n in names.items()}
        vid = ids.get(var) if isinstance(var, str) else var
        for v in variables:
            if v["var"] == vid:
                if v["loc"] != "vertex" or v["dim"] not in (2, 3):
                    raise ValueError(f"variable {var!r} is a {v['loc']} variable of dim {v['dim']}; "
                                     "export writes vertex variables of dim 3 (positions) or 2 (UVs)")
                return vid, v["dim"]
        raise KeyError(f"variable {var!r} is not a variable of this problem"
                       + ("" if isinstance(var, int) or ids else
                          " (its names are known only to the client that created it: pass the id)"))
    for dim in (3, 2):
        for v in variables:
            if v["loc"] == "vertex" and v["dim"] == dim:
                return v["var"], dim
    return None, None
