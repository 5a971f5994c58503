#!/usr/bin/env bash
# Opt-in smoke test of the container image's runtime stage, for machines without a Docker engine or registry.
#
#   TIERGUARD_CONTAINER_SMOKE=1 deploy/container/smoke.sh [SERVICE]      SERVICE defaults to tierguard-scorer
#
# Without TIERGUARD_CONTAINER_SMOKE=1 it prints "skipped" and exits 0, so it never runs in the default CI
# (it needs root, a release build and a few minutes). The recipe, step by step:
#
#   1. apt-get install podman runc debootstrap (Debian 12 packages; skipped when present). Podman runs rootful
#      with the runc runtime, the vfs storage driver and cgroupfs, all state under a temporary folder, so it
#      needs neither systemd nor overlayfs and leaves the machine's own podman storage alone.
#   2. swift build -c release --static-swift-stdlib (scratch path .build-release), then stage what the Dockerfile's
#      build stage stages: the five executables, the *.resources bundles (TierGuard_JobQueue.resources,
#      TierGuard_TierGuardStore.resources), swift-backtrace-static from the toolchain's libexec/swift/linux, and
#      entrypoint.sh/probe.sh as tierguard-entrypoint/tierguard-probe, into CONTEXT/prebuilt/bin.
#   3. debootstrap --variant=minbase --include=libpq5,libcurl4,ca-certificates,tzdata bookworm ROOTFS, and
#      `tar -C ROOTFS -c . | podman import - localhost/tierguard-base:bookworm`. No registry is needed: Debian 12
#      matches the glibc the host build linked against, as ubuntu:noble matches the official Swift noble image.
#   4. podman build --target runtime with BINARIES=prebuilt, RUNTIME_IMAGE=localhost/tierguard-base:bookworm and
#      RUNTIME_PACKAGES naming Debian's libcurl4 (noble calls it libcurl4t64); --network host for apt-get.
#   5. A throwaway PostgreSQL from deploy/local/pg.sh; `tierguardctl migrate` in a container.
#   6. The service in a container as Kubernetes runs it: --read-only, --tmpfs /tmp, --cap-drop ALL,
#      no-new-privileges, host network on a free port. Checks: the process runs as uid 10001; /readyz answers
#      200 within 60 s; /livez and /metrics answer 200; after SIGTERM the container exits with status 0 within
#      30 s (the Kubernetes grace period).
#   7. Clean up the container, the images, the storage folder and the database (also on failure).
#
# Settings: TIERGUARD_SMOKE_MIRROR (Debian mirror for debootstrap, default http://deb.debian.org/debian),
# TIERGUARD_SMOKE_KEEP=1 keeps the temporary folder for inspection.
set -euo pipefail

if [ "${TIERGUARD_CONTAINER_SMOKE:-0}" != 1 ]; then
  echo "smoke: skipped (set TIERGUARD_CONTAINER_SMOKE=1 to build and run the image with podman)"
  exit 0
fi

service=${1:-tierguard-scorer}
case "$service" in
  tierguard-ingest | tierguard-scorer | tierguard-notifier | tierguard-feedback) ;;
  *) echo "smoke: SERVICE must be one of tierguard-ingest, -scorer, -notifier, -feedback" >&2; exit 64 ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "smoke: must run as root (rootful podman, debootstrap)" >&2
  exit 1
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mirror=${TIERGUARD_SMOKE_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d /tmp/tierguard-smoke.XXXXXX)
ctx=$work/context
image=localhost/tierguard:smoke
base=localhost/tierguard-base:bookworm
cid=
pg_started=0

podman_args=(--runtime runc --storage-driver vfs --root "$work/storage" --runroot "$work/runroot"
  --cgroup-manager cgroupfs --events-backend file)
podman_() { podman "${podman_args[@]}" "$@"; }

cleanup() {
  local status=$?
  if [ -n "$cid" ]; then
    if [ "$status" != 0 ]; then
      echo "smoke: container log:" >&2
      podman_ logs "$cid" >&2 || true
    fi
    podman_ rm -f "$cid" >/dev/null 2>&1 || true
  fi
  if [ "$pg_started" = 1 ]; then
    "$repo/deploy/local/pg.sh" destroy "$work/pg" >/dev/null 2>&1 || true
  fi
  podman_ rmi -f "$image" "$base" >/dev/null 2>&1 || true
  if [ "${TIERGUARD_SMOKE_KEEP:-0}" = 1 ]; then
    echo "smoke: kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# 1. Tools.
missing=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "smoke: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. Release binaries, staged like the build stage does.
echo "smoke: swift build -c release --static-swift-stdlib"
(cd "$repo" && swift build -c release --static-swift-stdlib --scratch-path "$repo/.build-release" 2>&1 | tail -n 3)
bin=$(cd "$repo" && swift build -c release --static-swift-stdlib --scratch-path "$repo/.build-release" --show-bin-path)
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
mkdir -p "$ctx/prebuilt/bin"
for exe in tierguard-ingest tierguard-scorer tierguard-notifier tierguard-feedback tierguardctl; do
  cp "$bin/$exe" "$ctx/prebuilt/bin/"
done
find -L "$bin" -maxdepth 1 -name '*.resources' -exec cp -R {} "$ctx/prebuilt/bin/" \;
test -d "$ctx/prebuilt/bin/TierGuard_JobQueue.resources"
test -d "$ctx/prebuilt/bin/TierGuard_TierGuardStore.resources"
cp "$toolchain/libexec/swift/linux/swift-backtrace-static" "$ctx/prebuilt/bin/"
cp "$repo/deploy/container/entrypoint.sh" "$ctx/prebuilt/bin/tierguard-entrypoint"
cp "$repo/deploy/container/probe.sh" "$ctx/prebuilt/bin/tierguard-probe"

# 3. A Debian base image from debootstrap, imported without a registry.
echo "smoke: debootstrap bookworm from $mirror"
debootstrap --variant=minbase --include=libpq5,libcurl4,ca-certificates,tzdata bookworm "$work/rootfs" "$mirror" >/dev/null
tar -C "$work/rootfs" -c . | podman_ import - "$base" >/dev/null
rm -rf "$work/rootfs"

# 4. The runtime stage over it.
echo "smoke: podman build --target runtime"
podman_ build --network host --target runtime \
  --build-arg BINARIES=prebuilt \
  --build-arg RUNTIME_IMAGE="$base" \
  --build-arg RUNTIME_PACKAGES="libpq5 libcurl4 ca-certificates tzdata" \
  -f "$repo/deploy/container/Dockerfile" -t "$image" "$ctx"

# 5. Database and migrations.
pg_port=$(free_port)
database_url=$("$repo/deploy/local/pg.sh" start "$work/pg" "$pg_port" | tail -n 1)
pg_started=1
podman_ run --rm --network host --read-only --cap-drop ALL -e DATABASE_URL="$database_url" \
  "$image" tierguardctl migrate

# 6. The service as Kubernetes runs it.
http_port=$(free_port)
cid=$(podman_ run -d --network host --read-only --tmpfs /tmp --cap-drop ALL \
  --security-opt no-new-privileges \
  -e DATABASE_URL="$database_url" -e TIERGUARD_HTTP_PORT="$http_port" -e TIERGUARD_LOG_LEVEL=debug \
  "$image" "$service")

uid=$(podman_ exec "$cid" id -u)
[ "$uid" = 10001 ] || { echo "smoke: FAIL: runs as uid $uid, expected 10001" >&2; exit 1; }

probe() { TIERGUARD_HTTP_PORT=$http_port "$repo/deploy/container/probe.sh" "$1" 2>/dev/null; }
deadline=$((SECONDS + 60))
until probe /readyz; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "smoke: FAIL: /readyz did not answer 200 within 60 s" >&2
    exit 1
  fi
  sleep 1
done
probe /livez || { echo "smoke: FAIL: /livez" >&2; exit 1; }
probe /metrics || { echo "smoke: FAIL: /metrics" >&2; exit 1; }
echo "smoke: $service ready as uid 10001 on port $http_port"

podman_ kill --signal TERM "$cid" >/dev/null
status=$(timeout 30 podman "${podman_args[@]}" wait "$cid") || {
  echo "smoke: FAIL: still running 30 s after SIGTERM" >&2
  exit 1
}
[ "$status" = 0 ] || { echo "smoke: FAIL: exit status $status after SIGTERM, expected 0" >&2; exit 1; }
echo "smoke: $service exited 0 on SIGTERM"
echo "smoke: 1 passed, 0 failed"
