#!/usr/bin/env bats
# Container lifecycle: spec, create, start, state, kill, delete, run, list.

load helpers

@test "spec writes a valid default config.json" {
    local d=$TEST_DIR/specdir
    mkdir -p "$d"
    run "$HUSK_BIN" spec --bundle "$d"
    assert_success
    [ -f "$d/config.json" ]
    jq -e '.ociVersion | test("^1\\.")' "$d/config.json"
    jq -e '.process.args == ["sh"]' "$d/config.json"
    jq -e '.process.terminal == true' "$d/config.json"
    jq -e '.root.path == "rootfs"' "$d/config.json"
    jq -e '[.linux.namespaces[].type] | index("pid") and index("mount")' "$d/config.json"
    # spec refuses to overwrite an existing config.json
    run "$HUSK_BIN" spec --bundle "$d"
    assert_failure
}

@test "spec writes config.json to the current directory by default" {
    local d=$TEST_DIR/specdir2
    mkdir -p "$d"
    cd "$d"
    run "$HUSK_BIN" spec
    assert_success
    jq -e . "$d/config.json" >/dev/null
}

@test "spec --rootless adds a user namespace with mappings" {
    local d=$TEST_DIR/specdir3
    mkdir -p "$d"
    run "$HUSK_BIN" spec --rootless --bundle "$d"
    assert_success
    jq -e '[.linux.namespaces[].type] | index("user")' "$d/config.json"
    jq -e '(.linux.uidMappings | length) > 0 and (.linux.gidMappings | length) > 0' "$d/config.json"
}

@test "create: state is created, pid exists, process not yet running the command" {
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    run husk state "$ID"
    assert_success
    local st=$output
    assert_equal "$(jq -r .status <<<"$st")" created
    assert_equal "$(jq -r .id <<<"$st")" "$ID"
    assert_equal "$(jq -r .bundle <<<"$st")" "$BUNDLE"
    jq -e '.ociVersion | type == "string"' <<<"$st"
    local pid
    pid=$(jq -r .pid <<<"$st")
    [ "$pid" -gt 0 ]
    [ -d "/proc/$pid" ]
    # user code has not started: init is not yet `sleep`
    run cat "/proc/$pid/cmdline"
    assert_not_contains "sleep"
    # the state dir exists under our private root, not /run/husk
    [ -d "$ROOT/$ID" ]
    # the default cgroup exists on the memory (or unified) hierarchy
    [ -n "$(cgroup_dirs "$ID")" ]
}

@test "create + start: running, the command runs, kill -> stopped, delete cleans up" {
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    run husk start "$ID"
    assert_success
    wait_status "$ID" running
    local pid
    pid=$(state_field "$ID" pid)
    [ -d "/proc/$pid" ]
    # the container process is our `sleep 100`
    run tr '\0' ' ' <"/proc/$pid/cmdline"
    assert_contains "sleep 100"
    # it is in husk's cgroup on every v1 hierarchy
    local cg
    cg=$(cgroup_dirs "$ID")
    [ -n "$cg" ]
    grep -qx "$pid" /sys/fs/cgroup/memory/husk/"$ID"/cgroup.procs

    run husk kill "$ID" KILL
    assert_success
    wait_status "$ID" stopped
    # state of a stopped container still answers, pid 0 or a dead pid
    run husk state "$ID"
    assert_success

    run husk delete "$ID"
    assert_success
    assert_no_trace "$ID"
    [ ! -d "/proc/$pid" ] || ! grep -q sleep "/proc/$pid/cmdline"
    run husk state "$ID"
    assert_failure
}

@test "start of a container that is already running fails" {
    husk create --bundle "$BUNDLE" "$ID"
    husk start "$ID"
    wait_status "$ID" running
    run husk start "$ID"
    assert_failure
}

@test "container exits on its own -> stopped, delete works without --force" {
    set_cmd sh -c 'exit 0'
    husk create --bundle "$BUNDLE" "$ID"
    husk start "$ID"
    wait_status "$ID" stopped
    run husk delete "$ID"
    assert_success
    assert_no_trace "$ID"
}

@test "run exits with the container's exit code" {
    ctr_run sh -c 'exit 42'
    assert_status 42
    assert_no_trace "$ID"
}

@test "run exit code 0 and stdout passes through" {
    ctr_run sh -c 'echo hello-from-the-container; echo line2'
    assert_success
    assert_contains "hello-from-the-container"
    assert_contains "line2"
}

@test "run: stderr of the container reaches our stderr" {
    # bats' plain `run` merges stderr into $output: keep the two streams apart so a
    # runtime that sent the container's stderr to stdout (or dropped it) fails here.
    set_cmd sh -c 'echo to-stderr >&2; echo to-stdout'
    run --separate-stderr husk run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_contains "to-stderr" "$stderr"
    assert_not_contains "to-stdout" "$stderr"
    assert_contains "to-stdout" "$output"
    assert_not_contains "to-stderr" "$output"
}

@test "run: exit status of a signal-killed container is 128+signal" {
    # pid 1 of a pid namespace ignores signals sent from inside it that it has no
    # handler for (even SIGKILL), so the container cannot kill itself: kill it from
    # the host while `husk run` waits for it in the background.
    set_cmd sleep 100
    local pid rc=0
    # The husk wrapper closes bats' fd 3 for the runtime; the background job's own
    # stdio goes to files so bats does not wait on an inherited pipe.
    husk run --bundle "$BUNDLE" "$ID" </dev/null >"$TEST_DIR/run.out" 2>"$TEST_DIR/run.err" 3>&- &
    pid=$!
    on_cleanup "kill -9 $pid"
    wait_status "$ID" running
    run husk kill "$ID" KILL
    assert_success
    wait "$pid" || rc=$?
    if [ "$rc" -ne 137 ]; then
        cat "$TEST_DIR/run.out" "$TEST_DIR/run.err" >&2
        fail "husk run exited $rc, expected 137 (128 + SIGKILL)"
    fi
    # run without --keep deletes the container once it has stopped
    assert_no_trace "$ID"
}

@test "run without --keep deletes the container; with --keep it stays stopped" {
    ctr_run true
    assert_success
    assert_no_trace "$ID"
    set_cmd true
    run husk run --keep --bundle "$BUNDLE" "$ID"
    assert_success
    wait_status "$ID" stopped
    husk delete "$ID"
    assert_no_trace "$ID"
}

@test "run --detach: returns at once, container keeps running" {
    set_cmd sleep 100
    run husk run --detach --bundle "$BUNDLE" "$ID"
    assert_success
    wait_status "$ID" running
    local pid
    pid=$(state_field "$ID" pid)
    [ -d "/proc/$pid" ]
    husk kill "$ID" KILL
    wait_status "$ID" stopped
    husk delete "$ID"
    assert_no_trace "$ID"
}

@test "run makes no exec.fifo (its container starts as soon as it is created, as crun's run); create does" {
    require_husk
    # a createRuntime hook (host namespaces, during create) lists the state dir
    update_config '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", $c]}]' \
        --arg c "id=\$(jq -r .id); ls \"$ROOT/\$id\" >\"$TEST_DIR/ls.\$id\""
    ctr_run echo started
    assert_success
    assert_contains started
    [ -s "$TEST_DIR/ls.$ID" ] || fail "the hook did not run"
    if grep -qx exec.fifo "$TEST_DIR/ls.$ID"; then fail "run made an exec.fifo: $(cat "$TEST_DIR/ls.$ID")"; fi
    assert_no_trace "$ID"
    # a failing start is still reported by run, and nothing is left
    update_config '.process.capabilities.effective += ["CAP_SYS_ADMIN"]'
    run --separate-stderr husk run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "CAP_SYS_ADMIN is in the effective set but not in the permitted set" "$stderr"
    assert_no_trace "$ID"
    # create waits for start on its exec.fifo, as before
    update_config '.process.capabilities.effective -= ["CAP_SYS_ADMIN"]'
    local id2
    id2=$(new_id)
    husk create --bundle "$BUNDLE" "$id2"
    grep -qx exec.fifo "$TEST_DIR/ls.$id2" || fail "create made no exec.fifo: $(cat "$TEST_DIR/ls.$id2")"
    assert_equal "$(state_field "$id2" status)" created
    husk delete --force "$id2"
    assert_no_trace "$id2"
}

@test "list: table, json and -q show every container" {
    local id2
    id2=$(new_id)
    husk create --bundle "$BUNDLE" "$ID"
    husk create --bundle "$BUNDLE" "$id2"
    husk start "$id2"
    wait_status "$id2" running

    run husk list
    assert_success
    assert_contains "ID"
    assert_contains "$ID"
    assert_contains "$id2"
    [ "$(grep -c "^$ID " <<<"$output")" -eq 1 ]
    grep -E "^$ID +[0-9]+ +created" <<<"$output"
    grep -E "^$id2 +[0-9]+ +running" <<<"$output"

    run husk list -q
    assert_success
    assert_equal "$(sort <<<"$output")" "$(printf '%s\n' "$ID" "$id2" | sort)"

    run husk list -f json
    assert_success
    assert_equal "$(jq -r '.[] | select(.id == "'"$ID"'") | .status' <<<"$output")" created
    assert_equal "$(jq -r '.[] | select(.id == "'"$id2"'") | .status' <<<"$output")" running
    assert_equal "$(jq 'length' <<<"$output")" 2
}

@test "list on an empty root prints nothing with -q and [] or null with json" {
    run husk list -q
    assert_success
    assert_equal "$output" ""
    run husk list -f json
    assert_success
    jq -e '. == [] or . == null' <<<"$output"
}

kill_with() {
    local sig=$1 id
    id=$(new_id)
    husk create --bundle "$BUNDLE" "$id"
    husk start "$id"
    wait_status "$id" running
    run husk kill "$id" "$sig"
    assert_success
    wait_status "$id" stopped
    husk delete "$id"
    assert_no_trace "$id"
}

@test "kill accepts KILL, SIGKILL, 9 and TERM" {
    kill_with KILL
    kill_with SIGKILL
    kill_with 9
    # sleep as pid 1 ignores SIGTERM unless it has a handler: use a shell that traps it
    set_cmd sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done'
    kill_with TERM
    kill_with SIGTERM
}

@test "kill without a signal sends SIGTERM" {
    set_cmd sh -c 'trap "echo got-term > /tmp/term; exit 3" TERM; while :; do sleep 0.1; done'
    husk create --bundle "$BUNDLE" "$ID"
    husk start "$ID"
    wait_status "$ID" running
    run husk kill "$ID"
    assert_success
    wait_status "$ID" stopped
    [ "$(cat "$BUNDLE/rootfs/tmp/term")" = got-term ]
}

@test "kill with an invalid signal fails and the container keeps running" {
    husk create --bundle "$BUNDLE" "$ID"
    husk start "$ID"
    wait_status "$ID" running
    run husk kill "$ID" NOTASIGNAL
    assert_failure
    run husk kill "$ID" 999
    assert_failure
    run husk state "$ID"
    assert_equal "$(jq -r .status <<<"$output")" running
}

@test "kill ID 0 and kill --all ID 0 (signal 0): success while alive, an error once stopped" {
    set_cmd sh -c 'sleep 100 & wait'
    husk create --bundle "$BUNDLE" "$ID"
    # created: the init exists (waiting for start)
    run husk kill "$ID" 0
    assert_success
    husk start "$ID"
    wait_status "$ID" running
    run husk kill "$ID" 0
    assert_success
    run husk kill --all "$ID" 0
    assert_success
    # nothing was sent: still running
    run husk state "$ID"
    assert_equal "$(jq -r .status <<<"$output")" running
    # paused: alive too
    run husk pause "$ID"
    assert_success
    run husk kill "$ID" 0
    assert_success
    run husk resume "$ID"
    assert_success
    run husk kill --all "$ID" KILL
    assert_success
    wait_status "$ID" stopped
    run husk kill "$ID" 0
    assert_failure
    assert_contains "not running"
    # --all: no process left in the cgroup is the answer "no" too (runc 1.1 says yes)
    if is_husk; then
        run husk kill --all "$ID" 0
        assert_failure
        assert_contains "not running"
    fi
    run husk kill nosuch 0
    assert_failure
}

@test "kill --all kills every process of the container" {
    set_cmd sh -c 'sleep 100 & sleep 100 & wait'
    husk create --bundle "$BUNDLE" "$ID"
    husk start "$ID"
    wait_status "$ID" running
    sleep 0.3
    local procs
    procs=$(cat /sys/fs/cgroup/pids/husk/"$ID"/cgroup.procs)
    [ "$(wc -l <<<"$procs")" -ge 3 ]
    run husk kill --all "$ID" KILL
    assert_success
    wait_status "$ID" stopped
    local p
    for p in $procs; do
        for _ in $(seq 50); do [ -d "/proc/$p" ] || break; sleep 0.1; done
        [ ! -d "/proc/$p" ] || fail "process $p survived kill --all"
    done
}

@test "delete of a running container fails without --force, works with it" {
    husk create --bundle "$BUNDLE" "$ID"
    husk start "$ID"
    wait_status "$ID" running
    local pid
    pid=$(state_field "$ID" pid)
    run husk delete "$ID"
    assert_failure
    [ -d "$ROOT/$ID" ]
    wait_status "$ID" running
    run husk delete --force "$ID"
    assert_success
    assert_no_trace "$ID"
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ ! -d "/proc/$pid" ]
}

@test "delete --force of a created (never started) container" {
    husk create --bundle "$BUNDLE" "$ID"
    local pid
    pid=$(state_field "$ID" pid)
    run husk delete --force "$ID"
    assert_success
    assert_no_trace "$ID"
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ ! -d "/proc/$pid" ]
}

@test "--pid-file holds the container's pid" {
    run husk create --pid-file "$TEST_DIR/pid" --bundle "$BUNDLE" "$ID"
    assert_success
    [ -f "$TEST_DIR/pid" ]
    local pid
    pid=$(cat "$TEST_DIR/pid")
    assert_equal "$pid" "$(state_field "$ID" pid)"
    [ -d "/proc/$pid" ]
}

@test "create with an existing id fails and leaves the first container intact" {
    husk create --bundle "$BUNDLE" "$ID"
    local pid
    pid=$(state_field "$ID" pid)
    run --separate-stderr husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    if is_husk; then
        assert_contains "exists" "$stderr"
        [[ $stderr == "husk: "* ]]
    fi
    assert_equal "$(state_field "$ID" pid)" "$pid"
    assert_equal "$(state_field "$ID" status)" created
    [ -d "/proc/$pid" ]
    # and it still starts
    run husk start "$ID"
    assert_success
    wait_status "$ID" running
}

@test "unknown id: state, start, kill, delete all fail with 'does not exist'" {
    local verb
    for verb in state start kill delete; do
        run --separate-stderr husk "$verb" nosuchcontainer
        assert_failure
        if is_husk; then
            assert_contains "does not exist" "$stderr"
            [[ $stderr == "husk: "* ]] || fail "stderr does not start with 'husk: ': $stderr"
            [ "$(wc -l <<<"$stderr")" -eq 1 ] || fail "more than one line: $stderr"
        fi
    done
    assert_root_empty
}

@test "invalid ids are refused and nothing is created" {
    local long bad before
    before=$(ls /sys/fs/cgroup/memory/husk 2>/dev/null | grep -v '^husk-t[0-9]' || true)
    long=$(head -c 2000 /dev/zero | tr '\0' a)
    for bad in "../x" "a/b" "$long" "" "." ".." "/abs" "a b"; do
        run husk create --bundle "$BUNDLE" "$bad"
        [ "$status" -ne 0 ] || fail "id '${bad:0:40}' was accepted"
        run husk run --bundle "$BUNDLE" "$bad"
        [ "$status" -ne 0 ] || fail "run with id '${bad:0:40}' was accepted"
    done
    assert_root_empty
    [ ! -e "$TEST_DIR/x" ]
    # Other test runs may create their own husk-t* containers meanwhile: compare the rest.
    assert_equal "$(ls /sys/fs/cgroup/memory/husk 2>/dev/null | grep -v '^husk-t[0-9]' || true)" "$before"
    [ ! -e /sys/fs/cgroup/memory/x ] && [ ! -e /sys/fs/cgroup/memory/abs ]
}

@test "state JSON has the annotations from config.json" {
    update_config '.annotations = {"org.example.key": "value1"}'
    husk create --bundle "$BUNDLE" "$ID"
    run husk state "$ID"
    assert_success
    assert_equal "$(jq -r '.annotations["org.example.key"]' <<<"$output")" value1
}

@test "create with a relative --bundle path resolves it" {
    cd "$TEST_DIR"
    run husk create --bundle bundle "$ID"
    assert_success
    assert_equal "$(state_field "$ID" bundle)" "$BUNDLE"
}

@test "create without --bundle uses the current directory" {
    cd "$BUNDLE"
    run husk create "$ID"
    assert_success
    assert_equal "$(state_field "$ID" bundle)" "$BUNDLE"
}

@test "--root defaults aside: two roots do not see each other's containers" {
    husk create --bundle "$BUNDLE" "$ID"
    mkdir -p "$TEST_DIR/root2"
    run "$HUSK_BIN" --root "$TEST_DIR/root2" list -q
    assert_success
    assert_equal "$output" ""
}

@test "--log writes to the given file, --log-format json is JSON lines" {
    require_husk
    run "$HUSK_BIN" --root "$ROOT" --log "$TEST_DIR/log.json" --log-format json --debug state nosuch
    assert_failure
    [ -s "$TEST_DIR/log.json" ]
    while read -r line; do
        jq -e . <<<"$line" >/dev/null || fail "not JSON: $line"
    done <"$TEST_DIR/log.json"
}
