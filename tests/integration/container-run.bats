#!/usr/bin/env bats
# container-run.bats — husk container run/create/start/stop/kill/rm/ls/inspect/wait:
# docker's grammar and exit codes, the container's life observed from inside it
# (its output) and from the host (processes, cgroups, mounts, the store).

load container

@test "container run: output, exit status, docker's 125/126/127, --rm leaves nothing" {
    require_husk
    run hc container run --rm busybox:t echo hello
    assert_success
    assert_equal "$output" "hello"
    run hc container run --rm busybox:t sh -c 'echo out; echo err >&2; exit 7'
    assert_status 7
    assert_contains "out"
    assert_contains "err"
    run -127 hc container run --rm busybox:t nosuchcommand
    assert_status 127
    assert_contains 'executable file not found'
    run -126 hc container run --rm busybox:t /etc/passwd
    assert_status 126
    run hc container run --rm --pull never nosuch:image true
    assert_status 125
    assert_contains "nosuch:image"
    run hc container run --rm --memory nonsense busybox:t true
    assert_status 125
    assert_contains "--memory"
    run hc container ls -aq
    assert_equal "$output" ""
    # nothing of them in the store, the runtime root or the mount table
    [ -z "$(ls "$STORE/containers" | grep -v names)" ] || fail "left: $(ls "$STORE/containers")"
    [ -z "$(ls "$ROOT")" ] || fail "runtime state left: $(ls "$ROOT")"
    ! grep -q "$STORE" /proc/self/mountinfo || fail "mount left"
}

@test "container run -d: returns once running; ls, inspect, stop (stop signal, then exit code), start again, rm" {
    require_husk
    run hc container run -d --name web busybox:t sh -c 'echo started; trap "echo bye; exit 3" TERM; while :; do sleep 0.1; done'
    assert_success
    [[ $output =~ ^[0-9a-f]{64}$ ]] || fail "not an id: $output"
    local id=$output pid
    run hc container ls
    assert_contains "web"
    assert_contains "${id:0:12}"
    assert_contains "Up "
    run hc container inspect web
    assert_success
    jq -e --arg id "$id" '.[0] | .Id == $id and .Name == "/web" and .State.Status == "running"
        and .State.Running == true and .State.Pid > 0 and .Config.Image == "busybox:t"
        and .Path == "sh" and (.Config.Cmd | length) == 3' <<<"$output" >/dev/null || fail "inspect: $output"
    pid=$(jq -r '.[0].State.Pid' <<<"$output")
    # the init is a process of the host, its parent the monitor
    [ -d "/proc/$pid" ] || fail "no process $pid"
    local ppid
    ppid=$(awk '{print $4}' "/proc/$pid/stat")
    grep -q husk-monitor "/proc/$ppid/cmdline" || fail "parent of the init: $(tr '\0' ' ' </proc/$ppid/cmdline)"
    # also in the runtime's list, by its id
    run "$HUSK_BIN" --root "$ROOT" list -q
    assert_contains "$id"
    # a prefix of the id works everywhere
    run hc container inspect --format '{{.Name}}' "${id:0:5}"
    assert_equal "$output" "/web"
    run hc container stop web
    assert_success
    assert_equal "$output" "web"
    run hc container inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}' web
    assert_equal "$output" "exited 3 0"
    ! alive "$pid" || fail "process $pid still there"
    run hc container ls
    assert_not_contains "web"
    run hc container ls -a
    assert_contains "Exited (3)"
    # started again: a new init
    run hc container start web
    assert_success
    run hc container inspect --format '{{.State.Status}}' web
    assert_equal "$output" "running"
    run hc container rm web
    assert_status 125
    assert_contains "stop it first"
    run hc container rm -f web
    assert_success
    run hc container inspect web
    assert_status 125
    assert_contains 'no such container'
}

@test "container create: created, not running; start runs it; names unique, generated, renamed" {
    require_husk
    run hc container create --name one busybox:t sleep 100
    assert_success
    local id=$output
    run hc container inspect --format '{{.State.Status}}' one
    assert_equal "$output" "created"
    run hc container create --name one busybox:t true
    assert_status 125
    assert_contains 'name "one" is already in use'
    run hc container create --name 'bad/name' busybox:t true
    assert_status 125
    assert_contains 'invalid container name'
    run hc container create busybox:t true
    assert_success
    local gen
    gen=$(hc container inspect --format '{{.Name}}' "$output")
    [[ $gen =~ ^/[a-z]+_[a-z]+[0-9]*$ ]] || fail "generated name: $gen"
    run hc container start one
    assert_success
    wait_state one running
    run hc container rename one two
    assert_success
    run hc container inspect --format '{{.Id}}' two
    assert_equal "$output" "$id"
    run hc container inspect one
    assert_status 125
    run hc container kill -s KILL two
    assert_success
    wait_state two exited
    run hc container inspect --format '{{.State.ExitCode}}' two
    assert_equal "$output" "137"
}

@test "container wait, kill -s, pause/unpause, top, restart" {
    require_husk
    hc container run -d --name w busybox:t sh -c 'trap "exit 5" USR1; while :; do sleep 0.1; done' >/dev/null
    hc container pause w
    run hc container inspect --format '{{.State.Status}}' w
    assert_equal "$output" "paused"
    local pid
    pid=$(hc container inspect --format '{{.State.Pid}}' w)
    grep -q '^State:.*[(]stopped[)]\|^State:.*D\|^State:.*S' "/proc/$pid/status"
    run hc container ls
    assert_contains "(Paused)"
    hc container unpause w
    wait_state w running
    run hc container top w
    assert_success
    assert_contains "sleep"
    hc container kill -s USR1 w
    run hc container wait w
    assert_success
    assert_equal "$output" "5"
    run hc container restart w
    assert_success
    wait_state w running
    [ "$(hc container inspect --format '{{.State.Pid}}' w)" != "$pid" ] || fail "same init after restart"
}

@test "container run: --restart on-failure:2 runs it three times; always comes back until stopped" {
    require_husk
    hc container run -d --name f --restart on-failure:2 busybox:t sh -c 'echo run; exit 1' >/dev/null
    local i
    for i in $(seq 1 100); do
        [ "$(hc container inspect --format '{{.State.Status}} {{.RestartCount}}' f)" = "exited 2" ] && break
        sleep 0.1
    done
    run hc container inspect --format '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' f
    assert_equal "$output" "exited 2 1"
    assert_equal "$(grep -c '"log":"run' "$STORE/containers/$(cid f)/ctr.log")" 3
    hc container run -d --name a --restart always busybox:t sh -c 'sleep 0.2; exit 0' >/dev/null
    for i in $(seq 1 100); do
        [ "$(hc container inspect --format '{{.RestartCount}}' a)" -ge 1 ] && break
        sleep 0.1
    done
    [ "$(hc container inspect --format '{{.RestartCount}}' a)" -ge 1 ] || fail "never restarted"
    run hc container stop -t 1 a
    assert_success
    wait_state a exited
    local n
    n=$(hc container inspect --format '{{.RestartCount}}' a)
    sleep 0.5
    assert_equal "$(hc container inspect --format '{{.RestartCount}} {{.State.Status}}' a)" "$n exited"
}

@test "container run: run by husk-engine-lean, without the registry client's libraries" {
    require_husk
    # the engine process of an attached run lives as long as the container (its
    # comm: the name husk executed, cut to 15 characters)
    hc container run --rm --name lean busybox:t sleep 3 &
    local bg=$! pid="" p i
    for ((i = 0; i < 50; i++)); do
        for p in $(pgrep -f -- "--storage-root $STORE container run --rm --name lean"); do
            grep -q '^husk-engine' "/proc/$p/comm" 2>/dev/null && grep -q libjson-c "/proc/$p/maps" && pid=$p
        done
        [ -z "$pid" ] || break
        sleep 0.1
    done
    [ -n "$pid" ] || fail "no engine process found"
    local comm maps
    comm=$(cat "/proc/$pid/comm")
    maps=$(cat "/proc/$pid/maps")
    wait "$bg"
    assert_equal "$comm" "husk-engine-lea"
    ! grep -q 'libcurl\|libssl' <<<"$maps" || fail "libcurl or libssl mapped: $(grep 'libcurl\|libssl' <<<"$maps" | head -2)"
    # the monitor's exit command is the lean one too
    run hc container run --rm busybox:t true
    assert_success
}

@test "container run: a monitor that runs only after the init has exited still gives the attached run its output and status" {
    require_husk
    command -v strace >/dev/null || skip "strace not installed"
    # Every process's first wait4 waits 0.4 s first: the monitor's first look for an
    # exited init (the top of its loop, before any poll) comes after `run` attached
    # and the init has run and exited, as on a loaded machine where the monitor is not
    # scheduled meanwhile. (No LeakSanitizer under ptrace.)
    local asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
    run env ASAN_OPTIONS=$asan strace -f -qq -o /dev/null -e trace=wait4 -e inject=wait4:delay_enter=400000:when=1 \
        "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" container run --rm busybox:t sh -c 'echo out; exit 7'
    assert_status 7
    assert_equal "$output" "out"
}

@test "container run: the rootfs is mounted once (create leaves it to the start), unmounted once" {
    require_husk
    command -v strace >/dev/null || skip "strace not installed"
    local asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
    ASAN_OPTIONS=$asan strace -f -qq -e trace=mount,umount2 -o "$TEST_DIR/m.trace" \
        "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" container run --rm busybox:t true
    [ "$(grep -c 'mount("overlay"' "$TEST_DIR/m.trace")" = 1 ] || fail "overlay mounts: $(grep 'overlay' "$TEST_DIR/m.trace")"
    [ "$(grep -c "umount2(\"$STORE/containers/" "$TEST_DIR/m.trace")" = 1 ] || fail "unmounts: $(grep umount2 "$TEST_DIR/m.trace")"
    # create alone still leaves no mount behind; its start mounts it
    run hc container create --name cr busybox:t sleep 100
    assert_success
    ! grep -q "$STORE/containers/$(cid cr)" /proc/self/mountinfo || fail "a created container holds a mount"
    run hc container start cr
    assert_success
    grep -q "$STORE/containers/$(cid cr)" /proc/self/mountinfo || fail "not mounted once started"
    hc container rm -f cr >/dev/null
}

@test "container run --rm: a volatile overlay (no sync at its unmount, as podman's); it mounts again after its monitor was killed" {
    require_husk
    hc container run -d --rm --name v busybox:t sleep 100 >/dev/null
    hc container run -d --name nv busybox:t sleep 100 >/dev/null
    local vid nid mon
    vid=$(cid v)
    nid=$(cid nv)
    grep -Eq "containers/$vid/bundle/rootfs .*(,|fsync=)volatile" /proc/self/mountinfo || {
        grep -q "containers/$vid/bundle/rootfs " /proc/self/mountinfo || fail "not mounted"
        hc container rm -f v nv >/dev/null
        skip "the kernel has no volatile overlays (Linux < 5.10)"
    }
    ! grep -Eq "containers/$nid/bundle/rootfs .*(,|fsync=)volatile" /proc/self/mountinfo || fail "a container without --rm is volatile"
    # killed monitor: shows exited (no cleanup ran, so no --rm either), starts again
    # though the volatile mount left its mark in the work dir
    mon=$(jq -r .monitorPid "$STORE/containers/$vid/state.json")
    kill -9 "$mon"
    run hc container inspect --format '{{.State.Status}}' v
    assert_equal "$output" "exited"
    [ -d "$STORE/containers/$vid/work/work/incompat/volatile" ] || fail "no volatile mark left: $(find "$STORE/containers/$vid/work")"
    run hc container start v
    assert_success
    wait_state v running
    grep -Eq "containers/$vid/bundle/rootfs .*(,|fsync=)volatile" /proc/self/mountinfo || fail "not volatile again"
    hc container rm -f v nv >/dev/null
}

@test "container cleanup: re-executes from a protected husk-engine only for a container it may restart" {
    require_husk
    command -v strace >/dev/null || skip "strace not installed"
    # A protected re-exec (selfclone.h) is an execveat of an fd: for `run` itself, and
    # for the monitor's cleanup only when it may start the container again. (LeakSanitizer
    # cannot run under ptrace: off for the traced commands of an ASan build.)
    local asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
    ASAN_OPTIONS=$asan strace -f -qq -e trace=execveat -o "$TEST_DIR/rm.trace" "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" \
        container run --rm busybox:t true
    [ "$(grep -c 'execveat(.*"container", "run"' "$TEST_DIR/rm.trace")" -ge 1 ] || fail "run not protected: $(cat "$TEST_DIR/rm.trace")"
    [ "$(grep -c 'execveat(.*"container", "cleanup"' "$TEST_DIR/rm.trace")" = 0 ] ||
        fail "cleanup of a --rm container re-executed: $(cat "$TEST_DIR/rm.trace")"
    # strace follows the monitor until the container has run twice and its cleanup ended
    ASAN_OPTIONS=$asan strace -f -qq -e trace=execveat -o "$TEST_DIR/re.trace" "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" \
        container run -d --name re --restart on-failure:1 busybox:t sh -c 'exit 1' >/dev/null
    [ "$(grep -c 'execveat(.*"container", "cleanup"' "$TEST_DIR/re.trace")" -ge 1 ] ||
        fail "cleanup that restarts not protected: $(cat "$TEST_DIR/re.trace")"
    run hc container inspect --format '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' re
    assert_equal "$output" "exited 1 1"
}

@test "container monitor killed, or a simulated reboot: the container shows exited, starts again, rm cleans" {
    require_husk
    hc container run -d --name k busybox:t sleep 100 >/dev/null
    local id mon pid
    id=$(cid k)
    mon=$(jq -r .monitorPid "$STORE/containers/$id/state.json")
    pid=$(hc container inspect --format '{{.State.Pid}}' k)
    kill -9 "$mon"
    run hc container ls -a
    assert_contains "Exited"
    run hc container inspect --format '{{.State.Status}}' k
    assert_equal "$output" "exited"
    # its processes do not run on unwatched, its rootfs is unmounted
    sleep 0.1
    ! alive "$pid" || fail "init $pid still runs"
    ! grep -q "$STORE/containers/$id" /proc/self/mountinfo || fail "rootfs still mounted"
    run hc container start k
    assert_success
    wait_state k running
    # reboot: monitors and inits killed, the rootfs unmounted, runtime state gone
    mon=$(jq -r .monitorPid "$STORE/containers/$id/state.json")
    pid=$(hc container inspect --format '{{.State.Pid}}' k)
    kill -9 "$mon" "$pid"
    sleep 0.1
    umount -l "$STORE/containers/$id/bundle/rootfs"
    rm -rf "$ROOT"/*
    run hc container ls -a
    assert_contains "Exited"
    run hc container start k
    assert_success
    wait_state k running
    run hc container rm -f k
    assert_success
    [ ! -d "$STORE/containers/$id" ] || fail "container dir left"
}

@test "container run -d: 30 containers, 6 at a time, all exist and run; rm -f of all leaves nothing" {
    require_husk
    seq 1 30 | xargs -P 6 -I{} "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" container run -d --name c{} busybox:t sleep 100 >/dev/null
    run hc container ls -q
    assert_equal "$(wc -l <<<"$output")" 30
    local i
    for i in $(seq 1 30); do
        assert_equal "$(hc container inspect --format '{{.State.Status}}' c$i)" running
    done
    # all on the default network, started at once: 30 different addresses
    run hc container inspect --format '{{.NetworkSettings.IPAddress}}' $(seq -f c%g 1 30)
    assert_equal "$(grep -c '^10\.89\.0\.' <<<"$output")" 30
    assert_equal "$(sort -u <<<"$output" | wc -l)" 30
    hc container ls -q | xargs -P 4 -n 5 "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" container rm -f >/dev/null
    run hc container ls -aq
    assert_equal "$output" ""
    [ -z "$(ls "$ROOT")" ] || fail "runtime state left"
    ! grep -q "$STORE" /proc/self/mountinfo || fail "mounts left"
    ! pgrep -f "husk-monitor.*$STORE" >/dev/null || fail "monitors left"
}

@test "image rm and prune: an image a container is made from stays (rm -f removes its containers too)" {
    require_husk
    hc container create --name u busybox:t true >/dev/null
    hc image tag busybox:t other:t
    run hc image rm other:t
    assert_success
    run hc image rm busybox:t
    assert_status 125
    assert_contains "in use by container"
    run hc image prune -a -f
    assert_success
    run hc image inspect busybox:t
    assert_success
    run hc container start u
    assert_success
    run hc image rm -f busybox:t
    assert_success
    run hc container ls -aq
    assert_equal "$output" ""
    run hc image ls -q
    assert_equal "$output" ""
}
