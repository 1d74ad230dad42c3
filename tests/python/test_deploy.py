"""Deployment files checked where this machine can check them: the daemon's sd_notify protocol
(Type=notify in deploy/locad.service), `systemd-analyze verify` of the unit, and the Dockerfile's
runtime stage against the shared libraries the built daemon needs."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import REPO, locad_bin


def test_sd_notify_ready_and_stopping():
    """Under NOTIFY_SOCKET the daemon reports READY=1 once it listens and STOPPING=1 on SIGTERM,
    then exits 0."""
    exe = locad_bin()
    if exe is None:
        pytest.skip("locad binary not found")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(10)
        env = dict(os.environ, NOTIFY_SOCKET=path)
        proc = subprocess.Popen([exe, "--unix", os.path.join(tmp, "s.sock"), "--log-level", "error"], env=env)
        try:
            msg = sock.recv(4096).decode()
            if "READY=1" not in msg:
                pytest.fail("first notification: %r" % msg)
            proc.send_signal(signal.SIGTERM)
            msg = sock.recv(4096).decode()
            assert "STOPPING=1" in msg, msg
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            sock.close()


def test_unit_verifies():
    """systemd-analyze verify accepts deploy/locad.service (with ExecStart pointed at the build)."""
    exe, tool = locad_bin(), shutil.which("systemd-analyze")
    if exe is None or tool is None:
        pytest.skip("locad binary or systemd-analyze missing")
    with open(os.path.join(REPO, "deploy", "locad.service")) as f:
        unit = f.read().replace("/usr/local/bin/locad", os.path.abspath(exe))
    assert "Type=notify" in unit
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "locad.service")
        with open(path, "w") as f:
            f.write(unit)
        p = subprocess.run([tool, "verify", path], capture_output=True, text=True, check=False)
        assert p.returncode == 0 and not p.stderr.strip(), p.stdout + p.stderr


def runtime_packages(dockerfile):
    """The packages the Dockerfile's last stage installs (its RUNTIME_PACKAGES)."""
    m = re.search(r'ARG RUNTIME_PACKAGES="([^"]*)"', dockerfile)
    assert m, "the runtime stage lists its packages in ARG RUNTIME_PACKAGES"
    return set(m.group(1).split())


def test_dockerfile_mirrors_the_build():
    """The Dockerfile builds with the repository's own scripts (install-deps.sh, build.sh), and its
    runtime stage installs the Debian package of every shared library the built daemon needs."""
    with open(os.path.join(REPO, "deploy", "Dockerfile")) as f:
        df = f.read()
    assert "deploy/install-deps.sh" in df and "deploy/build.sh" in df
    assert df.count("FROM ") >= 2, "multi-stage"
    exe = locad_bin()
    if exe is None or shutil.which("dpkg") is None:
        pytest.skip("locad binary or dpkg missing")
    need = set()
    for line in subprocess.run(["ldd", exe], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.search(r"=> (/\S+)", line)
        if not m:
            continue
        real = os.path.realpath(m.group(1))
        owner = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True, check=False).stdout
        if not owner:  # /lib -> /usr/lib merge: dpkg knows one of the two names
            alt = real.replace("/usr/lib/", "/lib/", 1) if real.startswith("/usr/lib/") else "/usr" + real
            owner = subprocess.run(["dpkg", "-S", alt], capture_output=True, text=True, check=False).stdout
        if owner:
            need.add(owner.split(":")[0])
    need -= {"libc6", "libgcc-s1", "libstdc++6"}  # in every Debian base image
    have = runtime_packages(df)
    assert need <= have, "the runtime stage lacks %s" % sorted(need - have)


def test_k8s_manifests():
    """deploy/k8s parses as YAML and hangs together: one GPU, probes on the daemon's /healthz and
    /readyz through a declared port, the Service selects the Deployment's pods and targets its
    ports, the volume claims the PVC, and every daemon flag in args exists."""
    yaml = pytest.importorskip("yaml")
    docs = {}
    for name in ("deployment", "pvc", "service"):
        with open(os.path.join(REPO, "deploy", "k8s", name + ".yaml")) as f:
            for d in yaml.safe_load_all(f):
                assert d["apiVersion"] and d["metadata"]["name"], name
                docs[d["kind"]] = d
    dep, svc, pvc = docs["Deployment"], docs["Service"], docs["PersistentVolumeClaim"]
    spec = dep["spec"]["template"]["spec"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    (c,) = spec["containers"]
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz" and c["livenessProbe"]["httpGet"]["port"] in ports
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz" and c["readinessProbe"]["httpGet"]["port"] in ports
    assert f"0.0.0.0:{ports['http']}" in c["args"] and f"0.0.0.0:{ports['rpc']}" in c["args"]
    assert svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    assert all(p["targetPort"] in ports for p in svc["spec"]["ports"])
    claims = [v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [pvc["metadata"]["name"]]
    exe = locad_bin()
    if exe is not None:
        helptext = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
        for a in c["args"]:
            if a.startswith("--"):
                assert a + " " in helptext, a
