"""Every ```python block of clients/python/README.md runs against the test daemon (its address in
place of the README's 127.0.0.1:7878, the shared meshes' directory in place of
../shared/meshes): each one exits 0 (the examples assert that they converge), talks to the
daemon, and leaves no mesh or problem behind (mesh.list / problem.list)."""

import os
import re
import subprocess
import sys

import pytest

import locad
from conftest import REPO, mesh_dir

README = os.path.join(REPO, "clients", "python", "README.md")
ADDRESS = "127.0.0.1:7878"


def python_blocks():
    """The README's python code blocks, in order."""
    with open(README) as f:
        return re.findall(r"^```python\n(.*?)^```", f.read(), flags=re.S | re.M)


def test_readme_has_python_examples():
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert all(ADDRESS in b for b in blocks)  # each one is pointed at the test daemon below
    assert any("AsyncClient" in b for b in blocks)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs_and_cleans_up(daemon, index):
    code = python_blocks()[index].replace(ADDRESS, daemon.tcp)
    meshes = mesh_dir()
    if meshes is not None:
        code = code.replace("../shared/meshes", meshes)
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "clients", "python"))
    with locad.Client(daemon.unix, timeout=30) as c:
        before = c.list()
        requests_before = c.stats()["requests"]
        p = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=300, check=False)
        assert p.returncode == 0, f"README block {index} failed:\n{p.stdout}\n{p.stderr}"
        assert c.stats()["requests"] > requests_before + 5  # it worked against this daemon
        after = c.list()
    assert [e["mesh"] for e in after["meshes"]] == [e["mesh"] for e in before["meshes"]], \
        f"README block {index} left meshes behind"
    assert [e["problem"] for e in after["problems"]] == [e["problem"] for e in before["problems"]], \
        f"README block {index} left problems behind"
