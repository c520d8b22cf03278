# container.bash — what the `husk container` tests share: a private store
# (--storage-root) and runtime root (--root) per test, a busybox image made from
# the host's busybox-static (no network), and a teardown that removes every
# container and then fails the test if anything of one is left: a monitor or
# container process, a mount, a cgroup, runtime state.

load helpers

container_setup() {
    husk_setup
    STORE=$TEST_DIR/store
    export STORE
    local rootfs
    rootfs=$(husk_rootfs)
    tar -C "$rootfs" -cf "$TEST_DIR/bb.tar" .
    hc image import -c 'CMD ["sh"]' "$TEST_DIR/bb.tar" busybox:t >/dev/null || fail "image import failed"
}

# hc ARGS: husk with the test's store and root
hc() {
    "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" "$@"
}

# the full id of a container
cid() {
    hc container inspect --format '{{.Id}}' "$1"
}

# wait_state NAME STATUS: until inspect says it (5 s)
wait_state() {
    local i s
    for i in $(seq 1 100); do
        s=$(hc container inspect --format '{{.State.Status}}' "$1" 2>/dev/null) || s=gone
        [ "$s" = "$2" ] && return 0
        sleep 0.05
    done
    fail "container $1 is $s, not $2"
}

# alive PID: the process exists and is not a zombie (an orphan is reaped by
# whichever ancestor is its subreaper, maybe not at once)
alive() {
    [ -r "/proc/$1/stat" ] && ! awk '{ exit !($3 == "Z" || $3 == "X") }' "/proc/$1/stat"
}

container_teardown() {
    [ -n "${TEST_DIR:-}" ] && [ -d "$TEST_DIR" ] || return 0
    local problems="" id p
    if [ -d "$STORE/containers" ]; then
        for id in $(hc container ls -aq --no-trunc 2>/dev/null); do
            echo "$id" >>"$TEST_DIR/ids"
            hc container rm -f "$id" >/dev/null 2>&1 || problems+=$'\n'"container rm -f $id failed"
        done
        for d in "$STORE"/containers/*/; do
            id=$(basename "$d")
            [ "$id" = names ] && continue
            [ -d "$d" ] || continue
            problems+=$'\n'"container directory left: $id"
        done
    fi
    # nothing of the default network's (the host's) is left for this store: an
    # address lease naming it, the network namespace of one of its containers
    local lease
    for lease in $(grep -rlxF -- "$STORE" /run/husk/net/husk0 2>/dev/null); do
        problems+=$'\n'"lease left: $lease"
        rm -f "$lease"
    done
    while read -r id; do
        [ -n "$id" ] && [ -e "/run/husk/net/ns/$id" ] && problems+=$'\n'"netns left: /run/husk/net/ns/$id"
    done <"$TEST_DIR/ids"
    # no monitor of this store is left running
    for p in $(pgrep -f "husk-monitor .*$STORE" 2>/dev/null); do
        problems+=$'\n'"monitor left: $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)"
        kill -9 "$p" 2>/dev/null
    done
    husk_teardown
    if [ -n "$problems" ]; then
        fail "container teardown found leftovers:$problems"
    fi
}

setup() {
    container_setup
}

teardown() {
    container_teardown
}
