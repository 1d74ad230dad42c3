#!/usr/bin/env python3
"""gpu_table.py - the ratio table of locad against PyTorch and JAX, with the
targets of the CUDA backend.

usage: python3 bench/gpu_table.py [--backend cuda] [--basis auto|public|resident]
                                  [--out FILE] FILE.jsonl...

Reads the JSON lines of locad-bench, torch_baseline.py and jax_baseline.py
(any mix of files; lines that are not JSON objects are skipped) and prints a
markdown table per (workload, mesh, mode): locad ms (median through the public
calls, transfers included), locad dev ms (device-resident, from
``locad-bench --breakdown``), torch ms, jax ms, torch/locad, jax/locad and
the checks.  The ratios divide by the device-resident figure when there is
one (the baselines' figures are device-resident too: their outputs stay on
the GPU), else by the public one; --basis forces either.  Then the targets:

  - W5 grid1000 hess (energy + gradient + PSD-projected Hessian) <= 3 ms
  - W6 grid1000 grad <= 0.1 ms
  - grad and hess >= 10x torch and >= 10x jax, on every row that has both

Exit status 0 whatever the targets say (this is a report); 2 on bad input.
"""
import argparse
import json
import sys

TARGETS_MS = [("W5", "grid1000", "hess", 3.0), ("W6", "grid1000", "grad", 0.1)]
SPEEDUP_MODES = ("grad", "hess")
SPEEDUP = 10.0


def load(paths, backend):
    """{system: {(workload, mesh, what): record}} and the key order."""
    data, order = {}, []
    for path in paths:
        try:
            fh = open(path)
        except OSError as e:
            print("gpu_table: %s" % e, file=sys.stderr)
            continue
        with fh:
            for line in fh:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if "median_ms" not in r or r.get("what") == "values":
                    continue
                if backend and r.get("backend") != backend:
                    continue
                key = (r.get("workload"), r.get("mesh"), r.get("what"))
                data.setdefault(r.get("system", "?"), {})[key] = r
                if key not in order:
                    order.append(key)
    return data, order


def locad_ms(r, basis):
    """The locad figure the ratios divide by, and whether it is resident."""
    if r is None:
        return None, False
    if basis != "public" and r.get("resident_ms") is not None:
        return r["resident_ms"], True
    if basis == "resident":
        return None, False
    return r["median_ms"], False


def fmt(v, spec="%.3f"):
    return "-" if v is None else spec % v


def checks(*recs):
    out = []
    for r in recs:
        if r is None:
            out.append("-")
            continue
        c = r.get("check", "?")
        if r.get("xcheck"):
            c += "/x" + r["xcheck"]
        out.append(c)
    return " ".join(out)


def build(data, order, basis):
    """Markdown lines of the table and the targets."""
    loc, tor, jax = data.get("locad", {}), data.get("torch", {}), data.get("jax", {})
    lines = ["| workload | mesh | what | locad ms | locad dev ms | torch ms | jax ms |"
             " torch/locad | jax/locad | check (locad torch jax) |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    speed = []  # (key, system, ratio)
    bad_checks = []
    for key in order:
        l, t, j = loc.get(key), tor.get(key), jax.get(key)
        base, resident = locad_ms(l, basis)
        rt = t["median_ms"] / base if t and base else None
        rj = j["median_ms"] / base if j and base else None
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            key[0], key[1], key[2], fmt(l and l["median_ms"]), fmt(l and l.get("resident_ms")),
            fmt(t and t["median_ms"]), fmt(j and j["median_ms"]),
            fmt(rt, "%.1fx"), fmt(rj, "%.1fx"), checks(l, t, j)))
        if key[2] in SPEEDUP_MODES and l is not None:
            speed += [(key, "torch", rt), (key, "jax", rj)]
        for name, r in (("locad", l), ("torch", t), ("jax", j)):
            if r is not None and "FAIL" in (r.get("check"), r.get("xcheck")):
                bad_checks.append("%s %s %s (%s)" % (key + (name,)))
    lines += ["", "Ratios divide by locad's %s figure." % {
        "auto": "device-resident (dev) figure where there is one, else the public",
        "public": "public-call (transfers included)",
        "resident": "device-resident (dev)"}[basis], "", "## Targets", ""]
    for w, mesh, what, limit in TARGETS_MS:
        r = loc.get((w, mesh, what))
        ms, resident = locad_ms(r, basis)
        if ms is None:
            lines.append("- %s %s %s <= %g ms: NOT RUN" % (w, mesh, what, limit))
            continue
        lines.append("- %s %s %s <= %g ms: %s (%.4f ms %s; public call %.4f ms)" % (
            w, mesh, what, limit, "PASS" if ms <= limit else "FAIL", ms,
            "device-resident" if resident else "public call", r["median_ms"]))
    for system in ("torch", "jax"):
        for what in SPEEDUP_MODES:
            rows = [(k, v) for k, s, v in speed if s == system and k[2] == what]
            have = [(k, v) for k, v in rows if v is not None]
            slow = ["%s %s %.1fx" % (k[0], k[1], v) for k, v in have if v < SPEEDUP]
            if not have:
                lines.append("- %s >= %gx %s: NOT RUN" % (what, SPEEDUP, system))
                continue
            lines.append("- %s >= %gx %s: %s (%d of %d rows%s)" % (
                what, SPEEDUP, system, "PASS" if not slow else "FAIL", len(have) - len(slow),
                len(have), "; below: " + ", ".join(slow) if slow else ""))
    lines.append("- checks: %s" % ("all ok or none published" if not bad_checks
                                    else "FAILED: " + "; ".join(bad_checks)))
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default=None, help="only lines of this backend (cuda, cpu)")
    ap.add_argument("--basis", choices=("auto", "public", "resident"), default="auto")
    ap.add_argument("--out")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    data, order = load(a.files, a.backend)
    if not order:
        print("gpu_table: no benchmark lines in %s" % ", ".join(a.files), file=sys.stderr)
    text = "\n".join(build(data, order, a.basis)) + "\n"
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
