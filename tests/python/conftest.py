"""Pytest fixtures for the Python client tests: a real locad daemon on a free TCP port and a
Unix socket in a temporary directory (binary from $LOCAD_BIN or ../build/server/locad)."""

import os
import re
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "clients", "python"))

import locad  # noqa: E402  pylint: disable=wrong-import-position
from locad.problem import grid_mesh  # noqa: E402  pylint: disable=wrong-import-position


def locad_bin():
    """Path of the daemon binary, or None."""
    cands = [os.environ.get("LOCAD_BIN"), os.path.join(REPO, "build", "server", "locad")]
    for c in cands:
        if c and os.access(c, os.X_OK):
            return c
    return None


class Daemon:
    """A locad process with its TCP address, Unix socket path and log file."""

    def __init__(self, tmpdir, extra=()):
        exe = locad_bin()
        if exe is None:
            pytest.skip("locad binary not found (set LOCAD_BIN)")
        self.unix = os.path.join(tmpdir, "locad.sock")
        self.logpath = os.path.join(tmpdir, "locad.log")
        self._log = open(self.logpath, "wb")
        self.proc = subprocess.Popen(
            [exe, "--listen", "127.0.0.1:0", "--unix", self.unix, "--workers", "2",
             "--log-level", "warn" if not extra else "info", *extra],
            stdout=self._log, stderr=subprocess.STDOUT)
        self.tcp = None
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.time() + 10
        # The port is only in the info-level log line; ask the kernel via the log or /proc.
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("locad exited: " + self.log())
            port = self._port()
            if port and os.path.exists(self.unix):
                self.tcp = f"127.0.0.1:{port}"
                return
            time.sleep(0.02)
        raise RuntimeError("locad did not start: " + self.log())

    def _port(self):
        m = re.search(r"listening on tcp 127\.0\.0\.1:(\d+)", self.log())
        if m:
            return int(m.group(1))
        return _listening_port(self.proc.pid)

    def log(self):
        """The daemon's log so far."""
        with open(self.logpath, "r", errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM, then wait (kill after 10 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def _listening_port(pid):
    """TCP port a process listens on (Linux /proc), or None."""
    try:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:  # LISTEN
                    return int(cols[1].split(":")[1], 16)
    except OSError:
        pass
    return None


@pytest.fixture(scope="session")
def daemon(tmp_path_factory):
    """One daemon for the whole session."""
    d = Daemon(str(tmp_path_factory.mktemp("locad")))
    yield d
    d.stop()


@pytest.fixture
def client(daemon):
    """A client over the Unix socket, closed after the test."""
    with locad.Client("unix:" + daemon.unix, timeout=30) as c:
        yield c


def grid(n, size=1.0):
    """An n×n vertex grid in the z = 0 plane (the client package's grid_mesh)."""
    return grid_mesh(n, size)


def mesh_dir():
    """The shared test meshes, or None."""
    d = os.environ.get("LOCAD_MESHES") or os.path.join(REPO, "..", "shared", "meshes")
    return d if os.path.isdir(d) else None
