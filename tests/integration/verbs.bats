#!/usr/bin/env bats
# The verbs that work through a live container's cgroups: pause, resume, update,
# events, ps. Checked by what the container's processes do (a counter that stops
# and advances, forks that fail, an OOM kill) and by the cgroup files the host sees.
#
# Written for this host's layout (hybrid: v1 controllers plus a cgroup2 mount at
# /sys/fs/cgroup/unified); tests needing a v1 controller skip when it is absent.

load helpers


# Start a container detached (create + start) and wait until it runs.
ctr_start() {
    set_cmd "$@"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    run husk start "$ID"
    assert_success
    wait_status "$ID" running
}

# The counter the container below keeps writing, read from the host.
counter() { cat "$BUNDLE/rootfs/cnt" 2>/dev/null || echo 0; }

start_counter() {
    ctr_start sh -c 'i=0; while :; do i=$((i+1)); echo $i > /cnt.new; mv /cnt.new /cnt; sleep 0.01; done'
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(counter)" -gt 2 ] && return 0
        sleep 0.05
    done
    fail "the counter never started"
}

# ---------------------------------------------------------------- pause / resume

@test "pause stops every process (status paused), resume lets them run again" {
    start_counter
    run husk pause "$ID"
    assert_success
    assert_equal "$(state_field "$ID" status)" paused
    # list derives the same status
    run husk list -f json
    assert_success
    assert_equal "$(jq -r --arg id "$ID" '.[] | select(.id == $id) | .status' <<<"$output")" paused
    local a b
    a=$(counter)
    sleep 0.5
    b=$(counter)
    assert_equal "$b" "$a"
    if [ -d "$CG/freezer" ]; then
        assert_equal "$(cat "$(cgdir freezer)/freezer.state")" FROZEN
    fi

    run husk resume "$ID"
    assert_success
    assert_equal "$(state_field "$ID" status)" running
    sleep 0.5
    b=$(counter)
    [ "$b" -gt "$a" ] || fail "counter did not advance after resume: $a -> $b"
}

@test "pause and resume refuse the wrong state, an unknown id, bad arguments" {
    run husk pause nosuch
    assert_failure
    assert_contains "does not exist"
    run husk resume nosuch
    assert_failure
    assert_contains "does not exist"

    ctr_start sleep 100
    run husk resume "$ID"
    assert_failure
    ! is_husk || assert_contains "not paused"
    run husk pause "$ID"
    assert_success
    run husk pause "$ID"
    assert_failure
    ! is_husk || assert_contains "already paused"
    run husk resume "$ID"
    assert_success

    run husk kill "$ID" KILL
    assert_success
    wait_status "$ID" stopped
    run husk pause "$ID"
    assert_failure
    ! is_husk || assert_contains "stopped"
    run husk resume "$ID"
    assert_failure

    run husk pause
    assert_failure
    run husk pause "$ID" extra
    assert_failure
}

@test "kill on a paused container: TERM waits for resume, KILL works at once" {
    ctr_start sh -c 'trap "echo got-term > /term; exit 3" TERM; while :; do sleep 0.1; done'
    run husk pause "$ID"
    assert_success
    run husk kill "$ID" TERM
    assert_success
    sleep 0.5
    [ ! -e "$BUNDLE/rootfs/term" ] || fail "a frozen process handled TERM"
    assert_equal "$(state_field "$ID" status)" paused
    run husk resume "$ID"
    assert_success
    wait_for_file "$BUNDLE/rootfs/term" 5
    wait_status "$ID" stopped 5

    ID=$(new_id)
    rm -f "$BUNDLE/rootfs/term"
    ctr_start sleep 100
    run husk pause "$ID"
    assert_success
    run husk kill "$ID" KILL
    assert_success
    wait_status "$ID" stopped 5
    run husk delete "$ID"
    assert_success
    assert_no_trace "$ID"
}

@test "delete --force on a paused container thaws and kills it, leaving nothing" {
    ctr_start sh -c 'sleep 100 & sleep 100'
    local pid
    pid=$(state_field "$ID" pid)
    run husk pause "$ID"
    assert_success
    run husk delete "$ID"
    assert_failure
    run husk delete --force "$ID"
    assert_success
    # gone, or at most a zombie waiting for its reaper
    local i
    for ((i = 0; i < 40; i++)); do
        [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
        sleep 0.05
    done
    [ ! -e "/proc/$pid" ] || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] ||
        fail "init $pid survived delete --force"
    assert_no_trace "$ID"
}

# ---------------------------------------------------------------- update

@test "update: runc's flags land in the cgroup files" {
    require_v1 memory
    require_v1 pids
    require_v1 cpu
    ctr_start sleep 100
    run husk update --memory 64m --memory-reservation 32M --pids-limit 50 --cpu-period 100000 \
        --cpu-quota 50000 --cpu-share 512 "$ID"
    assert_success
    assert_equal "$(cat "$(cgdir memory)/memory.limit_in_bytes")" 67108864
    assert_equal "$(cat "$(cgdir memory)/memory.soft_limit_in_bytes")" 33554432
    assert_equal "$(cat "$(cgdir pids)/pids.max")" 50
    assert_equal "$(cat "$(cgdir cpu)/cpu.cfs_period_us")" 100000
    assert_equal "$(cat "$(cgdir cpu)/cpu.cfs_quota_us")" 50000
    assert_equal "$(cat "$(cgdir cpu)/cpu.shares")" 512

    # -1 is unlimited again; a size with a fraction and a "b" suffix parses
    run husk update --memory -1 --pids-limit -1 --cpu-quota -1 "$ID"
    assert_success
    assert_equal "$(cat "$(cgdir pids)/pids.max")" max
    assert_equal "$(cat "$(cgdir cpu)/cpu.cfs_quota_us")" -1
    [ "$(cat "$(cgdir memory)/memory.limit_in_bytes")" -gt 1000000000000 ] || fail "memory not unlimited"
    run husk update --memory 1.5gb "$ID"
    assert_success
    assert_equal "$(cat "$(cgdir memory)/memory.limit_in_bytes")" 1610612736

    # a value not given stays as it was
    run husk update --pids-limit 77 "$ID"
    assert_success
    assert_equal "$(cat "$(cgdir memory)/memory.limit_in_bytes")" 1610612736
    assert_equal "$(cat "$(cgdir pids)/pids.max")" 77

    # --kernel-memory is accepted and ignored with a warning
    run --separate-stderr husk update --kernel-memory 100m "$ID"
    assert_success
    ! is_husk || assert_contains "ignored" "$stderr"
}

@test "update: flags after the id, or before and after it, as runc takes them" {
    require_v1 pids
    require_v1 cpu
    ctr_start sleep 100
    run husk update "$ID" --cpu-period 100001
    assert_success
    assert_equal "$(cat "$(cgdir cpu)/cpu.cfs_period_us")" 100001
    run husk update --pids-limit 42 "$ID" --cpu-period 100002 --cpu-quota=50000
    assert_success
    assert_equal "$(cat "$(cgdir pids)/pids.max")" 42
    assert_equal "$(cat "$(cgdir cpu)/cpu.cfs_period_us")" 100002
    assert_equal "$(cat "$(cgdir cpu)/cpu.cfs_quota_us")" 50000
    # still exactly one id, and unknown flags after it are refused
    run husk update "$ID" "$ID" --pids-limit 7
    assert_failure
    run husk update "$ID" --no-such-flag 1
    assert_failure
    assert_equal "$(cat "$(cgdir pids)/pids.max")" 42
}

@test "update: memory with memory-swap in either order (v1 memsw ordering)" {
    require_v1 memory
    [ -e "$CG/memory/memory.memsw.limit_in_bytes" ] || skip "no swap accounting (memsw) here"
    update_config '.linux.resources.memory = {limit: 67108864, swap: 67108864}'
    ctr_start sleep 100
    local d
    d=$(cgdir memory)
    # raising both: memsw must go first
    run husk update --memory 256m --memory-swap 512m "$ID"
    assert_success
    assert_equal "$(cat "$d/memory.limit_in_bytes")" 268435456
    assert_equal "$(cat "$d/memory.memsw.limit_in_bytes")" 536870912
    # lowering both: the limit must go first
    run husk update --memory 32m --memory-swap 48m "$ID"
    assert_success
    assert_equal "$(cat "$d/memory.limit_in_bytes")" 33554432
    assert_equal "$(cat "$d/memory.memsw.limit_in_bytes")" 50331648
    # memory -1 alone takes memsw with it
    run husk update --memory -1 "$ID"
    assert_success
    assert_equal "$(cat "$d/memory.memsw.limit_in_bytes")" "$(cat "$d/memory.limit_in_bytes")"
    [ "$(cat "$d/memory.limit_in_bytes")" -gt 1000000000000 ] || fail "memory not unlimited"
}

@test "update --resources FILE and - (stdin); other flags are then ignored (runc's rule)" {
    require_v1 pids
    require_v1 cpu
    ctr_start sleep 100
    cat >"$TEST_DIR/res.json" <<'EOF'
{"pids": {"limit": 33}, "cpu": {"quota": 20000, "period": 100000}}
EOF
    run husk update --resources "$TEST_DIR/res.json" "$ID"
    assert_success
    assert_equal "$(cat "$(cgdir pids)/pids.max")" 33
    assert_equal "$(cat "$(cgdir cpu)/cpu.cfs_quota_us")" 20000

    run --separate-stderr husk update -r - --pids-limit 44 "$ID" <<<'{"pids": {"limit": 55}, "cpu": {"quota": 30000}}'
    assert_success
    assert_equal "$(cat "$(cgdir pids)/pids.max")" 55
    assert_equal "$(cat "$(cgdir cpu)/cpu.cfs_quota_us")" 30000
    ! is_husk || assert_contains "ignored" "$stderr"
}

@test "update refuses bad input with one clear error and changes nothing" {
    require_v1 pids
    ctr_start sleep 100
    local before
    before=$(cat "$(cgdir pids)/pids.max")

    echo '{"pids": {"limit": "many"}}' >"$TEST_DIR/bad.json"
    run husk update --resources "$TEST_DIR/bad.json" "$ID"
    assert_failure
    ! is_husk || assert_contains "pids.limit"

    echo '{"pids": ' >"$TEST_DIR/broken.json"
    run husk update --resources "$TEST_DIR/broken.json" "$ID"
    assert_failure
    ! is_husk || assert_contains "invalid JSON"

    run husk update --resources "$TEST_DIR/nonexistent.json" "$ID"
    assert_failure

    run husk update --memory lots "$ID"
    assert_failure
    ! is_husk || assert_contains "--memory"

    run husk update --pids-limit 12x "$ID"
    assert_failure

    if is_husk; then
        run husk update --blkio-weight 5 "$ID"
        assert_failure
        assert_contains "10 to 1000"
    fi

    run husk update --pids-limit 10 nosuch
    assert_failure
    assert_contains "does not exist"

    if is_husk; then
        run husk update "$ID"
        assert_failure
        assert_contains "nothing to update"
    fi
    assert_equal "$(cat "$(cgdir pids)/pids.max")" "$before"

    run husk kill "$ID" KILL
    assert_success
    wait_status "$ID" stopped
    run husk update --pids-limit 10 "$ID"
    assert_failure
    ! is_husk || assert_contains "stopped"
}

@test "update: a new pids limit stops forks in the running container" {
    require_v1 pids
    # Wait for /go, then try to start 8 sleepers from a subshell (the shell that
    # cannot fork exits; the init then execs, which needs no fork).
    ctr_start sh -c 'while [ ! -e /go ]; do sleep 0.1; done
        (for i in 1 2 3 4 5 6 7 8; do sleep 100 & done)
        echo spawned > /done; exec sleep 100'
    assert_equal "$(cat "$(cgdir pids)/pids.max")" max
    run husk update --pids-limit 4 "$ID"
    assert_success
    assert_equal "$(cat "$(cgdir pids)/pids.max")" 4
    touch "$BUNDLE/rootfs/go"
    wait_for_file "$BUNDLE/rootfs/done"
    local n
    n=$(grep -c . "$(cgdir pids)/cgroup.procs")
    [ "$n" -le 4 ] || fail "$n processes in a cgroup limited to 4"
    [ "$(cat "$(cgdir pids)/pids.current")" -le 4 ]
    assert_contains "fork" "$(ctr_stderr "$ID")"
    [ "$(cat "$(cgdir pids)/pids.events" 2>/dev/null | awk '{print $2}')" -gt 0 ] ||
        [ ! -e "$(cgdir pids)/pids.events" ]
}

# ---------------------------------------------------------------- events

@test "events --stats prints one stats event in runc's format" {
    ctr_start sh -c 'sleep 100 & sleep 100 & wait'
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(husk ps -f json "$ID" | jq length)" = 3 ] && break
        sleep 0.1
    done
    run --separate-stderr husk events --stats "$ID"
    assert_success
    [ "$(wc -l <<<"$output")" = 1 ] || fail "more than one line: $output"
    jq -e . >/dev/null <<<"$output" || fail "not JSON: $output"
    assert_equal "$(jq -r .type <<<"$output")" stats
    assert_equal "$(jq -r .id <<<"$output")" "$ID"
    assert_equal "$(jq -r .data.pids.current <<<"$output")" 3
    if [ -d "$CG/pids" ]; then
        assert_equal "$(jq -r .data.pids.current <<<"$output")" "$(cat "$(cgdir pids)/pids.current")"
    fi
    # the groups runc has, with its field names
    jq -e '.data | has("cpu") and has("memory") and has("pids") and has("blkio") and has("hugetlb")' \
        <<<"$output" >/dev/null || fail "missing groups: $output"
    jq -e '.data.cpu.usage | has("kernel") and has("user")' <<<"$output" >/dev/null || fail "cpu.usage: $output"
    jq -e '.data.cpu.usage.total > 0' <<<"$output" >/dev/null || fail "no cpu usage: $output"
    jq -e '.data.memory.usage.usage > 0 and (.data.memory.usage | has("limit") and has("failcnt"))' \
        <<<"$output" >/dev/null || fail "memory.usage: $output"
    jq -e '.data.memory | has("swap") and has("kernel") and (.raw | type == "object")' \
        <<<"$output" >/dev/null || fail "memory: $output"
    jq -e '.data.cpu.throttling | type == "object"' <<<"$output" >/dev/null || fail "throttling: $output"
    if [ -d "$CG/memory" ]; then
        # (compared as text: jq would round a 64-bit limit)
        assert_contains "\"usage\":{\"limit\":$(cat "$(cgdir memory)/memory.limit_in_bytes"),"
    fi

    # a pids limit shows up as pids.limit
    require_v1 pids
    run husk update --pids-limit 99 "$ID"
    assert_success
    run husk events --stats "$ID"
    assert_success
    assert_equal "$(jq -r .data.pids.limit <<<"$output")" 99
}

@test "events streams stats every --interval, reports an OOM kill, ends when the container stops" {
    require_v1 memory
    ctr_start sh -c 'while [ ! -e /go ]; do sleep 0.1; done
        (dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null && echo survived > /survived)
        echo after > /after; sleep 100'
    # the limit comes from update: it must take effect
    local sw=()
    [ -e "$CG/memory/memory.memsw.limit_in_bytes" ] && sw=(--memory-swap 32m)
    run husk update --memory 32m "${sw[@]}" "$ID"
    assert_success

    "$HUSK_BIN" --root "$ROOT" events --interval 300ms "$ID" >"$TEST_DIR/events" 2>"$TEST_DIR/events.err" 3>&- &
    local evpid=$!
    on_cleanup "kill $evpid"
    sleep 0.8
    touch "$BUNDLE/rootfs/go"
    # dd's one 64 MiB buffer, filled from /dev/zero, is over the limit at once (as in
    # tests/vm): an OOM kill, not a shell string growing into reclaim for a while
    wait_for_file "$BUNDLE/rootfs/after" 60
    [ ! -e "$BUNDLE/rootfs/survived" ] || fail "the hog survived a 32m limit"
    local i
    for ((i = 0; i < 40; i++)); do
        grep -q '"type":"oom"' "$TEST_DIR/events" && break
        sleep 0.1
    done
    grep -qx "{\"type\":\"oom\",\"id\":\"$ID\"}" "$TEST_DIR/events" || fail "no oom event:" "$(cut -c1-200 "$TEST_DIR/events")"
    # (the stream goes on while the container runs: a slow husk, under valgrind, may
    # not have written its second one yet)
    for ((i = 0; i < 100; i++)); do
        [ "$(grep -c '"type":"stats"' "$TEST_DIR/events")" -ge 2 ] && break
        sleep 0.1
    done
    [ "$(grep -c '"type":"stats"' "$TEST_DIR/events")" -ge 2 ] || fail "fewer than 2 stats events"
    # every line is a JSON event
    jq -e -s 'all(.[]; .id == $id and (.type == "stats" or .type == "oom"))' --arg id "$ID" \
        <"$TEST_DIR/events" >/dev/null || fail "bad lines:" "$(cut -c1-200 "$TEST_DIR/events")"

    # husk ends the stream when the container stops (runc only once it is deleted)
    is_husk || return 0
    run husk kill "$ID" KILL
    assert_success
    for ((i = 0; i < 50; i++)); do
        kill -0 "$evpid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$evpid" 2>/dev/null; then
        fail "events still running after the container stopped"
    fi
    wait "$evpid"
    [ ! -s "$TEST_DIR/events.err" ] || fail "events stderr:" "$(cat "$TEST_DIR/events.err")"
}

@test "events refuses an unknown id, a stopped container, a bad interval" {
    run husk events --stats nosuch
    assert_failure
    assert_contains "does not exist"
    ctr_start sleep 100
    run husk events --interval 0s "$ID"
    assert_failure
    run husk events --interval fast "$ID"
    assert_failure
    ! is_husk || assert_contains "--interval"
    run husk kill "$ID" KILL
    assert_success
    wait_status "$ID" stopped
    run husk events --stats "$ID"
    assert_failure
    ! is_husk || assert_contains "not running"
}

# ---------------------------------------------------------------- ps

@test "ps -f json lists the init and its children (host pids)" {
    ctr_start sh -c 'sleep 100 & echo $! > /child; wait'
    wait_for_file "$BUNDLE/rootfs/child"
    local init child
    init=$(state_field "$ID" pid)
    # the child's host pid: the child of init
    child=$(cat "/proc/$init/task/$init/children" | tr -d ' ')
    [ -n "$child" ] || fail "no child of $init"
    run husk ps -f json "$ID"
    assert_success
    jq -e --argjson a "$init" --argjson b "$child" 'type == "array" and length == 2 and index($a) != null and
        index($b) != null' <<<"$output" >/dev/null || fail "ps json: $output (init $init child $child)"
}

@test "ps (table) keeps ps's header and only the container's processes" {
    ctr_start sh -c 'sleep 100 & wait'
    local init
    init=$(state_field "$ID" pid)
    run husk ps "$ID"
    assert_success
    assert_equal "$(head -1 <<<"$output" | awk '{print $2}')" PID
    [ "$(wc -l <<<"$output")" = 3 ] || fail "expected header + 2 lines: $output"
    awk 'NR > 1 { print $2 }' <<<"$output" | grep -qx "$init" || fail "init $init not listed: $output"
    assert_not_contains "bats"

    # ps options pass through
    run husk ps "$ID" -o pid,comm
    assert_success
    assert_equal "$(head -1 <<<"$output" | awk '{print $1}')" PID
    assert_contains "sleep"
    [ "$(wc -l <<<"$output")" = 3 ] || fail "expected header + 2 lines: $output"

    run husk ps "$ID" -o comm
    assert_failure
    ! is_husk || assert_contains "PID"
    run husk ps -f yaml "$ID"
    assert_failure
    run husk ps nosuch
    assert_failure
    assert_contains "does not exist"
}
