"""asyncio client for the locad daemon: :class:`AsyncClient`, the coroutine twin of
:class:`locad.Client` over asyncio streams (TCP "host:port" / ("host", port), and Unix
"unix:/path" or a socket path).

* Every method of :class:`locad.Client` is a coroutine here, with the same parameters and results
  (``SolveResult``, variables keyed by name, ``writable=``, ``progress_bar=``); run several at
  once with ``asyncio.gather``: requests are pipelined on the one connection and matched by msgid.
* ``progress=`` receives each ``problem.progress`` notification of a solve/step; it may be a
  plain function or a coroutine function; returning False cancels the solve.
* Cancelling the asyncio task awaiting ``solve`` / ``step`` (``task.cancel()``,
  ``asyncio.wait_for`` running out) sends ``problem.cancel`` for its problem, so the daemon stops
  the solve after its current iteration; ``timeout=`` does the same and raises
  :class:`locad.TimeoutError`.

>>> async with AsyncClient("127.0.0.1:7878", timeout=60) as c:
...     r = await c.solve(problem, returns=True)
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import os
import socket
from typing import (Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Sequence,
                    TextIO, Tuple, Union)

import msgpack
import numpy as np

from . import arrays
from . import progress as _progress
from .client import (DEFAULT_ADDRESS, Address, ArrayLike, ObjRef, PathArg, VarRef,
                     parse_address)
from .errors import ConnectionClosed, LocadError, NotFoundError, TimeoutError, error_from_wire
from .export import pick_variable, write_mesh
from .results import SolveResult, Variables, VarNames, solve_result

__all__ = ["AsyncClient", "connect"]

log = logging.getLogger("locad")

_SOLVES = ("problem.solve", "problem.step")
_READ_CHUNK = 1 << 20

#: A progress callback: a function or coroutine function of the problem.progress map.
AsyncProgressFn = Callable[[Mapping[str, Any]], Union[Any, Awaitable[Any]]]


class _Pending:
    """One request in flight: its future and what its notifications need."""

    __slots__ = ("future", "method", "problem", "progress", "writable")

    def __init__(self, future: "asyncio.Future[Any]", method: str, problem: Any,
                 progress: Optional[AsyncProgressFn], writable: bool):
        self.future = future
        self.method = method
        self.problem = problem
        self.progress = progress
        self.writable = writable


class AsyncClient:
    """asyncio connection to a locad daemon; open it with ``async with AsyncClient(...)`` or
    ``await AsyncClient.connect(...)``.

    Arguments as :class:`locad.Client`: ``address``, ``timeout`` (default per-call seconds, None:
    wait forever), ``token``, ``connect_timeout``, ``writable`` (arrays as writable copies),
    ``progress_bar`` (None: when ``progress_stream``, default sys.stderr, is a terminal).
    """

    def __init__(self, address: Address = DEFAULT_ADDRESS, timeout: Optional[float] = None,
                 token: Optional[str] = None, connect_timeout: float = 10.0,
                 writable: bool = False, progress_bar: Optional[bool] = None,
                 progress_stream: Optional[TextIO] = None):
        self.address = address
        self.timeout = timeout
        self.token = token
        self.connect_timeout = connect_timeout
        self.writable = writable
        self.progress_bar = progress_bar
        self.progress_stream = progress_stream
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._task: Optional["asyncio.Task[None]"] = None
        self._pending: Dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._names: Dict[str, int] = {}  # problem name -> id, to route progress notifications
        self._vars = VarNames()
        self._packer = msgpack.Packer(use_bin_type=True, autoreset=True)
        self._drain_lock: Optional[asyncio.Lock] = None
        self._closed = False

    # -- connection -------------------------------------------------------------------------

    @classmethod
    async def connect(cls, address: Address = DEFAULT_ADDRESS, **kwargs: Any) -> "AsyncClient":
        """A connected client (keyword arguments as the constructor)."""
        c = cls(address, **kwargs)
        await c.open()
        return c

    async def open(self) -> None:
        """Connects (and authenticates with ``token``); raises OSError / locad.TimeoutError."""
        if self._writer is not None:
            raise RuntimeError(f"the client for {self.address} is already open")
        family, sockaddr = parse_address(self.address)
        if family == socket.AF_UNIX:
            opening = asyncio.open_unix_connection(sockaddr)
        else:
            opening = asyncio.open_connection(sockaddr[0], sockaddr[1])
        limit = self.connect_timeout if self.timeout is None else min(self.timeout, self.connect_timeout)
        try:
            self._reader, self._writer = await asyncio.wait_for(opening, limit)
        except asyncio.TimeoutError as e:
            raise TimeoutError(f"connect to {self.address}: timed out") from e
        sock = self._writer.get_extra_info("socket")
        if sock is not None and family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._drain_lock = asyncio.Lock()
        self._task = asyncio.get_running_loop().create_task(self._read_loop())
        if self.token is not None:
            await self.call("auth", token=self.token)

    async def close(self) -> None:
        """Closes the connection; requests still waiting raise ConnectionClosed."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._task.cancel()
        self._fail_all("connection closed")

    async def __aenter__(self) -> "AsyncClient":
        if self._writer is None:
            await self.open()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def _fail_all(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(ConnectionClosed(f"{p.method}: {reason}"))

    async def _read_loop(self) -> None:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=2 ** 31 - 1)
        reason = "connection closed by the daemon"
        assert self._reader is not None
        try:
            while True:
                data = await self._reader.read(_READ_CHUNK)
                if not data:
                    break
                unpacker.feed(data)
                for msg in unpacker:
                    self._dispatch(msg)
        except OSError as e:
            reason = "connection closed" if self._closed else f"connection lost: {e}"
        except asyncio.CancelledError:
            reason = "connection closed"
        except Exception as e:  # malformed stream: fail every call  # pylint: disable=broad-except
            reason = f"protocol error: {e}"
            log.exception("locad aio reader")
        self._closed = True
        self._fail_all(reason)

    def _dispatch(self, msg: Any) -> None:
        if not isinstance(msg, list) or not msg:
            return
        if msg[0] == 1 and len(msg) == 4:
            p = self._pending.pop(msg[1], None)
            if p is None or p.future.done():
                return  # cancelled, timed out or fire-and-forget
            if msg[2] is not None:
                p.future.set_exception(error_from_wire(msg[2]))
            else:
                try:
                    p.future.set_result(arrays.decode_result(msg[3], p.writable))
                except Exception as e:  # pylint: disable=broad-except
                    p.future.set_exception(e)
        elif msg[0] == 2 and len(msg) == 3 and msg[1] == "problem.progress":
            self._on_progress(msg[2])

    def _on_progress(self, info: Any) -> None:
        pid = info.get("problem") if isinstance(info, dict) else None
        cands = [p for p in self._pending.values() if p.progress is not None]
        match = [p for p in cands if p.problem == pid or self._names.get(p.problem) == pid]
        if not match and len(cands) == 1:
            match = cands
        for p in match[:1]:
            try:
                r = p.progress(info)  # type: ignore[misc]
            except Exception:  # pylint: disable=broad-except
                log.exception("locad progress callback")
                continue
            if inspect.isawaitable(r):
                fut = asyncio.ensure_future(r)
                fut.add_done_callback(lambda f, problem=p.problem: self._after_progress(f, problem))
            elif r is False:
                self._cancel_nowait(p.problem)

    def _after_progress(self, fut: "asyncio.Future[Any]", problem: Any) -> None:
        if fut.cancelled():
            return
        if fut.exception() is not None:
            log.error("locad progress callback: %r", fut.exception())
        elif fut.result() is False:
            self._cancel_nowait(problem)

    def _send(self, method: str, params: Mapping[str, Any], progress: Optional[AsyncProgressFn],
              writable: bool) -> Tuple[int, "asyncio.Future[Any]"]:
        if self._closed or self._writer is None:
            raise ConnectionClosed(f"{method}: the client is " + ("closed" if self._closed else "not open"))
        wire = arrays.encode_params(dict(params))
        msgid = next(self._ids) & 0xFFFFFFFF
        fut: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
        self._pending[msgid] = _Pending(fut, method, wire.get("problem"), progress, writable)
        self._writer.write(self._packer.pack([0, msgid, method, wire]))
        return msgid, fut

    def _cancel_nowait(self, problem: Any) -> None:
        """Sends problem.cancel at once without waiting for its answer (written before the caller
        goes on, so it reaches the daemon even when the awaiting task is being cancelled)."""
        if self._closed or self._writer is None or problem is None:
            return
        try:
            _, fut = self._send("problem.cancel", {"problem": problem}, None, False)
        except (LocadError, OSError):
            return
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieve, ignore

    async def _request(self, method: str, params: Mapping[str, Any], timeout: Optional[float],
                       progress: Optional[AsyncProgressFn] = None,
                       writable: Optional[bool] = None) -> Any:
        msgid, fut = self._send(method, params, progress,
                                self.writable if writable is None else bool(writable))
        assert self._drain_lock is not None and self._writer is not None
        limit = self.timeout if timeout is None else timeout
        try:
            async with self._drain_lock:
                await self._writer.drain()
            return await asyncio.wait_for(fut, limit)
        except asyncio.TimeoutError:
            self._abandon(msgid, method, params)
            raise TimeoutError(f"{method}: no response within {limit:g} s") from None
        except asyncio.CancelledError:
            self._abandon(msgid, method, params)
            raise
        except (ConnectionResetError, BrokenPipeError) as e:
            self._pending.pop(msgid, None)
            raise ConnectionClosed(f"{method}: send failed: {e}") from e

    def _abandon(self, msgid: int, method: str, params: Mapping[str, Any]) -> None:
        self._pending.pop(msgid, None)
        if method in _SOLVES:
            self._cancel_nowait(params.get("problem"))

    # -- generic calls ----------------------------------------------------------------------

    async def call(self, method: str, timeout: Optional[float] = None,
                   progress: Optional[AsyncProgressFn] = None, writable: Optional[bool] = None,
                   **params: Any) -> Any:
        """Sends ``method`` with keyword ``params`` and returns the decoded result."""
        return await self._request(method, params, timeout, progress, writable)

    # -- server -----------------------------------------------------------------------------

    async def info(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """server.info: version, default ``device``, ``devices``, limits, methods, energies."""
        return await self.call("server.info", timeout)

    async def devices(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """The daemon's devices (server.info ``devices``), the CPU first."""
        return (await self.info(timeout))["devices"]

    async def stats(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """server.stats: object counts and request counters."""
        return await self.call("server.stats", timeout)

    async def health(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """server.health: ``{"ok": True, ...}`` while the daemon serves."""
        return await self.call("server.health", timeout)

    # -- meshes -----------------------------------------------------------------------------

    async def mesh_create(self, V: ArrayLike, F: ArrayLike, name: Optional[str] = None,
                          timeout: Optional[float] = None) -> Dict[str, Any]:
        """mesh.create from vertex (nv×3 float) and face (nf×3 int) arrays."""
        return await self.call("mesh.create", timeout, V=V, F=F, name=name)

    async def mesh_load_obj(self, data: Union[str, bytes], name: Optional[str] = None,
                            timeout: Optional[float] = None) -> Dict[str, Any]:
        """mesh.load_obj from OBJ text (str) or bytes."""
        return await self.call("mesh.load_obj", timeout, data=data, name=name)

    async def mesh_load_file(self, path: PathArg, name: Optional[str] = None,
                             timeout: Optional[float] = None) -> Dict[str, Any]:
        """Reads a local OBJ file and sends it with mesh.load_obj."""
        with open(path, "rb") as f:
            data = f.read()
        return await self.mesh_load_obj(data, name=name, timeout=timeout)

    async def mesh_list(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """mesh.list: every live mesh as {mesh, name, nv, nf}, in creation order."""
        return (await self.call("mesh.list", timeout))["meshes"]

    async def problem_list(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """problem.list: every live problem as {problem, name, mesh, device}, in creation order."""
        return (await self.call("problem.list", timeout))["problems"]

    async def list(self, timeout: Optional[float] = None) -> Dict[str, List[Dict[str, Any]]]:
        """mesh.list and problem.list pipelined: {"meshes": [...], "problems": [...]}."""
        meshes, problems = await asyncio.gather(self.mesh_list(timeout), self.problem_list(timeout))
        return {"meshes": meshes, "problems": problems}

    async def mesh_info(self, mesh: ObjRef, arrays: bool = False,  # pylint: disable=redefined-outer-name
                        writable: Optional[bool] = None,
                        timeout: Optional[float] = None) -> Dict[str, Any]:
        """mesh.info (with V and F as numpy arrays when ``arrays``)."""
        return await self.call("mesh.info", timeout, writable=writable, mesh=mesh,
                               arrays=arrays or None)

    async def mesh_delete(self, mesh: ObjRef, timeout: Optional[float] = None) -> bool:
        """mesh.delete."""
        return await self.call("mesh.delete", timeout, mesh=mesh)

    # -- problems ---------------------------------------------------------------------------

    async def problem_create(self, mesh: ObjRef,
                             variables: Optional[Sequence[Mapping[str, Any]]] = None,
                             name: Optional[str] = None, device: Optional[str] = None,
                             timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.create (as :meth:`locad.Client.problem_create`); the client remembers the
        variables' names, to key results."""
        r = await self.call("problem.create", timeout, mesh=mesh, variables=variables, name=name,
                            device=device)
        if name:
            self._names[name] = r["problem"]
        self._vars.created(r, [*(variables or [])], name)
        return r

    async def add_variable(self, problem: ObjRef, name: str, dim: int, loc: Optional[str] = None,
                           init: Optional[ArrayLike] = None,
                           timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.add_variable; returns {var, loc, dim, n, offset}."""
        r = await self.call("problem.add_variable", timeout, problem=problem, name=name, dim=dim,
                            loc=loc, init=init)
        self._vars.added(problem, r["var"], name)
        return r

    async def add_term(self, problem: ObjRef, energy: Any, var: VarRef,
                       weight: Optional[float] = None, elements: Optional[ArrayLike] = None,
                       params: Optional[Mapping[str, float]] = None,
                       consts: Optional[ArrayLike] = None, project: Optional[bool] = None,
                       timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.add_term; ``energy``: a built-in's name, a :class:`locad.custom.CustomEnergy` or
        a description dict; returns {term, n_elems, n_colors}."""
        energy = getattr(energy, "description", energy)
        return await self.call("problem.add_term", timeout, problem=problem, energy=energy,
                               var=var, weight=weight, elements=elements, params=params,
                               consts=consts, project=project)

    async def set_term(self, problem: ObjRef, term: int, weight: Optional[float] = None,
                       consts: Optional[ArrayLike] = None, timeout: Optional[float] = None) -> bool:
        """problem.set_term: a new weight and/or per-element constants (n_elems×n_const)."""
        return await self.call("problem.set_term", timeout, problem=problem, term=term,
                               weight=weight, consts=consts)

    async def get_term(self, problem: ObjRef, term: int, writable: Optional[bool] = None,
                       timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.get_term: {term, energy, var, n_elems, consts (n_elems×n_const array)}."""
        return await self.call("problem.get_term", timeout, writable=writable, problem=problem,
                               term=term)

    async def remove_term(self, problem: ObjRef, term: int, timeout: Optional[float] = None) -> bool:
        """problem.remove_term."""
        return await self.call("problem.remove_term", timeout, problem=problem, term=term)

    async def set_variable(self, problem: ObjRef, var: VarRef, values: ArrayLike,
                           timeout: Optional[float] = None) -> bool:
        """problem.set_variable."""
        return await self.call("problem.set_variable", timeout, problem=problem, var=var,
                               values=values)

    async def get_variable(self, problem: ObjRef, var: VarRef, writable: Optional[bool] = None,
                           timeout: Optional[float] = None) -> np.ndarray:
        """problem.get_variable; returns the values as an (n, dim) array."""
        return (await self.call("problem.get_variable", timeout, writable=writable,
                                problem=problem, var=var))["values"]

    async def get_variables(self, problem: ObjRef, variables: Optional[Iterable[VarRef]] = None,
                            writable: Optional[bool] = None,
                            timeout: Optional[float] = None) -> Variables:
        """Several variables pipelined (all when ``variables`` is None), as a
        :class:`Variables` mapping name -> (n, dim) array."""
        if variables is None:
            ids = [v["var"] for v in (await self.problem_info(problem, timeout))["variables"]]
        else:
            ids = [*variables]
        got = await asyncio.gather(*(self.call("problem.get_variable", timeout, writable=writable,
                                               problem=problem, var=v) for v in ids))
        return Variables({r["var"]: r["values"] for r in got}, self._vars.names(problem))

    async def fix(self, problem: ObjRef, var: VarRef, entities: Optional[ArrayLike] = None,
                  values: Optional[ArrayLike] = None, timeout: Optional[float] = None) -> int:
        """problem.fix; returns the number of fixed DOFs."""
        return (await self.call("problem.fix", timeout, problem=problem, var=var,
                                entities=entities, values=values))["n_fixed"]

    async def unfix(self, problem: ObjRef, var: VarRef, entities: Optional[ArrayLike] = None,
                    timeout: Optional[float] = None) -> int:
        """problem.unfix; returns the number of fixed DOFs left."""
        return (await self.call("problem.unfix", timeout, problem=problem, var=var,
                                entities=entities))["n_fixed"]

    async def set_contact(self, problem: ObjRef, var: Optional[VarRef] = None,
                          dhat: Optional[float] = None, kappa: Optional[float] = None,
                          dmin: Optional[float] = None, margin: Optional[float] = None,
                          max_rounds: Optional[int] = None, planes: Optional[ArrayLike] = None,
                          adaptive_mass: Optional[float] = None, friction: Optional[float] = None,
                          friction_eps: Optional[float] = None, friction_iters: Optional[int] = None,
                          pattern_reserve: Optional[float] = None, enabled: Optional[bool] = None,
                          timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.set_contact (as :meth:`locad.Client.set_contact`); returns the contact
        statistics."""
        return await self.call("problem.set_contact", timeout, problem=problem, var=var,
                               dhat=dhat, kappa=kappa, dmin=dmin, margin=margin,
                               max_rounds=max_rounds, planes=planes, adaptive_mass=adaptive_mass,
                               friction=friction, friction_eps=friction_eps,
                               friction_iters=friction_iters, pattern_reserve=pattern_reserve,
                               enabled=enabled)

    async def problem_info(self, problem: ObjRef, timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.info (the client learns the variables' names from it)."""
        r = await self.call("problem.info", timeout, problem=problem)
        self._vars.learn(problem, r)
        return r

    async def eval(self, problem: ObjRef, what: Union[str, Sequence[str]] = "energy",
                   x: Optional[ArrayLike] = None, v: Optional[ArrayLike] = None,
                   project: Optional[bool] = None, writable: Optional[bool] = None,
                   timeout: Optional[float] = None) -> Dict[str, Any]:
        """problem.eval; gradient/hvp/residual as arrays, hessian/jacobian as CSR matrices."""
        return await self.call("problem.eval", timeout, writable=writable, problem=problem,
                               what=what, x=x, v=v, project=project)

    async def _solve(self, method: str, params: Dict[str, Any], progress: Optional[AsyncProgressFn],
                     timeout: Optional[float], progress_bar: Optional[bool],
                     writable: Optional[bool]) -> SolveResult:
        if params.get("return") and not self._vars.known(params["problem"]):
            await self.problem_info(params["problem"])  # once: to key results by name
        flag = self.progress_bar if progress_bar is None else progress_bar
        bar = _progress.for_call(flag, self.progress_stream, method, params.get("options"))
        try:
            r = await self._request(method, params, timeout, _progress.chain(progress, bar), writable)  # type: ignore[arg-type]
        finally:
            if bar is not None:
                bar.close()
        return solve_result(r, self._vars.names(params["problem"]))

    async def solve(self, problem: ObjRef, method: Optional[str] = None,
                    options: Optional[Mapping[str, Any]] = None, fix: Any = None, unfix: Any = None,
                    returns: Union[bool, Sequence[VarRef], None] = None,
                    progress: Optional[AsyncProgressFn] = None, timeout: Optional[float] = None,
                    progress_bar: Optional[bool] = None,
                    writable: Optional[bool] = None) -> SolveResult:
        """problem.solve (as :meth:`locad.Client.solve`); cancelling the awaiting task, or the
        timeout, cancels the solve in the daemon."""
        params = dict(problem=problem, method=method, options=options, fix=fix, unfix=unfix)
        params["return"] = returns
        return await self._solve("problem.solve", params, progress, timeout, progress_bar, writable)

    async def step(self, problem: ObjRef, h: Optional[float] = None, var: Optional[VarRef] = None,
                   inertia_term: Optional[int] = None, steps: Optional[int] = None,
                   method: Optional[str] = None, options: Optional[Mapping[str, Any]] = None,
                   fix: Any = None, unfix: Any = None, force: Any = None, velocity: Any = None,
                   damping: Optional[float] = None,
                   returns: Union[bool, Sequence[VarRef], None] = None,
                   progress: Optional[AsyncProgressFn] = None, timeout: Optional[float] = None,
                   progress_bar: Optional[bool] = None,
                   writable: Optional[bool] = None) -> SolveResult:
        """problem.step (as :meth:`locad.Client.step`); cancelling the awaiting task cancels the
        steps in the daemon."""
        params = dict(problem=problem, h=h, var=var, inertia_term=inertia_term, steps=steps,
                      method=method, options=options, fix=fix, unfix=unfix, force=force,
                      velocity=velocity, damping=damping)
        params["return"] = returns
        return await self._solve("problem.step", params, progress, timeout, progress_bar, writable)

    async def cancel(self, problem: ObjRef, timeout: Optional[float] = None) -> Dict[str, int]:
        """problem.cancel: stops the problem's running solve/step after its iteration."""
        return await self.call("problem.cancel", timeout, problem=problem)

    async def problem_delete(self, problem: ObjRef, timeout: Optional[float] = None) -> bool:
        """problem.delete."""
        r = await self.call("problem.delete", timeout, problem=problem)
        self._vars.forget(problem)
        return r

    async def delete(self, obj: ObjRef, timeout: Optional[float] = None) -> bool:
        """Deletes a problem or mesh by id or name (ids are unique across both kinds)."""
        try:
            return await self.problem_delete(obj, timeout)
        except NotFoundError:
            return await self.mesh_delete(obj, timeout)

    async def export(self, path: PathArg, obj: ObjRef, var: Optional[VarRef] = None,
                     format: Optional[str] = None,  # pylint: disable=redefined-builtin
                     timeout: Optional[float] = None) -> str:
        """Writes a mesh, or a problem's current state, to OBJ or PLY (as
        :meth:`locad.Client.export`); returns the path."""
        try:
            info = await self.problem_info(obj, timeout)
        except NotFoundError:
            m = await self.mesh_info(obj, arrays=True, timeout=timeout)
            write_mesh(path, m["V"], m["F"], format=format)
            return os.fspath(path)
        vid, dim = pick_variable(info["variables"], self._vars.names(obj), var)
        try:
            m = await self.mesh_info(info["mesh"], arrays=True, timeout=timeout)
        except NotFoundError as e:
            raise NotFoundError(e.code, f"problem {obj!r}: its mesh {info['mesh']} was deleted, "
                                        "and export needs the mesh's faces") from e
        X = None if vid is None else await self.get_variable(obj, vid, timeout=timeout)
        write_mesh(path, m["V"], m["F"], X=X if dim == 3 else None, uv=X if dim == 2 else None,
                   format=format)
        return os.fspath(path)


async def connect(address: Address = DEFAULT_ADDRESS, **kwargs: Any) -> AsyncClient:
    """``await locad.aio.connect(address, ...)``: a connected :class:`AsyncClient`."""
    return await AsyncClient.connect(address, **kwargs)
