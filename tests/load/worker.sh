#!/bin/bash
# worker.sh — one task of the load tests, run by xargs -P from tests/load/lib.sh:
#   worker.sh lifecycle ID K NRACERS | worker.sh start ID | worker.sh delete ID
# Results go to files under $LOAD_DIR/res/ID/; the driver checks them.
set -u
# shellcheck source=tests/load/lib.sh
. "$(dirname "$0")/lib.sh"
case ${1-} in
    lifecycle) load_lifecycle "$2" "$3" "$4" ;;
    start) load_start_one "$2" ;;
    delete) load_delete_one "$2" ;;
    *) echo "worker.sh: unknown task ${1-}" >&2; exit 2 ;;
esac
