#!/usr/bin/env bats
# container-crash.bats — `husk container run` and `rm` killed at each of their kill
# points (src/runtime/testhooks.c, "container-*"; test builds only, as the ASan
# build of `make check`) leave the container absent or whole: `ls -a` lists it or
# not, a listed one starts and is removed, and then nothing is left (the teardown
# checks: no container dir, runtime state, mount, cgroup or monitor).

load container

container_points() {
    HUSK_TEST_KILL_AT=list "$HUSK_BIN" --version 2>/dev/null | awk -F'\t' 'NF == 3 && /^container-/ { print $1 }'
}

@test "container run killed at each step: the container is absent or whole, and removable" {
    require_husk
    local points p n=0 id
    points=$(container_points)
    [ -n "$points" ] || skip "no kill points in $HUSK (configure with -Dtest_hooks=true)"
    for p in $(grep -v '^container-rm' <<<"$points"); do
        n=$((n + 1))
        run env HUSK_TEST_KILL_AT="$p" "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" \
            container run -d --name "k$n" busybox:t sleep 100
        assert_status 137
        # (the teardown checks no netns of these is left)
        ls "$STORE/containers" | grep -v names >>"$TEST_DIR/ids" || true
        run hc container ls -a --format '{{.Names}} {{.State}}'
        assert_success
        if grep -q "^k$n " <<<"$output"; then
            # whole: it starts (again) and runs
            run hc container start "k$n"
            assert_success
            wait_state "k$n" running
            run hc container rm -f "k$n"
            assert_success
        fi
        # the name is free again either way
        run hc container run -d --name "k$n" busybox:t sleep 100
        assert_success
        run hc container rm -f "k$n"
        assert_success
        [ -z "$(ls "$ROOT")" ] || fail "$p: runtime state left: $(ls "$ROOT")"
        ! grep -q "$STORE/containers" /proc/self/mountinfo || fail "$p: mount left"
        # it ran on the default network: no address of it is leased any more
        ! grep -rqxF -- "$STORE" /run/husk/net/husk0 2>/dev/null || fail "$p: lease left"
        [ -z "$(ls "$STORE/containers" | grep -v names)" ] || fail "$p: left: $(ls "$STORE/containers")"
    done
}

@test "container rm killed at each step: rm again removes everything" {
    require_husk
    local points p
    points=$(container_points)
    [ -n "$points" ] || skip "no kill points in $HUSK (configure with -Dtest_hooks=true)"
    for p in $(grep '^container-rm' <<<"$points"); do
        hc container run -d --name r busybox:t sleep 100 >/dev/null
        run env HUSK_TEST_KILL_AT="$p" "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" container rm -f r
        assert_status 137
        ls "$STORE/containers" | grep -v names >>"$TEST_DIR/ids" || true
        run hc container rm -f r
        assert_success
        [ -z "$(ls "$ROOT")" ] || fail "$p: runtime state left"
        ! grep -rqxF -- "$STORE" /run/husk/net/husk0 2>/dev/null || fail "$p: lease left"
        [ -z "$(ls "$STORE/containers" | grep -v names)" ] || fail "$p: left: $(ls "$STORE/containers")"
    done
}
