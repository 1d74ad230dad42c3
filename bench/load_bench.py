#!/usr/bin/python3
"""load_bench.py - the daemon's thread settings under load and at rest, side by side in one run.

    /usr/bin/python3 bench/load_bench.py [--bin build/server/locad] [--clients 20] [--seconds 15]
                                          [--grid 40] [--configs shared,before]

For each configuration it starts a daemon (TCP on a free loopback port, default --workers 2) and
measures, printing one JSON line per figure:
  load     --clients clients, each in its own thread, loop create problem / add terms / Newton solve
           (8 iterations of a --grid x --grid cloth: springs, bending, gravity, two corners fixed) /
           delete for --seconds: solves per second over all clients, and the p50 / p90 of one cycle
  frames   one client sends a request every 16 ms for 4 s (one Newton iteration of the same cloth,
           an interactive editor's frame): the daemon's CPU use in percent of one core, and the
           frame's p50 in ms
  idle     the daemon's CPU use over 3 s with no request (percent of one core), 1 s after the load
The configurations:
  shared   the defaults: the running requests share the cores (--threads), OpenMP threads sleep
           5 ms after a parallel region
  before   what the daemon did before the thread budget: every request takes every core
           (--thread-share off), OpenMP threads spin 200 ms (KMP_BLOCKTIME=200, libomp's default)
           and OpenBLAS runs its own thread per core (OPENBLAS_NUM_THREADS = the cores)
  passive  shared, with OMP_WAIT_POLICY=passive (threads sleep at once)
CPU use comes from /proc/PID/stat (utime + stime).  Each line has "system":"locad-daemon", the
machine's CPU and the parameters used.
"""
import argparse
import json
import os
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import locad  # noqa: E402
from locad.problem import grid_mesh  # noqa: E402
from daemon_bench import cpu_name, start_daemon  # noqa: E402

CONFIGS = {
    "shared": ([], {}),
    "before": (["--thread-share", "off"], {"KMP_BLOCKTIME": "200", "OPENBLAS_NUM_THREADS": str(os.cpu_count())}),
    "passive": ([], {"OMP_WAIT_POLICY": "passive"}),
}


def emit(what, config, **fields):
    """Prints one JSON record."""
    rec = {"system": "locad-daemon", "what": what, "config": config, "device": cpu_name(),
           "cores": os.cpu_count()}
    rec.update(fields)
    print(json.dumps(rec), flush=True)


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(binary, tmp, flags, env, workers):
    """Starts a daemon with flags, workers and extra environment; returns (process, port)."""
    e = dict(os.environ)
    for k in ("KMP_BLOCKTIME", "OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS", "LOCAD_THREADS", "LOCAD_THREAD_SHARE"):
        e.pop(k, None)
    e.update(env)
    return start_daemon(binary, tmp, ["--workers", str(workers)] + flags, e)


def cloth(c, mesh, V, n):
    """A cloth problem on mesh: springs, bending, gravity, corners 0 and n-1 fixed."""
    p = c.problem_create(mesh, variables=[{"name": "x", "dim": 3, "init": V}])["problem"]
    c.add_term(p, "spring", "x", params={"k": 100.0})
    c.add_term(p, "bending", "x", params={"k": 0.01})
    c.add_term(p, "gravity", "x")
    c.fix(p, "x", entities=np.array([0, n - 1], dtype=np.int32))
    return p


def load(port, mesh_of, V, n, clients, seconds):
    """Clients looping create / solve / delete for seconds: (solves per second, cycle times)."""
    stop = time.perf_counter() + seconds
    cycles, lock, errors = [], threading.Lock(), []

    def run(k):
        try:
            with locad.Client(f"127.0.0.1:{port}", timeout=120) as c:
                mesh = mesh_of(c)
                while time.perf_counter() < stop:
                    t0 = time.perf_counter()
                    p = cloth(c, mesh, V, n)
                    c.solve(p, "newton", options={"max_iters": 8, "gtol": 0.0})
                    c.delete(p)
                    with lock:
                        cycles.append(time.perf_counter() - t0)
        except Exception as e:  # reported after the run
            errors.append(repr(e))

    t0 = time.perf_counter()
    ts = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return len(cycles) / (time.perf_counter() - t0), cycles


def frames(port, pid, V, F, n, seconds=4.0, period=0.016):
    """One request per period: (daemon CPU percent, frame times)."""
    with locad.Client(f"127.0.0.1:{port}", timeout=60) as c:
        mesh = c.mesh_create(V, F)["mesh"]
        p = cloth(c, mesh, V, n)
        c.solve(p, "newton", options={"max_iters": 1})
        times, c0, t0 = [], cpu_seconds(pid), time.perf_counter()
        nxt = t0
        while time.perf_counter() - t0 < seconds:
            s = time.perf_counter()
            c.solve(p, "newton", options={"max_iters": 1, "gtol": 0.0})
            times.append(time.perf_counter() - s)
            nxt += period
            time.sleep(max(0.0, nxt - time.perf_counter()))
        cpu = (cpu_seconds(pid) - c0) / (time.perf_counter() - t0)
        c.delete(p)
        c.delete(mesh)
    return 100.0 * cpu, times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "server", "locad"))
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--grid", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--configs", default="shared,before")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the configurations, interleaved")
    a = ap.parse_args()
    V, F = grid_mesh(a.grid)
    V = np.asarray(V, dtype=float)
    params = {"clients": a.clients, "seconds": a.seconds, "grid": a.grid, "workers": a.workers}
    names = a.configs.split(",")
    for name in names:
        if name not in CONFIGS:
            ap.error(f"--configs: {name} is not one of {', '.join(CONFIGS)}")
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(a.rounds):
            for name in names:
                flags, env = CONFIGS[name]
                proc, port = start(a.bin, tmp, flags, env, a.workers)
                try:
                    with locad.Client(f"127.0.0.1:{port}") as c0:
                        mesh = c0.mesh_create(V, F)["mesh"]
                        rate, cyc = load(port, lambda c: mesh, V, a.grid, a.clients, a.seconds)
                        emit("load", name, round=rnd, solves_per_s=round(rate, 2),
                             cycle_p50_ms=round(1e3 * float(np.median(cyc)), 1),
                             cycle_p90_ms=round(1e3 * float(np.percentile(cyc, 90)), 1), **params)
                        time.sleep(1.0)
                        c1 = cpu_seconds(proc.pid)
                        time.sleep(3.0)
                        emit("idle", name, round=rnd, cpu_percent=round(100.0 * (cpu_seconds(proc.pid) - c1) / 3.0, 1),
                             **params)
                        cpu, ft = frames(port, proc.pid, V, F, a.grid)
                        emit("frames", name, round=rnd, cpu_percent=round(cpu, 1),
                             frame_p50_ms=round(1e3 * float(np.median(ft)), 2), **params)
                        c0.delete(mesh)
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)


if __name__ == "__main__":
    main()
