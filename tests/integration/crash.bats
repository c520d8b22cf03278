#!/usr/bin/env bats
# crash.bats — crash safety (issue 5): husk killed at every named step of create,
# start, exec and delete leaves nothing behind that `delete --force` cannot remove,
# and `list` / `state` report broken state directories instead of crashing.
#
# The kill points exist only in test builds (meson -Dtest_hooks=true, as the ASan
# build of `make check` is): HUSK_TEST_KILL_AT=NAME makes the process that reaches
# NAME die there with SIGKILL; HUSK_TEST_KILL_AT=list prints every NAME (one a line,
# NAME<TAB>PROCESS<TAB>what is half-made; src/runtime/testhooks.c). Every point the binary
# lists is exercised, so a new point is tested as soon as it is in the table.
#
# "Nothing left" (assert_clean): no state dir under ROOT, no cgroup /sys/fs/cgroup/*/husk/ID
# (the unified one included), no mount under TEST_DIR, no process of the container
# (its program is `sleep MARK`, a number unique to the test) and no husk process of
# this test's --root (a setup stage or exec child that outlived its CLI).

load helpers

# The kill points of the binary under test, or nothing (plain build, runc).
kill_points() {
    is_husk || return 0
    HUSK_TEST_KILL_AT=list "$HUSK_BIN" --version 2>/dev/null | awk -F'\t' 'NF == 3 { print $1 }'
}

setup() {
    husk_setup
    [ -n "$(kill_points)" ] || skip "no kill points in $HUSK (configure with -Dtest_hooks=true)"
    MARK="97${RANDOM}${RANDOM}"
    set_cmd sleep "$MARK"
}

# Pids whose command line matches the extended regex $1 (never pgrep itself).
procs_matching() {
    pgrep -f -- "$1" || true
}

# Processes of the test: the container's program, or any husk of this --root.
test_procs() {
    { procs_matching "sleep $MARK"; procs_matching "--root $ROOT "; } | sort -u
}

# wait_no_procs SECONDS: until no process of the test is left (they may be exiting).
wait_no_procs() {
    local i left
    for ((i = 0; i < $1 * 20; i++)); do
        left=$(test_procs)
        [ -z "$left" ] && return 0
        sleep 0.05
    done
    ps -o pid,stat,args -p "$(echo $left | tr ' ' ,)" >&2 || true
    fail "processes left: $left"
}

assert_clean() {
    local id=$1 m
    assert_no_trace "$id"
    m=$(awk -v p="$TEST_DIR" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo)
    [ -z "$m" ] || fail "mounts left:" "$m"
    wait_no_procs 3
}

# list and state on whatever the crash left: never crash or hang; state is the OCI
# JSON (exit 0) or one line naming the id (exit 1); list succeeds.
assert_reports_sanely() {
    local id=$1
    run --separate-stderr timeout 10 "$HUSK_BIN" --root "$ROOT" state "$id"
    case $status in
        0) jq -e --arg id "$id" '.id == $id' <<<"$output" >/dev/null || fail "state $id: bad JSON: $output" ;;
        1)
            assert_one_line "$stderr"
            assert_contains "$id" "$stderr"
            ;;
        *)
            show_run
            fail "state $id: exit status $status (crash or hang)"
            ;;
    esac
    run --separate-stderr timeout 10 "$HUSK_BIN" --root "$ROOT" list
    assert_success
    if [ -d "$ROOT/$id" ]; then
        assert_contains "$id"
    fi
}

# The crash left its state dir: with no live creator and no recorded init it is
# half-made, and a new create says so and names the fix; otherwise a plain "exists".
assert_create_again_refused() {
    local id=$1 half=$2
    run --separate-stderr husk create --bundle "$BUNDLE" "$id"
    assert_failure
    assert_one_line "$stderr"
    assert_contains "container with id exists: $id" "$stderr"
    if [ "$half" = 1 ]; then
        assert_contains "delete --force $id" "$stderr"
    fi
}

# Half-made: the state dir exists, and state.json is missing, unreadable or has pid 0.
is_half_made() {
    local f=$ROOT/$1/state.json
    [ -d "$ROOT/$1" ] || return 1
    [ -f "$f" ] || return 0
    [ "$(jq -r '.pid' "$f" 2>/dev/null)" != 0 ] || return 0
    jq -e . "$f" >/dev/null 2>&1 || return 0
    return 1
}

# After a crash: `delete --force` cleans everything.
delete_clean() {
    local id=$1
    run husk delete --force "$id"
    assert_success
    assert_clean "$id"
}

# ... and the id works again: nothing the crash left (a cgroup, a stale state dir)
# is in the way of a new create, whose init is then waiting for start.
delete_and_reuse() {
    local id=$1
    delete_clean "$id"
    husk create --bundle "$BUNDLE" "$id"
    [ -n "$(procs_matching "--root $ROOT create .*$id")" ] || fail "no init of the re-created $id"
    husk delete --force "$id"
    assert_clean "$id"
}

# crash_at POINT ARGS...: `husk ARGS...` with HUSK_TEST_KILL_AT=POINT.
crash_at() {
    local p=$1
    shift
    HUSK_TEST_KILL_AT=$p husk "$@"
}

assert_one_line() {
    local n
    n=$(printf '%s' "$1" | grep -c '')
    [ "$n" -eq 1 ] || fail "expected one line, got $n:" "$1"
}

@test "kill points: the table lists every step of issue 5, each with its process" {
    local all
    all=$(kill_points)
    local p
    for p in create.after-state-dir create.after-cgroup create.after-stage1-fork \
        create.stage1.after-namespaces create.stage2.after-namespaces create.stage2.after-mounts \
        create.stage2.before-pivot \
        create.after-state-written create.before-return start.before-release start.after-release \
        start.after-poststart exec.after-fork exec.after-cgroup exec.child.after-setns \
        delete.after-kill delete.after-cgroup-removal delete.before-state-removal; do
        grep -qx -- "$p" <<<"$all" || fail "kill point $p missing from: $all"
    done
    # unset or unknown: a normal run
    HUSK_TEST_KILL_AT=no.such.point husk create --bundle "$BUNDLE" "$ID"
    husk delete --force "$ID"
    assert_clean "$ID"
}

# Stage 1 runs only when the init cannot be cloned straight into its namespaces
# (one joined by path, a user or time namespace): its points are reached with the
# bundle joining a namespace, the test's own IPC one; the others with the plain one,
# whose init is cloned directly (create.stage2.after-namespaces).
use_stage1() {
    if [ "$1" = 1 ]; then
        [ -f "$TEST_DIR/config.plain" ] || cp "$BUNDLE/config.json" "$TEST_DIR/config.plain"
        update_config '.linux.namespaces |= map(if .type == "ipc" then .path = $p else . end)' \
            --arg p "/proc/$$/ns/ipc"
    elif [ -f "$TEST_DIR/config.plain" ]; then
        cp "$TEST_DIR/config.plain" "$BUNDLE/config.json"
    fi
}

@test "crash in create: at every point, delete --force leaves nothing; orphans die by themselves" {
    local p id half
    for p in $(kill_points | grep '^create\.'); do
        id=$(new_id)
        case $p in
            create.stage1.*) use_stage1 1 ;;
            *) use_stage1 0 ;;
        esac
        # (through the wrapper: the init, if any, must not hold bats' pipes)
        run --separate-stderr crash_at "$p" create --bundle "$BUNDLE" "$id"
        case $p in
            create.stage1.* | create.stage2.*)
                # a setup stage died: create sees it and cleans up by itself
                [ "$status" -eq 1 ] || { show_run; fail "$p: create exit $status, wanted 1"; }
                assert_one_line "$stderr"
                assert_clean "$id"
                ;;
            create.before-return)
                # create had finished its work: a complete created container
                [ "$status" -eq 137 ] || { show_run; fail "$p: create exit $status, wanted 137"; }
                wait_status "$id" created
                ;;
            *)
                [ "$status" -eq 137 ] || { show_run; fail "$p: create exit $status, wanted 137 (SIGKILL)"; }
                # the setup processes and the init of an unfinished create do not
                # outlive it: they see the sync socket close (stage 1 also has
                # PR_SET_PDEATHSIG) and exit, cgroups or not
                wait_no_procs 5
                ;;
        esac
        assert_reports_sanely "$id"
        if [ -d "$ROOT/$id" ]; then
            half=0
            is_half_made "$id" && half=1
            if [ "$half" = 1 ]; then
                # without --force, delete refuses with the reason
                run --separate-stderr husk delete "$id"
                assert_failure
                assert_contains "--force" "$stderr"
            fi
            assert_create_again_refused "$id" "$half"
        fi
        delete_and_reuse "$id"
    done
}

@test "crash in start: at every point, delete --force leaves nothing" {
    local p id
    # a poststart hook, so that start.after-poststart follows one
    update_config '.hooks.poststart = [{path: "/bin/true"}]'
    for p in $(kill_points | grep '^start\.'); do
        id=$(new_id)
        case $p in
            # the init reads HUSK_TEST_KILL_AT from its own environment: create's
            start.init.*)
                crash_at "$p" create --bundle "$BUNDLE" "$id"
                run "$HUSK_BIN" --root "$ROOT" start "$id"
                ;;
            *)
                husk create --bundle "$BUNDLE" "$id"
                run env HUSK_TEST_KILL_AT="$p" "$HUSK_BIN" --root "$ROOT" start "$id"
                ;;
        esac
        case $p in
            start.init.*)
                # the init died: start reports it
                [ "$status" -eq 1 ] || { show_run; fail "$p: start exit $status, wanted 1"; }
                ;;
            *) [ "$status" -eq 137 ] || { show_run; fail "$p: start exit $status, wanted 137"; } ;;
        esac
        assert_reports_sanely "$id"
        case $p in
            start.after-release | start.after-poststart)
                # the init was released: the container is running even though start
                # died before removing exec.fifo, so neither start nor a plain
                # delete may treat it as created
                assert_equal "$(state_field "$id" status)" running
                run --separate-stderr husk start "$id"
                assert_failure
                assert_contains "cannot start a container that is running" "$stderr"
                run --separate-stderr husk delete "$id"
                assert_failure
                assert_equal "$(state_field "$id" status)" running
                ;;
        esac
        delete_clean "$id"
    done
}

@test "crash in exec: at every point, the container is intact and delete --force leaves nothing" {
    local p id out
    for p in $(kill_points | grep '^exec\.'); do
        id=$(new_id)
        husk create --bundle "$BUNDLE" "$id"
        husk start "$id"
        run env HUSK_TEST_KILL_AT="$p" timeout 20 "$HUSK_BIN" --root "$ROOT" exec "$id" sleep "1$MARK"
        # the CLI died (137), or the process it started did (its status: 137)
        [ "$status" -eq 137 ] || { show_run; fail "$p: exec exit $status, wanted 137"; }
        # no half-joined process is left behind, in the container or out of it
        local i
        for ((i = 0; i < 60; i++)); do
            [ -z "$(procs_matching "--root $ROOT ")" ] && break
            sleep 0.05
        done
        out=$(procs_matching "--root $ROOT ")
        [ -z "$out" ] || fail "$p: exec process left: $out"
        [ -z "$(procs_matching "sleep 1$MARK")" ] || fail "$p: the exec'd program runs"
        # the container itself goes on
        run "$HUSK_BIN" --root "$ROOT" exec "$id" true
        assert_success
        delete_clean "$id"
    done
}

@test "crash in delete: at every point, a second delete --force finishes the job" {
    local p id
    for p in $(kill_points | grep '^delete\.'); do
        id=$(new_id)
        husk create --bundle "$BUNDLE" "$id"
        husk start "$id"
        run env HUSK_TEST_KILL_AT="$p" "$HUSK_BIN" --root "$ROOT" delete --force "$id"
        [ "$status" -eq 137 ] || { show_run; fail "$p: delete exit $status, wanted 137"; }
        # killed before it removed anything but the processes
        [ -d "$ROOT/$id" ] || fail "$p: state dir already gone"
        [ -z "$(procs_matching "sleep $MARK")" ] || fail "$p: container program survived the kill"
        assert_reports_sanely "$id"
        assert_create_again_refused "$id" 0
        delete_clean "$id"
    done
}

# ---------------------------------------------------------------- broken state dirs

# break_state ID KIND: damage ID's state.json the way a crash or a tamperer could.
break_state() {
    local d=$ROOT/$1
    case $2 in
        empty) : >"$d/state.json" ;;
        truncated) head -c 30 "$d/state.json" >"$d/t" && mv "$d/t" "$d/state.json" ;;
        missing) rm "$d/state.json" ;;
        directory) rm "$d/state.json" && mkdir "$d/state.json" ;;
        symlink) cp "$d/state.json" "$TEST_DIR/real.json" && ln -sf "$TEST_DIR/real.json" "$d/state.json" ;;
        fifo) rm "$d/state.json" && mkfifo "$d/state.json" ;;
        wrong-types) jq -c '.pid = "1" | .cgroup_paths = 3' "$d/state.json" >"$d/t" && mv "$d/t" "$d/state.json" ;;
        nul) printf '{"id":\0}' >"$d/state.json" ;;
        *) fail "break_state: unknown kind $2" ;;
    esac
}

@test "broken state.json: state exits 1 with one line, list shows the others, delete --force cleans" {
    local good kind bad i
    local kinds=(empty truncated missing directory symlink fifo wrong-types nul)
    local -A ids pids
    good=$(new_id)
    husk create --bundle "$BUNDLE" "$good"
    for kind in "${kinds[@]}"; do
        ids[$kind]=$(new_id)
        husk create --bundle "$BUNDLE" "${ids[$kind]}"
        pids[$kind]=$(jq -r .pid "$ROOT/${ids[$kind]}/state.json")
        break_state "${ids[$kind]}" "$kind"
    done

    # one broken container must not hide the others, nor hang or crash list
    run --separate-stderr timeout 10 "$HUSK_BIN" --root "$ROOT" list
    [ "$status" -eq 0 ] || { show_run; fail "list exit $status"; }
    assert_contains "$good" "$output"
    for kind in "${kinds[@]}"; do
        bad=${ids[$kind]}
        assert_contains "$bad" "$stderr"
        # listed with an unknown status, not silently dropped
        grep -E "^$bad +0 +unknown" <<<"$output" >/dev/null || fail "$kind: no 'unknown' row for $bad in: $output"
    done
    [ "$(grep -c '' <<<"$stderr")" -eq "${#kinds[@]}" ] || fail "list: one stderr line per broken one:" "$stderr"
    run --separate-stderr timeout 10 "$HUSK_BIN" --root "$ROOT" list -f json
    [ "$status" -eq 0 ] || { show_run; fail "list -f json exit $status"; }
    jq -e --arg id "$good" 'map(.id) == [$id]' <<<"$output" >/dev/null || fail "list -f json: $output"

    for kind in "${kinds[@]}"; do
        bad=${ids[$kind]}
        run --separate-stderr timeout 10 "$HUSK_BIN" --root "$ROOT" state "$bad"
        [ "$status" -eq 1 ] || { show_run; fail "$kind: state exit $status, wanted 1"; }
        assert_one_line "$stderr"
        assert_contains "$bad" "$stderr"

        run --separate-stderr timeout 10 "$HUSK_BIN" --root "$ROOT" delete "$bad"
        assert_failure
        assert_contains "--force" "$stderr"
        run timeout 10 "$HUSK_BIN" --root "$ROOT" delete --force "$bad"
        assert_success
        assert_no_trace "$bad"
        # its init was found through the default cgroup /husk/<id> and killed
        for ((i = 0; i < 40; i++)); do
            [ -e "/proc/${pids[$kind]}" ] && ! grep -qE '^State:[[:space:]]+[ZX]' "/proc/${pids[$kind]}/status" 2>/dev/null ||
                break
            sleep 0.05
        done
        [ "$i" -lt 40 ] || fail "$kind: init ${pids[$kind]} survived delete --force"
    done
    # the symlink's target was neither followed into nor removed
    [ -f "$TEST_DIR/real.json" ] || fail "delete --force removed the target of a symlinked state.json"
    wait_status "$good" created
}
