#!/usr/bin/env bash
# Prints the path of a Helm 3 binary: `helm` on PATH when it is v3, else
# helm.sh/helm/v3 v3.21.4 built with `go install` (from the Go module proxy)
# into $QS_PACKAGING_CACHE (default ~/.cache/quicksilver-packaging). Exits 3
# with the reason when neither is possible.
set -euo pipefail
version=v3.21.4
if command -v helm >/dev/null && helm version --short 2>/dev/null | grep -q '^v3\.'; then command -v helm; exit 0; fi
cache="${QS_PACKAGING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quicksilver-packaging}"
bin="$cache/helm-$version/bin/helm"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "helm.sh: no helm v3 on PATH and no Go toolchain to build it" >&2; exit 3; }
  echo "helm.sh: go install helm.sh/helm/v3/cmd/helm@$version (a few minutes, once)" >&2
  mkdir -p "$cache/helm-$version/bin"
  GOBIN="$cache/helm-$version/bin" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$version" >&2
fi
echo "$bin"
