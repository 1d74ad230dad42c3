"""Thin, thread-safe MessagePack-RPC client for the locad daemon (protocol/SPEC.md).

One socket per :class:`Client`. Requests are pipelined: any thread may call; sends are
serialised by one lock, and a reader thread matches responses to requests by msgid and runs
``problem.progress`` notifications through the callback of the request they belong to.
Arrays go in and come out as numpy arrays (see :mod:`locad.arrays`); errors answered by the
daemon raise :class:`locad.LocadError` subclasses carrying the numeric code.
"""

import itertools
import logging
import os
import socket
import threading

import msgpack

from . import arrays
from .errors import ConnectionClosed, LocadError, TimeoutError, error_from_wire

log = logging.getLogger("locad")

DEFAULT_ADDRESS = "127.0.0.1:7878"
_RECV_CHUNK = 1 << 20


def parse_address(address):
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


CONVERGED = ("gradient", "decrement", "ftol")


class SolveResult(dict):
    """The result of ``solve`` / ``step``: the daemon's map, also readable as attributes
    (``r.energy``, ``r.iters``), with

    * ``success``: the solve met a tolerance (reason gradient, decrement or ftol) and the energy
      is finite;
    * ``message``: one sentence on how it ended;
    * ``warnings``: what to know about a solve that did not fail (from the daemon: budget ran
      out, cancelled, energy unbounded below, Gauss-Newton without residual terms).
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def warnings(self):
        return list(self.get("warnings", []))

    @property
    def success(self):
        energy = self.get("energy")
        return self.get("reason") in CONVERGED and energy is not None and energy == energy and abs(energy) != float("inf")

    @property
    def message(self):
        reason, iters = self.get("reason"), self.get("iters")
        text = {"gradient": "converged: the gradient is below gtol",
                "decrement": "converged: the Newton decrement is below dtol",
                "ftol": "converged: the energy changes less than ftol",
                "max_iters": "stopped: max_iters reached before a tolerance",
                "time": "stopped: the time budget ran out",
                "cancelled": "cancelled",
                "line_search": "stopped: no step decreased the energy (at a minimum, to rounding?)",
                "infeasible": "failed: the start point has an infinite or NaN energy",
                "none": "no iteration ran"}.get(reason, str(reason))
        return f"{text} after {iters} iterations"


class Call:
    """Handle of one request in flight: ``result()`` waits, ``cancel()`` stops a solve/step."""

    def __init__(self, client, msgid, method, problem, progress):
        self._client = client
        self.msgid = msgid
        self.method = method
        self.problem = problem
        self.progress = progress
        self._done = threading.Event()
        self._result = None
        self._error = None

    def _finish(self, result=None, error=None):
        self._result, self._error = result, error
        self._done.set()

    def done(self):
        """True once the response (or an error) has arrived."""
        return self._done.is_set()

    def result(self, timeout=None, cancel_on_timeout=True):
        """Waits for the result (decoded) and returns it, or raises the error.

        On timeout raises :class:`locad.TimeoutError`; a solve/step still running is then
        cancelled in the daemon unless ``cancel_on_timeout`` is False.
        """
        if not self._done.wait(timeout):
            self._client._forget(self.msgid)
            if cancel_on_timeout and self.problem is not None and \
                    self.method in ("problem.solve", "problem.step"):
                try:
                    self._client.cancel(self.problem, timeout=5)
                except LocadError:
                    pass
            raise TimeoutError(f"{self.method}: no response within {timeout:g} s")
        if self._error is not None:
            raise self._error
        return self._result

    def cancel(self, timeout=None):
        """Asks the daemon to stop this request's solve/step after its current iteration."""
        if self.problem is None:
            raise ValueError("only requests on a problem can be cancelled")
        return self._client.cancel(self.problem, timeout=timeout)


class Client:
    """Connection to a locad daemon.

    ``address``: "host:port", ("host", port), "unix:/path" or a socket path. ``timeout`` is the
    default per-call timeout in seconds (None: wait forever) and also bounds the connect.
    ``token`` authenticates (method ``auth``) when the daemon requires it.
    """

    def __init__(self, address=DEFAULT_ADDRESS, timeout=None, token=None,
                 connect_timeout=10.0):
        self.address = address
        self.timeout = timeout
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
        self._pending = {}
        self._pending_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._names = {}  # problem name -> id, to route progress notifications
        self._closed = False
        self._packer = msgpack.Packer(use_bin_type=True, autoreset=True)
        self._reader = threading.Thread(target=self._read_loop, name="locad-reader", daemon=True)
        self._reader.start()
        if token is not None:
            self.call("auth", token=token)

    # -- connection -------------------------------------------------------------------------

    def close(self):
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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_loop(self):
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

    def _dispatch(self, msg):
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
                    call._finish(result=arrays.decode_result(msg[3]))
                except Exception as e:  # pylint: disable=broad-except
                    call._finish(error=e)
        elif msg[0] == 2 and len(msg) == 3 and msg[1] == "problem.progress":
            self._on_progress(msg[2])

    def _on_progress(self, info):
        pid = info.get("problem") if isinstance(info, dict) else None
        with self._pending_lock:
            cands = [c for c in self._pending.values() if c.progress is not None]
        match = [c for c in cands if c.problem == pid or self._names.get(c.problem) == pid]
        if not match and len(cands) == 1:
            match = cands
        for call in match[:1]:
            try:
                if call.progress(info) is False:
                    threading.Thread(target=self._cancel_quietly, args=(call.problem,),
                                     daemon=True).start()
            except Exception:  # pylint: disable=broad-except
                log.exception("locad progress callback")

    def _cancel_quietly(self, problem):
        try:
            self.cancel(problem, timeout=5)
        except LocadError:
            pass

    def _forget(self, msgid):
        with self._pending_lock:
            self._pending.pop(msgid, None)

    # -- generic calls ----------------------------------------------------------------------

    def call_async(self, method, params=None, progress=None):
        """Sends a request and returns its :class:`Call` handle without waiting.

        ``params``: dict (None values dropped, numpy arrays encoded). ``progress``: a callable
        receiving each ``problem.progress`` dict; returning False cancels the solve.
        """
        if self._closed:
            raise ConnectionClosed(f"{method}: the client is closed")
        params = arrays.encode_params(params or {})
        problem = params.get("problem")
        with self._send_lock:
            msgid = next(self._ids) & 0xFFFFFFFF
            call = Call(self, msgid, method, problem, progress)
            with self._pending_lock:
                self._pending[msgid] = call
            try:
                self._sock.sendall(self._packer.pack([0, msgid, method, params]))
            except OSError as e:
                self._forget(msgid)
                raise ConnectionClosed(f"{method}: send failed: {e}") from e
        return call

    def call(self, method, timeout=None, progress=None, **params):
        """Sends ``method`` with keyword ``params`` and returns the decoded result."""
        c = self.call_async(method, params, progress)
        return c.result(self.timeout if timeout is None else timeout)

    # -- server -----------------------------------------------------------------------------

    def info(self, timeout=None):
        """server.info: version, default ``device``, ``devices``, limits, methods, energies."""
        return self.call("server.info", timeout)

    def devices(self, timeout=None):
        """The daemon's devices (server.info ``devices``): list of {id, name, memory,
        compute_capability, cores} dicts, the CPU first."""
        return self.info(timeout)["devices"]

    def stats(self, timeout=None):
        """server.stats: object counts and request counters."""
        return self.call("server.stats", timeout)

    def health(self, timeout=None):
        """server.health: ``{"ok": True, ...}`` while the daemon serves."""
        return self.call("server.health", timeout)

    # -- meshes -----------------------------------------------------------------------------

    def mesh_create(self, V, F, name=None, timeout=None):
        """mesh.create from vertex (nv×3 float) and face (nf×3 int) arrays."""
        return self.call("mesh.create", timeout, V=V, F=F, name=name)

    def mesh_load_obj(self, data, name=None, timeout=None):
        """mesh.load_obj from OBJ text (str) or bytes."""
        return self.call("mesh.load_obj", timeout, data=data, name=name)

    def mesh_load_file(self, path, name=None, timeout=None):
        """Reads a local OBJ file and sends it with mesh.load_obj."""
        with open(path, "rb") as f:
            return self.mesh_load_obj(f.read(), name=name, timeout=timeout)

    def mesh_list(self, timeout=None):
        """mesh.list: every live mesh as {mesh, name, nv, nf}, in creation order."""
        return self.call("mesh.list", timeout)["meshes"]

    def problem_list(self, timeout=None):
        """problem.list: every live problem as {problem, name, mesh, device}, in creation order."""
        return self.call("problem.list", timeout)["problems"]

    def mesh_info(self, mesh, arrays=False, timeout=None):  # pylint: disable=redefined-outer-name
        """mesh.info (with V and F as numpy arrays when ``arrays``)."""
        return self.call("mesh.info", timeout, mesh=mesh, arrays=arrays or None)

    def mesh_delete(self, mesh, timeout=None):
        """mesh.delete."""
        return self.call("mesh.delete", timeout, mesh=mesh)

    # -- problems ---------------------------------------------------------------------------

    def problem_create(self, mesh, variables=None, name=None, device=None, timeout=None):
        """problem.create; ``variables``: list of {name, dim, loc?, init?} dicts; ``device``:
        "cpu", "cuda:N" or "auto" (default: the daemon's device). The result's ``device`` says
        where the problem lives."""
        r = self.call("problem.create", timeout, mesh=mesh, variables=variables, name=name,
                      device=device)
        if name:
            self._names[name] = r["problem"]
        return r

    def add_variable(self, problem, name, dim, loc=None, init=None, timeout=None):
        """problem.add_variable."""
        return self.call("problem.add_variable", timeout, problem=problem, name=name, dim=dim,
                         loc=loc, init=init)

    def add_term(self, problem, energy, var, weight=None, elements=None, params=None,
                 consts=None, project=None, timeout=None):
        """problem.add_term; returns {term, n_elems, n_colors}."""
        return self.call("problem.add_term", timeout, problem=problem, energy=energy, var=var,
                         weight=weight, elements=elements, params=params, consts=consts,
                         project=project)

    def set_term(self, problem, term, weight=None, consts=None, timeout=None):
        """problem.set_term: a new weight and/or per-element constants (n_elems×n_const)."""
        return self.call("problem.set_term", timeout, problem=problem, term=term, weight=weight,
                         consts=consts)

    def remove_term(self, problem, term, timeout=None):
        """problem.remove_term."""
        return self.call("problem.remove_term", timeout, problem=problem, term=term)

    def set_variable(self, problem, var, values, timeout=None):
        """problem.set_variable."""
        return self.call("problem.set_variable", timeout, problem=problem, var=var,
                         values=values)

    def get_variable(self, problem, var, timeout=None):
        """problem.get_variable; returns the values as an (n, dim) array."""
        return self.call("problem.get_variable", timeout, problem=problem, var=var)["values"]

    def fix(self, problem, var, entities=None, values=None, timeout=None):
        """problem.fix; returns the number of fixed entities."""
        return self.call("problem.fix", timeout, problem=problem, var=var, entities=entities,
                         values=values)["n_fixed"]

    def unfix(self, problem, var, entities=None, timeout=None):
        """problem.unfix; returns the number of fixed entities left."""
        return self.call("problem.unfix", timeout, problem=problem, var=var,
                         entities=entities)["n_fixed"]

    def set_contact(self, problem, var=None, dhat=None, kappa=None, dmin=None, margin=None,
                    max_rounds=None, planes=None, adaptive_mass=None, friction=None,
                    friction_eps=None, friction_iters=None, pattern_reserve=None, enabled=None,
                    timeout=None):
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

    def problem_info(self, problem, timeout=None):
        """problem.info."""
        return self.call("problem.info", timeout, problem=problem)

    def eval(self, problem, what="energy", x=None, v=None, project=None, timeout=None):
        """problem.eval; gradient/hvp/residual as arrays, hessian/jacobian as CSR matrices."""
        return self.call("problem.eval", timeout, problem=problem, what=what, x=x, v=v,
                         project=project)

    def solve_async(self, problem, method=None, options=None, fix=None, unfix=None,
                    returns=None, progress=None):
        """problem.solve without waiting: returns a :class:`Call` (``.result()``, ``.cancel()``)."""
        params = dict(problem=problem, method=method, options=options, fix=fix, unfix=unfix)
        params["return"] = returns
        return self.call_async("problem.solve", params, progress)

    @staticmethod
    def _solve_result(r):
        """A solve/step result as a SolveResult (attribute access, success, message, warnings)."""
        return SolveResult(r) if isinstance(r, dict) else r

    def solve(self, problem, method=None, options=None, fix=None, unfix=None, returns=None,
              progress=None, timeout=None):
        """problem.solve. ``returns``: variables to return (list, or True for all);
        ``progress``: callable per notification (return False to cancel). On timeout the
        solve is cancelled and :class:`locad.TimeoutError` raised."""
        c = self.solve_async(problem, method, options, fix, unfix, returns, progress)
        return self._solve_result(c.result(self.timeout if timeout is None else timeout))

    def step(self, problem, h=None, var=None, inertia_term=None, steps=None, method=None,
             options=None, fix=None, unfix=None, force=None, velocity=None, damping=None,
             returns=None, progress=None, timeout=None):
        """problem.step (implicit Euler); arguments as in SPEC.md.

        Pass ``h``/``var``/``inertia_term`` only on the first call: the daemon re-creates the
        stepper (zero velocity) whenever ``var`` or ``inertia_term`` is present. ``force=locad.NIL``
        clears the external force."""
        params = dict(problem=problem, h=h, var=var, inertia_term=inertia_term, steps=steps,
                      method=method, options=options, fix=fix, unfix=unfix, force=force,
                      velocity=velocity, damping=damping)
        params["return"] = returns
        c = self.call_async("problem.step", params, progress)
        return self._solve_result(c.result(self.timeout if timeout is None else timeout))

    def cancel(self, problem, timeout=None):
        """problem.cancel: stops the problem's running solve/step after its iteration."""
        return self.call("problem.cancel", timeout, problem=problem)

    def problem_delete(self, problem, timeout=None):
        """problem.delete."""
        return self.call("problem.delete", timeout, problem=problem)

    def delete(self, obj, timeout=None):
        """Deletes a problem or mesh by id or name (ids are unique across both kinds)."""
        from .errors import NotFoundError  # pylint: disable=import-outside-toplevel
        try:
            return self.problem_delete(obj, timeout)
        except NotFoundError:
            return self.mesh_delete(obj, timeout)
