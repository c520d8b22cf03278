#!/usr/bin/env bats
# container-exec.bats — `container exec`: a process entering a running container
# by setns, as seed 000 shows `docker exec` doing; and `container logs`/`attach`.

load container

@test "container exec: the exec'd shell shares the init's namespaces, not the host's; status, -e, -w, -u" {
    require_husk
    hc container run -d --name e busybox:t sleep 100 >/dev/null
    local pid ns
    pid=$(hc container inspect --format '{{.State.Pid}}' e)
    run hc container exec e sh -c 'for n in mnt uts ipc pid net; do readlink /proc/self/ns/$n; done'
    assert_success
    for ns in mnt uts ipc pid net; do
        assert_contains "$(readlink /proc/$pid/ns/$ns)"
        [ "$(readlink /proc/$pid/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ] || fail "$ns is the host's"
    done
    # ps inside sees the container's processes only, the init as pid 1
    run hc container exec e ps -o pid,comm
    assert_success
    assert_contains "1 sleep"
    run hc container exec e sh -c 'exit 3'
    assert_status 3
    run -127 hc container exec e nosuchcmd
    assert_contains "executable file not found"
    run hc container exec -e K=v -w /tmp -u nobody e sh -c 'echo $K; pwd; id -un'
    assert_success
    assert_equal "$output" "v
/tmp
nobody"
    hc container stop -t 0 e >/dev/null
    run hc container exec e true
    assert_status 125
    assert_contains "not running"
}

@test "container logs: json-file lines, stdout and stderr apart, --tail, -t, --since, -f until exit" {
    require_husk
    hc container run -d --name l busybox:t sh -c 'echo e1 >&2; sleep 0.1; echo o1; echo o2' >/dev/null
    hc container wait l >/dev/null
    run hc container logs l
    assert_success
    assert_contains "o1"
    assert_contains "e1"
    assert_equal "$(hc container logs l 2>/dev/null)" "o1
o2"
    assert_equal "$(hc container logs l 2>&1 >/dev/null)" "e1"
    assert_equal "$(hc container logs --tail 1 l 2>/dev/null)" "o2"
    run hc container logs -t --tail 1 l
    [[ $output =~ ^20[0-9-]+T[0-9:.]+Z\ o2$ ]] || fail "-t: $output"
    # each line of the log is docker's json-file object
    jq -e -s 'all(has("log") and has("stream") and has("time"))' "$STORE/containers/$(cid l)/ctr.log" >/dev/null
    # -f returns when the container exits, with what it wrote meanwhile
    hc container run -d --name f busybox:t sh -c 'echo early; sleep 1; echo late' >/dev/null
    run hc container logs -f f
    assert_success
    assert_equal "$output" "early
late"
    run hc container logs --since 1h l
    assert_contains "o1"
    run hc container logs --since "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" l
    assert_equal "$output" ""
}

@test "container run -i, -t, attach: stdin delivered, a terminal with its size, the exit status" {
    require_husk
    run bash -c "echo piped | '$HUSK_BIN' --root '$ROOT' --storage-root '$STORE' container run -i --rm busybox:t cat"
    assert_success
    assert_equal "$output" "piped"
    run python3 "$HUSK_REPO/tests/tools/ptyrun.py" "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" \
        container run -it --rm busybox:t sh -c 'tty; stty size; exit 4'
    assert_status 4
    assert_contains "/dev/pts/0"
    assert_contains "33 101"
    hc container run -d --name at busybox:t sh -c 'sleep 0.5; echo from-attach; exit 6' >/dev/null
    run hc container attach --no-stdin at
    assert_status 6
    assert_contains "from-attach"
}

@test "container stats --no-stream: CPU, memory against -m, pids; port: nothing without -p" {
    require_husk
    hc container run -d --name st -m 64m busybox:t sh -c 'while :; do :; done' >/dev/null
    run hc container stats --no-stream --format json st
    assert_success
    jq -e '.Name == "st" and (.MemUsage | endswith("/ 64MiB")) and .PIDs == "1"
        and ((.CPUPerc | rtrimstr("%") | tonumber) > 10)' <<<"$output" >/dev/null || fail "stats: $output"
    run hc container stats --no-stream
    assert_contains "MEM USAGE / LIMIT"
    assert_contains "st"
    run hc container port st
    assert_success
    assert_equal "$output" ""
    run hc container port st 80
    assert_status 125
}
