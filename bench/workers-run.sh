#!/usr/bin/env bash
# The workers benchmarks (issue 16), as recorded in bench/results/: one and two
# processes side by side on bolt, publish in three interleaved rounds (this
# machine's run-to-run spread is ±10 %), fan-out CPU per event, pinned publish
# runs, and a hold past one process's file limit. full-run.sh calls it.
#   bash bench/workers-run.sh [OUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/bench/out}"
mkdir -p "$out"
node="$("$root/scripts/node24.sh")"
run() {
  echo "== $*" >&2
  "$node" --disable-warning=ExperimentalWarning "$root/bench/main.ts" "$@" --out "$out" > /dev/null
}
# The load generator alone on CPU 1 (the hub's CPUs are set with --hub-cpus).
run_gen1() {
  echo "== (generator on CPU 1) $*" >&2
  taskset -c 1 "$node" --disable-warning=ExperimentalWarning "$root/bench/main.ts" "$@" --out "$out" > /dev/null
}
# Closed loop, 64 in flight, pipelined 4 deep on 16 connections: enough connections for the
# kernel to spread them over the processes, few enough syscalls to keep the generator light.
pub=(publish --spawn --duration 10 --concurrency 64 --connections 16 --pipelining 4)
for r in 1 2 3; do
  for w in 1 2; do run "${pub[@]}" --workers "$w" --label "publish-w$w-r$r"; done
done
for w in 1 2; do run "${pub[@]}" --transport local --workers "$w" --label "publish-local-w$w"; done
for w in 1 2; do
  run fanout --spawn --workers "$w" --subscribers 1000 --rate 100 --duration 15 --label "fan1k-w$w"
  run fanout --spawn --workers "$w" --subscribers 10000 --rate 10 --duration 15 --label "fan10k-w$w"
done
run fanout --spawn --hub-bin "$root/bench/floor-hub.ts" --subscribers 1000 --rate 100 --duration 15 --label floor-fan1k
run fanout --spawn --hub-bin "$root/bench/floor-hub.ts" --subscribers 10000 --rate 10 --duration 15 --label floor-fan10k
run_gen1 "${pub[@]}" --workers 1 --hub-cpus 0 --label publish-w1-hub0-gen1
run_gen1 "${pub[@]}" --workers 2 --hub-cpus 0 --label publish-w2-hub0-gen1
run_gen1 "${pub[@]}" --workers 2 --hub-cpus 0,1 --label publish-w2-hub01-gen1
"$node" --disable-warning=ExperimentalWarning "$root/bench/hold-workers.ts" --workers 2 --subscribers 36000 --out "$out"
echo "reports in $out" >&2
