#!/usr/bin/env bash
# demo.sh - the README's main-job command: installs dependencies, builds,
# starts the locad daemon (CPU backend) on a private Unix socket, runs the
# Python demo client against it (UV parameterization of a shared mesh with
# live progress), then stops the daemon with SIGTERM and checks it exited
# cleanly.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/deploy/install-deps.sh"
bash "$root/deploy/build.sh"
export LOCAD_MESHES=${LOCAD_MESHES:-$root/../shared/meshes}
dir=$(mktemp -d)
sock="$dir/locad.sock"
"$root/build/server/locad" --unix "$sock" --log-level info 2> "$dir/locad.log" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { cat "$dir/locad.log" >&2; echo "demo: the daemon did not start" >&2; exit 1; }
echo "demo: locad daemon (pid $pid) on $sock"
rc=0
PYTHONPATH="$root/clients/python" /usr/bin/python3 "$root/clients/python/demo.py" \
  -a "unix:$sock" --mesh "${LOCAD_DEMO_MESH:-camelhead}" -o "${LOCAD_DEMO_OUT:-$root/build/demo-uv.obj}" || rc=$?
kill -TERM "$pid"
wait "$pid" || { echo "demo: daemon exited with status $?" >&2; rc=1; }
echo "demo: daemon log (last lines):"; tail -n 5 "$dir/locad.log"
exit $rc
