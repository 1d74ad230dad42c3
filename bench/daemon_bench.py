#!/usr/bin/python3
"""daemon_bench.py - benchmarks of the locad daemon and the Python client on loopback.

    /usr/bin/python3 bench/daemon_bench.py [--bin build/server/locad] [--n 20000]

Starts its own daemon (TCP on a free loopback port), then measures and prints one JSON line each:
  rtt_raw        small-request (server.health) round trip over a raw socket: p50 / p99 in us
  rtt_client     the same through locad.Client (the client's added cost is the difference)
  pipelined      requests/s from one client pipelining N server.health requests on one socket
  transfer_1m    set_variable / get_variable of a 1M-vertex float64 (1M x 3) array, ms each way
  arap_frame_10k one interactive frame on a 10k-vertex ARAP problem in one round trip (move the
                 handles + one Newton iteration + return positions): p50 / p99 in ms
  hostile_1mb    the daemon's peak RSS growth (VmHWM, reset through clear_refs, minus VmRSS before)
                 over about 1 MB of hostile requests on one connection:
                 a frame of 1M small integers, nested arrays whose first row is 100k wide over
                 empty rows, a solve "return" list of one variable 100k times, and 256-byte
                 method names (issue 13 target: <= 64 MB)
  dribble_12mb   another client's server.health latency (p50 / max ms) while a 12 MB frame of 12M
                 objects arrives, its last 200 bytes one at a time: the pre-scanner must resume,
                 not rescan the frame on every read
  bigframes_12mb the same latency while three such frames arrive at once: their decoding must run off
                 the event loop
  idle_1000      with --idle connections open and idle (default 1000), a new client connects and
                 gets server.health back: p50 / max in ms over 20 tries (issue 13 target: <= 100 ms)
Each line has "system":"locad-daemon", the machine's CPU, and the parameters used.
"""
import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

import msgpack
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import locad  # noqa: E402
from locad.problem import grid_mesh as grid  # noqa: E402


def cpu_name():
    """The CPU model, for the records."""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "cpu"


def emit(what, **fields):
    """Prints one JSON record."""
    rec = {"system": "locad-daemon", "what": what, "device": cpu_name()}
    rec.update(fields)
    print(json.dumps(rec), flush=True)


def start_daemon(binary, tmp, flags=(), env=None):
    """Starts the daemon on a free loopback port with extra flags (and env, the whole
    environment, if given); returns (process, port)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    log = open(os.path.join(tmp, "locad.log"), "a")
    proc = subprocess.Popen([binary, "--listen", f"127.0.0.1:{port}", "--log-level", "warn"] + list(flags),
                            stderr=log, env=env)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("daemon did not start")


def percentiles(samples):
    """p50 and p99 of a list."""
    a = np.sort(np.asarray(samples))
    return float(a[len(a) // 2]), float(a[min(len(a) - 1, int(0.99 * len(a)))])


def raw_rtt(port, n):
    """Round trips of server.health over a raw TCP socket, in microseconds."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    unp = msgpack.Unpacker(raw=False)
    out = []
    for i in range(n):
        msg = msgpack.packb([0, i, "server.health", {}])
        t0 = time.perf_counter()
        s.sendall(msg)
        got = None
        while got is None:
            unp.feed(s.recv(65536))
            for m in unp:
                got = m
        out.append((time.perf_counter() - t0) * 1e6)
    s.close()
    return out


def pipelined(port, n):
    """Requests/s of n pipelined server.health requests from one client."""
    s = socket.create_connection(("127.0.0.1", port))
    payload = b"".join(msgpack.packb([0, i, "server.health", {}]) for i in range(n))
    unp = msgpack.Unpacker(raw=False)
    t0 = time.perf_counter()
    s.sendall(payload)
    got = errors = 0
    while got < n:
        unp.feed(s.recv(1 << 20))
        for m in unp:
            got += 1
            errors += m[2] is not None
    dt = time.perf_counter() - t0
    s.close()
    return n / dt, errors


def client_rtt(port, n):
    """Round trips of server.health through locad.Client, in microseconds."""
    out = []
    with locad.Client(f"127.0.0.1:{port}") as c:
        for _ in range(n):
            t0 = time.perf_counter()
            c.health()
            out.append((time.perf_counter() - t0) * 1e6)
    return out


def transfer(port, nv, runs):
    """Milliseconds to send and to receive an nv x 3 float64 array."""
    V, F = grid(int(round(np.sqrt(nv))))
    with locad.Client(f"127.0.0.1:{port}", timeout=120) as c:
        m = c.mesh_create(V, F)["mesh"]
        p = c.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
        X = V + 0.01
        up, down = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            c.set_variable(p, "x", X)
            up.append((time.perf_counter() - t0) * 1e3)
            t0 = time.perf_counter()
            c.get_variable(p, "x")
            down.append((time.perf_counter() - t0) * 1e3)
        c.delete(p)
        c.delete(m)
    return V.shape[0], up, down


def arap_frames(port, n, frames):
    """Interactive ARAP frames on an n x n grid: handles move, one Newton iteration, positions back."""
    V, F = grid(n)
    handles = np.array([0, n - 1, n * (n - 1), n * n - 1], dtype=np.int32)
    times = []
    with locad.Client(f"127.0.0.1:{port}", timeout=120) as c:
        m = c.mesh_create(V, F)["mesh"]
        p = c.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
        c.add_term(p, "arap", "x")
        for f in range(frames + 3):
            t = 0.02 * (f + 1)
            H = V[handles].copy()
            H[:, 2] += t * np.array([0.0, 1.0, 1.0, 0.0])
            t0 = time.perf_counter()
            r = c.solve(p, method="newton", options={"max_iters": 1},
                        fix={"var": "x", "entities": handles, "values": H}, returns=["x"])
            if f >= 3:
                times.append((time.perf_counter() - t0) * 1e3)
            assert np.isfinite(r["energy"])
        c.delete(p)
        c.delete(m)
    return V.shape[0], times


def rss_kb(pid, key="VmRSS"):
    """A memory figure of process pid from /proc (kB)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def hostile(port, pid):
    """Sends about 1 MB of hostile requests on one connection; returns (bytes sent, the peak RSS
    growth in kB, the number of responses)."""
    frames = [msgpack.packb([0, 2, "server.info", [[1] * 400000]])]  # 400k objects, ~400 KB
    wide = [[1.0] * 20000] + [[] for _ in range(100000)]  # the old 2 * 10^9-number allocation
    frames.append(msgpack.packb([0, 3, "mesh.create", {"V": wide, "F": [[0, 1, 2]]}]))
    frames.append(msgpack.packb([0, 4, "problem.solve", {"problem": 1, "return": [0] * 100000}]))
    frames += [msgpack.packb([0, 5 + k, "m" * 256, {}]) for k in range(100)]
    data = b"".join(frames)
    with open(f"/proc/{pid}/clear_refs", "w") as f:  # resets VmHWM to the current RSS
        f.write("5")
    base = rss_kb(pid)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        unpacker = msgpack.Unpacker(raw=False)
        got = 0
        while got < len(frames):
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            unpacker.feed(chunk)
            got += sum(1 for _ in unpacker)
    return len(data), rss_kb(pid, "VmHWM") - base, got


def dribble(port, tail=200):
    """Another client's health latencies (ms) while a 12 MB frame arrives on one connection, its
    last tail bytes one at a time (tail 0: all at once, so its decoding is what others wait on)."""
    import threading  # pylint: disable=import-outside-toplevel
    frame = msgpack.packb([0, 1, "server.health", [[1] * 12_000_000]])
    lat = []

    def other():
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            u = msgpack.Unpacker(raw=False)
            for i in range(60):
                t0 = time.perf_counter()
                s.sendall(msgpack.packb([0, i, "server.health", {}]))
                while not list(u):
                    u.feed(s.recv(65536))
                lat.append((time.perf_counter() - t0) * 1e3)
                time.sleep(0.005)

    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        th = threading.Thread(target=other)
        if tail:
            s.sendall(frame[:-tail])
            time.sleep(0.3)
        th.start()
        if not tail:
            time.sleep(0.02)
            for _ in range(3):  # three big frames, back to back
                s.sendall(frame)
        for i in range(len(frame) - tail, len(frame)):
            s.sendall(frame[i:i + 1])
            time.sleep(0.002)
        th.join()
    return lat


def idle_connections(port, n_idle, tries=20):
    """Times connect + server.health of new clients while n_idle connections sit idle."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n_idle)]
    times = []
    try:
        time.sleep(0.5)
        for _ in range(tries):
            t0 = time.perf_counter()
            with locad.Client(f"127.0.0.1:{port}") as c:
                c.health()
            times.append((time.perf_counter() - t0) * 1e3)
        with locad.Client(f"127.0.0.1:{port}") as c:
            open_now = c.stats()["connections"]
    finally:
        for s in socks:
            s.close()
    return times, open_now


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "server", "locad"))
    ap.add_argument("--n", type=int, default=20000, help="pipelined requests")
    ap.add_argument("--rtt", type=int, default=5000, help="round trips measured")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--idle", type=int, default=1000, help="idle connections held open (0: skip)")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the daemon inherits it
    if soft < a.idle + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.idle + 256), hard))
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_daemon(a.bin, tmp)
        try:
            p50, p99 = percentiles(raw_rtt(port, a.rtt))
            emit("rtt_raw", p50_us=round(p50, 1), p99_us=round(p99, 1), n=a.rtt)
            c50, c99 = percentiles(client_rtt(port, a.rtt))
            emit("rtt_client", p50_us=round(c50, 1), p99_us=round(c99, 1),
                 added_p50_us=round(c50 - p50, 1), n=a.rtt)
            rate, errors = pipelined(port, a.n)
            emit("pipelined", requests_per_s=round(rate), errors=errors, n=a.n)
            nv, up, down = transfer(port, 1_000_000, 5)
            emit("transfer_1m", n_vertices=nv, send_ms=round(float(np.median(up)), 2),
                 receive_ms=round(float(np.median(down)), 2), runs=5)
            nv, times = arap_frames(port, 100, a.frames)
            f50, f99 = percentiles(times)
            emit("arap_frame_10k", n_vertices=nv, p50_ms=round(f50, 2), p99_ms=round(f99, 2),
                 frames=a.frames)
            fresh, fport = start_daemon(a.bin, tmp)  # a fresh daemon: no earlier peak to hide behind
            try:
                sent, grew_kb, answered = hostile(fport, fresh.pid)
            finally:
                fresh.terminate()
                fresh.wait(timeout=20)
            emit("hostile_1mb", bytes_sent=sent, rss_growth_mb=round(grew_kb / 1024, 1), responses=answered,
                 target_mb=64.0, meets_target=grew_kb / 1024 <= 64.0)
            lat = dribble(port)
            emit("dribble_12mb", p50_ms=round(float(np.median(lat)), 2), max_ms=round(max(lat), 2), n=len(lat))
            lat = dribble(port, 0)
            emit("bigframes_12mb", p50_ms=round(float(np.median(lat)), 2), max_ms=round(max(lat), 2), n=len(lat))
            if a.idle > 0:
                times, open_now = idle_connections(port, a.idle)
                emit("idle_1000", idle=a.idle, connections=open_now, p50_ms=round(float(np.median(times)), 2),
                     max_ms=round(max(times), 2), tries=len(times), target_ms=100.0,
                     meets_target=max(times) <= 100.0)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
