#!/usr/bin/env bats
# husk exec: a new process joins a running container — its namespaces, cgroups and
# root — set up like the container's own process (capabilities, noNewPrivileges,
# seccomp, user, env, cwd), with runc's flags on top.

load helpers

# A running container ($ID, `sleep 100`); INIT is its host pid.
start_ctr() {
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    wait_status "$ID" running
    INIT=$(state_field "$ID" pid)
}

# exec_d ARGS... — `husk exec --detach ARGS...` with stdio away from bats' pipes
# (the detached process keeps them); its output is in $TEST_DIR/exec_d.out.
exec_d() {
    "$HUSK_BIN" --root "$ROOT" exec --detach "$@" </dev/null >"$TEST_DIR/exec_d.out" 2>&1 3>&-
}

# Field of /proc/PID/status, e.g. status_field 123 CapEff
status_field() {
    awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}

recvtty_bin() {
    local b
    for b in "$(dirname "$HUSK_BIN")/recvtty" "$HUSK_REPO"/build*/recvtty; do
        [ -x "$b" ] && echo "$b" && return
    done
    return 1
}

@test "exec: stdout and stderr pass through, the exit status is husk's" {
    start_ctr
    run --separate-stderr husk exec "$ID" sh -c 'echo to-out; echo to-err >&2; exit 42'
    assert_status 42
    assert_equal "$output" to-out
    assert_equal "$stderr" to-err
    run husk exec "$ID" true
    assert_success
}

@test "exec: stdin passes through" {
    start_ctr
    run husk exec "$ID" sh -c 'read l; echo "got:$l"' <<<"hello exec"
    assert_success
    assert_equal "$output" "got:hello exec"
}

@test "exec: every namespace of the process is the init's" {
    start_ctr
    local ns want got
    for ns in pid mnt net ipc uts cgroup user; do
        want=$(readlink "/proc/$INIT/ns/$ns")
        run husk exec "$ID" readlink "/proc/self/ns/$ns"
        assert_success
        assert_equal "$output" "$want"
    done
    # In the container's pid namespace: a small pid, the init is 1, the same root.
    run husk exec "$ID" sh -c 'echo $$; cat /proc/1/cmdline | tr "\0" " "; hostname; ls /'
    assert_success
    assert_contains "sleep 100"
    assert_contains husktest
    [ "$(head -1 <<<"$output")" -lt 100 ] || fail "pid not in the container's namespace: $output"
    assert_not_contains "$TEST_DIR"
}

@test "exec: the process is in the container's cgroups; ps lists it, kill --all and delete --force reach it" {
    start_ctr
    exec_d --pid-file "$TEST_DIR/exec.pid" "$ID" sleep 77
    local pid d
    pid=$(cat "$TEST_DIR/exec.pid")
    [ -n "$pid" ] && kill -0 "$pid"
    [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 77 " ] || fail "pid file does not name the process"
    for d in $(cgroup_dirs "$ID"); do
        grep -qx "$pid" "$d/cgroup.procs" || fail "$pid not in $d"
    done
    run husk ps -f json "$ID"
    assert_success
    jq -e --argjson p "$pid" --argjson i "$INIT" 'index($p) != null and index($i) != null' <<<"$output"
    run husk kill --all "$ID" KILL
    assert_success
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    ! kill -0 "$pid" 2>/dev/null || fail "kill --all did not reach the exec'd process"
    wait_status "$ID" stopped
    run husk delete "$ID"
    assert_success

    # delete --force takes exec'd processes along.
    ID=$(new_id)
    start_ctr
    exec_d --pid-file "$TEST_DIR/exec2.pid" "$ID" sleep 78
    pid=$(cat "$TEST_DIR/exec2.pid")
    run husk delete --force "$ID"
    assert_success
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    ! kill -0 "$pid" 2>/dev/null || fail "delete --force left the exec'd process"
    assert_no_trace "$ID"
}

@test "exec: env and cwd of the container by default; --env, --cwd, --user, --additional-gids override" {
    update_config '.process.env += ["FROMCFG=yes"] | .process.cwd = "/etc"'
    start_ctr
    run husk exec "$ID" sh -c 'echo "cfg=$FROMCFG home=$HOME"; pwd; id -u; id -g'
    assert_success
    assert_equal "$output" $'cfg=yes home=/root\n/etc\n0\n0'
    run husk exec -e FOO=bar --env FROMCFG=over --cwd /tmp -u 1000:1001 -g 5 -g 7 "$ID" \
        sh -c 'echo "foo=$FOO cfg=$FROMCFG"; pwd; id -u; id -g; id -G'
    assert_success
    assert_equal "$output" $'foo=bar cfg=over\n/tmp\n1000\n1001\n1001 5 7'
    # --user UID alone keeps the container's gid.
    run husk exec --user 1234 "$ID" sh -c 'echo "$(id -u):$(id -g)"'
    assert_success
    assert_equal "$output" "1234:0"
}

@test "exec: capabilities are the container's; --cap adds one" {
    start_ctr
    local eff bnd
    eff=$(status_field "$INIT" CapEff)
    bnd=$(status_field "$INIT" CapBnd)
    run husk exec "$ID" sh -c 'grep -E "^Cap(Eff|Prm|Bnd|Inh|Amb)" /proc/self/status'
    assert_success
    assert_contains "CapEff:	$eff"
    assert_contains "CapPrm:	$(status_field "$INIT" CapPrm)"
    assert_contains "CapBnd:	$bnd"
    assert_contains "CapInh:	$(status_field "$INIT" CapInh)"
    # CAP_SYS_ADMIN is not in the default set; --cap adds it.
    [ $((0x$eff & (1 << 21))) -eq 0 ] || fail "CAP_SYS_ADMIN already in the container's set"
    run husk exec --cap CAP_SYS_ADMIN "$ID" awk '$1 == "CapEff:" { print $2 }' /proc/self/status
    assert_success
    assert_equal "$output" "$(printf '%016x' $((0x$eff | (1 << 21))))"
    # an unknown name is skipped with a warning naming it; the known ones still apply
    run --separate-stderr husk exec --cap CAP_NOPE --cap CAP_SYS_ADMIN "$ID" awk '$1 == "CapEff:" { print $2 }' /proc/self/status
    assert_success
    assert_equal "$output" "$(printf '%016x' $((0x$eff | (1 << 21))))"
    assert_contains 'CAP_NOPE' "$stderr"
    [ "$(wc -l <<<"$stderr")" -eq 1 ] || fail "stderr: $stderr"
}

@test "exec: noNewPrivileges from the config, or --no-new-privs" {
    update_config '.process.noNewPrivileges = true'
    start_ctr
    run husk exec "$ID" awk '$1 == "NoNewPrivs:" { print $2 }' /proc/self/status
    assert_equal "$output" 1
    run husk delete --force "$ID"

    ID=$(new_id)
    update_config '.process.noNewPrivileges = false'
    start_ctr
    run husk exec "$ID" awk '$1 == "NoNewPrivs:" { print $2 }' /proc/self/status
    assert_equal "$output" 0
    run husk exec --no-new-privs "$ID" awk '$1 == "NoNewPrivs:" { print $2 }' /proc/self/status
    assert_equal "$output" 1
}

@test "exec: the container's seccomp filter applies" {
    update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]}'
    start_ctr
    run husk exec "$ID" sh -c 'grep "^Seccomp:" /proc/self/status; mkdir /tmp/x && echo made'
    assert_contains "Seccomp:	2"
    assert_contains "Permission denied"
    assert_not_contains made
}

@test "exec: loads the seccomp program create saved, builds it when there is none" {
    require_husk
    update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]}'
    start_ctr
    local f=$ROOT/$ID/seccomp.bpf
    [ "$(stat -c %a "$f")" = 600 ] || fail "create did not save the program 0600: $(ls -l "$f")"

    # The program of another profile (rmdir denied with EXDEV) in its place: exec loads
    # the saved program, so that is the filter the exec'd process meets.
    local id2 b2=$TEST_DIR/bundle2
    id2=$(new_id)
    mkdir "$b2"
    jq --arg r "$BUNDLE/rootfs" '.root.path = $r | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{names: ["rmdir", "unlinkat"], action: "SCMP_ACT_ERRNO", errnoRet: 18}]}' \
        "$BUNDLE/config.json" >"$b2/config.json"
    run husk create --bundle "$b2" "$id2"
    assert_success
    cp "$ROOT/$id2/seccomp.bpf" "$TEST_DIR/other.bpf"
    run husk delete --force "$id2"
    assert_success
    cp "$f" "$TEST_DIR/own.bpf"
    cp "$TEST_DIR/other.bpf" "$f"
    run husk exec "$ID" sh -c 'mkdir /tmp/d && echo made; rmdir /tmp/d'
    assert_contains made
    assert_contains "Invalid cross-device link"

    # None saved (a container of an older husk): built from the saved config.
    rm "$f"
    run husk exec "$ID" sh -c 'mkdir /tmp/e && echo made'
    assert_contains "Permission denied"
    assert_not_contains made

    # A damaged one: exec refuses, naming it, and runs nothing.
    head -c 20 "$TEST_DIR/own.bpf" >"$f"
    run husk exec "$ID" sh -c 'echo ran'
    assert_failure
    assert_contains "seccomp.bpf is damaged"
    assert_not_contains ran
    cp "$TEST_DIR/own.bpf" "$f"
    run husk exec "$ID" sh -c 'mkdir /tmp/g && echo made'
    assert_contains "Permission denied"
    assert_not_contains made
}

@test "exec: no fd of husk's leaks; --preserve-fds passes the caller's" {
    start_ctr
    # (not the last command, so sh does not exec ls: these are sh's own fds)
    run husk exec "$ID" sh -c 'ls /proc/$$/fd; true'
    assert_success
    assert_equal "$(echo $output)" "0 1 2"
    # (not through the `husk` wrapper, which closes fd 3)
    run "$HUSK_BIN" --root "$ROOT" exec --preserve-fds 1 "$ID" sh -c 'ls /proc/$$/fd; cat <&3' 3<<<"through fd 3"
    assert_success
    assert_equal "$(echo $output)" "0 1 2 3 through fd 3"
}

@test "exec --detach --pid-file: returns at once, the process keeps running" {
    start_ctr
    exec_d --pid-file "$TEST_DIR/p" "$ID" sh -c 'sleep 1; touch /tmp/detached-done'
    local pid
    pid=$(cat "$TEST_DIR/p")
    kill -0 "$pid"
    [ ! -e "$BUNDLE/rootfs/tmp/detached-done" ] || fail "did not detach"
    wait_for_file "$BUNDLE/rootfs/tmp/detached-done" 10 || [ -e "$BUNDLE/rootfs/tmp/detached-done" ]
}

@test "exec: signals to husk exec are forwarded" {
    start_ctr
    "$HUSK_BIN" --root "$ROOT" exec "$ID" sh -c 'trap "exit 9" TERM; echo ready; while :; do sleep 0.1; done' \
        </dev/null >"$TEST_DIR/out" 3>&- &
    local hpid=$! i
    for ((i = 0; i < 100; i++)); do
        grep -q ready "$TEST_DIR/out" 2>/dev/null && break
        sleep 0.05
    done
    kill -TERM "$hpid"
    local rc=0
    wait "$hpid" || rc=$?
    assert_equal "$rc" 9
    # Killed by a signal: 128+N.
    run husk exec "$ID" sh -c 'kill -KILL $$'
    assert_status 137
}

@test "exec --process FILE: scheduler, ioPriority and execCPUAffinity.final apply to the exec'd process" {
    [ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
    start_ctr
    cat >"$TEST_DIR/proc.json" <<'EOF'
{"args": ["sh", "-c", "set -- $(cat /proc/self/stat); echo ${19} ${41}; ionice -p $$; grep Cpus_allowed_list /proc/self/status"],
 "cwd": "/", "scheduler": {"policy": "SCHED_BATCH", "nice": 4},
 "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 2},
 "execCPUAffinity": {"initial": "0", "final": "1"}}
EOF
    run husk exec --process "$TEST_DIR/proc.json" "$ID"
    assert_success
    assert_equal "${lines[0]}" "4 3"
    assert_equal "${lines[1]}" "best-effort: prio 2"
    assert_equal "$(echo "${lines[2]}" | tr -d ' \t')" "Cpus_allowed_list:1"
    # The init keeps what it was created with (ours: the test may itself run niced).
    local mine
    mine=$(set -- $(cat /proc/self/stat); echo "${19} ${41}")
    run husk exec "$ID" sh -c 'set -- $(cat /proc/1/stat); echo ${19} ${41}'
    assert_equal "$output" "$mine"
}

@test "exec --process FILE: a process.json per the spec; errors name the JSON path" {
    start_ctr
    cat >"$TEST_DIR/proc.json" <<'EOF'
{"args": ["sh", "-c", "echo \"$A $(pwd) $(id -u)\""], "env": ["A=from-file"], "cwd": "/var",
 "user": {"uid": 1000, "gid": 1000}}
EOF
    run husk exec --process "$TEST_DIR/proc.json" "$ID"
    assert_success
    assert_equal "$output" "from-file /var 1000"
    echo '{"args": ["sh", 3], "cwd": "/"}' >"$TEST_DIR/bad.json"
    run husk exec --process "$TEST_DIR/bad.json" "$ID"
    assert_failure
    assert_contains "args[1]"
    assert_contains "bad.json"
    run husk exec --process "$TEST_DIR/missing.json" "$ID"
    assert_failure
    assert_contains missing.json
}

@test "exec --tty --console-socket: the pty master goes to the socket" {
    local bin
    bin=$(recvtty_bin) || skip "recvtty not built"
    start_ctr
    SOCK=$TEST_DIR/console.sock
    "$bin" -o "$TEST_DIR/tty.out" "$SOCK" </dev/null >"$TEST_DIR/recvtty.log" 2>&1 3>&- &
    local rpid=$! i
    on_cleanup "kill $rpid"
    for ((i = 0; i < 200; i++)); do
        [ -S "$SOCK" ] && break
        sleep 0.05
    done
    run husk exec --tty --console-socket "$SOCK" "$ID" sh -c 'tty; echo "ctty:$(cut -d" " -f7 /proc/self/stat)"; exit 5' </dev/null
    assert_status 5
    assert_not_contains /dev/pts
    for ((i = 0; i < 200; i++)); do
        kill -0 "$rpid" 2>/dev/null || break
        sleep 0.05
    done
    wait "$rpid"
    output=$(tr -d '\r' <"$TEST_DIR/tty.out")
    assert_contains /dev/pts/
    assert_not_contains "ctty:0"
    # The init's /dev/console is left alone (the container had no terminal).
    run husk exec "$ID" sh -c 'grep -c " /dev/console " /proc/self/mountinfo'
    assert_equal "$output" 0
}

@test "exec --tty in the foreground: husk relays the pty" {
    start_ctr
    run husk exec -t "$ID" sh -c 'tty; exit 3' </dev/null
    assert_status 3
    assert_contains /dev/pts/
}

@test "exec into a user-namespace container joins its user namespace" {
    update_config '.linux.namespaces += [{type: "user"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
        | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
    chmod 755 "$TEST_DIR" "$BUNDLE"
    chown -R 100000:100000 "$BUNDLE/rootfs"
    start_ctr
    run husk exec "$ID" sh -c 'readlink /proc/self/ns/user; id -u; cat /proc/self/uid_map'
    assert_success
    assert_contains "$(readlink "/proc/$INIT/ns/user")"
    assert_contains "100000"
    exec_d --pid-file "$TEST_DIR/p" "$ID" sleep 30
    assert_equal "$(stat -c %u "/proc/$(cat "$TEST_DIR/p")")" 100000
}

@test "exec errors: unknown id, stopped, paused (unless --ignore-paused), missing command, bad flags" {
    # Failures of exec itself exit 255, as runc's do: a caller tells them from the
    # process's own status (which passes through: see the first test).
    run husk exec nosuch true
    assert_status 255
    assert_contains "container does not exist"
    is_husk && assert_contains "container does not exist: nosuch"

    start_ctr
    # runc too: a program that cannot be found or run is a failure of exec (255);
    # podman and docker make their 127 from the message.
    run husk exec "$ID" /no/such/program
    assert_status 255
    assert_contains /no/such/program
    run husk exec "$ID" nosuchcmd
    assert_status 255
    assert_contains 'executable file not found in $PATH'
    is_husk && assert_contains 'exec: "nosuchcmd": executable file not found in $PATH'
    run husk exec "$ID" /etc/passwd
    assert_status 255
    # the exec'd process's own 127 and 255 pass through unchanged
    run -127 husk exec "$ID" sh -c 'exit 127'
    assert_status 127
    run husk exec "$ID" sh -c 'exit 255'
    assert_status 255
    run husk exec "$ID" sh -c 'exit 1'
    assert_status 1
    # a pid file in a directory that does not exist: nothing keeps running
    run husk exec --pid-file "$TEST_DIR/no/such/dir/pid" "$ID" true
    assert_status 255
    run husk exec -u bob "$ID" true
    assert_status 255
    is_husk && assert_contains '--user "bob"'
    run husk exec "$ID"
    assert_status 255
    is_husk && assert_contains "requires an ID and a command"
    if is_husk; then
        # runc: 255 for bad values, 1 for unknown flags (urfave/cli); husk: 255 for all
        run husk exec --bogus "$ID" true
        assert_status 255
        run husk exec --preserve-fds x "$ID" true
        assert_status 255
        run husk exec --apparmor myprofile "$ID" true
        assert_status 255
        assert_contains "not supported"
        run husk exec --process-label foo "$ID" true
        assert_status 255
        assert_contains "not supported"
        run husk exec --cgroup ../escape "$ID" true
        assert_status 255
        assert_contains "--cgroup"
        run husk exec --process "$TEST_DIR/no-such.json" "$ID"
        assert_status 255
    fi

    run husk pause "$ID"
    assert_success
    run husk exec "$ID" true
    assert_status 255
    assert_contains "cannot exec in a paused container"
    is_husk && assert_contains "cannot exec in a paused container: $ID"
    # --ignore-paused: the process starts frozen and runs on resume.
    # (husk exec itself waits until the process has exec'd, i.e. until resume.)
    husk exec --ignore-paused "$ID" sh -c 'touch /tmp/after-resume' &
    local epid=$!
    sleep 0.5
    [ ! -e "$BUNDLE/rootfs/tmp/after-resume" ] || fail "ran while paused"
    run husk resume "$ID"
    assert_success
    wait "$epid"
    [ -e "$BUNDLE/rootfs/tmp/after-resume" ] || fail "did not run after resume"

    run husk kill "$ID" KILL
    wait_status "$ID" stopped
    run husk exec "$ID" true
    assert_status 255
    assert_contains "cannot exec in a stopped container"
    is_husk && assert_contains "cannot exec in a stopped container: $ID"
    true
}

@test "exec --cgroup SUB: joins an existing sub-cgroup of the container" {
    start_ctr
    local d
    for d in $(cgroup_dirs "$ID"); do
        mkdir "$d/sub"
        on_cleanup "rmdir $d/sub"
        if [ -f "$d/cpuset.cpus" ]; then
            cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
            cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
        fi
    done
    run husk exec --cgroup sub "$ID" cat /proc/self/cgroup
    assert_success
    assert_contains "pids:/sub"
    run husk exec --cgroup nosub "$ID" true
    assert_failure
    assert_contains "nosub"
    # The sub-cgroups must go before teardown's check.
    wait_status "$ID" running
    run husk kill "$ID" KILL
    wait_status "$ID" stopped
    for d in $(cgroup_dirs "$ID"); do rmdir "$d/sub"; done
}


# start_agent SOCK OUT ERRNO: one seccomp_listener connection on SOCK, in the background.
start_agent() {
    local bin i
    bin=$(listener_bin) || skip "seccomp_listener not built"
    rm -f "$1"
    timeout 60 "$bin" "$1" "$2" "$3" 2>>"$TEST_DIR/agent.err" &
    AGENT=$!
    on_cleanup "kill $AGENT"
    for ((i = 0; i < 100; i++)); do
        [ -S "$1" ] && return 0
        sleep 0.05
    done
    fail "listener socket $1 did not appear"
}

@test "exec with a SCMP_ACT_NOTIFY profile: the exec'd process's fd goes to listenerPath, the agent answers" {
    local sock=$TEST_DIR/agent.sock
    update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $s,
        "listenerMetadata": "exec-test",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}' --arg s "$sock"
    # The init's filter goes to a first agent (it never calls mkdir) ...
    start_agent "$sock" "$TEST_DIR/init.json" 30
    start_ctr
    wait_for_file "$TEST_DIR/init.json"
    # ... the exec'd process gets a filter of its own, and its fd reaches a second agent
    # on the same listenerPath, which answers ENOSPC (28).
    start_agent "$sock" "$TEST_DIR/exec.json" 28
    local second=$AGENT
    exec_d --pid-file "$TEST_DIR/exec.pid" "$ID" sh -c 'mkdir /made; echo "mkdir=$?"; sleep 100'
    wait_for_file "$TEST_DIR/exec.json"
    wait_for_file "$TEST_DIR/exec.json.calls"
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q 'mkdir=' "$TEST_DIR/exec_d.out" && break
        sleep 0.05
    done
    run cat "$TEST_DIR/exec_d.out"
    assert_contains "mkdir: can't create directory '/made': No space left on device"
    assert_contains "mkdir=1"
    [ ! -e "$BUNDLE/rootfs/made" ]
    grep -qxE '83|258' "$TEST_DIR/exec.json.calls"
    # The container process state: pid is the exec'd process (the one the agent serves),
    # state.pid the container's init.
    local epid
    epid=$(cat "$TEST_DIR/exec.pid")
    jq -e --argjson p "$epid" '.pid == $p' "$TEST_DIR/exec.json"
    jq -e --argjson p "$INIT" --arg id "$ID" '.state.pid == $p and .state.id == $id and .state.status == "running"' \
        "$TEST_DIR/exec.json"
    jq -e '.fds == ["seccompFd"] and .metadata == "exec-test"' "$TEST_DIR/exec.json"
    # The init never called mkdir: the first agent saw nothing.
    [ ! -s "$TEST_DIR/init.json.calls" ]
    run husk delete --force "$ID"
    assert_success
    wait "$second"
}

@test "exec: the new process starts with every signal at its default, 32 and 33 too" {
    set_cmd sleep 100
    husk run --detach --bundle "$BUNDLE" "$ID"
    run python3 - "$HUSK_BIN" --root "$ROOT" exec "$ID" grep SigIgn /proc/self/status <<'PY'
import ctypes, os, struct, sys
libc = ctypes.CDLL(None)
act = ctypes.create_string_buffer(struct.pack("QQQQ", 1, 0, 0, 0))   # SIG_IGN
for s in (32, 33):
    libc.syscall(13, s, act, None, 8)                                 # rt_sigaction (glibc refuses them)
os.execvp(sys.argv[1], sys.argv[1:])
PY
    assert_success
    assert_equal "$output" "SigIgn:	0000000000000000"
}
