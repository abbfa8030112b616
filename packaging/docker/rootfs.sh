#!/usr/bin/env bash
# Assembles the minimal root file system of the image in $1 (run in the
# Dockerfile's build stage, after the single executable is at $1/usr/bin/quicksilver):
# the shared libraries the binary links to and their loader, /etc/caddy/Caddyfile,
# passwd/group entries for the unprivileged user (65532), /etc/hosts and
# nsswitch.conf for name resolution, /data and /config owned by that user, /tmp.
set -euo pipefail
out="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$out/usr/bin/quicksilver"
[ -x "$bin" ] || { echo "rootfs.sh: $bin is missing" >&2; exit 1; }
# Every library ldd resolves, plus the program interpreter, copied with their paths.
ldd "$bin" | awk '/=> \//{print $3} /ld-linux/ && !/=>/{print $1}' | while read -r lib; do
  cp -L --parents "$lib" "$out/"
done
compgen -G "$out/lib*/ld-linux*" >/dev/null || { echo "rootfs.sh: the program interpreter was not copied" >&2; exit 1; }
mkdir -p "$out/etc/caddy" "$out/data" "$out/config" "$out/tmp"
cp "$here/../../Caddyfile.example" "$out/etc/caddy/Caddyfile"
printf 'root:x:0:0:root:/root:/sbin/nologin\nquicksilver:x:65532:65532:quicksilver:/data:/sbin/nologin\n' > "$out/etc/passwd"
printf 'root:x:0:\nquicksilver:x:65532:\n' > "$out/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$out/etc/hosts"
printf 'hosts: files dns\n' > "$out/etc/nsswitch.conf"
chown 65532:65532 "$out/data" "$out/config"
chmod 0755 "$out/data" "$out/config"
chmod 1777 "$out/tmp"
