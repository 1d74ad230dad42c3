#!/usr/bin/env bash
# demo.sh - the README's main-job command: installs dependencies, builds,
# and runs the engine on real meshes (the standard benchmark workloads W1-W3
# on small and medium meshes, each validated against its check values).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/deploy/install-deps.sh"
bash "$root/deploy/build.sh"
export LOCAD_MESHES=${LOCAD_MESHES:-$root/../shared/meshes}
for w in "W1 camelhead" "W1 face" "W2 armadillo" "W3 armadillo" "W4 spot"; do
  set -- $w
  "$root/build/bench/locad-bench" --workload "$1" --mesh "$2" --runs 5
done
