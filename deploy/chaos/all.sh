#!/usr/bin/env bash
# The whole fault suite of issue 10 in one command, each part with its time and result:
#
#   deploy/chaos/all.sh
#
#   1. isolation   PostgreSQL isolation specs over the code's own SQL        deploy/isolation/run.sh
#   2. fuzz        libFuzzer over the NDJSON, CSV, value and HTTP parsers     deploy/fuzz/run.sh all $FUZZ_SECONDS
#   3. queue       the job queue's 15 fault scenarios (release build)        tierguard-chaos all
#   4. http        the listener under slowloris / slow bodies / fd exhaustion deploy/chaos/http.sh
#   5. ingest      ten SIGKILLs during a 1,000,000-line load, torn files,    deploy/local/test.sh with
#                  encodings, RFC 4180, JSON edge cases, money overflow      TIERGUARD_INGEST_FAULTS_FULL=1
#   6. tsan        ThreadSanitizer over the in-process concurrency           deploy/local/tsan.sh
#
# Every part runs even when an earlier one failed; the summary names each part's result and time, and
# the exit status is 1 when any failed. Each part starts and deletes its own throwaway clusters, so this
# needs what they need: root (PostgreSQL runs as the postgres user; http.sh's attacker cgroup; apt-get
# for slowhttptest, faketime and isolationtester when missing). CI runs the fast part of it instead
# (.ci/run: isolation, a 15 s fuzz, chaos baseline/SIGKILL/SIGTERM, the 60,000-line ingest kills, TSan).
#
# Environment: FUZZ_SECONDS (per fuzz target, default 60); TIERGUARD_ALL_PARTS (space-separated subset,
# default every part, e.g. "queue http"). Times on this 2-core machine are in README.md (Reliability):
# the whole run is meant to stay under 30 minutes.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
parts=${TIERGUARD_ALL_PARTS:-"isolation fuzz queue http ingest tsan"}
fuzz_seconds=${FUZZ_SECONDS:-60}

run_part() {
  case $1 in
    isolation) bash deploy/isolation/run.sh ;;
    fuzz) bash deploy/fuzz/run.sh all "$fuzz_seconds" ;;
    queue)
      swift build -c release --product tierguard-chaos 2>&1 | grep -E "error|warning: " || true
      "$(swift build -c release --show-bin-path)/tierguard-chaos" all ;;
    http) bash deploy/chaos/http.sh ;;
    ingest)
      TIERGUARD_INGEST_FAULTS_FULL=1 bash deploy/local/test.sh \
        --filter 'ServiceTests\.(IngestFaultTests|IngestFaultFileTests|IngestEncodingTests)' ;;
    tsan) bash deploy/local/tsan.sh ;;
    *) echo "all.sh: unknown part $1 (isolation fuzz queue http ingest tsan)" >&2; return 64 ;;
  esac
}

started=$SECONDS
summary=()
failed=0
for part in $parts; do
  echo "all.sh: ── $part ──" >&2
  part_started=$SECONDS
  if run_part "$part"; then result=PASS; else result=FAIL; failed=1; fi
  summary+=("$(printf '%-10s %s %4d s' "$part" "$result" $((SECONDS - part_started)))")
done
echo "all.sh: summary ($(uptime | sed 's/.*load average/load average/'))" >&2
for line in "${summary[@]}"; do echo "  $line"; done
echo "all.sh: $((SECONDS - started)) s in all; $([ $failed = 0 ] && echo PASS || echo FAIL)"
exit $failed
