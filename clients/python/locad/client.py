"""Thin, thread-safe MessagePack-RPC client for the locad daemon (protocol/SPEC.md).

One socket per :class:`Client`. Requests are pipelined: any thread may call; sends are
serialised by one lock, and a reader thread matches responses to requests by msgid and runs
``problem.progress`` notifications through the callback of the request they belong to.
Arrays go in and come out as numpy arrays (see :mod:`locad.arrays`; read-only views, or
writable copies with ``writable=True``); errors answered by the daemon raise
:class:`locad.LocadError` subclasses carrying the numeric code. Solve and step results are
:class:`locad.SolveResult` objects whose ``variables`` are keyed by name
(:class:`locad.Variables`). The asyncio twin is :class:`locad.aio.AsyncClient`.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
from typing import (Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, TextIO,
                    Tuple, Union)

import msgpack
import numpy as np

from . import arrays
from . import progress as _progress
from .errors import ConnectionClosed, LocadError, NotFoundError, TimeoutError, error_from_wire
from .export import pick_variable, write_mesh
from .results import CONVERGED, SolveResult, Variables, VarNames, solve_result

__all__ = ["DEFAULT_ADDRESS", "Call", "Client", "SolveResult", "Variables", "parse_address",
           "CONVERGED"]

log = logging.getLogger("locad")

DEFAULT_ADDRESS = "127.0.0.1:7878"
_RECV_CHUNK = 1 << 20

#: An address: "host:port", ("host", port), "unix:/path" or a socket path.
Address = Union[str, "os.PathLike[str]", Tuple[str, int]]
#: A file path.
PathArg = Union[str, "os.PathLike[str]"]
#: A mesh or problem: its numeric id or its name.
ObjRef = Union[int, str]
#: A variable: its name or its id (0, 1, ... in order of creation).
VarRef = Union[str, int]
#: A progress callback: receives each problem.progress map; returning False cancels.
ProgressFn = Callable[[Mapping[str, Any]], Any]
ArrayLike = Any  # numpy arrays, nested lists of numbers, or wire array maps

_SOLVES = ("problem.solve", "problem.step")


def parse_address(address: Address) -> Tuple[int, Any]:
    """``(family, sockaddr)`` for "host:port", ("host", port), "unix:/path" or a path."""
    if isinstance(address, (tuple, list)):
        return socket.AF_INET6 if ":" in address[0] else socket.AF_INET, \
            (address[0], int(address[1]))
    address = os.fspath(address)
    if address.startswith("unix:"):
        return socket.AF_UNIX, address[5:]
    if "/" in address or ":" not in address:
        return socket.AF_UNIX, address
    host, _, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        return socket.AF_INET6, (host[1:-1], int(port))
    return socket.AF_INET, (host, int(port))


class Call:
    """Handle of one request in flight: ``result()`` waits, ``cancel()`` stops a solve/step."""

    def __init__(self, client: "Client", msgid: int, method: str, problem: Optional[ObjRef],
                 progress: Optional[ProgressFn], writable: bool = False,
                 post: Optional[Callable[[Any], Any]] = None,
                 bar: Optional[_progress.ProgressBar] = None):
        self._client = client
        self.msgid = msgid
        self.method = method
        self.problem = problem
        self.progress = progress
        self.writable = writable
        self._post = post
        self._bar = bar
        self._done = threading.Event()
        self._result: Any = None
        self._error: Optional[BaseException] = None

    def _finish(self, result: Any = None, error: Optional[BaseException] = None) -> None:
        self._close_bar()
        self._result, self._error = result, error
        self._done.set()

    def _close_bar(self) -> None:
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()

    def done(self) -> bool:
        """True once the response (or an error) has arrived."""
        return self._done.is_set()

    def result(self, timeout: Optional[float] = None, cancel_on_timeout: bool = True) -> Any:
        """Waits for the result (decoded; a :class:`SolveResult` for solve/step) and returns it,
        or raises the error.

        On timeout raises :class:`locad.TimeoutError`; a solve/step still running is then
        cancelled in the daemon unless ``cancel_on_timeout`` is False.
        """
        if not self._done.wait(timeout):
            self._client._forget(self.msgid)
            self._close_bar()
            if cancel_on_timeout and self.problem is not None and self.method in _SOLVES:
                try:
                    self._client.cancel(self.problem, timeout=5)
                except LocadError:
                    pass
            raise TimeoutError(f"{self.method}: no response within {timeout:g} s")
        if self._error is not None:
            raise self._error
        return self._post(self._result) if self._post is not None else self._result

    def cancel(self, timeout: Optional[float] = None) -> Dict[str, int]:
        """Asks the daemon to stop this request's solve/step after its current iteration."""
        if self.problem is None:
            raise ValueError(f"{self.method}: only requests on a problem can be cancelled")
        return self._client.cancel(self.problem, timeout=timeout)


class Client:
    """Connection to a locad daemon.

    ``address``: "host:port", ("host", port), "unix:/path" or a socket path. ``timeout`` is the
    default per-call timeout in seconds (None: wait forever) and also bounds the connect.
    ``token`` authenticates (method ``auth``) when the daemon requires it. ``writable``: results'
    arrays as writable copies instead of read-only views (also per call). ``progress_bar``: a bar
    on solves and steps, True / False, or None (default) to show one when ``progress_stream``
    (default sys.stderr) is a terminal (tqdm when installed; also per call).
    """

    def __init__(self, address: Address = DEFAULT_ADDRESS, timeout: Optional[float] = None,
                 token: Optional[str] = None, connect_timeout: float = 10.0,
                 writable: bool = False, progress_bar: Optional[bool] = None,
                 progress_stream: Optional[TextIO] = None):
        self.address = address
        self.timeout = timeout
        self.writable = writable
        self.progress_bar = progress_bar
        self.progress_stream = progress_stream
        family, sockaddr = parse_address(address)
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.settimeout(connect_timeout if timeout is None else min(timeout, connect_timeout))
        try:
            self._sock.connect(sockaddr)
        except socket.timeout as e:
            self._sock.close()
            raise TimeoutError(f"connect to {address}: timed out") from e
        except OSError:
            self._sock.close()
            raise
        self._sock.settimeout(None)
        if family != socket.AF_UNIX:
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._send_lock = threading.Lock()
        self._pending: Dict[int, Call] = {}
        self._pending_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._names: Dict[str, int] = {}  # problem name -> id, to route progress notifications
        self._vars = VarNames()
        self._closed = False
        self._packer = msgpack.Packer(use_bin_type=True, autoreset=True)
        self._reader = threading.Thread(target=self._read_loop, name="locad-reader", daemon=True)
        self._reader.start()
        if token is not None:
            self.call("auth", token=token)

    # -- connection -------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the connection; calls still waiting raise ConnectionClosed."""
        if self._closed:
            return
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _read_loop(self) -> None:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=2 ** 31 - 1)
        reason = "connection closed by the daemon"
        buf = bytearray(_RECV_CHUNK)  # reused: recv_into avoids a new bytes object per read
        view = memoryview(buf)
        try:
            while True:
                n = self._sock.recv_into(buf)
                if not n:
                    break
                unpacker.feed(view[:n])
                for msg in unpacker:
                    self._dispatch(msg)
        except OSError as e:
            reason = "connection closed" if self._closed else f"connection lost: {e}"
        except Exception as e:  # malformed stream: fail every call  # pylint: disable=broad-except
            reason = f"protocol error: {e}"
            log.exception("locad reader")
        self._closed = True
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        for call in pending.values():
            call._finish(error=ConnectionClosed(f"{call.method}: {reason}"))

    def _dispatch(self, msg: Any) -> None:
        if not isinstance(msg, list) or not msg:
            return
        if msg[0] == 1 and len(msg) == 4:
            with self._pending_lock:
                call = self._pending.pop(msg[1], None)
            if call is None:
                return  # timed out and forgotten
            if msg[2] is not None:
                call._finish(error=error_from_wire(msg[2]))
            else:
                try:
                    call._finish(result=arrays.decode_result(msg[3], call.writable))
                except Exception as e:  # pylint: disable=broad-except
                    call._finish(error=e)
        elif msg[0] == 2 and len(msg) == 3 and msg[1] == "problem.progress":
            self._on_progress(msg[2])

    def _on_progress(self, info: Any) -> None:
        pid = info.get("problem") if isinstance(info, dict) else None
        with self._pending_lock:
            cands = [c for c in self._pending.values() if c.progress is not None]
        match = [c for c in cands if c.problem == pid or self._names.get(c.problem) == pid]  # type: ignore[arg-type]
        if not match and len(cands) == 1:
            match = cands
        for call in match[:1]:
            try:
                if call.progress(info) is False:  # type: ignore[misc]
                    threading.Thread(target=self._cancel_quietly, args=(call.problem,),
                                     daemon=True).start()
            except Exception:  # pylint: disable=broad-except
                log.exception("locad progress callback")

    def _cancel_quietly(self, problem: ObjRef) -> None:
        try:
            self.cancel(problem, timeout=5)
        except LocadError:
            pass

    def _forget(self, msgid: int) -> None:
        with self._pending_lock:
            self._pending.pop(msgid, None)

    def _writable(self, writable: Optional[bool]) -> bool:
        return self.writable if writable is None else bool(writable)

    def _timeout(self, timeout: Optional[float]) -> Optional[float]:
        return self.timeout if timeout is None else timeout

    # -- generic calls ----------------------------------------------------------------------

    def call_async(self, method: str, params: Optional[Mapping[str, Any]] = None,
                   progress: Optional[ProgressFn] = None, writable: Optional[bool] = None,
                   post: Optional[Callable[[Any], Any]] = None,
                   bar: Optional[_progress.ProgressBar] = None) -> Call:
        """Sends a request and returns its :class:`Call` handle without waiting.

        ``params``: dict (None values dropped, numpy arrays encoded). ``progress``: a callable
        receiving each ``problem.progress`` dict; returning False cancels the solve.
        ``writable``: decode arrays as writable copies. ``post``: applied to the result by
        ``Call.result``; ``bar``: a progress bar closed when the response arrives.
        """
        if self._closed:
            raise ConnectionClosed(f"{method}: the client is closed")
        params = arrays.encode_params(dict(params or {}))
        problem = params.get("problem")
        progress = _progress.chain(progress, bar)
        with self._send_lock:
            msgid = next(self._ids) & 0xFFFFFFFF
            call = Call(self, msgid, method, problem, progress, self._writable(writable), post, bar)
            with self._pending_lock:
                self._pending[msgid] = call
            try:
                self._sock.sendall(self._packer.pack([0, msgid, method, params]))
            except OSError as e:
                self._forget(msgid)
                call._close_bar()
                raise ConnectionClosed(f"{method}: send failed: {e}") from e
        return call

    def call(self, method: str, timeout: Optional[float] = None,
             progress: Optional[ProgressFn] = None, writable: Optional[bool] = None,
             **params: Any) -> Any:
        """Sends ``method`` with keyword ``params`` and returns the decoded result."""
        c = self.call_async(method, params, progress, writable)
        return c.result(self._timeout(timeout))

    # -- server -----------------------------------------------------------------------------

    def info(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """server.info: version, default ``device``, ``devices``, limits, methods, energies."""
        return self.call("server.info", timeout)

    def devices(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """The daemon's devices (server.info ``devices``): list of {id, name, memory,
        compute_capability, cores} dicts, the CPU first."""
        return self.info(timeout)["devices"]

    def stats(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """server.stats: object counts and request counters."""
        return self.call("server.stats", timeout)

    def health(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """server.health: ``{"ok": True, ...}`` while the daemon serves."""
        return self.call("server.health", timeout)

    # -- meshes -----------------------------------------------------------------------------

    def mesh_create(self, V: ArrayLike, F: ArrayLike, name: Optional[str] = None,
                    timeout: Optional[float] = None) -> Dict[str, Any]:
        """mesh.create from vertex (nv×3 float) and face (nf×3 int) arrays."""
        return self.call("mesh.create", timeout, V=V, F=F, name=name)

    def mesh_load_obj(self, data: Union[str, bytes], name: Optional[str] = None,
                      timeout: Optional[float] = None) -> Dict[str, Any]:
        """mesh.load_obj from OBJ text (str) or bytes."""
        return self.call("mesh.load_obj", timeout, data=data, name=name)

    def mesh_load_file(self, path: PathArg, name: Optional[str] = None,
                       timeout: Optional[float] = None) -> Dict[str, Any]:
        """Reads a local OBJ file and sends it with mesh.load_obj."""
        with open(path, "rb") as f:
            return self.mesh_load_obj(f.read(), name=name, timeout=timeout)

    def mesh_list(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """mesh.list: every live mesh as {mesh, name, nv, nf}, in creation order."""
        return self.call("mesh.list", timeout)["meshes"]

    def problem_list(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """problem.list: every live problem as {problem, name, mesh, device}, in creation order."""
        return self.call("problem.list", timeout)["problems"]

    def list(self, timeout: Optional[float] = None) -> Dict[str, List[Dict[str, Any]]]:
        """mesh.list and problem.list in one round trip: {"meshes": [...], "problems": [...]}."""
        cm = self.call_async("mesh.list")
        cp = self.call_async("problem.list")
        t = self._timeout(timeout)
        return {"meshes": cm.result(t)["meshes"], "problems": cp.result(t)["problems"]}

    def mesh_info(self, mesh: ObjRef, arrays: bool = False,  # pylint: disable=redefined-outer-name
                  writable: Optional[bool] = None, timeout: Optional[float] = None) -> Dict[str, Any]:
        """mesh.info (with V and F as numpy arrays when ``arrays``)."""
        return self.call("mesh.info", timeout, writable=writable, mesh=mesh, arrays=arrays or None)

    def mesh_delete(self, mesh: ObjRef, timeout: Optional[float] = None) -> bool:
        """mesh.delete."""
        return self.call("mesh.delete", timeout, mesh=mesh)

    # -- problems ---------------------------------------------------------------------------

    def problem_create(self, mesh: ObjRef, variables: Optional[Sequence[Mapping[str, Any]]] = None,
                       name: Optional[str] = None, device: Optional[str] = None,
                       timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.create; ``variables``: list of {name, dim, loc?, init?} dicts; ``device``:
        "cpu", "cuda:N" or "auto" (default: the daemon's device). The result's ``device`` says
        where the problem lives. The client remembers the variables' names, to key results."""
        r = self.call("problem.create", timeout, mesh=mesh, variables=variables, name=name,
                      device=device)
        if name:
            self._names[name] = r["problem"]
        self._vars.created(r, list(variables or []), name)
        return r

    def add_variable(self, problem: ObjRef, name: str, dim: int, loc: Optional[str] = None,
                     init: Optional[ArrayLike] = None, timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.add_variable; returns {var, loc, dim, n, offset}."""
        r = self.call("problem.add_variable", timeout, problem=problem, name=name, dim=dim,
                      loc=loc, init=init)
        self._vars.added(problem, r["var"], name)
        return r

    def add_term(self, problem: ObjRef, energy: Any, var: VarRef, weight: Optional[float] = None,
                 elements: Optional[ArrayLike] = None, params: Optional[Mapping[str, float]] = None,
                 consts: Optional[ArrayLike] = None, project: Optional[bool] = None,
                 timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.add_term; ``energy``: a built-in's name, a :class:`locad.custom.CustomEnergy`
        (``@locad.energy``) or a description dict; returns {term, n_elems, n_colors}."""
        energy = getattr(energy, "description", energy)
        return self.call("problem.add_term", timeout, problem=problem, energy=energy, var=var,
                         weight=weight, elements=elements, params=params, consts=consts,
                         project=project)

    def set_term(self, problem: ObjRef, term: int, weight: Optional[float] = None,
                 consts: Optional[ArrayLike] = None, timeout: Optional[float] = None) -> bool:
        """problem.set_term: a new weight and/or per-element constants (n_elems×n_const)."""
        return self.call("problem.set_term", timeout, problem=problem, term=term, weight=weight,
                         consts=consts)

    def get_term(self, problem: ObjRef, term: int, writable: Optional[bool] = None,
                 timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.get_term: {term, energy, var, n_elems, consts (n_elems×n_const array)}."""
        return self.call("problem.get_term", timeout, writable=writable, problem=problem, term=term)

    def remove_term(self, problem: ObjRef, term: int, timeout: Optional[float] = None) -> bool:
        """problem.remove_term."""
        return self.call("problem.remove_term", timeout, problem=problem, term=term)

    def set_variable(self, problem: ObjRef, var: VarRef, values: ArrayLike,
                     timeout: Optional[float] = None) -> bool:
        """problem.set_variable."""
        return self.call("problem.set_variable", timeout, problem=problem, var=var,
                         values=values)

    def get_variable(self, problem: ObjRef, var: VarRef, writable: Optional[bool] = None,
                     timeout: Optional[float] = None) -> np.ndarray:
        """problem.get_variable; returns the values as an (n, dim) array."""
        return self.call("problem.get_variable", timeout, writable=writable, problem=problem,
                         var=var)["values"]

    def get_variables(self, problem: ObjRef, variables: Optional[Iterable[VarRef]] = None,
                      writable: Optional[bool] = None,
                      timeout: Optional[float] = None) -> Variables:
        """Several variables in one round trip (all when ``variables`` is None), as a
        :class:`Variables` mapping name -> (n, dim) array."""
        t = self._timeout(timeout)
        if variables is None:
            ids = [v["var"] for v in self.problem_info(problem, t)["variables"]]
        else:
            ids = list(variables)
        calls = [self.call_async("problem.get_variable", {"problem": problem, "var": v}, None,
                                 writable) for v in ids]
        got = {}
        for c in calls:
            r = c.result(t)
            got[r["var"]] = r["values"]
        return Variables(got, self._vars.names(problem))

    def fix(self, problem: ObjRef, var: VarRef, entities: Optional[ArrayLike] = None,
            values: Optional[ArrayLike] = None, timeout: Optional[float] = None) -> int:
        """problem.fix; returns the number of fixed entities."""
        return self.call("problem.fix", timeout, problem=problem, var=var, entities=entities,
                         values=values)["n_fixed"]

    def unfix(self, problem: ObjRef, var: VarRef, entities: Optional[ArrayLike] = None,
              timeout: Optional[float] = None) -> int:
        """problem.unfix; returns the number of fixed entities left."""
        return self.call("problem.unfix", timeout, problem=problem, var=var,
                         entities=entities)["n_fixed"]

    def set_contact(self, problem: ObjRef, var: Optional[VarRef] = None, dhat: Optional[float] = None,
                    kappa: Optional[float] = None, dmin: Optional[float] = None,
                    margin: Optional[float] = None, max_rounds: Optional[int] = None,
                    planes: Optional[ArrayLike] = None, adaptive_mass: Optional[float] = None,
                    friction: Optional[float] = None, friction_eps: Optional[float] = None,
                    friction_iters: Optional[int] = None, pattern_reserve: Optional[float] = None,
                    enabled: Optional[bool] = None, timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.set_contact: contact on vertex variable ``var`` (barrier pairs with activation
        distance ``dhat``, stiffness ``kappa``, thickness ``dmin``; ``planes`` an (n, 6) array of
        point and normal rows; ``adaptive_mass`` the mean vertex mass for adaptive stiffness;
        ``friction`` the coefficient mu of lagged friction in steps, ramped below sliding speed
        ``friction_eps``, lagged ``friction_iters`` times per step; ``pattern_reserve`` a
        superset Hessian pattern, in multiples of the
        list padding); ``enabled=False`` removes it.  Returns the contact statistics {n_pt, n_ee,
        active, min_distance, rounds, var, planes, kappa, friction, pattern}; solve and step
        then use it."""
        return self.call("problem.set_contact", timeout, problem=problem, var=var, dhat=dhat,
                         kappa=kappa, dmin=dmin, margin=margin, max_rounds=max_rounds,
                         planes=planes, adaptive_mass=adaptive_mass, friction=friction,
                         friction_eps=friction_eps, friction_iters=friction_iters,
                         pattern_reserve=pattern_reserve,
                         enabled=enabled)

    def problem_info(self, problem: ObjRef, timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.info (the client learns the variables' names from it)."""
        r = self.call("problem.info", timeout, problem=problem)
        self._vars.learn(problem, r)
        return r

    def eval(self, problem: ObjRef, what: Union[str, Sequence[str]] = "energy",
             x: Optional[ArrayLike] = None, v: Optional[ArrayLike] = None,
             project: Optional[bool] = None, writable: Optional[bool] = None,
             timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.eval; gradient/hvp/residual as arrays, hessian/jacobian as CSR matrices."""
        return self.call("problem.eval", timeout, writable=writable, problem=problem, what=what,
                         x=x, v=v, project=project)

    def _solve_call(self, method: str, params: Dict[str, Any], progress: Optional[ProgressFn],
                    progress_bar: Optional[bool], writable: Optional[bool]) -> Call:
        problem = params["problem"]
        if params.get("return") and not self._vars.known(problem):
            self.problem_info(problem)  # once: a problem made elsewhere, to key results by name
        flag = self.progress_bar if progress_bar is None else progress_bar
        bar = _progress.for_call(flag, self.progress_stream, method, params.get("options"))
        return self.call_async(method, params, progress, writable,
                               post=lambda r: solve_result(r, self._vars.names(problem)), bar=bar)

    def solve_async(self, problem: ObjRef, method: Optional[str] = None,
                    options: Optional[Mapping[str, Any]] = None, fix: Any = None, unfix: Any = None,
                    returns: Union[bool, Sequence[VarRef], None] = None,
                    progress: Optional[ProgressFn] = None, progress_bar: Optional[bool] = None,
                    writable: Optional[bool] = None) -> Call:
        """problem.solve without waiting: returns a :class:`Call` (``.result()`` gives the
        :class:`SolveResult`, ``.cancel()``)."""
        params = dict(problem=problem, method=method, options=options, fix=fix, unfix=unfix)
        params["return"] = returns
        return self._solve_call("problem.solve", params, progress, progress_bar, writable)

    def solve(self, problem: ObjRef, method: Optional[str] = None,
              options: Optional[Mapping[str, Any]] = None, fix: Any = None, unfix: Any = None,
              returns: Union[bool, Sequence[VarRef], None] = None,
              progress: Optional[ProgressFn] = None, timeout: Optional[float] = None,
              progress_bar: Optional[bool] = None, writable: Optional[bool] = None) -> SolveResult:
        """problem.solve; returns a :class:`SolveResult` (``success``, ``message``, ``warnings``,
        ``variables`` by name). ``returns``: variables to return (names or ids, or True for all);
        ``progress``: callable per notification (return False to cancel); ``progress_bar``:
        True / False / None (the client's setting). On timeout the solve is cancelled and
        :class:`locad.TimeoutError` raised. A problem without terms (nothing to minimise) raises
        :class:`locad.InvalidError`."""
        c = self.solve_async(problem, method, options, fix, unfix, returns, progress,
                             progress_bar, writable)
        return c.result(self._timeout(timeout))

    def step(self, problem: ObjRef, h: Optional[float] = None, var: Optional[VarRef] = None,
             inertia_term: Optional[int] = None, steps: Optional[int] = None,
             method: Optional[str] = None, options: Optional[Mapping[str, Any]] = None,
             fix: Any = None, unfix: Any = None, force: Any = None, velocity: Any = None,
             damping: Optional[float] = None, returns: Union[bool, Sequence[VarRef], None] = None,
             progress: Optional[ProgressFn] = None, timeout: Optional[float] = None,
             progress_bar: Optional[bool] = None, writable: Optional[bool] = None) -> SolveResult:
        """problem.step (implicit Euler); arguments as in SPEC.md; returns a :class:`SolveResult`.

        Pass ``h``/``var``/``inertia_term`` only on the first call: the daemon re-creates the
        stepper (zero velocity) whenever ``var`` or ``inertia_term`` is present. ``force=locad.NIL``
        clears the external force."""
        params = dict(problem=problem, h=h, var=var, inertia_term=inertia_term, steps=steps,
                      method=method, options=options, fix=fix, unfix=unfix, force=force,
                      velocity=velocity, damping=damping)
        params["return"] = returns
        c = self._solve_call("problem.step", params, progress, progress_bar, writable)
        return c.result(self._timeout(timeout))

    def cancel(self, problem: ObjRef, timeout: Optional[float] = None) -> Dict[str, int]:
        """problem.cancel: stops the problem's running solve/step after its iteration."""
        return self.call("problem.cancel", timeout, problem=problem)

    def problem_delete(self, problem: ObjRef, timeout: Optional[float] = None) -> bool:
        """problem.delete."""
        r = self.call("problem.delete", timeout, problem=problem)
        self._vars.forget(problem)
        return r

    def delete(self, obj: ObjRef, timeout: Optional[float] = None) -> bool:
        """Deletes a problem or mesh by id or name (ids are unique across both kinds)."""
        try:
            return self.problem_delete(obj, timeout)
        except NotFoundError:
            return self.mesh_delete(obj, timeout)

    # -- export -----------------------------------------------------------------------------

    def export(self, path: PathArg, obj: ObjRef, var: Optional[VarRef] = None,
               format: Optional[str] = None,  # pylint: disable=redefined-builtin
               timeout: Optional[float] = None) -> str:
        """Writes a mesh, or a problem's current state, to an OBJ or PLY file (format from the
        extension unless ``format``); returns the path.

        ``obj`` names a problem (checked first) or a mesh. For a problem, ``var`` (default: its
        first vertex variable of dim 3, else of dim 2) gives the vertex positions (dim 3) or UVs on
        the rest mesh (dim 2). PLY needs meshio (ImportError saying so otherwise)."""
        t = self._timeout(timeout)
        try:
            info = self.problem_info(obj, t)
        except NotFoundError:
            m = self.mesh_info(obj, arrays=True, timeout=t)
            write_mesh(path, m["V"], m["F"], format=format)
            return os.fspath(path)
        vid, dim = pick_variable(info["variables"], self._vars.names(obj), var)
        try:
            m = self.mesh_info(info["mesh"], arrays=True, timeout=t)
        except NotFoundError as e:
            raise NotFoundError(e.code, f"problem {obj!r}: its mesh {info['mesh']} was deleted, "
                                        "and export needs the mesh's faces") from e
        X = None if vid is None else self.get_variable(obj, vid, timeout=t)
        write_mesh(path, m["V"], m["F"], X=X if dim == 3 else None, uv=X if dim == 2 else None,
                   format=format)
        return os.fspath(path)
