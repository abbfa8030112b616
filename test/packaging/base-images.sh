#!/usr/bin/env bash
# Builds, from Debian's packages only (no container registry is reachable), the
# two base images the Dockerfile's build arguments can point at:
#   localhost/qs-base/debian:bookworm-slim      mmdebstrap minbase, docs/man/locales left out
#   localhost/qs-base/node:<ver>-bookworm-slim  that + the project's Node 24 + npm (from the npm registry)
#     + this machine's extra CA certificates ($NODE_EXTRA_CA_CERTS), when set: a site's
#       base image trusts the site's TLS proxy, so `npm ci` in the build stage works
# and prints `NODE_IMAGE=…` and `BASE_IMAGE=…`. The Debian tarball and npm's
# package are cached in $QS_PACKAGING_CACHE (default ~/.cache/quicksilver-packaging),
# the images in podman's own storage, so a second run takes a second.
# Installs podman and mmdebstrap with apt-get when missing (needs root).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${QS_PACKAGING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quicksilver-packaging}"
mkdir -p "$cache"
need=()
command -v podman >/dev/null || need+=(podman buildah)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "base-images.sh: ${need[*]} missing and not root to install them" >&2; exit 3; fi
  echo "base-images.sh: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi

debian=localhost/qs-base/debian:bookworm-slim
if ! podman image exists "$debian"; then
  tar="$cache/debian-bookworm-slim.tar"
  if [ ! -s "$tar" ]; then
    echo "base-images.sh: mmdebstrap bookworm (about 1-2 minutes)" >&2
    mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
      --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log' \
      bookworm "$tar.part"
    mv "$tar.part" "$tar"
  fi
  podman import --quiet --change 'CMD ["bash"]' "$tar" "$debian" >/dev/null
fi

node_bin="$("$root/scripts/node24.sh")"
node_version="$("$node_bin" --version)"
extra_ca="${NODE_EXTRA_CA_CERTS:-}"
[ -n "$extra_ca" ] && [ -r "$extra_ca" ] || extra_ca=""
ca_tag=""
[ -z "$extra_ca" ] || ca_tag="-ca$(sha256sum "$extra_ca" | cut -c1-8)"
node_image="localhost/qs-base/node:${node_version#v}-bookworm-slim$ca_tag"
if ! podman image exists "$node_image"; then
  npm_version="$(npm --version)"
  npm_tgz="$cache/npm-$npm_version.tgz"
  if [ ! -s "$npm_tgz" ]; then (cd "$cache" && npm pack --silent "npm@$npm_version" >/dev/null); fi
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  cp "$node_bin" "$ctx/node"
  ca_lines=""
  if [ -n "$extra_ca" ]; then
    cp "$extra_ca" "$ctx/site-ca.crt"
    ca_lines=$'COPY site-ca.crt /usr/local/share/ca-certificates/site-ca.crt\nENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/site-ca.crt'
  fi
  mkdir "$ctx/npm" && tar xzf "$npm_tgz" -C "$ctx/npm" --strip-components=1
  cat > "$ctx/Containerfile" <<EOC
FROM $debian
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
$ca_lines
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]
EOC
  podman build --quiet --isolation=chroot --pull=never -t "$node_image" "$ctx" >/dev/null
fi
echo "NODE_IMAGE=$node_image"
echo "BASE_IMAGE=$debian"
