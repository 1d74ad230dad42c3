"""locadctl: command-line control of a locad daemon.

    locadctl [-a ADDRESS] info | stats | health | solve PROBLEM.json [-o OUT.obj] [--device D]

ADDRESS is "host:port" or "unix:/path" (default: $LOCAD_ADDRESS or 127.0.0.1:7878); a token
comes from --token or $LOCAD_TOKEN. ``solve`` reads a problem file (see locad.problem),
prints progress, writes the result as OBJ and deletes the problem again; ``--device`` (or the
file's ``"device"``) places the problem ("cpu", "cuda:N", "auto"; default: the daemon's).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from . import problem as pf
from .client import DEFAULT_ADDRESS, Client
from .errors import LocadError


def _cmd_info(c, _args):
    info = c.info()
    print(f"locad {info['version']}  protocol {info['protocol']}  backend {info['backend']}"
          f"  device {info['device']}")
    for d in info.get("devices", []):
        cc = f", compute capability {d['compute_capability']}" if d.get("compute_capability") else ""
        print(f"device {d['id']:8} {d['name']}, {d['memory'] / 2**30:.1f} GiB, {d['cores']} cores{cc}"
              + ("  (default)" if d["id"] == info["device"] else ""))
    print(f"limits: {info['limits']}")
    print("methods: " + " ".join(info["methods"]))
    print(f"{'energy':22} {'D':>2} {'K':>2}  params")
    for e in info["energies"]:
        params = ", ".join(f"{k}={v:g}" for k, v in e["params"].items())
        print(f"{e['name']:22} {e['dim']:>2} {e['K']:>2}  {params}")
    return 0


def _cmd_stats(c, _args):
    print(json.dumps(c.stats(), indent=2, sort_keys=True))
    return 0


def _cmd_health(c, _args):
    h = c.health()
    print(json.dumps(h))
    return 0 if h.get("ok") else 1


def _print_progress(info):
    print(f"  iter {info['iter']:4d}  E = {info['energy']:.10g}  |g| = {info['gnorm']:.3e}"
          f"  step = {info['step']:.3g}", flush=True)


def _cmd_solve(c, args):
    spec, base = pf.load(args.problem)
    t0 = time.perf_counter()
    if args.device:
        spec["device"] = args.device
    pid, mid, V, F = pf.build(c, spec, base)
    t_setup = time.perf_counter() - t0
    solver = spec.get("solver", {})
    out = dict(spec.get("output", {}))
    var = out.get("var", spec["variables"][0]["name"])
    path = args.output or out.get("path") or \
        os.path.splitext(os.path.basename(args.problem))[0] + ".out.obj"
    print(f"problem {pid} on {c.problem_info(pid)['device']}: {len(V)} vertices, {len(F)} faces,"
          f" {len(spec['terms'])} terms"
          f" (setup {t_setup:.2f} s); solving with {solver.get('method', 'newton')}", flush=True)
    try:
        r = c.solve(pid, method=solver.get("method"), options=solver.get("options"),
                    returns=[var], progress=None if args.quiet else _print_progress,
                    timeout=args.timeout)
        print(f"{r['reason']} after {r['iters']} iterations: E = {r['energy']:.10g}, "
              f"|g| = {r['gnorm']:.3e}, {r['t_total']:.3f} s in the daemon")
        X = next(iter(r["variables"].values()))
        if X.shape[1] == 2:
            pf.write_obj(path, V, F, uv=X)
        else:
            pf.write_obj(path, V, F, X=X)
        print(f"wrote {path}")
        ok = np.all(np.isfinite(X)) and r["reason"] not in ("infeasible", "cancelled")
    except KeyboardInterrupt:
        c.cancel(pid, timeout=5)
        raise
    finally:
        c.delete(pid)
        c.delete(mid)
    return 0 if ok else 1


def main(argv=None):
    """Entry point of the ``locadctl`` console script."""
    ap = argparse.ArgumentParser(prog="locadctl", description=__doc__.split("\n")[0])
    ap.add_argument("-a", "--address", default=os.environ.get("LOCAD_ADDRESS", DEFAULT_ADDRESS))
    ap.add_argument("--token", default=os.environ.get("LOCAD_TOKEN"))
    ap.add_argument("--timeout", type=float, default=None, help="seconds per call")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info", help="version, methods and energies")
    sub.add_parser("stats", help="counters (JSON)")
    sub.add_parser("health", help="exit status 0 when the daemon serves")
    sp = sub.add_parser("solve", help="solve a problem file and write OBJ")
    sp.add_argument("problem")
    sp.add_argument("-o", "--output", help="OBJ to write (default from the file)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    sp.add_argument("--device", help="cpu, cuda:N or auto (default: the daemon's device)")
    args = ap.parse_args(argv)
    cmd = {"info": _cmd_info, "stats": _cmd_stats, "health": _cmd_health,
           "solve": _cmd_solve}[args.cmd]
    try:
        with Client(args.address, timeout=args.timeout, token=args.token) as c:
            return cmd(c, args)
    except (LocadError, OSError, ValueError) as e:
        print(f"locadctl: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
