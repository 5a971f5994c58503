#!/usr/bin/env bash
# The fast part of the job queue's fault suite for CI (issue 10): baseline, 10 SIGKILLs, SIGTERM
# drain, each on its own throwaway cluster, in a debug build, about 90 s on 2 cores plus the build.
#
#   deploy/chaos/ci.sh            builds tierguard-chaos (debug) and runs `tierguard-chaos ci`
#
# Environment: TIERGUARD_CHAOS_SCRATCH (SwiftPM scratch path, default .build), TIERGUARD_CHAOS_PORT
# (port of the throwaway clusters, default: a free one below 32768). Exit status: 0 when every
# scenario passes.
#
# The scenarios start one cluster after another on the same port, so it must stay free between them:
# a port in the kernel's ephemeral range (32768–60999 here) can be taken in between as the local end
# of any client connection (the fixed 55480 once was, right after the oracle step's thousands of psql
# connections: "could not bind … Address already in use"). Below that range only a listener can hold it.
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
port=${TIERGUARD_CHAOS_PORT:-$(python3 -c '
import random, socket
for candidate in random.sample(range(20000, 32768), 500):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", candidate))
    except OSError:
        continue
    print(candidate)
    break
')}
exec timeout 300 "$bin" ci --port "$port"
