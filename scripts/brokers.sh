#!/usr/bin/env bash
# Broker jars for the tests (Kafka, Pulsar …), fetched from Maven Central.
#
#   scripts/brokers.sh fetch [name…]   copy the runtime jars of tools/brokers/<name>/pom.xml
#                                      (every pom when no name is given) into
#                                      .cache/brokers/<name>-<version>/lib
#   scripts/brokers.sh lib <name>      print that lib directory (after fetching it if needed)
#
# <version> is the pom's own <version>. A finished copy is marked with lib/.complete
# and never fetched again; a flock per broker makes concurrent callers (the
# background prefetch of scripts/test.sh, several test files) wait for one download.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.cache/brokers"

pom_version() {
  # The project's own version: the first <version> directly under <project>, before <dependencies>.
  sed -n '/<dependencies>/q;s:^  <version>\(.*\)</version>.*:\1:p' "$1" | head -1
}

lib_dir() {
  local name="$1" pom="$root/tools/brokers/$1/pom.xml"
  [ -f "$pom" ] || { echo "brokers.sh: no $pom" >&2; return 1; }
  local version; version="$(pom_version "$pom")"
  [ -n "$version" ] || { echo "brokers.sh: no project <version> in $pom" >&2; return 1; }
  echo "$cache/$name-$version/lib"
}

fetch_one() {
  local name="$1" lib; lib="$(lib_dir "$name")"
  [ -f "$lib/.complete" ] && return 0
  mkdir -p "$(dirname "$lib")"
  # Held while downloading; a second caller waits here, then sees .complete.
  exec {fd}>"$(dirname "$lib").lock"
  flock "$fd"
  if [ ! -f "$lib/.complete" ]; then
    local started=$SECONDS
    rm -rf "$lib.tmp" "$lib"
    mvn -B -q -f "$root/tools/brokers/$name/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$lib.tmp" >&2
    touch "$lib.tmp/.complete"
    mv "$lib.tmp" "$lib"
    echo "brokers.sh: $name jars in $lib ($((SECONDS - started)) s)" >&2
  fi
  flock -u "$fd"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  fetch)
    names=("$@")
    if [ ${#names[@]} -eq 0 ]; then
      for p in "$root"/tools/brokers/*/pom.xml; do [ -f "$p" ] && names+=("$(basename "$(dirname "$p")")"); done
    fi
    for n in "${names[@]}"; do fetch_one "$n"; done
    ;;
  lib)
    [ $# -eq 1 ] || { echo "usage: brokers.sh lib <name>" >&2; exit 2; }
    fetch_one "$1"
    lib_dir "$1"
    ;;
  *)
    echo "usage: brokers.sh fetch [name…] | lib <name>" >&2; exit 2 ;;
esac
