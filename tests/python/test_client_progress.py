"""The progress bar on solves and steps, against the real daemon: on by default only when the
stream is a terminal (a pty here), off for pipes and files, forced on or off with
``progress_bar=``; tqdm when installed, the text display otherwise; short solves print nothing;
the user's progress callback still runs (and still cancels)."""

import io
import os
import pty
import threading
import time

import pytest

import locad
from locad import progress
from conftest import grid

LONG = {"max_iters": 10 ** 7, "gtol": 0.0, "time_budget": 1.2}  # runs past progress.DELAY


def has_tqdm():
    """True when tqdm imports."""
    return progress._tqdm is not None  # pylint: disable=protected-access


@pytest.fixture
def slow(client):
    """A problem whose gd solve runs until its time budget; deleted after."""
    V, F = grid(30)
    m = client.mesh_create(V, F)["mesh"]
    p = client.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
    client.add_term(p, "spring", "x")
    client.add_term(p, "gravity", "x")
    client.fix(p, "x", entities=[0])
    yield p
    client.delete(p)
    client.delete(m)


@pytest.fixture
def tty():
    """(writable text stream on a pty's slave end, function reading what reached the master)."""
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w", buffering=1)
    chunks = []
    stop = threading.Event()

    def pump():
        while not stop.is_set():
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    t = threading.Thread(target=pump, daemon=True)
    t.start()

    def read():  # until nothing new arrived for 0.3 s
        stream.flush()
        n = -1
        while n != len(chunks):
            n = len(chunks)
            stop.wait(0.3)
        return b"".join(chunks).decode(errors="replace")

    yield stream, read
    stop.set()
    stream.close()
    os.close(master)
    t.join(2)


def test_wanted_follows_the_stream_unless_told(tty):
    stream, _ = tty
    assert progress.wanted(None, stream) is True
    assert progress.wanted(None, io.StringIO()) is False
    assert progress.wanted(False, stream) is False and progress.wanted(True, io.StringIO()) is True
    with open(os.devnull, "w") as f:
        assert progress.wanted(None, f) is False


def test_bar_on_a_terminal_by_default(daemon, slow, tty):
    stream, read = tty
    with locad.Client(daemon.unix, timeout=30, progress_stream=stream) as c:
        r = c.solve(slow, method="gd", options=LONG)
    assert r.reason == "time"
    out = read()
    assert "locad solve" in out and out.endswith("\n")  # drawn, and ended with a newline
    assert ("it/s" in out) if has_tqdm() else ("iter" in out and "energy" in out)


def test_no_bar_when_not_a_terminal_or_turned_off(daemon, slow, tty):
    buf = io.StringIO()
    with locad.Client(daemon.unix, timeout=30, progress_stream=buf) as c:
        c.solve(slow, method="gd", options=LONG)  # auto, not a terminal
    assert buf.getvalue() == ""
    stream, read = tty
    with locad.Client(daemon.unix, timeout=30, progress_stream=stream, progress_bar=False) as c:
        c.solve(slow, method="gd", options=LONG)  # a terminal, but off for the client
        c.solve(slow, method="gd", options=LONG, progress_bar=None)  # the client's setting
    assert read() == ""


@pytest.mark.parametrize("use_tqdm", [True, False])
def test_bar_forced_on(daemon, slow, monkeypatch, use_tqdm):
    """progress_bar=True on a non-terminal stream: tqdm's bar, or the text display without
    tqdm; a short solve prints nothing."""
    if use_tqdm and not has_tqdm():
        pytest.skip("tqdm not installed")
    if not use_tqdm:
        monkeypatch.setattr(progress, "_tqdm", None)
    buf = io.StringIO()
    with locad.Client(daemon.unix, timeout=30, progress_stream=buf) as c:
        c.solve(slow, method="gd", options={"max_iters": 3}, progress_bar=True)
        assert buf.getvalue() == ""  # shorter than progress.DELAY
        seen = []
        r = c.solve(slow, method="gd", options=LONG, progress_bar=True, progress=seen.append)
    out = buf.getvalue()
    assert seen and len(seen) == r.iters  # the user's callback still gets every notification
    assert out.startswith("\rlocad solve") and out.endswith("\n")
    if use_tqdm:
        assert "%|" in out and "energy=" in out and "/10000000" in out
    else:
        assert "iter" in out and "/10000000" in out and "gnorm" in out and "%|" not in out


def test_bar_on_steps_and_cancel_through_the_callback(daemon, client):
    V, F = grid(30)
    m = client.mesh_create(V, F)["mesh"]
    p = client.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
    h = 0.01
    inertia = client.add_term(p, "inertia", "x")["term"]
    client.add_term(p, "spring", "x", weight=h * h, params={"k": 100.0})
    client.add_term(p, "gravity", "x", weight=h * h)
    buf = io.StringIO()
    t0 = time.monotonic()
    with locad.Client(daemon.unix, timeout=30, progress_stream=buf, progress_bar=True) as c:
        r = c.step(p, h=h, var="x", inertia_term=inertia, steps=10 ** 5,
                   progress=lambda i: time.monotonic() - t0 < 1.0)
    assert r.reason == "cancelled" and any("cancelled" in w for w in r.warnings)
    assert "locad step" in buf.getvalue()
    client.delete(p)
    client.delete(m)


def test_forced_tqdm_without_tqdm_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(progress, "_tqdm", None)
    with pytest.raises(ImportError, match="tqdm"):
        progress.ProgressBar(use_tqdm=True)
