#!/usr/bin/env bash
# The fast part of the job queue's fault suite for CI (issue 10): baseline, 10 SIGKILLs, SIGTERM
# drain, each on its own throwaway cluster, in a debug build, about 90 s on 2 cores plus the build.
#
#   deploy/chaos/ci.sh            builds tierguard-chaos (debug) and runs `tierguard-chaos ci`
#
# Environment: TIERGUARD_CHAOS_SCRATCH (SwiftPM scratch path, default .build), TIERGUARD_CHAOS_PORT
# (port of the throwaway clusters, default 55480). Exit status: 0 when every scenario passes.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
scratch=${TIERGUARD_CHAOS_SCRATCH:-$root/.build}
if ! out=$(swift build --scratch-path "$scratch" --product tierguard-chaos 2>&1); then
  echo "$out" | grep -E "error" >&2 || echo "$out" | tail -20 >&2
  exit 1
fi
bin=$(swift build --scratch-path "$scratch" --show-bin-path)/tierguard-chaos
[ -x "$bin" ] || { echo "ci.sh: $bin was not built" >&2; exit 1; }
exec timeout 300 "$bin" ci --port "${TIERGUARD_CHAOS_PORT:-55480}"
