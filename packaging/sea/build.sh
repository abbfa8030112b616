#!/usr/bin/env bash
# Builds the single executable dist/quicksilver (linux-x64): no Node and no
# node_modules needed beside it. Usage: packaging/sea/build.sh [--out FILE]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
node="$("$root/scripts/node24.sh")"
export PATH="$(dirname "$node"):$PATH"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
exec "$node" --disable-warning=ExperimentalWarning "$root/packaging/sea/build.ts" "$@"
