"""The Python client's typing contract: every public function and method of the locad package has
type hints on every parameter and its return (resolvable with typing.get_type_hints) and a
docstring, and the package ships the PEP 561 ``py.typed`` marker (checked in a wheel built from
a copy of clients/python)."""

import importlib
import inspect
import os
import shutil
import subprocess
import sys
import typing
import zipfile

import pytest

from conftest import REPO

MODULES = ["locad.client", "locad.aio", "locad.results", "locad.progress", "locad.export",
           "locad.arrays", "locad.errors", "locad.problem", "locad.ctl", "locad.load"]
PKG = os.path.join(REPO, "clients", "python")


def public_functions():
    """(qualified name, function) of every public function and public method defined in MODULES."""
    out = []
    for modname in MODULES:
        mod = importlib.import_module(modname)
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != modname:
                continue
            if inspect.isfunction(obj):
                out.append((f"{modname}.{name}", obj))
            elif inspect.isclass(obj):
                for mname, m in vars(obj).items():
                    if isinstance(m, (classmethod, staticmethod)):
                        m = m.__func__
                    elif isinstance(m, property):
                        m = m.fget
                    if inspect.isfunction(m) and (not mname.startswith("_") or mname == "__init__"):
                        out.append((f"{modname}.{name}.{mname}", m))
    return out


def test_public_api_is_annotated():
    funcs = public_functions()
    assert len(funcs) > 100  # the clients' methods are all there
    missing = []
    for qual, f in funcs:
        hints = typing.get_type_hints(f)  # raises when an annotation does not resolve
        for p in list(inspect.signature(f).parameters.values()):
            if p.name in ("self", "cls"):
                continue
            if p.name not in hints:
                missing.append(f"{qual}({p.name})")
        if "return" not in hints and not qual.endswith(".__init__"):
            missing.append(f"{qual} -> ?")
    assert missing == []


def test_public_api_is_documented():
    undocumented = [q for q, f in public_functions()
                    if not (f.__doc__ or "").strip() and not q.endswith(".__init__")]
    assert undocumented == []


def test_wheel_ships_py_typed(tmp_path):
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    src = tmp_path / "src"
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    out = tmp_path / "dist"
    code = ("import setuptools.build_meta as b, sys; "
            "print(b.build_wheel(sys.argv[1]))")
    p = subprocess.run([sys.executable, "-c", code, str(out)], cwd=src, capture_output=True,
                       text=True, timeout=300, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    wheel = out / p.stdout.strip().splitlines()[-1]
    names = zipfile.ZipFile(wheel).namelist()
    assert "locad/py.typed" in names and "locad/aio.py" in names and "locad/results.py" in names
