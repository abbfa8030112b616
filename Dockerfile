# syntax=docker/dockerfile:1
# Quicksilver's container image (see README "Deploy").
#
#   docker build -t quicksilver .                   # the hub: a minimal, non-root image
#   docker build -t quicksilver:php --target php .  # the hub plus php-fpm behind php_server (FrankenPHP-style front)
#
# Like the reference Mercure image: the Caddyfile is /etc/caddy/Caddyfile, driven by
# SERVER_NAME, MERCURE_PUBLISHER_JWT_KEY, MERCURE_SUBSCRIBER_JWT_KEY, MERCURE_EXTRA_DIRECTIVES,
# GLOBAL_OPTIONS, CADDY_EXTRA_CONFIG and CADDY_SERVER_EXTRA_DIRECTIVES (MERCURE_LICENSE is
# accepted and ignored); data lives in /data, configuration in /config.
# NODE_IMAGE and BASE_IMAGE let a mirror or a locally built image stand in for Docker Hub's.
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

# --- build: the single executable (packaging/sea) and the minimal root file system
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN node --disable-warning=ExperimentalWarning packaging/sea/build.ts --out /rootfs/usr/bin/quicksilver \
 && bash packaging/docker/rootfs.sh /rootfs

# --- php: Debian with php-fpm; the Caddyfile's php_server starts and supervises it
FROM ${BASE_IMAGE} AS php
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends php-fpm \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 quicksilver \
 && useradd --uid 65532 --gid 65532 --home-dir /data --no-create-home --shell /usr/sbin/nologin quicksilver \
 && mkdir -p /data /config /app/public \
 && chown 65532:65532 /data /config
COPY --from=build /rootfs/usr/bin/quicksilver /usr/bin/quicksilver
COPY packaging/docker/php.Caddyfile /etc/caddy/Caddyfile
COPY packaging/docker/index.php /app/public/index.php
ENV XDG_DATA_HOME=/data XDG_CONFIG_HOME=/config
WORKDIR /app
USER 65532:65532
VOLUME /data /config
EXPOSE 80 443 443/udp 2019
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=5 CMD ["/usr/bin/quicksilver", "healthcheck", "ready"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/quicksilver"]
CMD ["run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]

# --- hub (default): the binary, its libraries and the Caddyfile, nothing else
FROM scratch AS hub
COPY --from=build /rootfs/ /
ENV XDG_DATA_HOME=/data XDG_CONFIG_HOME=/config
WORKDIR /data
USER 65532:65532
VOLUME /data /config
EXPOSE 80 443 443/udp 2019
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=5 CMD ["/usr/bin/quicksilver", "healthcheck", "ready"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/quicksilver"]
CMD ["run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
