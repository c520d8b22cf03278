#!/bin/sh
# Run the bats integration suite against $HUSK (default build/husk).
# Usage: tests/run-integration.sh [bats-file-or-filter...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${HUSK:=$here/../build/husk}"
export HUSK
# The default network's bridge husk0 stays up after its last container (docker0's
# way): the suite takes it down at its end if it was not up before.
bridge_before=0
[ -e /sys/class/net/husk0 ] && bridge_before=1
rc=0
if [ "$#" -gt 0 ]; then
    bats --print-output-on-failure "$@" || rc=$?
else
    bats --print-output-on-failure "$here/integration" || rc=$?
fi
if [ "$bridge_before" = 0 ] && [ -e /sys/class/net/husk0 ]; then
    tmp=$(mktemp -d)
    "$HUSK" --root "$tmp/root" --storage-root "$tmp/store" network rm husk >/dev/null ||
        { echo "run-integration: could not take the default network's bridge husk0 down" >&2; rc=1; }
    rm -rf "$tmp"
fi
exit "$rc"
