#!/bin/sh
# Run the bats integration suite against $HUSK (default build/husk).
# Usage: tests/run-integration.sh [bats-file-or-filter...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${HUSK:=$here/../build/husk}"
export HUSK
if [ "$#" -gt 0 ]; then
    exec bats --print-output-on-failure "$@"
fi
exec bats --print-output-on-failure "$here/integration"
