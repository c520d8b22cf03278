#!/usr/bin/env bats
# concurrency.bats — the short version of the load tests (tests/load/, make load-check):
# lifecycles running side by side with contested ids, and many containers at once.
# The numbers are kept small so that this also runs under ASan in make check.

load helpers

setup() {
    husk_setup
    LOAD_DIR=$TEST_DIR/load
    LOAD_ROOTFS=$(husk_rootfs)
    export LOAD_DIR LOAD_ROOTFS
    # shellcheck source=tests/load/lib.sh
    . "$HUSK_REPO/tests/load/lib.sh"
}

@test "concurrency: 40 lifecycles 8 at a time, contested ids have exactly one winner, nothing leaks" {
    require_husk
    # Ids 9, 19, 29, 39 go to 3 workers released together: one create wins, the two
    # others fail with "container with id exists" and the winner is untouched.
    LOAD_TIMEOUT=60 run load_lifecycles 40 8
    echo "$output"
    assert_success
    assert_contains "load: lifecycles: 40 ids, 8 at a time, 4 contested by 3 racers (8 losers refused)"
    assert_contains "errors 0, leaks 0"
}

@test "concurrency: 30 containers at once, no husk process left, list and state see all, nothing leaks" {
    require_husk
    LOAD_TIMEOUT=60 run load_many 30 8
    echo "$output"
    assert_success
    assert_contains "load: many: 30 containers up"
    assert_contains "errors 0, leaks 0"
}

@test "concurrency: a create losing the race for an id leaves the winner's state and cgroup alone" {
    require_husk
    # The deterministic core of the race: the id is taken (the winner is mid-create or
    # done); the loser must fail with one line and remove nothing of the winner.
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    local pid cg
    pid=$(state_field "$ID" pid)
    cg=$(cgroup_dirs "$ID")
    [ -n "$cg" ]
    run --separate-stderr husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_equal "$(wc -l <<<"$stderr")" 1
    assert_contains "container with id exists: $ID" "$stderr"
    assert_equal "$(state_field "$ID" status)" created
    assert_equal "$(state_field "$ID" pid)" "$pid"
    assert_equal "$(cgroup_dirs "$ID")" "$cg"
    [ -p "$ROOT/$ID/exec.fifo" ]
    run husk start "$ID"
    assert_success
    wait_status "$ID" running
    run husk delete --force "$ID"
    assert_success
    assert_no_trace "$ID"
}
