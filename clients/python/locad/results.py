"""Result objects shared by the blocking and the asyncio client: :class:`SolveResult` (a solve or
step result readable as attributes, with ``success``, ``message`` and ``warnings``),
:class:`Variables` (variables keyed by name, also by the daemon's integer id) and
:class:`VarNames` (the variable names a client learnt when it created or extended a problem;
the daemon's results key variables by id only).
"""

from __future__ import annotations

import math
import threading
from typing import Any, Dict, Iterator, List, Mapping, Optional, Union

import numpy as np

#: Stop reasons that mean the solve met a tolerance.
CONVERGED = ("gradient", "decrement", "ftol")

VarKey = Union[str, int]

_REASONS = {
    "gradient": "converged: the gradient is below gtol",
    "decrement": "converged: the Newton decrement is below dtol",
    "ftol": "converged: the energy changes less than ftol",
    "max_iters": "stopped: max_iters reached before a tolerance",
    "time": "stopped: the time budget ran out",
    "cancelled": "cancelled",
    "line_search": "stopped: no step decreased the energy (at a minimum, to rounding?)",
    "infeasible": "failed: the start point has an infinite or NaN energy",
    "none": "no iteration ran",
}


class Variables(Mapping[VarKey, np.ndarray]):
    """Variables of a result: a read-only mapping name -> (n, dim) array.

    Keys are the variable names where the client knows them (the problem was created or extended
    through this client) and the daemon's integer ids otherwise. An ``int`` key is always accepted
    as the variable id (0, 1, ... in order of creation), so code written when results were keyed
    by id (``r["variables"][0]``) keeps working.
    """

    def __init__(self, by_id: Mapping[int, np.ndarray], names: Optional[Mapping[int, str]] = None):
        self._by_id: Dict[int, np.ndarray] = {int(k): v for k, v in by_id.items()}
        self._names: Dict[int, str] = {i: n for i, n in (names or {}).items() if i in self._by_id}
        self._ids: Dict[str, int] = {n: i for i, n in self._names.items()}

    def __getitem__(self, key: VarKey) -> np.ndarray:
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if int(key) in self._by_id:
                return self._by_id[int(key)]
        elif isinstance(key, str) and key in self._ids:
            return self._by_id[self._ids[key]]
        raise KeyError(f"variable {key!r} is not in this result (it holds {self._describe()})")

    def __iter__(self) -> Iterator[VarKey]:
        return (self._names.get(i, i) for i in self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
            return True
        except KeyError:
            return False

    def ids(self) -> Dict[int, np.ndarray]:
        """The same arrays keyed by the daemon's variable ids."""
        return dict(self._by_id)

    def name_of(self, var_id: int) -> Optional[str]:
        """The name of variable ``var_id`` when known, else None."""
        return self._names.get(var_id)

    def _describe(self) -> str:
        if not self._by_id:
            return "no variables; pass returns=True or a list of names"
        return ", ".join(f"{self._names[i]!r} (id {i})" if i in self._names else f"id {i}"
                         for i in self._by_id)

    def __repr__(self) -> str:
        body = ", ".join(f"{k!r}: array{tuple(v.shape)}" for k, v in zip(self, self._by_id.values()))
        return f"Variables({{{body}}})"


class SolveResult(dict):
    """The result of ``solve`` / ``step``: the daemon's map, also readable as attributes
    (``r.energy``, ``r.iters``, ``r.variables``), with

    * ``success``: the solve met a tolerance (reason gradient, decrement or ftol) and the energy
      is finite;
    * ``message``: one sentence on how it ended;
    * ``warnings``: what to know about a solve that did not fail, from the daemon: the
      iteration budget (``max_iters``) ran out, it was cancelled, the energy is unbounded below,
      Gauss-Newton / LM ran without residual terms. (A problem without terms, nothing to
      minimise, is not a result but an error: :class:`locad.InvalidError`.)
    * ``variables``: a :class:`Variables` mapping name -> array (empty without ``returns``).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"the result has no field {name!r} (fields: {', '.join(self)})") from None

    @property
    def warnings(self) -> List[str]:
        """The daemon's warnings (a new list; empty when none)."""
        return list(self.get("warnings", []))

    @property
    def success(self) -> bool:
        """True when the solve converged (met a tolerance) at a finite energy."""
        energy = self.get("energy")
        return self.get("reason") in CONVERGED and isinstance(energy, (int, float)) and math.isfinite(energy)

    @property
    def message(self) -> str:
        """One sentence on how the solve ended."""
        reason, iters, energy = self.get("reason"), self.get("iters"), self.get("energy")
        if isinstance(energy, float) and energy == -math.inf:
            text = "failed: the energy is unbounded below (-inf)"
        else:
            text = _REASONS.get(reason, str(reason))
        return f"{text} after {iters} iterations"

    @property
    def variables(self) -> Variables:
        """The returned variables, name -> array (a :class:`Variables`)."""
        v = self.get("variables")
        return v if isinstance(v, Variables) else Variables(v or {})


class VarNames:
    """Per-client record of variable names by problem (id and name both as keys), learnt from
    ``problem_create`` and ``add_variable``; thread-safe."""

    def __init__(self) -> None:
        self._by_problem: Dict[Any, Dict[int, str]] = {}
        self._lock = threading.Lock()

    def created(self, result: Mapping[str, Any], variables: Optional[List[Mapping[str, Any]]],
                name: Optional[str]) -> None:
        """Records the variables of a problem.create result (their names from the request)."""
        names: Dict[int, str] = {}
        for spec, info in zip(variables or [], result.get("variables", [])):
            if isinstance(info.get("name"), str):  # the daemon names them (SPEC.md)
                names[int(info["var"])] = info["name"]
            elif isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
                names[int(info["var"])] = spec["name"]
        with self._lock:
            self._by_problem[result["problem"]] = names
            if name:
                self._by_problem[name] = names

    def added(self, problem: Any, var_id: int, name: str) -> None:
        """Records a variable added with problem.add_variable."""
        with self._lock:
            names = self._by_problem.setdefault(problem, {})
            names[int(var_id)] = name

    def learn(self, problem: Any, info: Mapping[str, Any]) -> None:
        """Records the variable names of a problem.info result (under the reference used, the
        problem's id and its name)."""
        names = {int(v["var"]): v["name"] for v in info.get("variables", [])
                 if isinstance(v, Mapping) and isinstance(v.get("name"), str)}
        with self._lock:
            for key in {problem, info.get("problem"), info.get("name")} - {None}:
                self._by_problem[key] = names

    def known(self, problem: Any) -> bool:
        """Whether the names of the problem's variables are known."""
        with self._lock:
            return problem in self._by_problem

    def forget(self, problem: Any) -> None:
        """Drops a deleted problem (under its id and its name)."""
        with self._lock:
            names = self._by_problem.pop(problem, None)
            if names is not None:
                for k in [k for k, v in self._by_problem.items() if v is names]:
                    del self._by_problem[k]

    def names(self, problem: Any) -> Dict[int, str]:
        """Known names of the problem's variables, id -> name (empty when unknown)."""
        with self._lock:
            return dict(self._by_problem.get(problem, {}))

    def id_of(self, problem: Any, var: VarKey) -> Optional[int]:
        """The id of variable ``var`` (a name or an id) when known, else None."""
        if isinstance(var, int):
            return var
        for i, n in self.names(problem).items():
            if n == var:
                return i
        return None


def solve_result(r: Any, names: Mapping[int, str]) -> Any:
    """A solve/step result map as a :class:`SolveResult` whose ``variables`` is a
    :class:`Variables` keyed by ``names``."""
    if not isinstance(r, dict):
        return r
    out = SolveResult(r)
    out["variables"] = Variables(r.get("variables") or {}, names)
    return out
