"""Persistence under SIGKILL (issue 13): a daemon with --state-dir is killed with SIGKILL at random
moments of mixed traffic (meshes, problems, terms, set_variable, solves with fixed handles,
deletions) and restarted, again and again. After every restart each answered change is there, with
the same ids and names, and each problem's x is the last answered one (or, when a request on that
problem was still unanswered at the kill, possibly that request's). LOCAD_KILLS sets the number of
kills (default 12; bench: 100)."""

import os
import random
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import locad
from conftest import grid, locad_bin


class Model:
    """What the answered requests built: meshes and problems by name, and each problem's x."""

    def __init__(self):
        self.meshes, self.problems, self.x, self.inflight = {}, {}, {}, set()
        self.failure = None  # an unexpected exception in the traffic thread
        self.answered = 0    # changes answered over the whole run


def start(exe, state, port):
    proc = subprocess.Popen([exe, "--listen", f"127.0.0.1:{port}", "--state-dir", state, "--log-level", "warn"],
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            c = locad.Client(f"127.0.0.1:{port}", timeout=20)
            c.health()
            return proc, c
        except (OSError, locad.LocadError):
            time.sleep(0.02)
    proc.kill()
    pytest.fail("the daemon did not come back")


def traffic(c, model, rng, k, stop):
    """Mixed requests until the connection dies; model records only answered changes."""
    V, F = grid(8)
    noise = np.random.default_rng(k)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            op = rng.random()
            names = sorted(model.problems)
            if op < 0.15 or not model.meshes:
                name = f"m{k}_{n}"
                model.meshes[name] = c.mesh_create(V, F, name=name)["mesh"]
                model.answered += 1
            elif op < 0.35 or not names:
                name = f"p{k}_{n}"
                mesh = rng.choice(sorted(model.meshes))
                pid = c.problem_create(mesh, name=name, variables=[{"name": "x", "dim": 3}])["problem"]
                c.add_term(pid, "spring", "x", params={"k": 10.0})
                model.problems[name] = pid
                model.x[name] = V.copy()
                model.answered += 1
            elif op < 0.55:
                name = rng.choice(names)
                vals = V + noise.uniform(-0.05, 0.05, V.shape)
                model.inflight.add(name)
                c.set_variable(model.problems[name], "x", vals)
                model.inflight.discard(name)
                model.x[name] = vals
                model.answered += 1
            elif op < 0.92:
                name = rng.choice(names)
                h = np.array([[0.0, 0.0, rng.uniform(0, 0.5)]])
                model.inflight.add(name)
                r = c.solve(model.problems[name], method="newton", options={"max_iters": 3, "progress_every": 0},
                            fix={"var": "x", "entities": np.array([0], dtype=np.int32), "values": h}, returns=["x"])
                model.inflight.discard(name)
                model.x[name] = np.asarray(r["variables"][0])
                model.answered += 1
            else:
                name = rng.choice(names)
                model.inflight.add(name)
                c.delete(model.problems[name])
                model.inflight.discard(name)
                del model.problems[name]
                del model.x[name]
                model.answered += 1
    except (OSError, locad.LocadError):
        pass  # the daemon was killed
    except Exception as e:  # pylint: disable=broad-except
        model.failure = e


def check(c, model):
    """The restarted daemon holds every answered change."""
    meshes = {m["name"]: m["mesh"] for m in c.mesh_list()}
    problems = {p["name"]: p["problem"] for p in c.problem_list()}
    for name, mid in model.meshes.items():
        assert meshes.get(name) == mid, "mesh %s lost" % name
    for name, pid in model.problems.items():
        if name in model.inflight and name not in problems:
            continue  # its deletion was in flight and got committed
        assert problems.get(name) == pid, "problem %s lost" % name
        x = c.get_variable(pid, "x")
        if name not in model.inflight:
            assert np.array_equal(x, model.x[name]), "problem %s: x is not the last answered one" % name


def test_sigkill_loop(tmp_path):
    exe = locad_bin()
    if exe is None:
        pytest.skip("locad binary not found")
    kills = int(os.environ.get("LOCAD_KILLS", "12"))
    rng = random.Random(7)
    state = str(tmp_path / "state")
    os.makedirs(state)
    with socket_port() as port:
        pass
    model = Model()
    proc, c = start(exe, state, port)
    for k in range(kills):
        stop = threading.Event()
        th = threading.Thread(target=traffic, args=(c, model, rng, k, stop))
        th.start()
        time.sleep(rng.uniform(0.02, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        th.join(20)
        assert model.failure is None, repr(model.failure)
        c.close()
        proc, c = start(exe, state, port)
        check(c, model)
        # the in-flight request was answered or not: re-read what the daemon holds for it
        for name in list(model.inflight):
            pid = model.problems.get(name)
            live = {p["name"] for p in c.problem_list()}
            if name not in live:
                model.problems.pop(name, None)
                model.x.pop(name, None)
            elif pid is not None:
                model.x[name] = c.get_variable(pid, "x")
        model.inflight.clear()
    c.close()
    proc.terminate()
    assert proc.wait(20) == 0
    print("%d SIGKILLs, %d answered changes, none lost" % (kills, model.answered))
    assert model.answered >= 2 * kills  # the kills fell on real traffic


class socket_port:
    """A free loopback port (context manager for symmetry with the daemon's lifetime)."""

    def __enter__(self):
        import socket  # pylint: disable=import-outside-toplevel
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc):
        return False
