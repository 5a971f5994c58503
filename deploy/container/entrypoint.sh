#!/bin/sh
# The image's entrypoint: runs the one TierGuard executable named by the command, in place of this shell.
#
#   tierguard-ingest | tierguard-scorer | tierguard-notifier | tierguard-feedback | tierguardctl  [ARGS…]
#
# `exec` replaces the shell, so the service is PID 1 and receives SIGTERM from the runtime itself (no shell in
# between that would swallow it); the services handle SIGTERM (drain, exit 0), so they need no init process.
# Any other command exits 64 (usage) rather than running an arbitrary program in a production image.
set -eu

case "${1:-}" in
  tierguard-ingest | tierguard-scorer | tierguard-notifier | tierguard-feedback | tierguardctl)
    service=$1
    shift
    exec "/app/bin/$service" "$@"
    ;;
  *)
    echo "usage: <tierguard-ingest|tierguard-scorer|tierguard-notifier|tierguard-feedback|tierguardctl> [ARGS...]" >&2
    exit 64
    ;;
esac
