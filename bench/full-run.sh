#!/usr/bin/env bash
# One full benchmark run, as recorded in bench/results/: every scenario
# against our hub (bolt unless stated), the bare-writer yardstick
# (floor-hub.ts) at the same fan-out loads, and the two-node clusters.
# Needs a Redis, a PostgreSQL, a Kafka and a Pulsar broker on loopback for the cluster
# and transport runs: REDIS_URL=redis://127.0.0.1:6379 PG_URL=postgres://postgres@127.0.0.1:5432/bench
# KAFKA_URL=kafka://127.0.0.1:9092/<topic> PULSAR_URL=pulsar://127.0.0.1:6650 (any may be left unset to skip those runs).
#   bash bench/full-run.sh [OUT_DIR]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/run-lib.sh"
floor="$root/bench/floor-hub.ts"

run hold --spawn --subscribers 10000 --label hold10k
run hold --spawn --subscribers 19900 --label hold19900
run fanout --spawn --subscribers 1000 --rate 100 --duration 15 --label fan1k
run fanout --spawn --hub-bin "$floor" --subscribers 1000 --rate 100 --duration 15 --label floor-fan1k
run fanout --spawn --subscribers 10000 --rate 10 --duration 15 --label fan10k
run fanout --spawn --hub-bin "$floor" --subscribers 10000 --rate 10 --duration 15 --label floor-fan10k
run topics --spawn --label topics1k
run publish --spawn --label publish-bolt
run publish --spawn --concurrency 32 --connections 8 --label publish-bolt-k32
if [ -n "${REDIS_URL:-}" ]; then
  run publish --spawn --transport redis --transport-url "$REDIS_URL" --label publish-redis
  run cluster --spawn --transport redis --transport-url "$REDIS_URL" --subscribers 1000 --rate 500 --duration 15 --label cluster-redis-2nodes-1000x500
fi
if [ -n "${PG_URL:-}" ]; then
  run publish --spawn --transport postgres --transport-url "$PG_URL" --label publish-postgres
  run cluster --spawn --transport postgres --transport-url "$PG_URL" --subscribers 1000 --rate 500 --duration 15 --label cluster-postgres-2nodes-1000x500
fi
if [ -n "${PULSAR_URL:-}" ]; then
  run publish --spawn --transport pulsar --transport-url "$PULSAR_URL" --label publish-pulsar
  run cluster --spawn --transport pulsar --transport-url "$PULSAR_URL" --subscribers 1000 --rate 500 --duration 15 --label cluster-pulsar-2nodes-1000x500
fi
if [ -n "${KAFKA_URL:-}" ]; then
  run publish --spawn --transport kafka --transport-url "$KAFKA_URL" --label publish-kafka
  run cluster --spawn --transport kafka --transport-url "$KAFKA_URL" --subscribers 1000 --rate 500 --duration 15 --label cluster-kafka-2nodes-1000x500
fi
# workers (issue 16): its own script.
bash "$root/bench/workers-run.sh" "$out"
echo "reports in $out" >&2
