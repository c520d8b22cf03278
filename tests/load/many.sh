#!/bin/bash
# many.sh [N=200] [PARALLEL=8] — N containers running at once: created and started
# (PARALLEL at a time), then no husk process is left (the runtime is not a daemon),
# `husk list` shows all N (timed), `husk state` of each works, then all are deleted
# with 0 leaks. Prints a "load: many:" summary line.
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
load_many "${1:-200}" "${2:-8}"
