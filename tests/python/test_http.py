"""The daemon's HTTP endpoints (--http): /healthz, /readyz and /metrics in the Prometheus text
format, counting the MessagePack-RPC requests it answered; unknown paths and garbage on the HTTP
port do no harm."""

import re
import socket
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import locad
from conftest import Daemon, grid


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def http_daemon(tmp_path_factory):
    """A daemon with its HTTP listener."""
    port = free_port()
    d = Daemon(str(tmp_path_factory.mktemp("http")), extra=("--http", f"127.0.0.1:{port}"))
    d.http = f"http://127.0.0.1:{port}"
    deadline = time.time() + 10  # the fixture saw the RPC port; the HTTP one opens right after
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield d
    d.stop()


def get(url):
    """(status, body, content type) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode(), r.headers.get("content-type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers.get("content-type", "")


def parse_metrics(text):
    """{name{labels}: value} of the exposition; checks every sample has HELP and TYPE lines."""
    typed, samples = set(), {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
        elif line and not line.startswith("#"):
            m = re.fullmatch(r'([a-z_]+)(\{[^}]*\})? (\S+)', line)
            assert m, "bad sample line %r" % line
            base = re.sub(r"_(bucket|sum|count)$", "", m.group(1))
            assert m.group(1) in typed or base in typed, "no TYPE for %s" % m.group(1)
            samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return samples


def test_health_and_ready(http_daemon):
    assert get(http_daemon.http + "/healthz")[:2] == (200, "ok\n")
    assert get(http_daemon.http + "/readyz")[:2] == (200, "ready\n")
    status, body, _ = get(http_daemon.http + "/nope")
    assert status == 404 and "/metrics" in body


def test_metrics_count_requests(http_daemon):
    with locad.Client(http_daemon.tcp) as c:
        for _ in range(3):
            c.health()
        V, F = grid(5)
        m = c.mesh_create(V, F)["mesh"]
        p = c.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
        c.add_term(p, "spring", "x")
        r = c.solve(p, method="newton", fix={"var": "x", "entities": np.array([0], dtype=np.int32),
                                              "values": np.array([[0.0, 0.0, 0.5]])})
        with pytest.raises(locad.MethodError):
            c.call("no.such.method")
    status, text, ctype = get(http_daemon.http + "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    s = parse_metrics(text)
    assert s['locad_requests_total{method="server.health"}'] >= 3
    assert s['locad_requests_total{method="problem.solve"}'] == 1
    assert s['locad_request_errors_total{method="no.such.method"}'] == 1
    for method in ("server.health", "problem.solve"):
        assert s['locad_request_duration_seconds_bucket{method="%s",le="+Inf"}' % method] == \
            s['locad_request_duration_seconds_count{method="%s"}' % method]
    assert s['locad_objects{kind="mesh"}'] >= 1 and s['locad_objects{kind="problem"}'] >= 1
    assert s['locad_memory_bytes{device="cpu"}'] > 0
    assert s["locad_solve_iterations_total"] >= r["iters"] >= 1
    assert s["locad_connections"] >= 0 and "locad_queue_depth" in s


def test_garbage_on_the_http_port(http_daemon):
    """Bytes that are not HTTP close that connection only; the endpoints keep answering."""
    port = int(http_daemon.http.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"\x94\x00\x01\xa3abc\x80" * 100 + b"\r\n\r\n")
        try:
            s.recv(4096)
        except OSError:
            pass
    assert get(http_daemon.http + "/healthz")[0] == 200
