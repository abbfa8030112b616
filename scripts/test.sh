#!/usr/bin/env bash
# `npm test`: the whole suite, from a fresh machine. Fetches Node 24 when the
# installed Node is older, installs the npm dependencies and the Debian
# packages of the services the tests talk to (each test starts its own
# instances on free ports in temporary directories), type-checks, then runs
# every test with node:test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node="$("$root/scripts/node24.sh")"
export PATH="$(dirname "$node"):$PATH"
# Pulsar broker jars: fetched from Maven Central in the background while npm ci
# and tsc run (test/helpers/brokers/pulsar.ts waits on the same lock directory).
pulsar_lib=.cache/brokers/pulsar-4.2.4/lib
if [ ! -d "$pulsar_lib" ] && command -v mvn >/dev/null && mkdir -p .cache/brokers && mkdir "$pulsar_lib.lock" 2>/dev/null; then
  ( rm -rf "$pulsar_lib.tmp"
    mvn -B -q -f tools/brokers/pulsar/pom.xml org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime "-DoutputDirectory=$root/$pulsar_lib.tmp" >.cache/brokers/pulsar-fetch.log 2>&1 \
      && mv "$pulsar_lib.tmp" "$pulsar_lib"
    rmdir "$pulsar_lib.lock" ) &
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash "$root/scripts/services.sh"
echo "typecheck: tsc --noEmit ($(./node_modules/.bin/tsc --version))"
./node_modules/.bin/tsc --noEmit -p .
# The bench quick-mode tests must fail, not skip, if the hub cannot serve.
export QS_BENCH_REQUIRE_HUB=1
echo "node $("$node" --version): running tests"
files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(find test -name '*.test.ts' | sort)
exec "$node" --test --test-concurrency=2 --test-timeout=300000 --disable-warning=ExperimentalWarning "${files[@]}"
