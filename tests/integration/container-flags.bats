#!/usr/bin/env bats
# container-flags.bats — `container run` flags, each observed from inside the
# container and, for resources, from the host's cgroups.

load container

@test "container run: -e, --env-file, -w, -u, --hostname, --entrypoint and the per-container /etc files" {
    require_husk
    printf 'A=1\n# a comment\n\nB=two words\nFROM_HOST\n' >"$TEST_DIR/envf"
    FROM_HOST=h X_HOST=xh run hc container run --rm -e X=y -e X_HOST --env-file "$TEST_DIR/envf" -w /tmp \
        --hostname hh -u 1000:1000 --entrypoint sh busybox:t \
        -c 'echo "$X $X_HOST $A $B $FROM_HOST"; pwd; hostname; id -u; id -g; cat /etc/hostname; grep -c hh /etc/hosts; grep ^nameserver /etc/resolv.conf; true'
    assert_success
    assert_equal "${lines[0]}" "y xh 1 two words h"
    assert_equal "${lines[1]}" "/tmp"
    assert_equal "${lines[2]}" "hh"
    assert_equal "${lines[3]}" "1000"
    assert_equal "${lines[4]}" "1000"
    assert_equal "${lines[5]}" "hh"
    assert_equal "${lines[6]}" "1"
    # on the default network: engine.json's "dns", the tests' own (helpers.bash:
    # the container's loopback), so no lookup leaves the container
    assert_equal "${lines[7]}" "nameserver 127.0.0.1"
    assert_equal "${#lines[@]}" 8
    # the image's Cmd with the default entrypoint; the hostname defaults to the short id
    run hc container run --name h1 busybox:t hostname
    assert_success
    assert_equal "$output" "$(cid h1 | cut -c1-12)"
    # a user name from the image's /etc/passwd; an unknown one is refused naming it
    run hc container run --rm -u nobody busybox:t id -un
    assert_success
    assert_equal "$output" "nobody"
    run hc container run --rm -u nosuchuser busybox:t true
    assert_status 125
    assert_contains "nosuchuser"
}

@test "container run: -m, --memory-swap, --cpus, --cpu-shares, --pids-limit in the container's cgroups" {
    require_husk
    require_v1 memory
    require_v1 pids
    require_v1 cpu
    hc container run -d --name r -m 64m --cpus 0.5 --cpu-shares 512 --pids-limit 50 busybox:t sleep 100 >/dev/null
    local id cgpath
    id=$(cid r)
    cgpath=$(grep ':memory:' "/proc/$(hc container inspect --format '{{.State.Pid}}' r)/cgroup" | cut -d: -f3)
    assert_equal "$(cat "$CG/memory$cgpath/memory.limit_in_bytes")" "$((64 << 20))"
    assert_equal "$(cat "$CG/pids$cgpath/pids.max")" 50
    assert_equal "$(cat "$CG/cpu$cgpath/cpu.cfs_quota_us")" 50000
    assert_equal "$(cat "$CG/cpu$cgpath/cpu.cfs_period_us")" 100000
    assert_equal "$(cat "$CG/cpu$cgpath/cpu.shares")" 512
    run hc container inspect r
    jq -e '.[0].HostConfig | .Memory == 67108864 and .NanoCpus == 500000000 and .PidsLimit == 50' \
        <<<"$output" >/dev/null || fail "HostConfig: $output"
    hc container rm -f r >/dev/null
    [ ! -d "$CG/memory$cgpath" ] || fail "cgroup left: $cgpath"
}

@test "container run: capabilities (docker's default set, --cap-add/--cap-drop, --privileged), --read-only, --tmpfs" {
    require_husk
    run hc container run --rm busybox:t sh -c 'grep CapEff /proc/self/status'
    assert_success
    # docker's default set: chown dac_override fowner fsetid kill setgid setuid setpcap
    # net_bind_service net_raw sys_chroot mknod audit_write setfcap
    assert_contains "00000000a80425fb"
    run hc container run --rm --cap-drop NET_RAW --cap-add sys_admin busybox:t sh -c 'grep CapEff /proc/self/status'
    assert_contains "00000000a82405fb"
    run hc container run --rm --cap-add NOT_A_CAP busybox:t true
    assert_status 125
    assert_contains "NOT_A_CAP"
    run hc container run --rm --privileged busybox:t sh -c 'grep CapEff /proc/self/status; cat /proc/self/status | grep Seccomp:'
    assert_success
    assert_contains "Seccomp:	0"
    assert_not_contains "00000000a80425fb"
    # the default seccomp profile holds without --privileged
    run hc container run --rm busybox:t sh -c 'grep Seccomp: /proc/self/status; unshare -U true 2>&1; echo $?'
    assert_contains "Seccomp:	2"
    run hc container run --rm --read-only --tmpfs /scratch busybox:t sh -c 'touch /x 2>&1; touch /scratch/ok && echo ok; grep " /scratch " /proc/mounts'
    assert_contains "Read-only file system"
    assert_contains "ok"
    assert_contains "tmpfs"
}

@test "container run: --ulimit, --shm-size, --stop-signal, --label, --init" {
    require_husk
    run hc container run --rm --ulimit nofile=100:200 --shm-size 8m busybox:t sh -c 'ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1'
    assert_success
    assert_equal "${lines[0]}" 100
    assert_equal "${lines[1]}" 200
    assert_contains " 8192 "
    hc container run -d --name s --stop-signal USR1 --label a=b --label c busybox:t \
        sh -c 'trap "exit 9" USR1; while :; do sleep 0.1; done' >/dev/null
    run hc container inspect s
    jq -e '.[0].Config | .StopSignal == "USR1" and .Labels.a == "b" and .Labels.c == ""' <<<"$output" >/dev/null ||
        fail "inspect: $output"
    run hc container ls --filter label=a=b -q
    assert_equal "$output" "$(cid s | cut -c1-12)"
    hc container stop s >/dev/null
    assert_equal "$(hc container inspect --format '{{.State.ExitCode}}' s)" 9
    if [ -x /usr/bin/tini-static ]; then
        run hc container run --rm --init busybox:t sh -c 'cat /proc/1/cmdline | tr "\0" " "'
        assert_success
        assert_contains "init"
    fi
}

@test "container run: a profile's seccomp program is generated once (the store's seccomp-cache); a damaged or foreign entry is not used" {
    require_husk
    local cache=$STORE/seccomp-cache log=$TEST_DIR/husk.log e f size
    # hcl ARGS: hc with the debug log, afresh
    hcl() { : >"$log"; "$HUSK_BIN" --debug --log "$log" --root "$ROOT" --storage-root "$STORE" "$@"; }
    run hcl container run --rm busybox:t sh -c 'grep Seccomp: /proc/self/status'
    assert_success
    assert_contains "Seccomp:	2"
    grep -q 'seccomp: cache entry [0-9a-f]* written' "$log" || fail "not written: $(grep 'seccomp: ' "$log" | tail -3)"
    [ "$(ls "$cache" | wc -l)" = 1 ] || fail "entries: $(ls "$cache")"
    e=$(ls "$cache")
    [ "$(stat -c %a "$cache")" = 700 ] && [ "$(stat -c %a "$cache/$e")" = 600 ] || fail "modes $(stat -c %a "$cache" "$cache/$e")"
    cp "$cache/$e" "$TEST_DIR/entry"
    # used: the same program as generated (exec's copy in the runtime state, compared)
    run hcl container run -d --name c1 busybox:t sleep 100
    assert_success
    grep -q "seccomp: the program from cache entry $e" "$log" || fail "not used: $(grep 'seccomp: ' "$log" | tail -3)"
    rm -rf "$cache"
    run hcl container run -d --name c2 busybox:t sleep 100
    assert_success
    grep -q "seccomp: cache entry $e written" "$log" || fail "not generated: $(grep 'seccomp: ' "$log" | tail -3)"
    cmp "$ROOT/$(cid c1)/seccomp.bpf" "$ROOT/$(cid c2)/seccomp.bpf" || fail "the cached program differs from the generated one"
    hc container rm -f c1 c2 >/dev/null
    # damaged (a byte of the program, then a truncated file): not used, generated and written again
    size=$(stat -c %s "$cache/$e")
    printf '\xff' | dd of="$cache/$e" bs=1 seek=$((size - 12)) conv=notrunc status=none
    run hcl container run --rm busybox:t sh -c 'grep Seccomp: /proc/self/status; unshare -U true 2>&1; echo rc=$?'
    assert_success
    assert_contains "Seccomp:	2"
    assert_not_contains "rc=0"
    grep -q "seccomp: cache entry $e is damaged or of another key: not used" "$log" || fail "damage not seen: $(grep 'seccomp: ' "$log" | tail -3)"
    ! grep -q "seccomp: the program from cache entry" "$log" || fail "a damaged entry was used"
    cmp "$cache/$e" "$TEST_DIR/entry" || fail "not written again"
    head -c $((size / 2)) "$TEST_DIR/entry" >"$cache/$e"
    run hcl container run --rm busybox:t true
    assert_success
    grep -q "seccomp: cache entry $e is damaged or of another key: not used" "$log" || fail "truncation not seen"
    cmp "$cache/$e" "$TEST_DIR/entry" || fail "not written again"
    # another profile's entry (whole, with its checksum) under this one's name: not used
    echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}' >"$TEST_DIR/p.json"
    run hcl container run --rm --security-opt "seccomp=$TEST_DIR/p.json" busybox:t sh -c 'mkdir /x 2>&1; echo rc=$?'
    assert_contains "rc=1"
    f=$(ls "$cache" | grep -v "^$e\$")
    [ -n "$f" ] || fail "no entry for the other profile"
    cp "$cache/$f" "$cache/$e"
    run hcl container run --rm busybox:t sh -c 'mkdir /x && echo made'
    assert_success
    assert_contains "made"
    grep -q "seccomp: cache entry $e is damaged or of another key: not used" "$log" || fail "foreign entry not seen"
    cmp "$cache/$e" "$TEST_DIR/entry" || fail "not written again"
    # a directory others may write: not used at all
    chmod 0770 "$cache"
    run hcl container run --rm busybox:t true
    assert_success
    grep -q "seccomp: cache $cache is not ours alone: not used" "$log" || fail "group-writable cache used: $(grep 'seccomp: ' "$log" | tail -3)"
}
