#!/usr/bin/env bash
# Builds the image and checks it without a registry or `podman run` (neither works on the
# project's machines: /work/shared/reference/containers.md): lints the Dockerfile and the
# systemd unit, builds the wheels here, builds the image on a Debian 12 base made with
# debootstrap, then runs its filesystem in a chroot as its non-root user and asks /health
# on a loopback port. Needs root, podman and debootstrap (apt-get install podman debootstrap).
# `make image-check` runs it; it takes minutes, so it is not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-$(mktemp -d /tmp/sendmako-image.XXXXXX)}
BASE=localhost/debian:bookworm
PORT=${PORT:-18765}

echo "== lint"
systemd-analyze verify deploy/sendmako.service 2>&1 | grep -v "is not executable" || true
if command -v hadolint >/dev/null; then hadolint Dockerfile; fi

echo "== wheels for Debian 12's Python (3.11.2) and glibc"
deploy/wheelhouse.sh

echo "== base image"
if ! podman image exists "$BASE"; then
    debootstrap --variant=minbase bookworm "$WORK/rootfs" >"$WORK/debootstrap.log"
    tar -C "$WORK/rootfs" -c . | podman import - "$BASE"
fi

echo "== build"
podman build --isolation chroot --format docker --build-arg BASE="$BASE" -t sendmako:check .

echo "== run in a chroot, as the image's user"
IMG="$WORK/img"
rm -rf "$IMG" && mkdir -p "$IMG"
cid=$(podman create sendmako:check /bin/true)
podman export "$cid" | tar -C "$IMG" -x
podman rm "$cid" >/dev/null
mount -t proc proc "$IMG/proc"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; umount "$IMG/proc"' EXIT
chroot --userspec=10001:10001 "$IMG" /usr/bin/env -i PATH=/opt/sendmako/bin:/usr/bin:/bin \
    HOME=/data SENDMAKO_DATA_DIR=/data SENDMAKO_HOST=127.0.0.1 SENDMAKO_PORT="$PORT" \
    SENDMAKO_ENGINES=sandbox SENDMAKO_DEFAULT_ENGINE=sandbox sendmako serve >"$WORK/serve.log" 2>&1 &
pid=$!
for _ in $(seq 60); do
    if grep -q "Sendmako ready" "$WORK/serve.log"; then break; fi
    sleep 1
done
# The image's own health check command, run inside it.
chroot --userspec=10001:10001 "$IMG" /opt/sendmako/bin/python -c \
    "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$PORT/health', timeout=4).read().decode())"
echo "image OK"
