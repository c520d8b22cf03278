#!/bin/sh
# run.sh HUSK_BINARY [bats-file...] — the integration suite (or the given files)
# with every husk process under valgrind's memcheck (tests/valgrind/husk-vg), then
# the verdict from the logs (tests/valgrind/scan-logs.sh). `make valgrind-check`.
# Fails if a test fails, or if any husk process had a memcheck error or lost memory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
real=$(readlink -f "${1:?usage: run.sh HUSK_BINARY [bats-file...]}")
shift
logdir=${HUSK_VG_LOGDIR:-$(dirname "$real")/valgrind-logs}
rm -rf "$logdir"
mkdir -p "$logdir"
export HUSK="$here/husk-vg" HUSK_VG_REAL="$real" HUSK_VG_LOGDIR="$logdir" HUSK_UNDER_VALGRIND=1

start=$(date +%s)
"$here/../run-integration.sh" "$@"
tests=$?
end=$(date +%s)
echo "valgrind: suite took $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s; logs in $logdir"
"$here/scan-logs.sh" "$logdir"
logs=$?
[ "$tests" -eq 0 ] || echo "valgrind: the integration tests failed (exit $tests)"
[ "$tests" -eq 0 ] && [ "$logs" -eq 0 ]
