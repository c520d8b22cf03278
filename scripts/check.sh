#!/usr/bin/env bash
# check.sh — `make check`'s stages, every one run even when an earlier one failed, then
# one summary line per stage and a closing "check: N passed, N failed" line. Exit 1 if
# any stage failed. Each stage is a make target, so one can be re-run alone.
#
#   unit         cmocka unit tests (build/)
#   integration  the bats suite against build/husk
#   vm-v2, vm-v1 cgroup v2 and pure v1 layouts in a qemu VM
#   vm-criu      checkpoint/restore in the VM (Debian's 6.1 kernel: criu 3.17 fails on 6.13+)
#   asan         unit + bats suite again under ASan+UBSan with the test hooks
#   fuzz         each libFuzzer target for FUZZ_TIME seconds
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
stages=(unit integration vm-v2 vm-v1 vm-criu asan fuzz)
declare -A target=([unit]=unit [integration]=integration [vm-v2]=vm-v2 [vm-v1]=vm-v1 [vm-criu]=vm-criu
                   [asan]=asan-check [fuzz]="fuzz FUZZ_TIME=${FUZZ_TIME:-15}")
summary=()
passed=0 failed=0
for s in "${stages[@]}"; do
    echo "=== check: $s" >&2
    start=$(date +%s)
    # shellcheck disable=SC2086 # the target holds make's arguments
    $MAKE --no-print-directory ${target[$s]}
    rc=$?
    secs=$(($(date +%s) - start))
    if [ "$rc" = 0 ]; then
        summary+=("$(printf 'check: %-12s passed (%d s)' "$s" "$secs")")
        passed=$((passed + 1))
    else
        summary+=("$(printf 'check: %-12s FAILED (exit %d, %d s)' "$s" "$rc" "$secs")")
        failed=$((failed + 1))
    fi
done
echo
printf '%s\n' "${summary[@]}"
echo "check: $passed passed, $failed failed"
[ "$failed" = 0 ]
