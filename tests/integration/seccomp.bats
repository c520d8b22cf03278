#!/usr/bin/env bats
# linux.seccomp: actions, errnoRet, argument filters, the default profile, the notify
# listener, and bad profiles. Checked by what the container's programs see.

load helpers


# seccomp JSON -> linux.seccomp of the bundle
set_seccomp() {
    update_config '.linux.seccomp = $s' --argjson s "$1"
}

# ---------------------------------------------------------------- errno

@test "seccomp: denied mkdir fails with EPERM by default and with errnoRet when set" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}'
    ctr_run sh -c 'mkdir /made; echo "mkdir=$?"; rmdir /tmp; echo "rmdir=$?"; echo end'
    assert_success
    assert_contains "mkdir: can't create directory '/made': Operation not permitted"
    assert_contains "mkdir=1"
    assert_contains "rmdir: '/tmp': No space left on device"
    assert_contains "end"
    # the host's view: nothing was made, /tmp is still there
    [ ! -e "$BUNDLE/rootfs/made" ]
    [ -d "$BUNDLE/rootfs/tmp" ]

    # the same mkdir with errnoRet ENOSPC
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}'
    ID=$(new_id)
    ctr_run sh -c 'mkdir /made'
    assert_failure
    assert_contains "mkdir: can't create directory '/made': No space left on device"
    [ ! -e "$BUNDLE/rootfs/made" ]
}

@test "seccomp: defaultAction SCMP_ACT_ERRNO with an allow-list" {
    # What a static busybox needs to start, echo, cat and exit; plus husk's own
    # write/close/execve (noNewPrivileges: the filter is loaded last). runc needs more of
    # its own after loading (fstatfs, getdents64 on /proc/self/fd), hence husk only.
    require_husk
    skip_under_valgrind "the filter (loaded natively) also judges valgrind's own syscalls (gettid, ...), which it denies"
    set_seccomp '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 95, "syscalls": [
        {"names": ["execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
                   "readlink", "getrandom", "mprotect", "mmap", "munmap", "uname", "getuid", "geteuid", "getgid",
                   "getegid", "getpid", "getppid", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "prctl",
                   "openat", "open", "newfstatat", "fstat", "stat", "read", "write", "close", "fcntl", "dup2",
                   "sendfile", "ioctl", "getcwd", "lseek", "clone", "wait4", "pipe2", "pipe", "exit", "exit_group",
                   "no_such_syscall_husk"],
         "action": "SCMP_ACT_ALLOW"}]}'
    update_config '.process.noNewPrivileges = true'
    ctr_run sh -c 'echo allowed; cat /etc/passwd; mkdir /made; echo "mkdir=$?"; echo "[$(ls /)]"'
    assert_success
    assert_contains "allowed"
    assert_contains "root:x:0:0"
    # mkdir is not on the list: the default errno (EOPNOTSUPP)
    assert_contains "mkdir: can't create directory '/made': Operation not supported"
    assert_contains "mkdir=1"
    [ ! -e "$BUNDLE/rootfs/made" ]
    # neither is getdents64: busybox ls sees an empty directory
    assert_contains "[]"
}

@test "seccomp: a syscall newer than the profile gets ENOSYS, an older unlisted one the default errno" {
    # runc's rule: with an errno (or kill) default, a syscall numbered above the
    # highest one the profile names is one the profile could not know: ENOSYS, as on
    # an older kernel, so that libc falls back (clone3 -> clone). The allow-list below
    # ends at set_robust_list (x86_64: 273); busybox touch calls utimensat (280),
    # mkdir calls mkdir (83), neither listed. husk only: runc needs more syscalls of
    # its own after the load.
    require_husk
    skip_under_valgrind "the filter (loaded natively) also judges valgrind's own syscalls (gettid, ...), which it denies"
    [ "$(uname -m)" = x86_64 ] || skip "syscall numbers of x86_64"
    set_seccomp '{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
        {"names": ["execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "readlink", "mprotect",
                   "mmap", "munmap", "uname", "getuid", "geteuid", "getgid", "getegid", "getpid", "getppid",
                   "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "prctl", "openat", "open", "newfstatat",
                   "fstat", "stat", "lstat", "read", "write", "close", "fcntl", "dup2", "ioctl", "getcwd", "lseek",
                   "clone", "vfork", "wait4", "pipe", "exit", "exit_group"],
         "action": "SCMP_ACT_ALLOW"}]}'
    update_config '.process.noNewPrivileges = true'
    ctr_run sh -c 'touch /etc/passwd; echo "touch=$?"; mkdir /made; echo "mkdir=$?"'
    assert_success
    assert_contains "touch: /etc/passwd: Function not implemented"
    assert_contains "touch=1"
    assert_contains "mkdir: can't create directory '/made': Operation not permitted"
    assert_contains "mkdir=1"
}

# ---------------------------------------------------------------- kill, trap

@test "seccomp: SCMP_ACT_KILL, KILL_PROCESS, KILL_THREAD and TRAP kill the process with SIGSYS" {
    local act
    for act in SCMP_ACT_KILL SCMP_ACT_KILL_PROCESS SCMP_ACT_KILL_THREAD SCMP_ACT_TRAP; do
        set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "'$act'"}]}'
        # as pid 1 of the container: husk run reports 128 + SIGSYS
        ID=$(new_id)
        ctr_run mkdir /made
        if [ "$status" -ne 159 ]; then
            show_run
            fail "$act: expected exit status 159 (SIGSYS), got $status"
        fi
        [ ! -e "$BUNDLE/rootfs/made" ]
        # in a child of the shell: the shell sees the signal
        ID=$(new_id)
        ctr_run sh -c '/bin/busybox mkdir /made; echo "status=$?"'
        assert_success
        assert_contains "status=159"
        [ ! -e "$BUNDLE/rootfs/made" ]
    done
}

# ---------------------------------------------------------------- arguments

@test "seccomp: argument filters match exactly (EQ on personality, MASKED_EQ on open flags)" {
    # personality(PER_LINUX32 = 8) denied, personality(0) and the 0xffffffff query allowed;
    # openat with O_CREAT (0100) in its flags denied, without it allowed.
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
         "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
        {"names": ["openat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30,
         "args": [{"index": 2, "value": 64, "valueTwo": 64, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["open"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30,
         "args": [{"index": 1, "value": 64, "valueTwo": 64, "op": "SCMP_CMP_MASKED_EQ"}]}]}'
    ctr_run sh -c 'linux32 uname -m; echo "l32=$?"; linux64 uname -m; echo "l64=$?";
                   touch /newfile; echo "touch=$?"; cat /etc/passwd; echo x >/tmp/f; echo "redir=$?"'
    assert_success
    assert_contains "l32=1"
    assert_contains "Operation not permitted"
    assert_contains "x86_64"
    assert_contains "l64=0"
    assert_contains "touch: /newfile: Read-only file system"
    assert_contains "touch=1"
    assert_contains "root:x:0:0"
    assert_contains "redir=1"
    [ ! -e "$BUNDLE/rootfs/newfile" ]
    [ ! -e "$BUNDLE/rootfs/tmp/f" ]
}

@test "seccomp: several args on one rule must all match; the same index twice is either" {
    # kill(1, SIGUSR1) denied only for pid 1 AND signal 10; kill(any, 12 or 15) denied.
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28,
         "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]},
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122,
         "args": [{"index": 1, "value": 12, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]}]}'
    ctr_run sh -c 'sleep 100 & p=$!;
                   kill -USR1 1; echo "usr1-to-1=$?";
                   kill -0 1; echo "zero-to-1=$?";
                   kill -USR2 $p; echo "usr2=$?"; kill -TERM $p; echo "term=$?";
                   kill -USR1 $p; echo "usr1-to-sleep=$?"; kill -KILL $p 2>/dev/null; wait $p; echo "sleep-status=$?"'
    assert_success
    assert_contains "usr1-to-1=1"
    assert_contains "can't kill pid 1: No space left on device"
    assert_contains "zero-to-1=0"
    assert_contains "usr2=1"
    assert_contains "term=1"
    assert_contains "Disk quota exceeded"
    # pid is not 1: the first rule does not match, the signal goes through
    assert_contains "usr1-to-sleep=0"
    # killed by SIGUSR1 (138), or by the SIGKILL after it (137); never by TERM (143)
    [[ $output =~ sleep-status=13[78] ]] || fail "sleep status: $output"
}

# ---------------------------------------------------------------- notify

start_listener() {
    local answer=$1 bin
    bin=$(listener_bin) || skip "seccomp_listener not built"
    LSOCK=$TEST_DIR/agent.sock
    LOUT=$TEST_DIR/agent.json
    timeout 60 "$bin" "$LSOCK" "$LOUT" "$answer" 2>"$TEST_DIR/agent.err" &
    LPID=$!
    on_cleanup "kill $LPID"
    local i
    for ((i = 0; i < 100; i++)); do
        [ -S "$LSOCK" ] && return 0
        sleep 0.05
    done
    fail "listener socket did not appear"
}

@test "seccomp: SCMP_ACT_NOTIFY sends the fd to listenerPath; the agent answers mkdir with an errno" {
    start_listener 30
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$LSOCK"'",
        "listenerMetadata": "answer=EROFS",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
    set_cmd sh -c 'mkdir /made; echo "mkdir=$?"; sleep 100'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    run husk start "$ID"
    assert_success
    wait_for_file "$LOUT"
    wait_for_file "$LOUT.calls"
    local pid
    pid=$(state_field "$ID" pid)
    # the containerProcessState
    run jq -c . "$LOUT"
    assert_success
    jq -e '.fds == ["seccompFd"]' "$LOUT"
    jq -e --argjson p "$pid" '.pid == $p' "$LOUT"
    jq -e '.metadata == "answer=EROFS"' "$LOUT"
    jq -e '.ociVersion | test("^1\\.")' "$LOUT"
    jq -e --arg id "$ID" --arg b "$BUNDLE" --argjson p "$pid" \
        '.state.id == $id and .state.bundle == $b and .state.pid == $p and .state.status == "created"' "$LOUT"
    # the agent saw mkdir (83) or mkdirat (258) and answered EROFS
    grep -qxE '83|258' "$LOUT.calls"
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q 'mkdir=' "$(_io_base "$ID").err" "$(_io_base "$ID").out" 2>/dev/null && break
        sleep 0.05
    done
    assert_contains "mkdir: can't create directory '/made': Read-only file system" "$(ctr_stderr "$ID")"
    assert_contains "mkdir=1" "$(ctr_stdout "$ID")"
    [ ! -e "$BUNDLE/rootfs/made" ]
    run husk delete --force "$ID"
    assert_success
    # the filter lost its last task: the agent sees it and exits cleanly
    wait "$LPID"
}

@test "seccomp: the notify agent can make a syscall succeed without running it" {
    start_listener 0
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$LSOCK"'",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
    ctr_run sh -c 'mkdir /made && echo "mkdir ok"; ls -d /made; echo "ls=$?"'
    assert_success
    assert_contains "mkdir ok"
    assert_contains "ls=1"
    [ ! -e "$BUNDLE/rootfs/made" ]
    wait "$LPID"
    jq -e 'has("metadata") | not' "$LOUT"
}

@test "seccomp: a listenerPath nobody listens on fails create and leaves nothing" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$TEST_DIR"'/nobody.sock",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
    run --separate-stderr husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "seccomp listener" "$stderr"
    assert_no_trace "$ID"
    assert_root_empty
}

# ---------------------------------------------------------------- the default profile

@test "seccomp: a podman-sized default profile loads and a busybox shell runs under it" {
    local prof=$BATS_TEST_DIRNAME/fixtures/seccomp-default.json
    [ "$(jq '[.syscalls[].names[]] | unique | length' "$prof")" -ge 300 ]
    local nnp
    for nnp in true false; do
        update_config '.linux.seccomp = $p[0] | .process.noNewPrivileges = ($n == "true")' \
            --slurpfile p "$prof" --arg n "$nnp"
        ID=$(new_id)
        ctr_run sh -c 'echo hello; ls / >/dev/null && echo ls-ok; rm -rf /tmp/d; mkdir /tmp/d && echo mkdir-ok;
                       (echo sub) && echo fork-ok; linux32 uname -m;
                       unshare -m true; echo "unshare=$?"; dmesg >/dev/null; echo "dmesg=$?";
                       grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'
        assert_success
        assert_contains "hello"
        assert_contains "ls-ok"
        assert_contains "mkdir-ok"
        assert_contains "fork-ok"
        assert_contains "i686"
        # listed with errnoRet 1
        assert_contains "unshare: unshare(0x20000): Operation not permitted"
        assert_contains "unshare=1"
        # not listed: the default ENOSYS
        assert_contains "Function not implemented"
        assert_contains "dmesg=1"
        # mode 2: filter
        assert_contains "Seccomp:	2"
        # no_new_privs is the config's, not libseccomp's: without it, the filter went
        # in while husk still held CAP_SYS_ADMIN (the kernel refuses it otherwise)
        if [ "$nnp" = true ]; then
            assert_contains "NoNewPrivs:	1"
        else
            assert_contains "NoNewPrivs:	0"
        fi
    done
}

@test "seccomp: flags LOG, SPEC_ALLOW and TSYNC apply; unknown syscall names are skipped" {
    require_husk   # runc 1.1: "seccomp flags are not yet supported"
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"],
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [{"names": ["no_such_syscall_husk", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28},
                     {"names": ["getpid"], "action": "SCMP_ACT_LOG"}]}'
    ctr_run sh -c 'mkdir /made; echo $$'
    assert_success
    assert_contains "No space left on device"
    assert_contains "1"
}

# ---------------------------------------------------------------- bad profiles

bad_profile() {
    local seccomp=$1 want=$2
    set_seccomp "$seccomp"
    ID=$(new_id)
    run --separate-stderr husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    if is_husk; then
        assert_contains "$want" "$stderr"
        # one line
        [ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ] || fail "expected one error line, got:" "$stderr"
    fi
    assert_no_trace "$ID"
    assert_root_empty
}

@test "seccomp: an invalid profile gives one error naming the JSON path and leaves nothing" {
    bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_FOO"}]}' \
        'config.json: linux.seccomp.syscalls[0].action: unknown seccomp action "SCMP_ACT_FOO"'
    bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BETWEEN"}]}]}' \
        'config.json: linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_BETWEEN"'
    bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]}' \
        'config.json: linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_Z80"'
    bad_profile '{"defaultAction": "SCMP_ACT_DENY"}' \
        'config.json: linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_DENY"'
    # runc (1.1) accepts the rest; the spec says errnoRet with an action that has no
    # errno MUST fail, and the others would be silently different filters.
    is_husk || return 0
    bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}' \
        'config.json: linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used'
    bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_KILL", "errnoRet": 1}]}' \
        'config.json: linux.seccomp.syscalls[0].errnoRet: not supported with action "SCMP_ACT_KILL"'
    bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 100000}]}' \
        'config.json: linux.seccomp.syscalls[0].errnoRet: 100000 out of range [0, 65535]'
    if "$HUSK_BIN" --version | grep -q '^libseccomp: 2\.5\.'; then
        bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_M68K"]}' \
            'config.json: linux.seccomp.architectures[0]: architecture "SCMP_ARCH_M68K" is not supported by libseccomp 2.5'
        bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}' \
            'config.json: linux.seccomp.flags[0]: "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" needs libseccomp >= 2.6.0'
    fi
}

@test "seccomp: husk --version reports +seccomp" {
    require_husk
    run "$HUSK_BIN" --version
    assert_success
    assert_contains "+seccomp"
    assert_not_contains "-seccomp"
}
