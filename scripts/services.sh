#!/usr/bin/env bash
# Installs the Debian packages the test suite talks to, when they are missing:
# Redis (also for Redis Cluster), PostgreSQL, php-fpm and Chromium.
# The tests start their own instances on free ports in temporary directories.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
ls /usr/sbin/php-fpm* >/dev/null 2>&1 || need+=(php-fpm)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >/dev/null
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts the packaged daemons; the tests run their own instances.
  for s in redis-server postgresql php*-fpm; do $sudo_cmd service "$s" stop >/dev/null 2>&1 || true; done
fi
