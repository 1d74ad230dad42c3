#!/usr/bin/env bash
# demo.sh - the README's main-job command: installs dependencies, builds,
# starts the locad daemon (CPU backend) on a private Unix socket, runs the
# Python demo client against it (UV parameterization of a shared mesh with
# live progress), then stops the daemon with SIGTERM and checks it exited
# cleanly.
#
# With --editor (or LOCAD_EDITOR=1) the daemon also serves the browser editor
# (clients/web, built into build/web) over WebSocket on LOCAD_EDITOR_ADDR
# (default 127.0.0.1:8080) and keeps running after the demo until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
editor=${LOCAD_EDITOR:-0}
[ "${1:-}" = "--editor" ] && editor=1
bash "$root/deploy/install-deps.sh"
bash "$root/deploy/build.sh"
export LOCAD_MESHES=${LOCAD_MESHES:-$root/../shared/meshes}
dir=$(mktemp -d)
sock="$dir/locad.sock"
args=(--unix "$sock" --log-level info)
if [ "$editor" = 1 ]; then
  addr=${LOCAD_EDITOR_ADDR:-127.0.0.1:8080}
  (cd "$root/clients/web" && { [ -d node_modules/three ] || npm ci --no-audit --no-fund; })
  node "$root/clients/web/build.mjs" "$root/build/web" --meshes "$LOCAD_MESHES"
  args+=(--ws "$addr" --web-root "$root/build/web")
fi
"$root/build/server/locad" "${args[@]}" 2> "$dir/locad.log" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { cat "$dir/locad.log" >&2; echo "demo: the daemon did not start" >&2; exit 1; }
echo "demo: locad daemon (pid $pid) on $sock"
rc=0
PYTHONPATH="$root/clients/python" /usr/bin/python3 "$root/clients/python/demo.py" \
  -a "unix:$sock" --mesh "${LOCAD_DEMO_MESH:-camelhead}" -o "${LOCAD_DEMO_OUT:-$root/build/demo-uv.obj}" || rc=$?
if [ "$editor" = 1 ] && [ "$rc" = 0 ]; then
  echo "demo: the editor is at http://$addr/?mesh=camelhead (Ctrl-C stops the daemon)"
  trap 'kill -TERM "$pid" 2>/dev/null || true' INT
  wait "$pid" || true
  exit 0
fi
kill -TERM "$pid"
wait "$pid" || { echo "demo: daemon exited with status $?" >&2; rc=1; }
echo "demo: daemon log (last lines):"; tail -n 5 "$dir/locad.log"
exit $rc
