#!/usr/bin/env bash
# Fuzzes TierGuard's parsers with libFuzzer: deploy/fuzz/run.sh TARGET SECONDS
#
#   TARGET   ndjson | csv | values | http | all
#   SECONDS  libFuzzer's -max_total_time for each target
#
# SwiftPM cannot build a libFuzzer target, so this compiles the parser sources straight with
# `swiftc -sanitize=fuzzer,address -parse-as-library -O` and an entry file that defines
# LLVMFuzzerTestOneInput (deploy/fuzz/FeedFuzz.swift, deploy/fuzz/HTTPFuzz.swift):
#   feed binary (targets ndjson, csv, values): Shared/FeedContract/*.swift plus TierGuardModel's
#     CalendarDate.swift, Fen.swift and Records.swift as ONE module (`import TierGuardModel` removed);
#     TIERGUARD_FUZZ_TARGET picks the target at run time.
#   http binary (target http): Shared/ServiceKit/HTTP{RequestParser,Request,Headers,ParseError}.swift.
# Binaries are cached under $TIERGUARD_FUZZ_DIR (default /tmp/tierguard-fuzz) by a hash of their
# sources and the compiler version. Each target's corpus there is seeded from deploy/fuzz/seeds/TARGET
# and the target's regression inputs; libFuzzer grows it between runs.
#
# A crash, a sanitizer report or a differential mismatch (the entry files trap on one) leaves an
# artifact that is copied into the matching test target's Regressions/TARGET folder, which
# `swift test` replays (FuzzRegressionTests). Exit status: 0 when every target ran clean, 1 when any
# target crashed, 64 on a usage error.
set -euo pipefail

usage() {
    echo "usage: $0 ndjson|csv|values|http|all SECONDS" >&2
    exit 64
}

[ "$#" -eq 2 ] || usage
target_arg=$1
seconds=$2
case "$seconds" in '' | *[!0-9]*) usage ;; esac
case "$target_arg" in
    ndjson | csv | values | http) targets=("$target_arg") ;;
    all) targets=(ndjson csv values http) ;;
    *) usage ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${TIERGUARD_FUZZ_DIR:-/tmp/tierguard-fuzz}
mkdir -p "$work/bin" "$work/logs"

command -v swiftc >/dev/null || { echo "swiftc not found on PATH" >&2; exit 1; }

group_of() {
    case "$1" in
        http) echo http ;;
        *) echo feed ;;
    esac
}

regressions_of() {
    case "$1" in
        http) echo "$repo/Tests/ServiceKitTests/Regressions/http" ;;
        *) echo "$repo/Tests/FeedContractTests/Regressions/$1" ;;
    esac
}

# Lists the Swift sources of a binary, entry file last.
sources_of() {
    case "$1" in
        feed)
            printf '%s\n' "$repo"/Shared/FeedContract/*.swift
            printf '%s\n' "$repo"/Shared/TierGuardModel/{CalendarDate,Fen,Records}.swift
            echo "$here/FeedFuzz.swift"
            ;;
        http)
            printf '%s\n' "$repo"/Shared/ServiceKit/HTTP{RequestParser,Request,Headers,ParseError}.swift
            echo "$here/HTTPFuzz.swift"
            ;;
    esac
}

# Prints the path of the binary for a group, compiling it when its sources changed.
build() {
    local group=$1 hash src out log
    local -a files
    mapfile -t files < <(sources_of "$group")
    hash=$( { swiftc --version 2>&1; cat "${files[@]}"; } | sha256sum | cut -c1-16)
    out="$work/bin/$group-$hash"
    if [ -x "$out" ]; then
        echo "$out"
        return 0
    fi
    src="$work/src/$group-$hash"
    rm -rf "$src"
    mkdir -p "$src"
    cp "${files[@]}" "$src/"
    # One module: the TierGuardModel files are part of it, so their import goes.
    sed -i -E '/^(public )?import TierGuardModel$/d' "$src"/*.swift
    log="$work/logs/build-$group.log"
    echo "compiling the $group fuzzer (log: $log)" >&2
    if ! swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name "FuzzTarget_$group" \
        "$src"/*.swift -o "$out.tmp" >"$log" 2>&1; then
        grep -v "ld.gold: warning" "$log" >&2 || true
        echo "compiling the $group fuzzer failed" >&2
        return 1
    fi
    mv "$out.tmp" "$out"
    echo "$out"
}

# Seeds a target's working corpus from the seeds and the regression inputs (files at the top level
# of Regressions/TARGET only: known-bug inputs live in a subfolder and are not replayed here).
seed_corpus() {
    local target=$1 corpus=$2 dir
    mkdir -p "$corpus"
    for dir in "$here/seeds/$target" "$(regressions_of "$target")"; do
        [ -d "$dir" ] || continue
        find "$dir" -maxdepth 1 -type f -exec cp -t "$corpus" {} +
    done
}

max_len_of() {
    case "$1" in
        values) echo 64 ;;
        http) echo 4096 ;;
        *) echo 8192 ;;
    esac
}

# Runs one target; prints its figures; copies artifacts; returns 1 on a crash.
run_target() {
    local target=$1 binary=$2 corpus="$work/corpus/$1" artifacts="$work/artifacts/$1"
    local log="$work/logs/$1.log" dict="$here/dicts/$1.dict" status=0
    local -a options
    seed_corpus "$target" "$corpus"
    rm -rf "$artifacts"
    mkdir -p "$artifacts"
    options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len_of "$target")"
        -print_final_stats=1 -artifact_prefix="$artifacts/")
    [ -f "$dict" ] && options+=(-dict="$dict")
    echo "fuzzing $target for ${seconds}s (log: $log)"
    SWIFT_BACKTRACE=enable=no TIERGUARD_FUZZ_TARGET=$target \
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
        "$binary" "${options[@]}" "$corpus" >"$log" 2>&1 || status=$?

    local runs rate
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    echo "  $target: ${runs:-?} executions, ${rate:-?} exec/s, corpus $(find "$corpus" -type f | wc -l) inputs, exit $status"

    local found=0 file destination
    destination=$(regressions_of "$target")
    for file in "$artifacts"/*; do
        [ -f "$file" ] || continue
        mkdir -p "$destination"
        cp "$file" "$destination/"
        echo "  CRASH: kept as $destination/$(basename "$file")"
        found=1
    done
    if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
        grep -E "fuzz mismatch|Fatal error|ERROR: AddressSanitizer|ERROR: LeakSanitizer|deadly signal|SUMMARY" "$log" \
            | head -n 8 | sed 's/^/    /' || true
        return 1
    fi
    return 0
}

# Build every binary the targets need, in parallel (two cores), before any fuzzing starts.
declare -A binaries=()
declare -A pids=()
for target in "${targets[@]}"; do
    group=$(group_of "$target")
    [ -n "${pids[$group]:-}" ] && continue
    build "$group" >"$work/bin/.path-$group" &
    pids[$group]=$!
done
for group in "${!pids[@]}"; do
    wait "${pids[$group]}" || { echo "build of $group failed" >&2; exit 1; }
    binaries[$group]=$(cat "$work/bin/.path-$group")
done

failed=()
for target in "${targets[@]}"; do
    run_target "$target" "${binaries[$(group_of "$target")]}" || failed+=("$target")
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "crashes in: ${failed[*]} (inputs copied into the Regressions folders; replay with swift test)" >&2
    exit 1
fi
echo "no crashes"
