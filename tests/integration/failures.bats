#!/usr/bin/env bats
# What a failed command leaves: a create that fails at any step leaves no state dir,
# cgroup, mount or process; bad input gets one clear error line. Also: the state
# command against runtime.md, reused pids, concurrent commands on one id, corrupt
# state dirs, container id validation, and the CLI's errors and --help.

load helpers

# ---------------------------------------------------------------- helpers

# Pids of the processes whose root directory is the bundle's rootfs. After pivot_root
# readlink /proc/PID/root only says "/", so compare device and inode: the container's
# root is a bind mount of the rootfs, the same inode.
rootfs_pids() {
    local p want
    want=$(stat -c '%d:%i' "$BUNDLE/rootfs")
    for p in /proc/[0-9]*; do
        [ "$(stat -Lc '%d:%i' "$p/root" 2>/dev/null)" = "$want" ] && echo "${p#/proc/}"
    done
    return 0
}

# No process with the container's rootfs as its root (a half-made container init).
assert_no_process_in_rootfs() {
    local left
    left=$(rootfs_pids)
    [ -z "$left" ] || fail "processes left with the container's root: $left"
}

assert_no_mount_under_test_dir() {
    local m
    m=$(awk -v p="$TEST_DIR" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo)
    [ -z "$m" ] || fail "mounts left:" "$m"
}

# A failed create of $ID: non-zero, and nothing at all left.
assert_failed_create_clean() {
    assert_failure
    assert_no_trace "$ID"
    assert_root_empty
    assert_no_mount_under_test_dir
    assert_no_process_in_rootfs
}

# The runtime's own message is exactly one line (runc adds nothing either).
assert_one_line() {
    local n
    n=$(printf '%s\n' "$1" | grep -c .)
    [ "$n" -eq 1 ] || fail "expected one error line, got $n:" "$1"
}

create_failing() {
    run --separate-stderr husk create --bundle "$BUNDLE" "$ID"
    assert_failed_create_clean
}

# ---------------------------------------------------------------- failed create

@test "failed create: config.json with a syntax error" {
    printf '{"ociVersion": "1.0.2", "process": {' >"$BUNDLE/config.json"
    create_failing
    if is_husk; then
        assert_one_line "$stderr"
        assert_contains "config.json" "$stderr"
    fi
}

@test "failed create: config.json with a wrong type names the JSON path" {
    update_config '.process.args = "sleep 100"'
    create_failing
    if is_husk; then
        assert_one_line "$stderr"
        assert_contains "process.args" "$stderr"
    fi
}

@test "failed create: a wrong type deep in linux.* names the full path" {
    update_config '.linux.namespaces[1].type = 7'
    create_failing
    if is_husk; then
        assert_one_line "$stderr"
        assert_contains "linux.namespaces[1].type" "$stderr"
    fi
}

@test "failed create: config.json missing, or a directory" {
    rm "$BUNDLE/config.json"
    create_failing
    is_husk && assert_contains "config.json" "$stderr"
    mkdir "$BUNDLE/config.json"
    create_failing
    is_husk && assert_one_line "$stderr"
    true
}

@test "failed create: the bundle does not exist" {
    run --separate-stderr husk create --bundle "$TEST_DIR/no-such-bundle" "$ID"
    assert_failed_create_clean
    is_husk && assert_contains "no-such-bundle" "$stderr"
    true
}

@test "failed create: a rootfs that does not exist" {
    update_config '.root.path = "no-such-rootfs"'
    create_failing
    if is_husk; then
        assert_one_line "$stderr"
        assert_contains "no-such-rootfs" "$stderr"
    fi
}

@test "failed create: a rootfs that is a file" {
    : >"$BUNDLE/rootfs-file"
    update_config '.root.path = "rootfs-file"'
    create_failing
    is_husk && assert_contains "rootfs-file" "$stderr"
    true
}

@test "failed create: a bind mount source that does not exist" {
    update_config '.mounts += [{destination: "/mnt/x", type: "bind", source: "/nonexistent/src", options: ["rbind"]}]'
    create_failing
    if is_husk; then
        assert_one_line "$stderr"
        assert_contains "/nonexistent/src" "$stderr"
    fi
}

@test "failed create: a mount that fails after earlier mounts succeeded" {
    mkdir -p "$TEST_DIR/src1"
    update_config '.mounts += [
        {destination: "/mnt/ok", type: "bind", source: $s, options: ["rbind"]},
        {destination: "/mnt/bad", type: "nosuchfs", source: "none"}]' --arg s "$TEST_DIR/src1"
    create_failing
    is_husk && assert_contains "/mnt/bad" "$stderr"
    true
}

@test "failed create: a namespace path that does not exist" {
    update_config '.linux.namespaces |= map(if .type == "network" then .path = "/nonexistent/netns" else . end)'
    jq -e '.linux.namespaces | any(.path == "/nonexistent/netns")' "$BUNDLE/config.json"
    create_failing
    if is_husk; then
        assert_one_line "$stderr"
        assert_contains "/nonexistent/netns" "$stderr"
    fi
}

@test "failed create: a namespace path of the wrong type" {
    update_config '.linux.namespaces |= map(if .type == "network" then .path = "/proc/self/ns/uts" else . end)'
    create_failing
    is_husk && assert_contains "network" "$stderr"
    true
}

# runc 1.1 looks the program up in the container before create returns: a missing
# args[0] is an error of create, not a silent death after start. husk does the same.
@test "failed create: args[0] that does not exist in the rootfs fails create (as runc)" {
    set_cmd /no/such/program arg
    create_failing
    if is_husk; then
        assert_one_line "$stderr"
        assert_contains "/no/such/program" "$stderr"
    fi
}

@test "failed create: args[0] not on PATH fails create (as runc)" {
    set_cmd no-such-program
    create_failing
    is_husk && assert_contains "no-such-program" "$stderr"
    true
}

@test "failed create: args[0] that is not executable fails create (as runc)" {
    printf 'data\n' >"$BUNDLE/rootfs/notexec"
    chmod 644 "$BUNDLE/rootfs/notexec"
    set_cmd /notexec
    create_failing
}

@test "failed create: an invalid cgroupsPath" {
    # the helper rewrites cgroupsPath for reference runtimes: husk only
    require_husk
    local p
    for p in "/husk/../../escape" "/husk/a/../../../x" "relative/../../x"; do
        update_config '.linux.cgroupsPath = $p' --arg p "$p"
        create_failing
        assert_one_line "$stderr"
        assert_contains "cgroupsPath" "$stderr"
        [ ! -e /sys/fs/cgroup/memory/escape ] && [ ! -e /sys/fs/cgroup/memory/x ]
    done
}

@test "failed create: a failing createRuntime hook" {
    update_config '.hooks.createRuntime = [{path: "/bin/false"}]'
    create_failing
    is_husk && assert_one_line "$stderr"
    true
}

@test "failed create: a cwd that cannot be made or entered" {
    : >"$BUNDLE/rootfs/afile"
    update_config '.process.cwd = "/afile/sub"'
    create_failing
}

@test "failed create: the same id twice leaves the first intact" {
    husk create --bundle "$BUNDLE" "$ID"
    run --separate-stderr husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "exists" "$stderr"
    wait_status "$ID" created
    [ -n "$(cgroup_dirs "$ID")" ]
}

@test "failed create: a create killed midway is cleaned up by delete --force" {
    require_husk
    # a createRuntime hook that blocks: SIGKILL husk create while it waits
    update_config '.hooks.createRuntime = [{path: "/bin/sleep", args: ["sleep", "30"]}]'
    "$HUSK_BIN" --root "$ROOT" create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 3>&- &
    local cpid=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [ -d "$ROOT/$ID" ] && [ -n "$(cgroup_dirs "$ID")" ] && pgrep -f "^sleep 30$" -P "$cpid" >/dev/null && break
        sleep 0.05
    done
    kill -9 "$cpid"
    wait "$cpid" || true
    pkill -9 -f "^sleep 30$" -P "$cpid" 2>/dev/null || true
    # whatever is left is listed and deletable
    run husk list -q
    assert_contains "$ID"
    run husk delete --force "$ID"
    assert_success
    assert_no_trace "$ID"
    assert_no_process_in_rootfs
}

# ---------------------------------------------------------------- state

@test "state: output matches runtime.md" {
    update_config '.annotations = {"org.a": "1", "org.b": "two"}'
    # a relative --bundle: state must still give the absolute path
    cd "$TEST_DIR"
    husk create --bundle bundle "$ID"
    run husk state "$ID"
    assert_success
    local st=$output
    jq -e --arg id "$ID" --arg b "$BUNDLE" '
        (.ociVersion | test("^1\\.[0-9]+\\.[0-9]+")) and .id == $id and .status == "created" and
        (.pid | type == "number" and . > 0) and .bundle == $b and (.bundle | startswith("/")) and
        .annotations == {"org.a": "1", "org.b": "two"}' <<<"$st" ||
        fail "bad state: $st"
    local pid
    pid=$(jq .pid <<<"$st")
    kill -0 "$pid"
    # the leftover-process check of this file sees a live container
    assert_equal "$(rootfs_pids)" "$pid"

    husk start "$ID"
    wait_status "$ID" running
    assert_equal "$(state_field "$ID" pid)" "$pid"
    husk kill "$ID" KILL
    wait_status "$ID" stopped
    run husk state "$ID"
    assert_success
    jq -e '.status == "stopped" and ((.pid // 0) == 0 or .pid == '"$pid"')' <<<"$output"
}

@test "state: a reused pid is not mistaken for the container" {
    require_husk
    husk create --bundle "$BUNDLE" "$ID"
    husk start "$ID"
    wait_status "$ID" running
    sleep 300 &
    local other=$!
    on_cleanup "kill -9 $other"
    # as if the container's pid had been reused by the host's sleep
    jq -c --argjson p "$other" '.pid = $p' "$ROOT/$ID/state.json" >"$TEST_DIR/st.json"
    cat "$TEST_DIR/st.json" >"$ROOT/$ID/state.json"
    run husk state "$ID"
    assert_success
    assert_equal "$(jq -r .status <<<"$output")" stopped
    # kill must not signal the stranger
    run husk kill "$ID" KILL
    assert_failure
    kill -0 "$other" || fail "kill signalled the process that reused the pid"
    # delete --force removes the container (its real init, through the cgroup) and
    # leaves the stranger alone
    run husk delete --force "$ID"
    assert_success
    kill -0 "$other" || fail "delete killed the process that reused the pid"
    assert_no_trace "$ID"
    assert_no_process_in_rootfs
}

@test "state: 5 parallel delete --force on one id: one removes it, none crash" {
    husk create --bundle "$BUNDLE" "$ID"
    husk start "$ID"
    wait_status "$ID" running
    local i pids=()
    for i in 1 2 3 4 5; do
        "$HUSK_BIN" --root "$ROOT" delete --force "$ID" >"$TEST_DIR/del.$i" 2>&1 3>&- &
        pids+=($!)
    done
    local rcs=""
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}"
        rcs+="$? "
    done
    # runc: delete --force of a container that does not exist is not an error
    for i in $rcs; do
        [ "$i" -eq 0 ] || fail "a delete --force exited $i: $(cat "$TEST_DIR"/del.*)"
    done
    # no crash message (sanitizers, assertion, segfault)
    ! grep -iE "sanitizer|assert|segmentation|core dumped" "$TEST_DIR"/del.* || fail "a delete crashed"
    assert_no_trace "$ID"
    assert_no_process_in_rootfs
}

@test "state: 5 parallel creates of one id: exactly one wins" {
    local i pids=()
    for i in 1 2 3 4 5; do
        "$HUSK_BIN" --root "$ROOT" create --bundle "$BUNDLE" "$ID" </dev/null >"$TEST_DIR/cr.$i" 2>&1 3>&- &
        pids+=($!)
    done
    local ok=0 bad=0
    for i in "${!pids[@]}"; do
        if wait "${pids[$i]}"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
    done
    [ "$ok" -eq 1 ] || fail "$ok creates succeeded: $(cat "$TEST_DIR"/cr.*)"
    [ "$bad" -eq 4 ]
    if is_husk; then
        [ "$(grep -l "exists" "$TEST_DIR"/cr.* | wc -l)" -eq 4 ] || fail "losers: $(cat "$TEST_DIR"/cr.*)"
    fi
    wait_status "$ID" created
    # exactly one container: one init, one state dir
    run husk list -q
    assert_equal "$output" "$ID"
    [ "$(ls "$ROOT")" = "$ID" ]
    # exactly one process has the rootfs as its root: the winner's init
    assert_equal "$(rootfs_pids)" "$(state_field "$ID" pid)"
}

@test "state: a truncated state.json is reported clearly; list goes on; delete --force removes it" {
    require_husk
    local id2
    id2=$(new_id)
    husk create --bundle "$BUNDLE" "$ID"
    husk create --bundle "$BUNDLE" "$id2"
    local pid
    pid=$(state_field "$ID" pid)
    head -c 40 "$ROOT/$ID/state.json" >"$TEST_DIR/t"
    cat "$TEST_DIR/t" >"$ROOT/$ID/state.json"

    run --separate-stderr husk state "$ID"
    assert_failure
    assert_one_line "$stderr"
    assert_contains "state.json" "$stderr"
    assert_contains "$ID" "$stderr"

    run --separate-stderr husk list
    assert_success
    assert_contains "$id2" "$output"
    assert_contains "$ID" "$output"
    assert_contains "corrupt" "$stderr"
    run --separate-stderr husk list -f json
    assert_success
    jq -e --arg id "$id2" 'map(.id) | index($id)' <<<"$output"

    run husk delete "$ID"
    assert_failure
    assert_contains "--force"
    # the state is lost, but the default cgroup /husk/<id> says which processes
    # were the container's: they are killed and the cgroups removed
    run husk delete --force "$ID"
    assert_success
    assert_no_trace "$ID"
    [ ! -e "/proc/$pid" ] || grep -qE '^State:[[:space:]]+[ZX]' "/proc/$pid/status" ||
        fail "the container's init $pid survived delete --force"
    # the other container is untouched
    wait_status "$id2" created
}

@test "state: an empty state dir (killed mid-create) is reported clearly" {
    require_husk
    mkdir -p "$ROOT/$ID"
    run --separate-stderr husk state "$ID"
    assert_failure
    assert_one_line "$stderr"
    assert_contains "$ID" "$stderr"
    run --separate-stderr husk list
    assert_success
    assert_contains "$ID" "$output"
    run husk start "$ID"
    assert_failure
    run husk kill "$ID" KILL
    assert_failure
    run husk delete --force "$ID"
    assert_success
    [ ! -e "$ROOT/$ID" ]
}

@test "state: state.json that is not an object, or has wrong field types" {
    require_husk
    husk create --bundle "$BUNDLE" "$ID"
    local pid orig
    pid=$(state_field "$ID" pid)
    orig=$(cat "$ROOT/$ID/state.json")
    local bad
    for bad in '[]' 'null' '42' '{"id": 5}' "$(jq -c '.pid = "x"' <<<"$orig")" "$(jq -c '.id = "other"' <<<"$orig")"; do
        printf '%s' "$bad" >"$ROOT/$ID/state.json"
        run --separate-stderr husk state "$ID"
        assert_failure
        assert_one_line "$stderr"
        assert_contains "corrupt" "$stderr"
    done
    printf '%s' "$orig" >"$ROOT/$ID/state.json"
    wait_status "$ID" created
    assert_equal "$(state_field "$ID" pid)" "$pid"
}

# ---------------------------------------------------------------- ids

@test "ids: invalid ids are refused with a clear error and nothing is created" {
    local long
    long=$(printf 'a%.0s' $(seq 1 1100))
    local id
    for id in "" "/" "a/b" "../x" ".." "." "$long" $'a\nb' $'tab\there' $'esc\e[31m' "a b" "a*b" "ünï" "~tmp.1.2"; do
        run --separate-stderr husk create --bundle "$BUNDLE" "$id"
        assert_failure
        if is_husk; then
            assert_one_line "$stderr"
            assert_contains "container id" "$stderr"
        fi
        assert_root_empty
        [ ! -e "$TEST_DIR/x" ] && [ ! -e "$BUNDLE/x" ]
        # state, start, kill, delete refuse it the same way (never a path outside --root)
        if is_husk; then
            local verb
            for verb in state start delete; do
                run --separate-stderr husk "$verb" "$id"
                assert_failure
                assert_one_line "$stderr"
            done
        fi
    done
    [ -z "$(ls /sys/fs/cgroup/memory/husk/ 2>/dev/null | grep -E '^(\.\.|x)$')" ]
    assert_no_process_in_rootfs
}

@test "ids: the longest ids the filesystem takes work; longer ones fail clearly" {
    require_husk
    local id255 id300
    id255=$(printf 'b%.0s' $(seq 1 255))
    id300=$(printf 'c%.0s' $(seq 1 300))
    echo "$id255" >>"$TEST_DIR/ids"
    echo "$id300" >>"$TEST_DIR/ids"
    run husk create --bundle "$BUNDLE" "$id255"
    assert_success
    wait_status "$id255" created
    run husk delete --force "$id255"
    assert_success
    assert_no_trace "$id255"
    run --separate-stderr husk create --bundle "$BUNDLE" "$id300"
    assert_failure
    assert_one_line "$stderr"
    assert_contains "container id" "$stderr"
    assert_root_empty
}

@test "ids: a leading dot and the other allowed characters work (as runc)" {
    local id=".dot-${ID}_a+b.c"
    echo "$id" >>"$TEST_DIR/ids"
    run husk create --bundle "$BUNDLE" "$id"
    assert_success
    wait_status "$id" created
    run husk list -q
    assert_contains "$id"
    run husk delete --force "$id"
    assert_success
    assert_no_trace "$id"
}

# ---------------------------------------------------------------- CLI

@test "cli: every verb's --help exits 0 and prints its usage" {
    require_husk
    local v
    for v in spec create start run state list kill delete; do
        run --separate-stderr "$HUSK_BIN" "$v" --help
        assert_success
        assert_contains "usage: husk $v" "$output"
        assert_equal "$stderr" ""
        run --separate-stderr "$HUSK_BIN" "$v" -h
        assert_success
        assert_contains "usage: husk $v"
    done
    run "$HUSK_BIN" --help
    assert_success
    assert_contains "usage:"
    run "$HUSK_BIN" --version
    assert_success
    assert_contains "husk version"
}

@test "cli: unknown flags and missing arguments give one clear error line" {
    require_husk
    local v
    for v in spec create start run state list kill delete; do
        run --separate-stderr "$HUSK_BIN" --root "$ROOT" "$v" --no-such-flag x
        assert_failure
        assert_one_line "$stderr"
        assert_contains "--no-such-flag" "$stderr"
        assert_contains "$v" "$stderr"
    done
    for v in create start run state kill delete; do
        run --separate-stderr "$HUSK_BIN" --root "$ROOT" "$v"
        assert_failure
        assert_one_line "$stderr"
        assert_contains "argument" "$stderr"
    done
    # too many
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" state a b
    assert_failure
    assert_one_line "$stderr"
    # a flag missing its value
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" create --bundle
    assert_failure
    assert_one_line "$stderr"
    assert_contains "--bundle" "$stderr"
    run --separate-stderr "$HUSK_BIN" --root
    assert_failure
    assert_one_line "$stderr"
    assert_contains "--root" "$stderr"
    run --separate-stderr "$HUSK_BIN" --no-such-global state x
    assert_failure
    assert_one_line "$stderr"
    assert_contains "--no-such-global" "$stderr"
    run --separate-stderr "$HUSK_BIN" frobnicate
    assert_failure
    assert_one_line "$stderr"
    assert_contains "frobnicate" "$stderr"
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" list --format yaml
    assert_failure
    assert_one_line "$stderr"
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" create --preserve-fds=-1 --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_one_line "$stderr"
    assert_root_empty
    run --separate-stderr "$HUSK_BIN" --log-format xml state x
    assert_failure
    assert_one_line "$stderr"
    # no command at all: usage on stderr, non-zero
    run --separate-stderr "$HUSK_BIN"
    assert_failure
    assert_contains "usage" "$stderr"
}

# husk GLOBAL-FLAGS... VERB ...: the `husk` wrapper only detaches stdio when the verb
# comes first; this one always does (a container that is wrongly created must not
# hold bats' pipes). Sets $status and $stderr.
husk_detached() {
    status=0
    "$HUSK_BIN" --root "$ROOT" "$@" </dev/null >"$TEST_DIR/g.out" 2>"$TEST_DIR/g.err" 3>&- || status=$?
    stderr=$(cat "$TEST_DIR/g.err")
    output=$stderr
}

@test "cli: --systemd-cgroup and --rootless true are refused clearly, nothing created" {
    require_husk
    local v
    for v in create run; do
        husk_detached --systemd-cgroup "$v" --bundle "$BUNDLE" "$ID"
        assert_failure
        assert_one_line "$stderr"
        assert_contains "systemd" "$stderr"
        assert_root_empty
        husk_detached --rootless true "$v" --bundle "$BUNDLE" "$ID"
        assert_failure
        assert_one_line "$stderr"
        assert_contains "rootless" "$stderr"
        assert_root_empty
    done
    husk_detached --rootless maybe create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_one_line "$stderr"
    assert_contains "rootless" "$stderr"
    assert_root_empty
    # the refusal reaches --log too
    husk_detached --log "$TEST_DIR/sd.log" --log-format json --systemd-cgroup create --bundle "$BUNDLE" "$ID"
    assert_failure
    jq -e 'select(.level == "error") | .msg | test("systemd")' "$TEST_DIR/sd.log"
    # --rootless false is the default here and works
    husk_detached --rootless false create --bundle "$BUNDLE" "$ID"
    assert_success
    wait_status "$ID" created
}

@test "cli: --log gets the error line too; --log-format json lines have level, msg, time" {
    require_husk
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --log "$TEST_DIR/text.log" state no-such-ctr
    assert_failure
    assert_one_line "$stderr"
    assert_contains "no-such-ctr" "$stderr"
    grep -q "no-such-ctr" "$TEST_DIR/text.log"
    grep -q "error" "$TEST_DIR/text.log"

    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --log "$TEST_DIR/j.log" --log-format json state no-such-ctr
    assert_failure
    assert_one_line "$stderr"
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --log "$TEST_DIR/j.log" --log-format json kill --bogus
    assert_failure
    update_config '.process.args = 5'
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --log "$TEST_DIR/j.log" --log-format json create --bundle "$BUNDLE" "$ID" </dev/null 3>&-
    assert_failure
    assert_root_empty
    # every line is a JSON object with level, msg, time (RFC 3339)
    [ "$(wc -l <"$TEST_DIR/j.log")" -eq 3 ] || fail "log: $(cat "$TEST_DIR/j.log")"
    jq -e -s 'all(.[]; (.level == "error") and (.msg | type == "string") and
        (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")))' "$TEST_DIR/j.log" ||
        fail "log: $(cat "$TEST_DIR/j.log")"
    jq -e -s '.[0].msg | test("no-such-ctr")' "$TEST_DIR/j.log"
    jq -e -s '.[1].msg | test("--bogus")' "$TEST_DIR/j.log"
    jq -e -s '.[2].msg | test("process.args")' "$TEST_DIR/j.log"
}

@test "cli: --log to a file that cannot be opened is a clear error" {
    require_husk
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --log "$TEST_DIR/no/such/dir/log" list
    assert_failure
    assert_one_line "$stderr"
    assert_contains "--log" "$stderr"
}
