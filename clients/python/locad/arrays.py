"""NumPy <-> wire conversion of locad arrays and sparse matrices (protocol/SPEC.md, "Arrays").

Outgoing: numpy arrays become ``{"dtype", "shape", "data"}`` maps; floating arrays are sent as
little-endian float64, integer arrays as little-endian int32 (the data is not copied when the
array already has that layout). Parameters that the protocol defines as float arrays (``V``,
``values``, ``x`` ...) are converted to float64 even when given as integers. Lists and explicit
wire maps pass through unchanged (the daemon validates them).

Incoming: array maps become read-only numpy views of the received bin bytes (no copy), or
writable copies when asked (``copy=True``; the clients' ``writable`` option); sparse maps become
``scipy.sparse.csr_matrix`` when scipy is importable, else :class:`CSR`.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, Optional, Union

import numpy as np

try:  # scipy is optional
    import scipy.sparse as _sp
except ImportError:  # pragma: no cover - depends on the environment
    _sp = None

#: Parameters that are float64 arrays in the protocol.
FLOAT_KEYS = frozenset({"V", "values", "init", "x", "v", "consts", "force", "velocity"})

#: Sends an explicit MessagePack nil (None values are left out of params instead).
NIL = type("Nil", (), {"__repr__": lambda self: "locad.NIL"})()

_I4_MIN, _I4_MAX = -(2 ** 31), 2 ** 31 - 1


class CSR(namedtuple("CSR", "shape indptr indices data")):
    """Minimal CSR matrix used when scipy is not installed."""

    __slots__ = ()

    def toarray(self) -> np.ndarray:
        """Dense copy (for small matrices)."""
        out = np.zeros(self.shape)
        for r in range(self.shape[0]):
            lo, hi = self.indptr[r], self.indptr[r + 1]
            out[r, self.indices[lo:hi]] = self.data[lo:hi]
        return out

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return len(self.data)


def encode_array(a: Any, force_float: bool = False) -> dict:
    """Wire map for a numpy array (float -> f8, integer -> i4)."""
    a = np.asarray(a)
    if a.dtype.kind == "b":
        raise TypeError("boolean arrays are not supported; use integers")
    if force_float or a.dtype.kind in "fc":
        if a.dtype.kind == "c":
            raise TypeError("complex arrays are not supported")
        a = np.ascontiguousarray(a, dtype="<f8")
        tag = "f8"
    elif a.dtype.kind in "iu":
        if a.size and (a.min() < _I4_MIN or a.max() > _I4_MAX):
            raise ValueError("integer array does not fit int32")
        a = np.ascontiguousarray(a, dtype="<i4")
        tag = "i4"
    else:
        raise TypeError(f"unsupported array dtype {a.dtype}")
    if a.ndim == 0:
        a = a.reshape(1)
    return {"dtype": tag, "shape": list(a.shape), "data": memoryview(a).cast("B")}


def encode_params(obj: Any, key: Optional[str] = None) -> Any:
    """Recursively converts numpy arrays (and numpy scalars) in a params structure."""
    if obj is NIL:
        return None
    if isinstance(obj, np.ndarray):
        return encode_array(obj, force_float=key in FLOAT_KEYS)
    if isinstance(obj, dict):
        return {k: encode_params(v, k) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        if key in FLOAT_KEYS and obj and not _is_wire_array(obj):
            return encode_array(np.asarray(obj, dtype=float), force_float=True)
        return [encode_params(v, key) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _is_wire_array(obj):
    return isinstance(obj, dict) and "dtype" in obj


def decode_array(m: dict, copy: bool = False) -> np.ndarray:
    """Numpy array of a wire array map: a read-only view sharing the received bytes, or a
    writable copy when ``copy``."""
    dt = {"f8": "<f8", "i4": "<i4"}.get(m["dtype"])
    if dt is None:
        raise ValueError(f"unknown dtype {m['dtype']!r} in a response")
    a = np.frombuffer(m["data"], dtype=dt).reshape(m["shape"])
    return a.copy() if copy else a


def decode_sparse(m: dict, copy: bool = False) -> Union["_sp.csr_matrix", CSR]:
    """CSR matrix from a wire sparse map (its arrays copied and writable when ``copy``)."""
    shape = tuple(m["shape"])
    indptr, indices = decode_array(m["indptr"], copy), decode_array(m["indices"], copy)
    data = decode_array(m["data"], copy)
    if _sp is not None:
        return _sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
    return CSR(shape, indptr, indices, data)


def decode_result(obj: Any, copy: bool = False) -> Any:
    """Recursively replaces array and sparse maps in a result with numpy / CSR objects
    (writable copies when ``copy``, read-only views otherwise)."""
    if isinstance(obj, dict):
        keys = obj.keys()
        if len(obj) == 3 and {"dtype", "shape", "data"} == set(keys) and \
                isinstance(obj["data"], (bytes, bytearray)):
            return decode_array(obj, copy)
        if {"shape", "indptr", "indices", "data"} == set(keys):
            return decode_sparse(obj, copy)
        return {k: decode_result(v, copy) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_result(v, copy) for v in obj]
    return obj
