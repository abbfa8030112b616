#!/usr/bin/env bash
# `npm test`: the whole suite, from a fresh machine. Fetches Node 24 when the
# installed Node is older, installs the npm dependencies and the Debian
# packages of the services the tests talk to (each test starts its own
# instances on free ports in temporary directories), type-checks, then runs
# every test with node:test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Broker jars (Kafka, Pulsar) download in the background while npm ci and tsc run;
# the broker tests wait for them through the same lock (scripts/brokers.sh).
prefetch() {
  mkdir -p "$root/.cache"
  # Every broker in turn (two mvn runs at once would share ~/.m2 without a lock).
  bash "$root/scripts/brokers.sh" fetch >/dev/null 2>"$root/.cache/brokers-fetch.log" &
  prefetching=1
}
prefetching=""
if command -v mvn >/dev/null; then prefetch; fi
node="$("$root/scripts/node24.sh")"
export PATH="$(dirname "$node"):$PATH"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash "$root/scripts/services.sh"
if [ -z "$prefetching" ] && command -v mvn >/dev/null; then prefetch; fi
echo "typecheck: tsc --noEmit ($(./node_modules/.bin/tsc --version))"
./node_modules/.bin/tsc --noEmit -p .
# The bench quick-mode tests must fail, not skip, if the hub cannot serve.
export QS_BENCH_REQUIRE_HUB=1
echo "node $("$node" --version): running tests"
files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(find test -name '*.test.ts' | sort)
exec "$node" --test --test-concurrency=2 --test-timeout=300000 --disable-warning=ExperimentalWarning "${files[@]}"
