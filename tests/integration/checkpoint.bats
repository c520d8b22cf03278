#!/usr/bin/env bats
# `husk checkpoint` and `husk restore` through criu (src/runtime/criu.c), with runc's
# flags. The round trips need a criu that runs on this kernel and skip with criu's
# reason where it cannot (criu_unusable: Debian 12's criu 3.17 on Linux >= 6.13);
# tests/vm/criu.sh runs them in the VM under Debian's 6.1 kernel. The other tests run
# anywhere: errors, clean-up, and what husk asks of criu, seen through a stand-in
# criu (--criu PATH) that records its arguments, writes a log like criu's and fails.

load helpers

# A stand-in criu: appends its arguments (one per line, then "--") to $TEST_DIR/criu.args,
# writes a log with criu's version and an error where --log-file says, exits 1.
fake_criu() {
    cat >"$TEST_DIR/criu" <<FAKE
#!/bin/sh
log=""
for a in "\$@"; do
    echo "\$a" >>"$TEST_DIR/criu.args"
    case \$a in --log-file=*) log=\${a#--log-file=} ;; esac
done
echo -- >>"$TEST_DIR/criu.args"
[ -n "\$log" ] && printf '(00.000001) Version: 9.9 (gitid 0)\\n(00.000002) Error (criu/fake.c:1): fake: nothing is dumped\\n' >"\$log"
exit 1
FAKE
    chmod +x "$TEST_DIR/criu"
}

# restore_d [flags] ID: `husk restore --detach` with stdio away from bats (the restored
# init keeps what restore was given, as a detached create's init does).
restore_d() {
    "$HUSK_BIN" --root "$ROOT" restore -d "$@" </dev/null >"$TEST_DIR/restore.out" 2>&1 3>&-
    local rc=$?
    cat "$TEST_DIR/restore.out"
    return $rc
}

need_criu() {
    local why
    if why=$(criu_unusable); then
        skip "$why"
    fi
}

# A container counting into /data/cnt, /data a bind mount of $TEST_DIR/data.
start_counter() {
    mkdir -p "$TEST_DIR/data"
    update_config '.mounts += [{destination: "/data", type: "bind", source: $d, options: ["rbind"]}]' \
        --arg d "$TEST_DIR/data"
    set_cmd sh -c 'i=0; while :; do i=$((i+1)); echo $i > /data/cnt.new; mv /data/cnt.new /data/cnt; sleep 0.05; done'
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    wait_count 3
}
count() { cat "$TEST_DIR/data/cnt" 2>/dev/null || echo 0; }
wait_count() {
    local i
    for ((i = 0; i < 200; i++)); do
        [ "$(count)" -gt "$1" ] && return 0
        sleep 0.05
    done
    fail "counter at $(count), waited for more than $1"
}

# ---------------------------------------------------------------- without criu

@test "checkpoint, restore: --help lists runc's flags; --version and features say so" {
    run husk checkpoint --help
    assert_success
    for f in --image-path --work-path --parent-path --leave-running --pre-dump --tcp-established \
        --ext-unix-sk --shell-job --file-locks --manage-cgroups-mode; do
        assert_contains "$f"
    done
    run husk restore --help
    assert_success
    for f in --image-path --work-path --bundle --detach --pid-file --console-socket --tcp-established \
        --ext-unix-sk --shell-job --file-locks --manage-cgroups-mode; do
        assert_contains "$f"
    done
    run husk --version
    assert_contains "+criu"
    run husk features
    assert_success
    [ "$(jq -r '.annotations["org.opencontainers.runc.checkpoint.enabled"]' <<<"$output")" = true ] ||
        fail "features: no checkpoint annotation: $output"
}

@test "the container's init leads its own session, as runc's does (criu needs no --shell-job)" {
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    local pid
    pid=$(state_field "$ID" pid)
    # Field 6 of /proc/PID/stat (after the parenthesised name) is the session id.
    [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f4)" = "$pid" ] ||
        fail "init $pid is in session $(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f4)"
}

@test "checkpoint of an unknown id: one clear error, no image directory made" {
    run husk checkpoint --image-path "$TEST_DIR/img" nosuch
    assert_failure
    assert_contains "container does not exist: nosuch"
    [ "${#lines[@]}" -eq 1 ] || fail "more than one line: $output"
    [ ! -e "$TEST_DIR/img" ] || fail "image directory made for an unknown container"
}

@test "checkpoint of a created (not started) container is refused" {
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    run husk checkpoint --image-path "$TEST_DIR/img" "$ID"
    assert_failure
    assert_contains "cannot be checkpointed in created state"
    [ "$(state_field "$ID" status)" = created ]
}

@test "checkpoint: a bad --manage-cgroups-mode or an absolute --parent-path is refused" {
    set_cmd sleep 100
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    run husk checkpoint --manage-cgroups-mode sometimes --image-path "$TEST_DIR/img" "$ID"
    assert_failure
    assert_contains 'unknown mode "sometimes"'
    run husk checkpoint --pre-dump --parent-path /abs --image-path "$TEST_DIR/img" "$ID"
    assert_failure
    assert_contains "--parent-path must be relative"
    [ "$(state_field "$ID" status)" = running ]
}

@test "restore from a missing image path: one clear error, nothing left" {
    run restore_d --image-path "$TEST_DIR/nope" --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "restore: image path $TEST_DIR/nope: No such file or directory"
    [ ! -e "$ROOT/$ID" ] || fail "state left"
    [ -z "$(cgroup_dirs "$ID")" ] || fail "cgroups left: $(cgroup_dirs "$ID")"
}

@test "restore onto an id that exists is refused and leaves that container alone" {
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    mkdir -p "$TEST_DIR/img"
    echo '["/dev/null","/dev/null","/dev/null"]' >"$TEST_DIR/img/descriptors.json"
    run restore_d --image-path "$TEST_DIR/img" --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "container with id exists: $ID"
    [ "$(state_field "$ID" status)" = running ]
}

@test "restore of a container with a terminal: one clear error, nothing left" {
    mkdir -p "$TEST_DIR/img"
    echo '["/dev/null","/dev/null","/dev/null"]' >"$TEST_DIR/img/descriptors.json"
    update_config '.process.terminal = true'
    run restore_d --image-path "$TEST_DIR/img" --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "a container with a terminal (process.terminal) cannot be restored by husk"
    [ "${#lines[@]}" -eq 1 ] || fail "more than one line: $output"
    [ ! -e "$ROOT/$ID" ] || fail "state left"
}

@test "criu failing at checkpoint: criu's version, its error and log in one line; the container runs on" {
    fake_criu
    start_counter
    run husk --criu "$TEST_DIR/criu" checkpoint --image-path "$TEST_DIR/img" --work-path "$TEST_DIR/work" "$ID"
    assert_failure
    assert_equal "$output" "husk: checkpoint: criu 9.9 failed: Error (criu/fake.c:1): fake: nothing is dumped (exit status 1; log: $TEST_DIR/work/dump.log)"
    [ "$(state_field "$ID" status)" = running ]
    local n
    n=$(count)
    wait_count "$n"
}

@test "checkpoint asks criu for runc's options: the init, its rootfs, freezer, cgroups, external mounts" {
    fake_criu
    start_counter
    local pid
    pid=$(state_field "$ID" pid)
    run husk --criu "$TEST_DIR/criu" checkpoint --image-path "$TEST_DIR/img" --leave-running \
        --tcp-established --ext-unix-sk --shell-job --file-locks --manage-cgroups-mode full "$ID"
    assert_failure
    local args
    args=$(cat "$TEST_DIR/criu.args")
    for a in dump "--tree=$pid" "--images-dir=$TEST_DIR/img" "--root=$BUNDLE/rootfs" --leave-running \
        --tcp-established --ext-unix-sk --shell-job --file-locks --manage-cgroups=full --empty-ns=net \
        "--external=mnt[/data]:/data" "--external=mnt[/dev/null]:/dev/null"; do
        grep -qxF -- "$a" <<<"$args" || fail "criu was not given $a: $args"
    done
    if [ -d /sys/fs/cgroup/freezer ]; then
        grep -qxF -- "--freeze-cgroup=/sys/fs/cgroup/freezer/husk/$ID" <<<"$args" || fail "no --freeze-cgroup: $args"
    fi
    # Its stdio (files of the host's, given by the test's wrapper) are external files.
    grep -q -- '^--external=file\[' <<<"$args" || fail "stdio not external: $args"
    [ -f "$TEST_DIR/img/descriptors.json" ] || fail "no descriptors.json"
    run husk --criu "$TEST_DIR/criu" checkpoint --pre-dump --image-path "$TEST_DIR/img" "$ID"
    assert_failure
    grep -qx pre-dump "$TEST_DIR/criu.args" || fail "no pre-dump"
    grep -qx -- --track-mem "$TEST_DIR/criu.args" || fail "pre-dump without --track-mem"
}

@test "criu failing at restore: criu ran in the new cgroups with their roots and the bundle's mounts; nothing left" {
    fake_criu
    mkdir -p "$TEST_DIR/img" "$TEST_DIR/data"
    update_config '.mounts += [{destination: "/data", type: "bind", source: $d, options: ["rbind"]}]' \
        --arg d "$TEST_DIR/data"
    echo '["/dev/null","pipe:[1234]","file[2a:99]"]' >"$TEST_DIR/img/descriptors.json"
    run "$HUSK_BIN" --root "$ROOT" --criu "$TEST_DIR/criu" restore -d --image-path "$TEST_DIR/img" \
        --bundle "$BUNDLE" "$ID" </dev/null 3>&-
    assert_failure
    assert_contains "husk: restore: criu 9.9 failed: Error (criu/fake.c:1): fake: nothing is dumped"
    local args
    args=$(cat "$TEST_DIR/criu.args")
    for a in restore --restore-detached --restore-sibling "--root=$ROOT/$ID/criu-root" \
        "--external=mnt[/data]:$TEST_DIR/data" "--inherit-fd=fd[1]:pipe:[1234]" \
        "--inherit-fd=fd[2]:file[2a:99]" --manage-cgroups=soft; do
        grep -qxF -- "$a" <<<"$args" || fail "criu was not given $a: $args"
    done
    # --cgroup-root names the cgroups husk made for the restored container.
    grep -q -- "^--cgroup-root=.*/husk/$ID\$" <<<"$args" || fail "no --cgroup-root of /husk/$ID: $args"
    [ ! -e "$ROOT/$ID" ] || fail "state left"
    [ -z "$(cgroup_dirs "$ID")" ] || fail "cgroups left: $(cgroup_dirs "$ID")"
    ! findmnt -rn -o TARGET | grep -q criu-root || fail "criu-root mount left"
}

@test "on a kernel where criu cannot start, checkpoint says criu's reason and the container runs on" {
    local why
    why=$(criu_unusable) || skip "criu works here"
    command -v criu >/dev/null || skip "$why"
    start_counter
    run husk checkpoint --image-path "$TEST_DIR/img" "$ID"
    assert_failure
    assert_contains "husk: checkpoint: criu "
    assert_contains " failed: Error ("
    assert_contains "log: $TEST_DIR/img/dump.log"
    [ "$(state_field "$ID" status)" = running ]
}

# ---------------------------------------------------------------- with criu

@test "checkpoint ends the container; restore goes on counting from where it was" {
    need_criu
    start_counter
    run husk checkpoint --image-path "$TEST_DIR/img" "$ID"
    assert_success
    run husk state "$ID"
    assert_failure
    [ -z "$(cgroup_dirs "$ID")" ] || fail "cgroups left after checkpoint"
    local before
    before=$(count)
    sleep 0.3
    [ "$(count)" = "$before" ] || fail "counter went on after checkpoint"
    run restore_d --image-path "$TEST_DIR/img" --bundle "$BUNDLE" "$ID"
    assert_success
    [ "$(state_field "$ID" status)" = running ]
    wait_count $((before + 3))
    run husk kill "$ID" KILL
    assert_success
    wait_status "$ID" stopped
    run husk delete "$ID"
    assert_success
}

@test "checkpoint --leave-running keeps the container running" {
    need_criu
    start_counter
    run husk checkpoint --leave-running --image-path "$TEST_DIR/img" "$ID"
    assert_success
    [ "$(state_field "$ID" status)" = running ]
    wait_count $(($(count) + 3))
    [ -s "$TEST_DIR/img/inventory.img" ] || fail "no images written"
}

@test "restore under a new id (and its own cgroupsPath): state, cgroup and delete of the new id" {
    need_criu
    start_counter
    run husk checkpoint --image-path "$TEST_DIR/img" "$ID"
    assert_success
    local new before
    new=$(new_id)
    before=$(count)
    update_config '.linux.cgroupsPath = "/husk/" + $n' --arg n "$new"
    run restore_d --image-path "$TEST_DIR/img" --bundle "$BUNDLE" "$new"
    assert_success
    [ "$(state_field "$new" status)" = running ]
    grep -qx "$(state_field "$new" pid)" "$(cgroup_dirs "$new" | head -n1)/cgroup.procs" ||
        fail "restored init not in the cgroup of $new"
    wait_count $((before + 3))
    run husk delete --force "$new"
    assert_success
    [ -z "$(cgroup_dirs "$new")" ] || fail "cgroups of $new left"
}
