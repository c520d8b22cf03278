# lib.sh — a small test harness for the VM (busybox sh, no bats there).
#   t NAME FUNCTION : runs FUNCTION in a subshell with a fresh bundle and id; prints ok/not ok.
# A test fails when its function returns non-zero; `die MSG` prints why.
HUSK=${HUSK:-/bin/husk}
PASSED=0
FAILED=0
N=0
die() { echo "$*"; return 1; }
HUSK_ROOT=/run/husk-test
husk() { "$HUSK" --root "$HUSK_ROOT" "$@"; }

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

# descendants PID: every process below PID.
descendants() {
    for s in /proc/[0-9]*/stat; do
        read -r pid _ _ ppid _ <"$s" 2>/dev/null || continue
        [ "$ppid" = "$1" ] && echo "$pid" && descendants "$pid"
    done
}
# hung PID: what a test that ran out of time was doing (so a hang seen only on another
# machine can be told apart afterwards), then the end of it and of everything it started
# (husk checkpoint or criu left running would hold the container's lock).
hung() {
    echo "timed out after ${TEST_TIMEOUT:-90} s; processes (pid, wchan, command) and kernel stacks:"
    pids=$(descendants "$1")
    for p in $pids; do
        echo "  $p $(cat /proc/$p/wchan 2>/dev/null) $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)"
        sed 's/^/      /' /proc/$p/stack 2>/dev/null | head -n 12
    done
    for f in $(find /tmp/img-$ID -name 'dump.log' -o -name 'restore.log' 2>/dev/null); do
        echo "  last lines of $f:"
        tail -n 15 "$f" | sed 's/^/      /'
    done
    kill -9 "$1" $pids 2>/dev/null
}

t() {
    N=$((N + 1))
    ID=vmt$N
    BUNDLE=/tmp/bundle-$N
    export ID BUNDLE
    # Each test gets TEST_TIMEOUT seconds (default 90): a hang fails that test, not the run.
    (new_bundle "$BUNDLE" && "$2") >/tmp/test.out 2>&1 </dev/null &
    tpid=$!
    (sleep "${TEST_TIMEOUT:-90}" && hung $tpid >>/tmp/test.out 2>&1) &
    wpid=$!
    wait $tpid
    rc=$?
    kill $wpid 2>/dev/null
    out=$(cat /tmp/test.out)
    # Bounded too: a delete that hangs would end the whole run without a word.
    timeout 60 "$HUSK" --root "$HUSK_ROOT" delete --force "$ID" >/dev/null 2>&1
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
