# lib.sh — a small test harness for the VM (busybox sh, no bats there).
#   t NAME FUNCTION : runs FUNCTION in a subshell with a fresh bundle and id; prints ok/not ok.
# A test fails when its function returns non-zero; `die MSG` prints why.
HUSK=${HUSK:-/bin/husk}
PASSED=0
FAILED=0
N=0
die() { echo "$*"; return 1; }
husk() { "$HUSK" --root /run/husk-test "$@"; }

# new_bundle DIR: a busybox bundle running `sleep 100`, config edited with jq.
new_bundle() {
    rm -rf "$1"
    mkdir -p "$1"
    cp -a /rootfs "$1/rootfs"
    "$HUSK" spec --bundle "$1" || return 1
    jq '.process.terminal = false | .process.args = ["sleep", "100"]
        | .root.readonly = false | .linux.cgroupsPath = "/husk/" + $id' --arg id "$ID" \
        "$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
}
# cfg JQ [jq args]: edit $BUNDLE/config.json.
cfg() {
    expr=$1
    shift
    jq "$expr" "$@" <"$BUNDLE/config.json" >"$BUNDLE/c.json" && mv "$BUNDLE/c.json" "$BUNDLE/config.json"
}
set_cmd() { cfg '.process.args = $ARGS.positional' --args -- "$@"; }

t() {
    N=$((N + 1))
    ID=vmt$N
    BUNDLE=/tmp/bundle-$N
    export ID BUNDLE
    # Each test gets TEST_TIMEOUT seconds (default 90): a hang fails that test, not the run.
    (new_bundle "$BUNDLE" && "$2") >/tmp/test.out 2>&1 </dev/null &
    tpid=$!
    (sleep "${TEST_TIMEOUT:-90}" && kill -9 $tpid && echo "timed out" >>/tmp/test.out) 2>/dev/null &
    wpid=$!
    wait $tpid
    rc=$?
    kill $wpid 2>/dev/null
    out=$(cat /tmp/test.out)
    husk delete --force "$ID" >/dev/null 2>&1
    if [ $rc -eq 0 ] && [ -d "$CG_ROOT/husk/$ID" ]; then
        out="$out
#   cgroup $CG_ROOT/husk/$ID left behind"
        rc=1
    fi
    if [ $rc -eq 0 ]; then
        PASSED=$((PASSED + 1))
        echo "ok $N $1"
    else
        FAILED=$((FAILED + 1))
        echo "not ok $N $1"
        echo "$out" | sed 's/^/#   /'
    fi
    rm -rf "$BUNDLE"
}
summary() { echo "vm-$HUSK_VM_LAYOUT: $PASSED passed, $FAILED failed"; }
