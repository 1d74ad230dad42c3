"""locad-load: a bounded load test against a locad daemon on this machine.

    locad-load [-a ADDRESS] [-c CONNECTIONS] [-n REQUESTS] [--solve-every K] [--duration S]

Opens CONNECTIONS concurrent connections (threads, one client each) and sends REQUESTS
requests on each, mixing ``server.health``, ``problem.eval`` (energy of a small problem) and,
every K-th request, a short ``problem.solve`` on the connection's own small problem. Prints the
throughput, p50/p99 latency per kind and the error counts; exits 1 when any request failed.
Loopback TCP and Unix sockets only: other addresses are refused. The run stops after
``--duration`` seconds whatever is left.
"""

from __future__ import annotations

import argparse
import collections
import ipaddress
import os
import socket
import sys
import threading
import time
from typing import Any, List, Optional, TextIO

import numpy as np

from .client import Client, parse_address
from .errors import LocadError
from .problem import grid_mesh

MAX_CONNECTIONS, MAX_REQUESTS, MAX_DURATION = 512, 100000, 600.0


def check_loopback(address: Any) -> None:
    """Raises ValueError unless the address is a Unix socket or resolves to loopback only."""
    family, sockaddr = parse_address(address)
    if family == socket.AF_UNIX:
        return
    infos = socket.getaddrinfo(sockaddr[0], sockaddr[1], proto=socket.IPPROTO_TCP)
    for info in infos:
        if not ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback:
            raise ValueError(f"{address}: not a loopback address (load tests stay local)")


def _setup_problem(c, n):
    V, F = grid_mesh(n)
    mid = c.mesh_create(V, F)["mesh"]
    pid = c.problem_create(mid, variables=[{"name": "x", "dim": 3}])["problem"]
    c.add_term(pid, "spring", "x", params={"k": 10.0})
    c.add_term(pid, "gravity", "x")
    c.fix(pid, "x", entities=[0, n - 1])
    return mid, pid


class Stats:
    """Latencies per request kind and error counts, shared by the workers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lat = collections.defaultdict(list)
        self.errors = collections.Counter()

    def add(self, kind: str, seconds: float, error: Optional[str] = None) -> None:
        """Records one request."""
        with self.lock:
            if error is None:
                self.lat[kind].append(seconds)
            else:
                self.errors[f"{kind}: {error}"] += 1


def _worker(k, args, shared_pid, stats, deadline):
    try:
        with Client(args.address, timeout=args.timeout, token=args.token) as c:
            mid, pid = _setup_problem(c, args.grid)
            for i in range(args.requests):
                if time.monotonic() > deadline:
                    break
                if args.solve_every and i % args.solve_every == args.solve_every - 1:
                    kind, fn = "solve", lambda: c.solve(
                        pid, options={"max_iters": 5, "progress_every": 0})
                elif (i + k) % 2:
                    kind, fn = "health", c.health
                else:
                    kind, fn = "eval", lambda: c.eval(shared_pid)
                t0 = time.perf_counter()
                try:
                    fn()
                    stats.add(kind, time.perf_counter() - t0)
                except LocadError as e:
                    stats.add(kind, 0, e.code if e.code is not None else type(e).__name__)
            c.delete(pid)
            c.delete(mid)
    except (LocadError, OSError) as e:
        stats.add("connection", 0, type(e).__name__)


def _report(stats, elapsed, out):
    total = sum(len(v) for v in stats.lat.values())
    nerr = sum(stats.errors.values())
    out.write(f"{total} requests OK, {nerr} errors in {elapsed:.2f} s: "
              f"{total / elapsed:.0f} req/s\n")
    out.write(f"{'kind':8} {'count':>7} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}\n")
    everything = []
    for kind in sorted(stats.lat):
        v = np.asarray(stats.lat[kind]) * 1e3
        everything.append(v)
        out.write(f"{kind:8} {len(v):7d} {np.percentile(v, 50):9.3f} "
                  f"{np.percentile(v, 99):9.3f} {v.max():9.3f}\n")
    if everything:
        v = np.concatenate(everything)
        out.write(f"{'all':8} {len(v):7d} {np.percentile(v, 50):9.3f} "
                  f"{np.percentile(v, 99):9.3f} {v.max():9.3f}\n")
    for what, n in sorted(stats.errors.items()):
        out.write(f"error {what}: {n}\n")
    return nerr


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Runs the load test described by parsed ``args``; returns the number of errors."""
    check_loopback(args.address)
    if not (1 <= args.connections <= MAX_CONNECTIONS and 1 <= args.requests <= MAX_REQUESTS
            and 0 < args.duration <= MAX_DURATION):
        raise ValueError(f"bounds: 1..{MAX_CONNECTIONS} connections, 1..{MAX_REQUESTS} "
                         f"requests, duration up to {MAX_DURATION:g} s")
    stats = Stats()
    with Client(args.address, timeout=args.timeout, token=args.token) as c:
        mid, pid = _setup_problem(c, args.grid)
        out.write(f"locad-load: {args.connections} connections x {args.requests} requests "
                  f"against {args.address} (solve every {args.solve_every or 'never'})\n")
        deadline = time.monotonic() + args.duration
        threads = [threading.Thread(target=_worker, args=(k, args, pid, stats, deadline),
                                    daemon=True) for k in range(args.connections)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()) + 30)
        elapsed = time.perf_counter() - t0
        c.delete(pid)
        c.delete(mid)
    return _report(stats, elapsed, out)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``locad-load`` console script."""
    ap = argparse.ArgumentParser(prog="locad-load", description=__doc__.split("\n")[0])
    ap.add_argument("-a", "--address", default=os.environ.get("LOCAD_ADDRESS", "127.0.0.1:7878"))
    ap.add_argument("--token", default=os.environ.get("LOCAD_TOKEN"))
    ap.add_argument("-c", "--connections", type=int, default=16)
    ap.add_argument("-n", "--requests", type=int, default=200, help="per connection")
    ap.add_argument("--solve-every", type=int, default=20, help="0: no solves")
    ap.add_argument("--grid", type=int, default=8, help="grid size of the small problems")
    ap.add_argument("--duration", type=float, default=60.0, help="stop after this many seconds")
    ap.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    args = ap.parse_args(argv)
    try:
        return 1 if run(args) else 0
    except (ValueError, LocadError, OSError) as e:
        print(f"locad-load: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
