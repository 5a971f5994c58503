#!/usr/bin/env bash
# CI's bounded fuzz run: every target (ndjson, csv, values, http) for 15 seconds, about 2 minutes with
# the two compiles (they run in parallel). Exits non-zero when any target crashes or finds a
# differential mismatch; the input is then in the test target's Regressions folder and in the log
# under $TIERGUARD_FUZZ_DIR (default /tmp/tierguard-fuzz/logs). Longer runs: see README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/run.sh" all "${TIERGUARD_FUZZ_SECONDS:-15}"
