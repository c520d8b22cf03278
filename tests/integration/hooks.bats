#!/usr/bin/env bats
# OCI hooks (config.md "POSIX-platform Hooks"): order, namespace, state on stdin,
# args/env, timeout, and what a failing hook of each kind does.

load helpers

# One hook script, used both from the host and from inside the container (the rootfs
# has busybox sh): it appends "NAME MNTNS" to LOG and saves its stdin, args and env.
#   hook NAME LOG [extra args...]
write_hook() {
    local f=$1
    cat >"$f" <<'EOF'
#!/bin/sh
name=$1
log=$2
shift 2
cat >"$log.$name.json"
echo "$name $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid)" >>"$log"
echo "$*" >"$log.$name.args"
echo "${HOOKVAR-unset}" >"$log.$name.env"
exit 0
EOF
    chmod 755 "$f"
}

setup() {
    husk_setup
    valgrind_startcontainer_hooks
    HOOK=$TEST_DIR/hook.sh
    write_hook "$HOOK"
    # the same script inside the container, for startContainer
    write_hook "$BUNDLE/rootfs/hook.sh"
    # One log for every stage: host hooks write it through the host path of the
    # rootfs, startContainer through its container path.
    LOG=$BUNDLE/rootfs/order.log
    export HOOK LOG
}

teardown() {
    husk_teardown
}

# hook_json PATH NAME LOG [extra args] — a hook entry.
hook_json() {
    local path=$1 name=$2 log=$3
    shift 3
    jq -nc --arg p "$path" --arg n "$name" --arg l "$log" \
        '{path: $p, args: ([$p, $n, $l] + $ARGS.positional), env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOOKVAR=v-\($n)"]}' \
        --args -- "$@"
}

all_hooks() {
    local j
    j=$(jq -nc \
        --argjson ps "$(hook_json "$HOOK" prestart "$LOG" a1 'a 2')" \
        --argjson cr "$(hook_json "$HOOK" createRuntime "$LOG")" \
        --argjson cc "$(hook_json "$HOOK" createContainer "$LOG")" \
        --argjson sc "$(hook_json /hook.sh startContainer /order.log)" \
        --argjson pst "$(hook_json "$HOOK" poststart "$LOG")" \
        --argjson psp "$(hook_json "$HOOK" poststop "$LOG")" \
        '{prestart: [$ps], createRuntime: [$cr], createContainer: [$cc], startContainer: [$sc],
          poststart: [$pst], poststop: [$psp]}')
    update_config '.hooks = $h | .annotations = {"org.test.hooks": "yes"}' --argjson h "$j"
}

@test "hooks: all six run in order, in the right namespaces, with the state on stdin" {
    # runc 1.1 runs poststart hooks at the end of `create`, not of `start` (against
    # config.md "Poststart"); crun and husk follow the spec.
    is_husk || skip "runc 1.1 runs poststart during create"
    all_hooks
    local host_mnt
    host_mnt=$(host_ns mnt)

    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    # create ran prestart, createRuntime, createContainer — and nothing else yet
    run cut -d' ' -f1 "$LOG"
    assert_equal "$(echo $output)" "prestart createRuntime createContainer"
    local pid
    pid=$(state_field "$ID" pid)

    run husk start "$ID"
    assert_success
    run cut -d' ' -f1 "$LOG"
    assert_equal "$(echo $output)" "prestart createRuntime createContainer startContainer poststart"

    run husk delete --force "$ID"
    assert_success
    run cut -d' ' -f1 "$LOG"
    assert_equal "$(echo $output)" "prestart createRuntime createContainer startContainer poststart poststop"

    # namespaces: runtime hooks in the host's mount ns, container hooks in the container's
    local ctr_mnt=""
    while read -r name mnt pidns; do
        case $name in
            prestart | createRuntime | poststart | poststop)
                assert_equal "$mnt" "$host_mnt" ;;
            createContainer | startContainer)
                [ "$mnt" != "$host_mnt" ] || fail "$name ran in the host mount namespace"
                [ -z "$ctr_mnt" ] || assert_equal "$mnt" "$ctr_mnt"
                ctr_mnt=$mnt ;;
        esac
    done <"$LOG"
    # startContainer was found at /hook.sh *inside* the container: it only exists there
    [ ! -e /hook.sh ]
    [ -s "$LOG.startContainer.json" ]

    # the state each hook got on stdin
    local n
    for n in prestart createRuntime createContainer startContainer poststart poststop; do
        jq -e --arg id "$ID" --arg b "$BUNDLE" \
            '.id == $id and .bundle == $b and (.ociVersion | test("^1\\.")) and
             .annotations["org.test.hooks"] == "yes"' "$LOG.$n.json" >/dev/null ||
            fail "$n: bad state: $(cat "$LOG.$n.json")"
    done
    assert_equal "$(jq -r .status "$LOG.prestart.json")" creating
    assert_equal "$(jq -r .status "$LOG.createRuntime.json")" creating
    assert_equal "$(jq -r .status "$LOG.createContainer.json")" creating
    assert_equal "$(jq -r .status "$LOG.startContainer.json")" created
    assert_equal "$(jq -r .status "$LOG.poststart.json")" running
    assert_equal "$(jq -r .status "$LOG.poststop.json")" stopped
    # hooks that run while the container has a process see its pid (CNI-style hooks
    # need it to find /proc/PID/ns/net)
    for n in prestart createRuntime createContainer startContainer poststart; do
        assert_equal "$(jq -r .pid "$LOG.$n.json")" "$pid"
    done

    # args and env are the configured ones, nothing inherited
    assert_equal "$(cat "$LOG.prestart.args")" "a1 a 2"
    assert_equal "$(cat "$LOG.createRuntime.env")" "v-createRuntime"
    assert_equal "$(cat "$LOG.startContainer.env")" "v-startContainer"
}

@test "hooks: env is exactly the configured one (no inheritance from husk)" {
    cat >"$TEST_DIR/envhook" <<EOF
#!/bin/sh
env >"$TEST_DIR/env.out"
EOF
    chmod 755 "$TEST_DIR/envhook"
    update_config '.hooks.createRuntime = [{path: $p, env: ["ONLY=1"]}]' --arg p "$TEST_DIR/envhook"
    SECRET_FROM_CALLER=leak run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    grep -qx 'ONLY=1' "$TEST_DIR/env.out"
    run grep -c SECRET_FROM_CALLER "$TEST_DIR/env.out"
    assert_equal "$output" 0
}

@test "hooks: without env, runtime hooks get the runtime's environment, container hooks the process's" {
    cat >"$TEST_DIR/envhook" <<EOF
#!/bin/sh
env >"$TEST_DIR/env.\$1"
EOF
    chmod 755 "$TEST_DIR/envhook"
    update_config '.process.env += ["FROM_PROCESS=p1"]
        | .hooks.prestart = [{path: $p, args: [$p, "prestart"]}]
        | .hooks.createRuntime = [{path: $p, args: [$p, "createRuntime"]}]
        | .hooks.createContainer = [{path: $p, args: [$p, "createContainer"]}]' --arg p "$TEST_DIR/envhook"
    FROM_CALLER=c1 run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    grep -qx 'FROM_CALLER=c1' "$TEST_DIR/env.prestart"
    grep -qx 'FROM_CALLER=c1' "$TEST_DIR/env.createRuntime"
    # createContainer runs in the container's namespaces: the caller's variables stay out
    grep -qx 'FROM_PROCESS=p1' "$TEST_DIR/env.createContainer"
    run grep -c FROM_CALLER "$TEST_DIR/env.createContainer"
    assert_equal "$output" 0
}

@test "hooks: working directories: bundle (prestart, createRuntime), rootfs (createContainer), caller's (poststop)" {
    cat >"$TEST_DIR/cwdhook" <<EOF
#!/bin/sh
pwd -P >"$TEST_DIR/cwd.\$1"
EOF
    chmod 755 "$TEST_DIR/cwdhook"
    local k j='{}'
    for k in prestart createRuntime createContainer poststop; do
        j=$(jq -c --arg k "$k" --arg p "$TEST_DIR/cwdhook" '.[$k] = [{path: $p, args: [$p, $k]}]' <<<"$j")
    done
    update_config '.hooks = $h' --argjson h "$j"
    mkdir "$TEST_DIR/elsewhere"
    local bundle
    bundle=$(cd "$BUNDLE" && pwd -P)
    cd "$TEST_DIR/elsewhere"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    run husk delete --force "$ID"
    assert_success
    assert_equal "$(cat "$TEST_DIR/cwd.prestart")" "$bundle"
    assert_equal "$(cat "$TEST_DIR/cwd.createRuntime")" "$bundle"
    assert_equal "$(cat "$TEST_DIR/cwd.createContainer")" "$bundle/rootfs"
    assert_equal "$(cat "$TEST_DIR/cwd.poststop")" "$(pwd -P)"
}

@test "hooks: a createContainer hook's bind mount under ./ lands in the container" {
    echo from-the-host >"$TEST_DIR/src-file"
    mkdir -p "$BUNDLE/rootfs/lib"
    update_config '.hooks.createContainer = [{path: "/bin/sh",
        args: ["sh", "-c", "touch ./lib/x && mount --bind \"$0\" ./lib/x", $src]}]' --arg src "$TEST_DIR/src-file"
    ctr_run cat /lib/x
    assert_success
    assert_contains from-the-host
    # the mount was made in the container's mount namespace only
    ! grep -q "$BUNDLE/rootfs/lib/x" /proc/self/mountinfo
}

@test "hooks: poststop runs when run deletes the container" {
    update_config '.hooks.poststop = [$h]' --argjson h "$(hook_json "$HOOK" poststop "$LOG")"
    ctr_run true
    assert_success
    grep -q '^poststop ' "$LOG"
    assert_equal "$(jq -r .id "$LOG.poststop.json")" "$ID"
    assert_no_trace "$ID"
}

# ---------------------------------------------------------------- failing hooks

# After a failed create: no state dir, no cgroup, no process left with the rootfs.
assert_create_left_nothing() {
    assert_no_trace "$ID"
    assert_root_empty
    # readlink /proc/PID/root says "/" after pivot_root: compare device and inode
    local p want
    want=$(stat -c '%d:%i' "$BUNDLE/rootfs")
    for p in /proc/[0-9]*; do
        [ "$(stat -Lc '%d:%i' "$p/root" 2>/dev/null)" != "$want" ] ||
            fail "process ${p#/proc/} left with the container's root"
    done
    ! grep -q "$TEST_DIR" /proc/self/mountinfo || fail "mount left under $TEST_DIR"
}

@test "hooks: a failing prestart hook fails create and leaves nothing" {
    update_config '.hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    if is_husk; then
        assert_contains "prestart hook #0"
        assert_contains "exit status 3"
    fi
    assert_create_left_nothing
}

@test "hooks: a failing createRuntime hook fails create and leaves nothing; later hooks do not run" {
    update_config '.hooks.createRuntime = [{path: "/bin/false"}, $h] | .hooks.createContainer = [$c]' \
        --argjson h "$(hook_json "$HOOK" second-createRuntime "$LOG")" \
        --argjson c "$(hook_json "$HOOK" createContainer "$LOG")"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "createRuntime hook #0 (/bin/false)"
    [ ! -e "$LOG" ] || fail "hooks after the failing one ran: $(cat "$LOG")"
    assert_create_left_nothing
}

@test "hooks: a failing createContainer hook fails create and leaves nothing" {
    update_config '.hooks.createContainer = [{path: "/bin/sh", args: ["sh", "-c", "echo from-hook >&2; exit 7"]}]'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "createContainer hook #0"
    assert_create_left_nothing
}

@test "hooks: a hook that does not exist fails create and leaves nothing" {
    update_config '.hooks.createRuntime = [{path: "/nonexistent/hook"}]'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "/nonexistent/hook"
    assert_create_left_nothing
}

@test "hooks: a hook past its timeout is killed and fails create" {
    # runc 1.1 kills the hook but then waits for its children, which hold its stdout
    is_husk || skip "runc 1.1 waits for the timed-out hook's children"
    # not `exec sleep`: the shell's child must be killed with it
    update_config '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo $$ >'"$TEST_DIR"'/hookpid; sleep 29.123; true"], timeout: 1}]'
    local t0=$SECONDS
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    [ $((SECONDS - t0)) -lt 10 ] || fail "create took $((SECONDS - t0))s: timeout not honoured"
    is_husk && assert_contains "timed out"
    # the hook process itself is gone
    local hp
    hp=$(cat "$TEST_DIR/hookpid")
    ! kill -0 "$hp" 2>/dev/null || fail "hook process $hp still alive"
    sleep 0.2
    ! pgrep -f "sleep 29.123" >/dev/null || fail "the hook's child is still alive"
    assert_create_left_nothing
}

@test "hooks: a hook within its timeout succeeds" {
    update_config '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "sleep 0.2"], timeout: 5}]'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    wait_status "$ID" created
}

@test "hooks: a hook that ignores its stdin does not break create" {
    # the state is larger than a pipe buffer with this many annotations
    update_config '.annotations = ([range(0; 3000)] | map({key: "k\(.)", value: "v\(.)"}) | from_entries)
        | .hooks.createRuntime = [{path: "/bin/true"}]'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
}

@test "hooks: a failing startContainer hook fails start; the user program never runs" {
    cat >"$BUNDLE/rootfs/failhook" <<'EOF'
#!/bin/sh
exit 4
EOF
    chmod 755 "$BUNDLE/rootfs/failhook"
    # runc 1.1 reports a failing startContainer hook only on the container's stderr:
    # its `start` has already returned 0. husk makes `start` fail (runtime.md "start").
    is_husk || skip "runc 1.1: start succeeds despite a failing startContainer hook"
    set_cmd sh -c 'touch /ran; sleep 100'
    update_config '.hooks.startContainer = [{path: "/failhook"}]'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    run husk start "$ID"
    assert_failure
    is_husk && assert_contains "startContainer hook #0"
    wait_status "$ID" stopped
    [ ! -e "$BUNDLE/rootfs/ran" ] || fail "user program ran after a failing startContainer hook"
    run husk delete "$ID"
    assert_success
    assert_no_trace "$ID"
}

# runtime.md v1.3, lifecycle step 9: "If any poststart hook fails, the runtime MUST
# generate an error, stop the container, and continue the lifecycle at step 12" (older
# specs said: log a warning). husk follows v1.3: start fails and the container is
# stopped; delete then removes it and runs poststop.
@test "hooks: a failing poststart hook fails start and stops the container" {
    update_config '.hooks.poststart = [{path: "/bin/false"}, $h] | .hooks.poststop = [$p]' \
        --argjson h "$(hook_json "$HOOK" poststart2 "$LOG")" \
        --argjson p "$(hook_json "$HOOK" poststop "$LOG")"
    is_husk || skip "runc 1.1 runs poststart during create, where a failure fails create"
    husk create --bundle "$BUNDLE" "$ID"
    local pid
    pid=$(state_field "$ID" pid)
    run husk start "$ID"
    assert_failure
    assert_contains "poststart hook #0"
    wait_status "$ID" stopped
    # gone, or a zombie waiting for its reaper
    [ ! -e "/proc/$pid" ] || grep -qE '^State:[[:space:]]+[ZX]' "/proc/$pid/status" ||
        fail "container init $pid still alive"
    # hooks after the failing one did not run
    ! grep -q poststart2 "$LOG" 2>/dev/null || fail "a hook after the failing poststart hook ran"
    run husk delete "$ID"
    assert_success
    grep -q '^poststop ' "$LOG"
    assert_no_trace "$ID"
}

# runtime.md lifecycle step 13: a failing poststop hook is a warning, "the remaining
# hooks and lifecycle continue as if the hook had succeeded".
@test "hooks: a failing poststop hook is a warning; the other poststop hooks still run" {
    update_config '.hooks.poststop = [{path: "/bin/sh", args: ["sh", "-c", "exit 9"]}, $h]' \
        --argjson h "$(hook_json "$HOOK" poststop "$LOG")"
    husk create --bundle "$BUNDLE" "$ID"
    run husk delete --force "$ID"
    assert_success
    assert_no_trace "$ID"
    # runc 1.1 stops the list at the failing hook, against runtime.md step 13
    is_husk || skip "runc 1.1 skips the poststop hooks after a failing one"
    assert_contains "poststop hook #0"
    grep -q '^poststop ' "$LOG" || fail "the poststop hook after the failing one did not run"
}

# runtime.md: "Any updates to config.json after this step [create] MUST NOT affect the
# container" — the hooks of start and delete are the ones of create.
@test "hooks: changing or removing config.json after create does not change the hooks" {
    update_config '.hooks.poststart = [$a] | .hooks.poststop = [$b]' \
        --argjson a "$(hook_json "$HOOK" poststart "$LOG")" \
        --argjson b "$(hook_json "$HOOK" poststop "$LOG")"
    husk create --bundle "$BUNDLE" "$ID"
    update_config '.hooks = {poststart: [{path: "/bin/false"}], poststop: [{path: "/bin/false"}]}'
    run husk start "$ID"
    assert_success
    grep -q '^poststart ' "$LOG"
    mv "$BUNDLE/config.json" "$BUNDLE/config.json.moved"
    run husk delete --force "$ID"
    assert_success
    assert_not_contains "/bin/false"
    grep -q '^poststop ' "$LOG"
    assert_no_trace "$ID"
}

@test "hooks: a failing hook is reported in --log too" {
    update_config '.hooks.createRuntime = [{path: "/bin/false"}]'
    run "$HUSK_BIN" --root "$ROOT" --log "$TEST_DIR/log.json" --log-format json create --bundle "$BUNDLE" "$ID" </dev/null 3>&-
    assert_failure
    if is_husk; then
        jq -e 'select(.level == "error") | .msg | test("createRuntime hook")' "$TEST_DIR/log.json" >/dev/null ||
            fail "no error line in log: $(cat "$TEST_DIR/log.json")"
    fi
    assert_create_left_nothing
}
