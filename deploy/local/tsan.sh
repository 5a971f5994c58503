#!/usr/bin/env bash
# ThreadSanitizer over the in-process concurrency (issue 10): the job worker's claim loop, completion
# batcher, listener and maintenance threads, the connection pool, and the HTTP listener.
#
#   deploy/local/tsan.sh                    build with -sanitize=thread, run the default subset
#   deploy/local/tsan.sh --filter REGEX     run other tests (any `swift test` arguments)
#
# Its own scratch path (TIERGUARD_TSAN_SCRATCH, default /tmp/tierguard-tsan-build) so the instrumented
# build never replaces the normal one in .build; the second run reuses it. A private throwaway
# PostgreSQL (deploy/local/pg.sh, fsync off), exported as TIERGUARD_TEST_DATABASE_URL like test.sh
# does, deleted at exit. Any TSan report fails the run (halt_on_error=1: exit code 66 on the first one),
# including one from a spawned worker process (log_path collects every process's reports).
#
# Default subset (TIERGUARD_TSAN_FILTER overrides it with one run), one test process per target like
# test.sh, chosen for what runs on more than one thread in ONE process: JobQueueTests (in-process
# workers, handlers as tasks, the pool, LISTEN wake-ups; WorkerProcessTests spawn TSan-built
# tierguard-bench workers too), PostgresTests' ListenNotify/Reconnect (a session's listener and
# reconnect paths), ServiceKitTests' HTTPServerTests and SignalWatcherTests (the listener's accept
# and connection threads, signal delivery).
#
# THE MUTEX SHIM. On Swift 6.3 / Linux TSan cannot see Synchronization.Mutex: a contended Mutex
# locks through futex calls inside the uninstrumented Synchronization library and withLock is inlined,
# so every correctly locked access is reported as a "Swift access race" (suppressions cannot target
# inlined frames). This build therefore passes -DTIERGUARD_TSAN: each module's TSanMutexShim.swift
# then makes `Mutex` mean TSanVisibleMutex (Shared/TSanVisibleLock, pthread_mutex, which TSan
# intercepts); normal builds never set the flag and keep Synchronization.Mutex. The script first
# proves it on tsan-mutex-check.swift (correct code) compiled both ways: plain, TSan must still
# report (else the toolchain is fixed and the shim can go: the script says so); with the shim, TSan
# must be silent (else the run fails). After that, any report is a real race.
#
# Time (2 cores, measured 2026-12-02, fresh scratch path): about 3 min (instrumented build 2 min 20 s,
# tests about 40 s in three processes: JobQueueTests 17-21 s, PostgresTests 11-13 s, ServiceKitTests
# 1-2 s), 7 min when other builds share the cores; a re-run with the build in place about 1 min.
# CI (.ci/run) runs it after the fault suite; any report fails CI.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
scratch=${TIERGUARD_TSAN_SCRATCH:-/tmp/tierguard-tsan-build}
filter=${TIERGUARD_TSAN_FILTER:-}
started=$SECONDS

work=$(mktemp -d /tmp/tierguard-tsan.XXXXXX)
# shellcheck disable=SC2317 # called by the trap
cleanup() { deploy/local/pg.sh destroy "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55439)
TIERGUARD_TEST_DATABASE_URL=$(TIERGUARD_PG_FAST=1 deploy/local/pg.sh start "$work/pg" "$port")
export TIERGUARD_TEST_DATABASE_URL
echo "tsan.sh: PostgreSQL at $TIERGUARD_TEST_DATABASE_URL" >&2

# The shim check: tsan-mutex-check.swift plain (Synchronization.Mutex) and with the shim (the lock
# compiled as its own module, then -DTIERGUARD_TSAN, exactly as a package module sees it).
check=deploy/local/tsan-mutex-check.swift
swiftc -sanitize=thread -Onone "$check" -o "$work/check-plain"
swiftc -sanitize=thread -Onone -parse-as-library -module-name TSanVisibleLock -emit-module \
  -emit-module-path "$work/TSanVisibleLock.swiftmodule" -c Shared/TSanVisibleLock/TSanVisibleMutex.swift \
  -o "$work/TSanVisibleLock.o"
swiftc -sanitize=thread -Onone -DTIERGUARD_TSAN -I "$work" "$check" "$work/TSanVisibleLock.o" -o "$work/check-shim"
TSAN_OPTIONS=halt_on_error=1 "$work/check-plain" >"$work/check-plain.log" 2>&1 || true
if grep -q "WARNING: ThreadSanitizer" "$work/check-plain.log"; then
  echo "tsan.sh: TSan still cannot see Synchronization.Mutex on this toolchain (expected): the shim is needed" >&2
else
  echo "tsan.sh: TSan sees Synchronization.Mutex on this toolchain: TSanVisibleLock and the shims can go" >&2
fi
if ! TSAN_OPTIONS=halt_on_error=1 "$work/check-shim" >"$work/check-shim.log" 2>&1 ||
  grep -q "WARNING: ThreadSanitizer" "$work/check-shim.log"; then
  cat "$work/check-shim.log" >&2
  echo "tsan.sh: TSan reports tsan-mutex-check.swift even with TSanVisibleMutex: the shim does not work" >&2
  exit 1
fi
echo "tsan.sh: with the shim, tsan-mutex-check.swift is clean" >&2

# Exit codes through pipefail (the pipeline fails with swift's status; the grep never fails it): a
# `|| true` after the pipeline would reset PIPESTATUS and hide a failed build or test run.
if ! swift build --scratch-path "$scratch" --build-tests --sanitize=thread -Xswiftc -DTIERGUARD_TSAN 2>&1 |
  tee "$work/build.log" | { grep -E "error|warning:" || true; }; then
  echo "tsan.sh: the instrumented build failed" >&2
  exit 1
fi
built=$SECONDS
echo "tsan.sh: instrumented build took $((built - started)) s" >&2

# halt_on_error: the first race fails the run with its report instead of scrolling past.
# second_deadlock_stack: both stacks of a lock-order inversion. log_path: every instrumented process
# (the test runner AND the tierguard-bench workers WorkerProcessTests spawn, whose stderr goes to
# the test's own log files) writes its reports to $work/tsan-report.<pid>, checked below. The
# backtracer would be slow and useless inside an instrumented process; TSan prints its own stacks.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$work/tsan-report ${TSAN_OPTIONS:-}"
export SWIFT_BACKTRACE=enable=no
# One test process per test target, as test.sh does: the cooperative pool has 2 threads here, and
# one target's blocking waits must not starve another's in-process servers (slower still under TSan).
# A run that fails WITHOUT any TSan report is run once more: TSan slows code 5-15x, and a few tests
# wait on timers (a handler seeing its cancellation within 5 s) that a loaded machine can miss. That
# is test.sh's business; this script is about races, and a run with a report is never retried.
status=0
runs=0
run_tests() {
  local attempt rc log
  for attempt in 1 2; do
    runs=$((runs + 1))
    log="$work/test-$runs.log"
    echo "tsan.sh: swift test $*" >&2
    rc=0
    swift test --scratch-path "$scratch" --skip-build --sanitize=thread -Xswiftc -DTIERGUARD_TSAN "$@" 2>&1 |
      tee "$log" | { grep -vE "^(◇|↳)|started\.$" || true; } || rc=$?
    [ "$rc" = 0 ] && return 0
    if compgen -G "$work/tsan-report.*" >/dev/null || grep -q "WARNING: ThreadSanitizer" "$log"; then break; fi
    [ "$attempt" = 1 ] && echo "tsan.sh: tests failed (exit $rc) without a TSan report; once more" >&2
  done
  status=$rc
}
if [ $# -gt 0 ]; then
  run_tests "$@"
elif [ -n "$filter" ]; then
  run_tests --filter "$filter"
else
  run_tests --filter '^JobQueueTests\.'
  run_tests --filter '^PostgresTests\.(ListenNotifyTests|ReconnectTests)'
  run_tests --filter '^ServiceKitTests\.(HTTPServerTests|SignalWatcherTests)'
fi
for report in "$work"/tsan-report.*; do
  [ -e "$report" ] || continue
  cat "$report" >&2
  echo "tsan.sh: ThreadSanitizer reported in process ${report##*.} (above)" >&2
  status=1
done
if grep -q "WARNING: ThreadSanitizer" "$work"/test-*.log; then
  echo "tsan.sh: ThreadSanitizer reported (see above)" >&2
  status=1
fi
echo "tsan.sh: tests took $((SECONDS - built)) s; exit $status" >&2
exit "$status"
