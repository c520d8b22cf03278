#!/bin/bash
# lifecycles.sh [N=500] [PARALLEL=8] — N full container lifecycles (create, start,
# exec /bin/true, kill, wait stopped, delete), PARALLEL at a time; every 10th id is
# raced by 3 workers at once (exactly one create may win). Then 0 leaked state dirs,
# cgroups, mounts and processes. Prints a "load: lifecycles:" summary line.
# HUSK=path/to/husk (default build/husk). Part of `make load-check`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
HUSK_BIN=$(readlink -f "${HUSK:-$here/../../build/husk}")
LOAD_DIR=$(mktemp -d /tmp/husk-load.XXXXXX)
ROOT=$LOAD_DIR/root
export HUSK_BIN LOAD_DIR ROOT
# shellcheck source=tests/load/lib.sh
. "$here/lib.sh"
trap '[ -n "${LOAD_KEEP:-}" ] || rm -rf --one-file-system "$LOAD_DIR"' EXIT
load_lifecycles "${1:-500}" "${2:-8}"
