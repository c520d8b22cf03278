#!/bin/sh
# run.sh BUILD_DIR SECONDS — run both libFuzzer targets (fuzz_config, fuzz_state) for
# SECONDS each, one job each, one after the other. The working corpus grows in
# $FUZZ_CORPUS (default BUILD_DIR/fuzz-corpus/<target>, not committed); the
# committed seeds in tests/fuzz/seeds/<target>/ are read only. A crash leaves its
# input as BUILD_DIR/fuzz-artifacts/crash-* and makes this script fail.
set -eu
build=$1
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
corpus=${FUZZ_CORPUS:-$build/fuzz-corpus}
art=$build/fuzz-artifacts
mkdir -p "$art"
status=0
for t in config state; do
    mkdir -p "$corpus/$t"
    log=$build/fuzz-$t.log
    echo "fuzz_$t: ${secs}s (log: $log)" >&2
    # detect_leaks: a leak on an error path is a bug like any other.
    if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$build/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
        -dict="$here/config.dict" -max_len=65536 -timeout=60 -rss_limit_mb=2048 \
        -artifact_prefix="$art/" "$corpus/$t" "$here/seeds/$t" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz_$t: FAILED, input saved under $art/" >&2
        status=1
        continue
    fi
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" >&2 || true
done
exit $status
