#!/usr/bin/env bash
# Runs a TypeScript entry point with Node >= 24 (fetched by node24.sh when needed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node="$("$root/scripts/node24.sh")"
exec "$node" "$@"
