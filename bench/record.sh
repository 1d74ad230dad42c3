#!/usr/bin/env bash
# record.sh - runs the standard locad benchmark set and the PyTorch baseline
# side by side and writes bench/results/<date>-<tag>.md with the machine,
# date, commands, ratio table and raw JSON lines.
#   usage: bench/record.sh [TAG] [-- extra locad-bench/torch args]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:-cpu}; shift || true
[ "${1:-}" = "--" ] && shift
bench="$root/build/bench/locad-bench"
out="$root/bench/results/$(date -u +%F)-$tag.md"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
{
  echo "# locad benchmarks, $(date -u +%FT%TZ)"
  echo
  echo "- machine: $cpu, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(uname -sr)"
  echo "- commit: $(git -C "$root" rev-parse --short HEAD)"
  echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- commands: \`$bench --threads 2 $*\` and"
  echo "  \`/usr/bin/python3 bench/compare.py --threads 2 -- --what energy,grad,hvp $*\`"
  echo
} > "$out"
"$bench" --threads 2 "$@" > "$tmp/locad.jsonl"
/usr/bin/python3 "$root/bench/compare.py" --threads 2 --out "$tmp/both.jsonl" -- --what energy,grad,hvp "$@" > "$tmp/table.txt"
{
  echo "## locad vs PyTorch (energy, grad, hvp; same run, same machine)"
  echo; echo '```'; cat "$tmp/table.txt"; echo '```'; echo
  echo "## locad, all modes (JSON lines)"
  echo; echo '```'; cat "$tmp/locad.jsonl"; echo '```'; echo
  echo "## comparison run (JSON lines, both systems)"
  echo; echo '```'; cat "$tmp/both.jsonl"; echo '```'
} >> "$out"
echo "wrote $out"
