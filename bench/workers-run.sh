#!/usr/bin/env bash
# The `workers` figures (issue 16), one run: 1 and 2 workers side by side with
# the bare-writer yardstick, CPU-pinned variants, and the 36,000-subscriber hold.
#   bash bench/workers-run.sh [OUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/bench/out}"
mkdir -p "$out"
node="$("$root/scripts/node24.sh")"
run() {
  echo "== $*" >&2
  "$node" --disable-warning=ExperimentalWarning "$root/bench/main.ts" "$@" --out "$out" | tail -4 >&2
}
floor="$root/bench/floor-hub.ts"
for w in 1 2; do
  run publish --spawn --workers "$w" --duration 10 --concurrency 16 --label "publish-w$w"
  run fanout --spawn --workers "$w" --subscribers 1000 --rate 100 --label "fan1k-w$w"
  run fanout --spawn --workers "$w" --subscribers 10000 --rate 10 --label "fan10k-w$w"
done
run fanout --spawn --hub-bin "$floor" --subscribers 1000 --rate 100 --label floor-fan1k
run fanout --spawn --hub-bin "$floor" --subscribers 10000 --rate 10 --label floor-fan10k
# Pinned: the hub's processes on CPU 0 only, or on both CPUs (the generator shares what is left).
for w in 1 2; do
  run publish --spawn --workers "$w" --hub-cpus 0 --duration 10 --concurrency 16 --label "publish-w$w-cpu0"
  run publish --spawn --workers "$w" --hub-cpus 0,1 --duration 10 --concurrency 16 --label "publish-w$w-cpu01"
done
"$node" --disable-warning=ExperimentalWarning "$root/bench/hold-workers.ts" --workers 2 --subscribers 36000 --out "$out"
