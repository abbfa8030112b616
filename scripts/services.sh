#!/usr/bin/env bash
# Installs the Debian packages the test suite talks to, when they are missing:
# Redis (also for Redis Cluster), Valkey, PostgreSQL, php-fpm (with Symfony's Mercure
# component), Chromium, and Java + Maven for the Kafka and Pulsar brokers.
# Valkey is not in Debian 12's main archive; its valkey-tools package (8.x, whose
# multi-call binary is also the server) comes from Debian's own bookworm-backports.
# The tests start their own instances on free ports in temporary directories.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
ls /usr/sbin/php-fpm* >/dev/null 2>&1 || need+=(php-fpm)
# Symfony's Mercure component, for the PHP app that publishes through it (test/php).
[ -d /usr/share/php/Symfony/Component/Mercure ] || need+=(php-symfony-mercure)
command -v chromium >/dev/null || need+=(chromium)
# JVM brokers (Kafka, Pulsar) run from Maven Central jars: a JDK >= 17 and Maven.
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
backports=""
if ! ls /usr/bin/valkey-server /usr/bin/valkey-check-rdb >/dev/null 2>&1; then
  if grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
    backports=/etc/apt/sources.list.d/bookworm-backports.sources
  else
    need+=(valkey-server)
  fi
fi
if [ ${#need[@]} -gt 0 ] || [ -n "$backports" ]; then
  echo "installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  if [ -n "$backports" ] && [ ! -f "$backports" ]; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' | $sudo_cmd tee "$backports" >/dev/null
  fi
  $sudo_cmd apt-get update -qq >/dev/null
  [ ${#need[@]} -eq 0 ] || $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Optional: without Valkey, its suites are skipped with the reason shown.
  [ -z "$backports" ] || $sudo_cmd apt-get install -y -qq --no-install-recommends -t bookworm-backports valkey-tools >/dev/null || echo "valkey-tools not installable; Valkey suites will be skipped" >&2
  # Debian starts the packaged daemons; the tests run their own instances.
  for s in redis-server postgresql php*-fpm; do $sudo_cmd service "$s" stop >/dev/null 2>&1 || true; done
fi
