#!/usr/bin/env bash
# The workers benchmarks (issue 16), as recorded in bench/results/: one and two
# processes side by side on bolt, publish in three interleaved rounds (this
# VM's speed drifts during a day), fan-out CPU per event, pinned publish
# runs, and a hold past one process's file limit. full-run.sh calls it.
#   bash bench/workers-run.sh [OUT_DIR]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/run-lib.sh"
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
# 100,000 subscribers: 6 processes (20,000 files each here), and a kernel input queue that keeps up on loopback.
if [ "$(cat /proc/sys/net/core/netdev_max_backlog)" -lt 20000 ]; then
  echo "note: net.core.netdev_max_backlog is below 20000: expect streams ended by dropped keepalive probes (README, Workers)" >&2
fi
"$node" --disable-warning=ExperimentalWarning "$root/bench/hold-workers.ts" --workers 6 --subscribers 100000 --clients 6 --out "$out"
echo "reports in $out" >&2
