"""locadctl: command-line control of a locad daemon.

    locadctl [-a ADDRESS] [--json] info | stats | health | solve PROBLEM.json [-o OUT.obj] [--device D]
    locadctl --version

ADDRESS is "host:port" or "unix:/path" (default: $LOCAD_ADDRESS or 127.0.0.1:7878); a token
comes from --token or $LOCAD_TOKEN. ``solve`` reads a problem file (see locad.problem),
prints progress, writes the result as OBJ and deletes the problem again; ``--device`` (or the
file's ``"device"``) places the problem ("cpu", "cuda:N", "auto"; default: the daemon's).
``--json`` prints one JSON object per command instead of text.

Exit status: 0 success; 1 the daemon answered with an error (or the solve did not succeed);
64 usage; 66 the problem file cannot be read or is invalid; 69 the daemon cannot be reached;
130 interrupted. Every error names the address or the file it is about.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import List, Optional

import numpy as np

from . import __version__
from . import problem as pf
from .client import DEFAULT_ADDRESS, Client
from .errors import AuthError, ConnectionClosed, LocadError

EX_USAGE, EX_NOINPUT, EX_UNAVAILABLE = 64, 66, 69


def _cmd_info(c, args):
    info = c.info()
    if args.json:
        print(json.dumps(info, default=str))
        return 0
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
    h = c.health()  # JSON either way
    print(json.dumps(h))
    return 0 if h.get("ok") else 1


def _print_progress(info):
    print(f"  iter {info['iter']:4d}  E = {info['energy']:.10g}  |g| = {info['gnorm']:.3e}"
          f"  step = {info['step']:.3g}", flush=True)


class FileError(Exception):
    """The problem file cannot be read or is invalid."""


def _cmd_solve(c, args):
    try:
        spec, base = pf.load(args.problem)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise FileError(f"{args.problem}: {e}") from e
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
    say = (lambda *a, **k: None) if args.json else print
    say(f"problem {pid} on {c.problem_info(pid)['device']}: {len(V)} vertices, {len(F)} faces,"
        f" {len(spec['terms'])} terms"
        f" (setup {t_setup:.2f} s); solving with {solver.get('method', 'newton')}", flush=True)
    try:
        r = c.solve(pid, method=solver.get("method"), options=solver.get("options"),
                    returns=[var], progress=None if args.quiet or args.json else _print_progress,
                    timeout=args.timeout, progress_bar=False)  # it prints its own progress lines
        say(f"{r['reason']} after {r['iters']} iterations: E = {r['energy']:.10g}, "
            f"|g| = {r['gnorm']:.3e}, {r['t_total']:.3f} s in the daemon")
        for w in r.get("warnings", []):
            say(f"warning: {w}")
        X = next(iter(r["variables"].values()))
        if X.shape[1] == 2:
            pf.write_obj(path, V, F, uv=X)
        else:
            pf.write_obj(path, V, F, X=X)
        say(f"wrote {path}")
        ok = bool(np.all(np.isfinite(X))) and r["reason"] not in ("infeasible", "cancelled")
        if args.json:
            print(json.dumps({"problem": pid, "reason": r["reason"], "warnings": r.get("warnings", []),
                              "iters": r["iters"], "energy": r["energy"], "gnorm": r["gnorm"],
                              "t_total": r["t_total"], "output": path, "success": ok}))
    except KeyboardInterrupt:
        c.cancel(pid, timeout=5)
        raise
    finally:
        c.delete(pid)
        c.delete(mid)
    return 0 if ok else 1


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with 64 (EX_USAGE), not argparse's 2."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: {message}", file=sys.stderr)
        raise SystemExit(EX_USAGE)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``locadctl`` console script; returns the exit status."""
    ap = _Parser(prog="locadctl", description=__doc__.split("\n")[0])
    ap.add_argument("--version", action="version", version=f"locadctl {__version__}")
    ap.add_argument("-a", "--address", default=os.environ.get("LOCAD_ADDRESS", DEFAULT_ADDRESS))
    ap.add_argument("--token", default=os.environ.get("LOCAD_TOKEN"))
    ap.add_argument("--timeout", type=float, default=None, help="seconds per call")
    ap.add_argument("--json", action="store_true", help="one JSON object per command instead of text")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    sub.add_parser("info", help="version, methods and energies")
    sub.add_parser("stats", help="counters (JSON)")
    sub.add_parser("health", help="exit status 0 when the daemon serves")
    sp = sub.add_parser("solve", help="solve a problem file and write OBJ")
    sp.add_argument("problem")
    sp.add_argument("-o", "--output", help="OBJ to write (default from the file)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    sp.add_argument("--device", help="cpu, cuda:N or auto (default: the daemon's device)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:  # --help / --version exit 0; usage errors 64
        return int(e.code or 0)
    cmd = {"info": _cmd_info, "stats": _cmd_stats, "health": _cmd_health,
           "solve": _cmd_solve}[args.cmd]
    try:
        c = Client(args.address, timeout=args.timeout, token=args.token)
    except AuthError as e:
        print(f"locadctl: the daemon at {args.address} refused the token: {e}", file=sys.stderr)
        return 1
    except (OSError, LocadError, ValueError) as e:
        print(f"locadctl: cannot reach the daemon at {args.address}: {e}", file=sys.stderr)
        return EX_UNAVAILABLE
    try:
        with c:
            return cmd(c, args)
    except FileError as e:
        print(f"locadctl: {e}", file=sys.stderr)
        return EX_NOINPUT
    except (OSError, ConnectionClosed) as e:
        print(f"locadctl: lost the daemon at {args.address}: {e}", file=sys.stderr)
        return EX_UNAVAILABLE
    except LocadError as e:
        print(f"locadctl: the daemon at {args.address} answered: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
