"""Custom energies written as ordinary Python functions and traced into the daemon's description
format (protocol/SPEC.md, "Custom energies"): data, never code, goes over the wire.

>>> from locad.custom import energy, norm
>>> @energy(element="edge", dim=3, consts=["rest"])
... def spring(x0, x1, k, rest):
...     return 0.5 * k * (norm(x1 - x0) - rest) ** 2
>>> # client.add_term(p, spring, "x", params={"k": 4.0}, consts=rest_lengths)

The function's first K arguments are the element's entities (3-vectors here; scalars when
``dim`` is 1), the arguments named in ``consts`` are per-element constants (a name, or
``{name: length}`` for a vector of constants), and the remaining ones are the term's parameters,
in order; ``rest=`` computes the constants from the rest shape in the daemon.  Arithmetic, ``**``, ``abs``, comparisons, indexing and ``@`` work on the symbols; the
functions below (``sqrt``, ``exp``, ``select``, ``dot``, ``cross``, ``det``, ``inv`` ...) build
the rest.  Python control flow cannot see symbolic values: branch with :func:`select`.
"""

import inspect
import json
import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = ["energy", "CustomEnergy", "Expr", "sqrt", "exp", "log", "sin", "cos", "tan", "atan2",
           "minimum", "maximum", "select", "eq", "ne", "vec", "mat", "dot", "cross", "norm",
           "sqnorm", "det", "inv", "transpose", "trace"]

_ELEMENT_K = {"vertex": 1, "edge": 2, "face": 3, "edge_flap": 4, "face_pair": 2}

Shape = Union[Tuple[int, ...], str]  # () scalar, (n,) vector, (r, c) matrix, "bool"


class _Graph:
    """The nodes of one description; equal nodes are made once."""

    def __init__(self) -> None:
        self.nodes: List[list] = []
        self._index: Dict[str, int] = {}

    def add(self, node: list, shape: Shape) -> "Expr":
        key = json.dumps(node)
        i = self._index.get(key)
        if i is None:
            i = len(self.nodes)
            self.nodes.append(node)
            self._index[key] = i
        return Expr(self, i, shape)


def _describe(shape: Shape) -> str:
    if shape == "bool":
        return "a comparison"
    if shape == ():
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    return f"a {shape[0]}x{shape[1]} matrix"


class Expr:
    """A symbolic value of a traced energy: a node of its description with a shape."""

    __slots__ = ("g", "i", "shape")

    def __init__(self, g: _Graph, i: int, shape: Shape) -> None:
        self.g, self.i, self.shape = g, i, shape

    # -- conversions ---------------------------------------------------------------------------
    def _lift(self, other: Any) -> "Expr":
        if isinstance(other, Expr):
            if other.g is not self.g:
                raise ValueError("symbols of two different energies cannot be mixed")
            return other
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            if not math.isfinite(other):
                raise ValueError(f"literal {other!r} is not finite")
            return self.g.add(["c", float(other)], ())
        if isinstance(other, (list, tuple)) and other and isinstance(other[0], (list, tuple)):
            return mat([[self._lift(o) for o in row] for row in other])  # a matrix literal
        if isinstance(other, (list, tuple)):
            return vec(*[self._lift(o) for o in other])
        raise TypeError(f"cannot use {type(other).__name__} in a custom energy")

    def __bool__(self) -> bool:
        raise TypeError("a symbolic value has no truth value while tracing: branch with locad.custom.select")

    def __len__(self) -> int:
        if self.shape in ((), "bool"):
            raise TypeError("a scalar has no length")
        return self.shape[0]

    def _num(self, what: str) -> None:
        if self.shape == "bool":
            raise TypeError(f"{what}: a comparison is only a select condition")

    # -- arithmetic ------------------------------------------------------------------------------
    def _addsub(self, op: str, other: Any, swap: bool = False) -> "Expr":
        o = self._lift(other)
        a, b = (o, self) if swap else (self, o)
        a._num(op), b._num(op)
        if a.shape != b.shape:
            raise ValueError(f"{op}: shapes differ: {_describe(a.shape)} and {_describe(b.shape)}")
        return self.g.add([op, a.i, b.i], a.shape)

    def __add__(self, o: Any) -> "Expr": return self._addsub("add", o)
    def __radd__(self, o: Any) -> "Expr": return self._addsub("add", o, True)
    def __sub__(self, o: Any) -> "Expr": return self._addsub("sub", o)
    def __rsub__(self, o: Any) -> "Expr": return self._addsub("sub", o, True)

    def _mul(self, a: "Expr", b: "Expr") -> "Expr":
        a._num("mul"), b._num("mul")
        if a.shape == ():
            shape = b.shape
        elif b.shape == ():
            shape = a.shape
        elif len(a.shape) == 2 and len(b.shape) in (1, 2) and a.shape[1] == b.shape[0]:
            shape = (a.shape[0],) if len(b.shape) == 1 else (a.shape[0], b.shape[1])
        else:
            raise ValueError(f"cannot multiply {_describe(a.shape)} by {_describe(b.shape)}"
                             " (vectors: use dot or cross)")
        return self.g.add(["mul", a.i, b.i], shape)

    def __mul__(self, o: Any) -> "Expr": return self._mul(self, self._lift(o))
    def __rmul__(self, o: Any) -> "Expr": return self._mul(self._lift(o), self)
    def __matmul__(self, o: Any) -> "Expr": return self._mul(self, self._lift(o))
    def __rmatmul__(self, o: Any) -> "Expr": return self._mul(self._lift(o), self)

    def __truediv__(self, o: Any) -> "Expr":
        b = self._lift(o)
        self._num("div"), b._num("div")
        if b.shape != ():
            raise ValueError(f"div: divides by {_describe(b.shape)}: only by a scalar")
        return self.g.add(["div", self.i, b.i], self.shape)

    def __rtruediv__(self, o: Any) -> "Expr": return self._lift(o).__truediv__(self)

    def __neg__(self) -> "Expr":
        self._num("neg")
        return self.g.add(["neg", self.i], self.shape)

    def __pos__(self) -> "Expr": return self

    def __pow__(self, e: Any) -> "Expr":
        self._num("pow")
        if isinstance(e, (int, float)) and not isinstance(e, bool):
            if not math.isfinite(e):
                raise ValueError(f"exponent {e!r} is not finite")
            return self.g.add(["powc", self.i, float(e)], self.shape)
        b = self._lift(e)
        return _scalar2("pow", self, b)

    def __rpow__(self, base: Any) -> "Expr": return _scalar2("pow", self._lift(base), self)

    def __abs__(self) -> "Expr": return _unary("abs", self)

    # -- comparisons (symbolic: for select) --------------------------------------------------------
    def __lt__(self, o: Any) -> "Expr": return _scalar2("lt", self, self._lift(o))
    def __le__(self, o: Any) -> "Expr": return _scalar2("le", self, self._lift(o))
    def __gt__(self, o: Any) -> "Expr": return _scalar2("gt", self, self._lift(o))
    def __ge__(self, o: Any) -> "Expr": return _scalar2("ge", self, self._lift(o))

    __hash__ = object.__hash__

    # -- indexing ------------------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> "Expr":
        if self.shape in ((), "bool"):
            raise TypeError("a scalar cannot be indexed")
        idx = key if isinstance(key, tuple) else (key,)
        if len(idx) != len(self.shape) or not all(isinstance(i, int) for i in idx):
            raise IndexError(f"{_describe(self.shape)} takes {len(self.shape)} integer index(es)")
        for i, n in zip(idx, self.shape):
            if not -n <= i < n:
                raise IndexError(f"index {i} out of range for {_describe(self.shape)}")
        idx = tuple(i % n for i, n in zip(idx, self.shape))
        return self.g.add(["index", self.i, *idx], ())


def _expr_of(*xs: Any) -> Expr:
    for x in xs:
        if isinstance(x, Expr):
            return x
    raise TypeError("at least one argument must be a symbol of the energy being traced")


def _unary(op: str, a: Any) -> Expr:
    a = _expr_of(a)
    a._num(op)
    return a.g.add([op, a.i], a.shape)


def _scalar2(op: str, a: Any, b: Any) -> Expr:
    e = _expr_of(a, b)
    a, b = e._lift(a), e._lift(b)
    if a.shape != () or b.shape != ():
        raise ValueError(f"{op} takes two scalars, not {_describe(a.shape)} and {_describe(b.shape)}")
    return e.g.add([op, a.i, b.i], "bool" if op in ("lt", "le", "gt", "ge", "eq", "ne") else ())


def sqrt(a: Any) -> Expr: return _unary("sqrt", a)
def exp(a: Any) -> Expr: return _unary("exp", a)
def log(a: Any) -> Expr: return _unary("log", a)
def sin(a: Any) -> Expr: return _unary("sin", a)
def cos(a: Any) -> Expr: return _unary("cos", a)
def tan(a: Any) -> Expr: return _unary("tan", a)
def atan2(y: Any, x: Any) -> Expr: return _scalar2("atan2", y, x)
def minimum(a: Any, b: Any) -> Expr: return _scalar2("min", a, b)
def maximum(a: Any, b: Any) -> Expr: return _scalar2("max", a, b)
def eq(a: Any, b: Any) -> Expr: return _scalar2("eq", a, b)
def ne(a: Any, b: Any) -> Expr: return _scalar2("ne", a, b)


def select(cond: Expr, a: Any, b: Any) -> Expr:
    """``a`` where the comparison ``cond`` holds, else ``b`` (equal shapes)."""
    if not isinstance(cond, Expr) or cond.shape != "bool":
        raise TypeError("select's condition must be a comparison of symbols (a < b, ...)")
    a, b = cond._lift(a), cond._lift(b)
    if a.shape != b.shape:
        raise ValueError(f"select: branches differ: {_describe(a.shape)} and {_describe(b.shape)}")
    return cond.g.add(["select", cond.i, a.i, b.i], a.shape)


def vec(*xs: Any) -> Expr:
    """A vector of scalars."""
    e = _expr_of(*xs)
    items = [e._lift(x) for x in xs]
    if any(i.shape != () for i in items):
        raise ValueError("vec takes scalars")
    return e.g.add(["vec", *[i.i for i in items]], (len(items),))


def mat(rows: Sequence[Sequence[Any]]) -> Expr:
    """A matrix from rows of scalars."""
    flat = [x for r in rows for x in r]
    e = _expr_of(*flat)
    r, c = len(rows), len(rows[0])
    if any(len(row) != c for row in rows):
        raise ValueError("mat: rows of different lengths")
    items = [e._lift(x) for x in flat]
    if any(i.shape != () for i in items):
        raise ValueError("mat takes scalars")
    return e.g.add(["mat", r, c, *[i.i for i in items]], (r, c))


def dot(u: Expr, v: Expr) -> Expr:
    if u.shape != v.shape or len(u.shape) != 1:
        raise ValueError(f"dot takes two vectors of one length, not {_describe(u.shape)} and {_describe(v.shape)}")
    return u.g.add(["dot", u.i, v.i], ())


def cross(u: Expr, v: Expr) -> Expr:
    if u.shape != v.shape or u.shape not in ((2,), (3,)):
        raise ValueError("cross takes two vectors of length 2 or 3")
    return u.g.add(["cross", u.i, v.i], (3,) if u.shape == (3,) else ())


def norm(v: Expr) -> Expr:
    if not isinstance(v, Expr) or len(v.shape) != 1:
        raise ValueError("norm takes a vector")
    return v.g.add(["norm", v.i], ())


def sqnorm(v: Expr) -> Expr:
    if not isinstance(v, Expr) or len(v.shape) != 1:
        raise ValueError("sqnorm takes a vector")
    return v.g.add(["sqnorm", v.i], ())


def det(m: Expr) -> Expr:
    if m.shape not in ((2, 2), (3, 3)):
        raise ValueError(f"det takes a 2x2 or 3x3 matrix, not {_describe(m.shape)}")
    return m.g.add(["det2" if m.shape == (2, 2) else "det3", m.i], ())


def inv(m: Expr) -> Expr:
    if m.shape not in ((2, 2), (3, 3)):
        raise ValueError(f"inv takes a 2x2 or 3x3 matrix, not {_describe(m.shape)}")
    return m.g.add(["inv2" if m.shape == (2, 2) else "inv3", m.i], m.shape)


def transpose(m: Expr) -> Expr:
    if len(m.shape) != 2:
        raise ValueError("transpose takes a matrix")
    return m.g.add(["transpose", m.i], (m.shape[1], m.shape[0]))


def trace(m: Expr) -> Expr:
    if len(m.shape) != 2 or m.shape[0] != m.shape[1]:
        raise ValueError("trace takes a square matrix")
    return m.g.add(["trace", m.i], ())


def _trace_rest(fn: Callable[..., Any], k: int, n_const: int) -> Dict[str, Any]:
    """The "rest" section: fn(X0, ..., X_{K-1}) of the entities' 3D rest positions returns the
    constants, a scalar or a vector each, in the order the energy reads them."""
    g = _Graph()
    X = [g.add(["x", e], (3,)) for e in range(k)]
    out = fn(*X)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    idx, count = [], 0
    for o in outs:
        e = X[0]._lift(o)
        if e.shape == "bool" or len(e.shape) > 1:
            raise ValueError("rest must return scalars or vectors (the constants)")
        idx.append(e.i)
        count += 1 if e.shape == () else e.shape[0]
    if count != n_const:
        raise ValueError(f"rest gives {count} constants; the energy reads {n_const}")
    return {"nodes": g.nodes, "consts": idx}


class CustomEnergy:
    """A traced energy: pass it as ``energy`` to ``Client.add_term``; ``description`` is what goes
    over the wire, ``param_names`` and ``const_names`` say what ``params`` and ``consts`` hold."""

    def __init__(self, fn: Callable[..., Any], element: str, dim: int,
                 consts: Union[Sequence[str], Mapping[str, int]] = (), K: Optional[int] = None,
                 residual: bool = False, rest: Optional[Callable[..., Any]] = None) -> None:
        if element not in _ELEMENT_K and element != "list":
            raise ValueError(f"element {element!r}: one of {', '.join(_ELEMENT_K)} or list")
        k = _ELEMENT_K.get(element, K)
        if k is None:
            raise ValueError("element 'list' needs K")
        names = list(inspect.signature(fn).parameters)
        if len(names) < k:
            raise TypeError(f"{fn.__name__} takes {len(names)} arguments; a {element} has {k} entities")
        clen = dict(consts) if isinstance(consts, Mapping) else {c: 0 for c in consts}
        unknown = [c for c in clen if c not in names[k:]]
        if unknown:
            raise ValueError(f"consts {unknown} are not arguments of {fn.__name__}")
        g = _Graph()
        args: List[Any] = []
        for e in range(k):
            args.append(g.add(["x", e], () if dim == 1 else (dim,)))
        self.const_names: List[str] = []
        self.param_names: List[str] = []
        offset = 0
        for name in names[k:]:
            if name in clen:
                n = clen[name]
                args.append(g.add(["k", offset] if n == 0 else ["k", offset, n], () if n == 0 else (n,)))
                self.const_names.append(name)
                offset += max(n, 1)
            else:
                args.append(g.add(["p", len(self.param_names)], ()))
                self.param_names.append(name)
        out = fn(*args)
        desc: Dict[str, Any] = {"element": element, "dim": dim, "n_const": offset, "params": self.param_names,
                                "nodes": g.nodes}
        if element == "list":
            desc["K"] = k
        if residual:
            outs = out if isinstance(out, (list, tuple)) else [out]
            desc["residuals"] = [args[0]._lift(o).i if not isinstance(o, Expr) else o.i for o in outs]
        else:
            if not isinstance(out, Expr) or out.shape != ():
                raise ValueError(f"{fn.__name__} must return a scalar expression of its arguments")
            desc["energy"] = out.i
        if rest is not None:
            desc["rest"] = _trace_rest(rest, k, offset)
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        self.description = desc

    def __repr__(self) -> str:
        d = self.description
        return (f"<custom energy {self.__name__}: {d['element']}, dim {d['dim']}, params {self.param_names}, "
                f"consts {self.const_names}, {len(d['nodes'])} nodes>")


def energy(element: str, dim: int, consts: Union[Sequence[str], Mapping[str, int]] = (),
           K: Optional[int] = None, residual: bool = False,
           rest: Optional[Callable[..., Any]] = None) -> Callable[[Callable[..., Any]], CustomEnergy]:
    """Decorator: traces a function into a :class:`CustomEnergy` (see the module's docstring).
    ``rest``: a function of the entities' 3D rest positions returning the constants (in the order
    of ``consts``), computed by the daemon per element when ``add_term`` gets no ``consts``."""
    def wrap(fn: Callable[..., Any]) -> CustomEnergy:
        return CustomEnergy(fn, element, dim, consts, K, residual, rest)
    return wrap
