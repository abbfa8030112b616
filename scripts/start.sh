#!/usr/bin/env bash
# `npm start`: serves Caddyfile.example on a non-privileged port with the
# embedded (bolt) transport. Every variable can be overridden from the
# environment; the development key is used only when none is set, and the hub
# warns loudly about it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ -d node_modules ] || npm ci --no-audit --no-fund
dev_key='!ChangeThisMercureHubJWTSecretKey!'
export SERVER_NAME="${SERVER_NAME:-:8080}"
export GLOBAL_OPTIONS="${GLOBAL_OPTIONS:-admin localhost:2019}"
if [ -z "${MERCURE_PUBLISHER_JWT_KEY:-}" ]; then
  export MERCURE_PUBLISHER_JWT_KEY="$dev_key" QS_DEV_KEY=1
fi
export MERCURE_SUBSCRIBER_JWT_KEY="${MERCURE_SUBSCRIBER_JWT_KEY:-$MERCURE_PUBLISHER_JWT_KEY}"
export MERCURE_EXTRA_DIRECTIVES="${MERCURE_EXTRA_DIRECTIVES:-$'anonymous\nsubscriptions\nui\ncors_origins *\npublish_origins *'}"
exec "$root/bin/quicksilver" run --config Caddyfile.example --adapter caddyfile "$@"
