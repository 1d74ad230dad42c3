"""The asyncio client (locad.aio.AsyncClient) against the real daemon over TCP and Unix sockets:
the same methods as locad.Client as coroutines, pipelined requests, progress callbacks (plain
and coroutine; False cancels), cancelling the awaiting task or a timeout cancels the solve in the
daemon, errors with their codes, connection loss."""

import asyncio
import inspect
import socket
import time

import numpy as np
import pytest

import locad
import locad.aio
from locad.aio import AsyncClient
from conftest import grid

SLOW = {"max_iters": 10 ** 7, "gtol": 0.0, "time_budget": 30.0}


def run(coro):
    """Runs a coroutine to completion in a new event loop (with a 60 s guard)."""
    return asyncio.run(asyncio.wait_for(coro, 60))


async def slow_problem(c, n=30):
    """A problem whose gd solve runs until cancelled (or its 30 s budget); returns (problem, mesh)."""
    V, F = grid(n)
    m = (await c.mesh_create(V, F))["mesh"]
    p = (await c.problem_create(m, variables=[{"name": "x", "dim": 3}]))["problem"]
    await c.add_term(p, "spring", "x")
    await c.add_term(p, "gravity", "x")
    await c.fix(p, "x", entities=[0])
    return p, m


def test_same_methods_as_the_blocking_client():
    """Every public method of locad.Client is a coroutine function of AsyncClient with the same
    parameters (Client.call_async / solve_async are the blocking client's futures: tasks here)."""
    skip = {"call_async", "solve_async"}
    names = [n for n, f in inspect.getmembers(locad.Client, inspect.isfunction)
             if not n.startswith("_") and n not in skip]
    assert {"solve", "step", "get_term", "set_term", "list", "export", "get_variables"} <= set(names)
    for n in names:
        af = getattr(AsyncClient, n, None)
        assert af is not None, f"AsyncClient lacks {n}"
        assert inspect.iscoroutinefunction(af), f"AsyncClient.{n} is not a coroutine function"
        want = list(inspect.signature(getattr(locad.Client, n)).parameters)
        assert list(inspect.signature(af).parameters) == want, n


def test_addresses(daemon):
    async def main():
        host, port = daemon.tcp.split(":")
        for addr in (daemon.tcp, (host, int(port)), "unix:" + daemon.unix, daemon.unix):
            async with AsyncClient(addr, timeout=10) as c:
                assert (await c.health())["ok"] is True
        c = await locad.aio.connect(daemon.tcp)
        assert (await c.info())["protocol"] == 1
        await c.close()
        with pytest.raises(locad.ConnectionClosed, match="closed"):
            await c.health()
    run(main())


def test_workflow(daemon, tmp_path):
    async def main():
        async with AsyncClient("unix:" + daemon.unix, timeout=30) as c:
            V, F = grid(6)
            m = (await c.mesh_create(V, F, name="aio-sheet"))["mesh"]
            p = (await c.problem_create("aio-sheet", name="aio-prob",
                                        variables=[{"name": "x", "dim": 3}]))["problem"]
            await c.add_variable(p, "uv", 2, init=V[:, :2])
            t = (await c.add_term(p, "target", "x", elements=[[0], [35]]))["term"]
            await c.add_term(p, "spring", "x")
            assert await c.set_term(p, t, consts=[[-0.5, 0, 0], [1, 1, 0.0]], weight=100.0)
            np.testing.assert_array_equal((await c.get_term(p, t))["consts"][0], [-0.5, 0, 0])
            assert await c.fix("aio-prob", "x", entities=[5]) == 3
            r = await c.solve(p, returns=["x"], options={"max_iters": 50})
            assert isinstance(r, locad.SolveResult) and r.success, r.message
            assert list(r.variables) == ["x"] and not r.variables["x"].flags.writeable
            assert -0.5 < r.variables["x"][0, 0] < -0.3  # pulled towards its target
            got = await c.get_variables(p, writable=True)
            assert list(got) == ["x", "uv"] and got["uv"].flags.writeable
            e = await c.eval(p, what=["gradient", "hessian"])
            assert e["hessian"].shape == (180, 180)
            listed = await c.list()
            assert p in [q["problem"] for q in listed["problems"]]
            assert m in [q["mesh"] for q in listed["meshes"]]
            assert await c.export(tmp_path / "x.obj", p) == str(tmp_path / "x.obj")
            assert (tmp_path / "x.obj").read_text().count("\nf ") == 50
            with pytest.raises(locad.InvalidError, match="nothing to minimise"):
                q = (await c.problem_create(m))["problem"]
                try:
                    await c.solve(q)
                finally:
                    await c.delete(q)
            assert await c.delete("aio-prob") and await c.delete(m)
            with pytest.raises(locad.NotFoundError) as err:
                await c.problem_info(p)
            assert err.value.code == 4
            assert (await c.health())["ok"]  # the connection survived the errors
    run(main())


def test_pipelined(daemon):
    """Hundreds of requests in flight on one connection, and two solves at once whose progress
    notifications reach their own callbacks."""
    async def main():
        async with AsyncClient(daemon.tcp, timeout=30) as c:
            V, F = grid(3)
            m = (await c.mesh_create(V, F))["mesh"]
            infos = await asyncio.gather(*(c.mesh_info(m) for _ in range(300)))
            assert all(i["nv"] == 9 for i in infos)
            (p1, m1), (p2, m2) = await slow_problem(c, 8), await slow_problem(c, 9)
            seen = {p1: [], p2: []}
            r1, r2 = await asyncio.gather(
                c.solve(p1, method="gd", options={"max_iters": 40, "gtol": 0.0},
                        progress=lambda i: seen[p1].append(i["problem"])),
                c.solve(p2, method="gd", options={"max_iters": 30, "gtol": 0.0},
                        progress=lambda i: seen[p2].append(i["problem"])))
            assert (r1.iters, r2.iters) == (40, 30)
            assert seen[p1] == [p1] * 40 and seen[p2] == [p2] * 30
            for obj in (p1, p2, m1, m2, m):
                await c.delete(obj)
    run(main())


def test_progress_callbacks_cancel(daemon):
    """A plain or a coroutine progress callback returning False cancels the solve."""
    async def main():
        async with AsyncClient(daemon.unix, timeout=30) as c:
            p, m = await slow_problem(c)
            r = await c.solve(p, method="gd", options=SLOW, progress=lambda i: i["iter"] < 5)
            assert r.reason == "cancelled" and any("cancelled" in w for w in r.warnings)
            calls = []

            async def stop_later(info):
                calls.append(info["iter"])
                await asyncio.sleep(0)
                return info["iter"] < 5

            r = await c.solve(p, method="gd", options=SLOW, progress=stop_later)
            assert r.reason == "cancelled" and calls[:5] == [1, 2, 3, 4, 5]
            await c.delete(p)
            await c.delete(m)
    run(main())


def test_task_cancel_cancels_the_solve(daemon):
    """task.cancel() on the task awaiting solve sends problem.cancel: the daemon stops at once."""
    async def main():
        async with AsyncClient(daemon.unix, timeout=30) as c, \
                AsyncClient(daemon.tcp, timeout=30) as watcher:
            p, m = await slow_problem(c)
            started = asyncio.Event()
            before = (await watcher.stats())["cancelled"]
            task = asyncio.ensure_future(
                c.solve(p, method="gd", options=SLOW, progress=lambda i: started.set()))
            await asyncio.wait_for(started.wait(), 10)
            t0 = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            while (await watcher.stats())["in_flight"] > 0:  # the daemon stops the solve
                assert time.monotonic() - t0 < 5, "the solve kept running after the task was cancelled"
                await asyncio.sleep(0.02)
            assert (await watcher.stats())["cancelled"] == before + 1
            r = await c.solve(p, method="gd", options={"max_iters": 2})  # the connection is fine
            assert r.iters == 2
            # a timeout cancels too, raising locad.TimeoutError (also the builtin)
            t0 = time.monotonic()
            with pytest.raises(TimeoutError) as e:
                await c.solve(p, method="gd", options=SLOW, timeout=0.3)
            assert isinstance(e.value, locad.TimeoutError) and time.monotonic() - t0 < 2
            while (await watcher.stats())["in_flight"] > 0:
                assert time.monotonic() - t0 < 5, "the solve kept running after the timeout"
                await asyncio.sleep(0.02)
            await c.delete(p)
            await c.delete(m)
    run(main())


def test_connection_errors(daemon, tmp_path):
    async def main():
        with pytest.raises(OSError):
            await locad.aio.connect("unix:" + str(tmp_path / "missing.sock"))
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)  # accepts but never answers
        try:
            async with AsyncClient(srv.getsockname(), timeout=0.2) as c:
                with pytest.raises(locad.TimeoutError, match="server.health"):
                    await c.health()
                conn, _ = srv.accept()
                conn.close()  # the "daemon" goes away under a waiting request
                with pytest.raises(locad.ConnectionClosed):
                    await c.call("server.health", timeout=5)
        finally:
            srv.close()
        async with AsyncClient(daemon.unix, writable=True) as c:  # writable for the client
            V, F = grid(3)
            m = (await c.mesh_create(V, F))["mesh"]
            info = await c.mesh_info(m, arrays=True)
            assert info["V"].flags.writeable and not (await c.mesh_info(m, arrays=True, writable=False))["V"].flags.writeable
            await c.delete(m)
    run(main())
