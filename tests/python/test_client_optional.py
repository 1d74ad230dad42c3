"""tqdm and meshio stay optional: in a fresh interpreter where neither can be imported, locad and
locad.aio import, a solve draws the text progress bar, OBJ export works and PLY export raises an
ImportError that names meshio, all against the real daemon."""

import os
import subprocess
import sys
import textwrap

from conftest import REPO

SCRIPT = textwrap.dedent("""
    import io, os, sys
    sys.modules["tqdm"] = None      # "import tqdm" now raises ImportError
    sys.modules["meshio"] = None
    import locad, locad.aio
    from locad.problem import grid_mesh
    assert locad.progress._tqdm is None and locad.export._meshio is None
    out, tmp = io.StringIO(), sys.argv[2]
    V, F = grid_mesh(30)
    with locad.Client(sys.argv[1], timeout=30, progress_stream=out, progress_bar=True) as c:
        m = c.mesh_create(V, F)["mesh"]
        p = c.problem_create(m, variables=[{"name": "x", "dim": 3}])["problem"]
        c.add_term(p, "spring", "x")
        c.add_term(p, "gravity", "x")
        c.fix(p, "x", entities=[0])
        r = c.solve(p, method="gd", options={"max_iters": 10 ** 7, "gtol": 0.0, "time_budget": 1.0})
        assert r.reason == "time", r.message
        assert "locad solve: iter" in out.getvalue(), repr(out.getvalue())
        c.export(os.path.join(tmp, "x.obj"), p)
        try:
            c.export(os.path.join(tmp, "x.ply"), p)
            raise SystemExit("PLY export without meshio did not fail")
        except ImportError as e:
            assert "meshio" in str(e), e
        c.delete(p)
        c.delete(m)
    print("ok")
""")


def test_without_tqdm_and_meshio(daemon, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "clients", "python"))
    p = subprocess.run([sys.executable, "-c", SCRIPT, "unix:" + daemon.unix, str(tmp_path)],
                       env=env, capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stdout + p.stderr
    assert (tmp_path / "x.obj").read_text().count("\nf ") == 2 * 29 * 29
