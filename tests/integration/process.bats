#!/usr/bin/env bats
# The container process: args, env, cwd, user and groups, umask, rlimits, oomScoreAdj,
# noNewPrivileges, the five capability sets, fds, the session keyring, the sealed
# /proc/PID/exe, and `husk --version`.

load helpers

# status_field NAME — the value of NAME: in /proc/self/status of a container process
# (the current bundle's, run now).
status_of() {
    ctr_run sh -c 'cat /proc/self/status'
    assert_success
}

field() {
    grep "^$1:" <<<"$output" | cut -f2-
}

has_python() {
    command -v python3 >/dev/null && python3 -c 'import ctypes' 2>/dev/null
}

# ---------------------------------------------------------------- args, env, cwd

@test "args are passed verbatim, env is exactly process.env" {
    update_config '.process.env = ["PATH=/bin:/usr/bin", "FOO=bar baz", "EMPTY="]'
    ctr_run sh -c 'printf "[%s]" "$0" "$@"; echo; env | sort' 'a 1' '' '*' '$HOME'
    assert_success
    assert_equal "${lines[0]}" '[a 1][][*][$HOME]'
    # env: ours, plus what sh itself sets (PWD, SHLVL), nothing of husk's or the host's
    run grep -v -e '^PWD=' -e '^SHLVL=' <<<"$(printf '%s\n' "${lines[@]:1}")"
    # HOME, not in process.env, is the user's from the image's /etc/passwd (as runc)
    assert_equal "$output" $'EMPTY=\nFOO=bar baz\nHOME=/root\nPATH=/bin:/usr/bin'
}

@test "HOME: the config's wins; else the image's passwd entry; else /" {
    update_config '.process.env = ["PATH=/bin", "HOME=/srv"]'
    ctr_run sh -c 'echo "$HOME"'
    assert_equal "$output" /srv
    update_config '.process.env = ["PATH=/bin"] | .process.user = {uid: 4321, gid: 4321}'
    ctr_run sh -c 'echo "$HOME"'
    assert_equal "$output" /
    echo 'svc:x:4321:4321::/home/svc:/bin/sh' >>"$BUNDLE/rootfs/etc/passwd"
    ctr_run sh -c 'echo "$HOME"'
    assert_equal "$output" /home/svc
}

@test "the program is looked up in process.env's PATH; not found fails create" {
    mkdir -p "$BUNDLE/rootfs/opt/tools"
    printf '#!/bin/sh\necho mytool ran\n' >"$BUNDLE/rootfs/opt/tools/mytool"
    chmod 755 "$BUNDLE/rootfs/opt/tools/mytool"
    update_config '.process.env = ["PATH=/opt/tools:/bin"]'
    ctr_run mytool
    assert_success
    assert_equal "$output" "mytool ran"
    update_config '.process.env = ["PATH=/bin"]'
    set_cmd mytool
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains 'exec: "mytool": executable file not found in $PATH'
    assert_no_trace "$ID"
}

@test "cwd is set; a missing cwd is created (root-owned, 0755)" {
    update_config '.process.cwd = "/var/tmp"'
    ctr_run pwd
    assert_success
    assert_equal "$output" /var/tmp
    update_config '.process.cwd = "/work/a/b" | .process.user = {uid: 1000, gid: 1000}'
    ctr_run sh -c 'pwd; stat -c "%u %a" /work/a/b /work/a'
    assert_success
    assert_equal "${lines[0]}" /work/a/b
    assert_equal "${lines[1]}" "0 755"
    assert_equal "${lines[2]}" "0 755"
}

@test "a missing cwd is created on a read-only root too (before the root goes read-only)" {
    update_config '.process.cwd = "/made/here" | .root.readonly = true'
    ctr_run sh -c 'pwd; touch /x 2>&1 || echo ro'
    assert_success
    assert_equal "${lines[0]}" /made/here
    assert_contains "ro"
    [ -d "$BUNDLE/rootfs/made/here" ]
}

@test "cwd must be absolute; a cwd that is a file fails create; nothing left" {
    update_config '.process.cwd = "relative/dir"'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "process.cwd"
    assert_no_trace "$ID"
    update_config '.process.cwd = "/etc/passwd"'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains 'cwd ("/etc/passwd")'
    assert_no_trace "$ID"
    assert_root_empty
}

# ---------------------------------------------------------------- user

@test "user: uid, gid and additionalGids (and nothing of the host's groups)" {
    update_config '.process.user = {uid: 1000, gid: 1001, additionalGids: [5, 6, 4242]}'
    status_of
    assert_equal "$(field Uid)" $'1000\t1000\t1000\t1000'
    assert_equal "$(field Gid)" $'1001\t1001\t1001\t1001'
    assert_equal "$(field Groups)" "5 6 4242 "
    # root with no additionalGids has no supplementary groups at all
    update_config '.process.user = {uid: 0, gid: 0}'
    ctr_run sh -c 'id -G; grep ^Groups: /proc/self/status'
    assert_success
    assert_equal "${lines[0]}" 0
    [[ ${lines[1]} =~ ^Groups:[[:space:]]*$ ]] || fail "groups: ${lines[1]}"
}

@test "umask: process.user.umask, default 0022" {
    ctr_run sh -c 'umask; touch /tmp/f; stat -c %a /tmp/f'
    assert_success
    assert_equal "$output" $'0022\n644'
    update_config '.process.user.umask = 63'
    ctr_run sh -c 'umask; touch /tmp/g; stat -c %a /tmp/g'
    assert_success
    assert_equal "$output" $'0077\n600'
}

# ---------------------------------------------------------------- rlimits, oom, nnp

@test "rlimits: NOFILE soft below hard, and CORE" {
    local hard
    hard=$(nofile_hard)
    update_config '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 100, hard: ($h - 1)},
                                       {type: "RLIMIT_CORE", soft: 0, hard: 4096}]' --argjson h "$hard"
    ctr_run sh -c 'ulimit -Sn; ulimit -Hn; grep "Max open files" /proc/self/limits; grep "Max core" /proc/self/limits'
    assert_success
    assert_equal "${lines[0]}" 100
    assert_equal "${lines[1]}" "$((hard - 1))"
    [[ ${lines[2]} =~ Max\ open\ files\ +100\ +$((hard - 1))\ +files ]] || fail "limits: ${lines[2]}"
    [[ ${lines[3]} =~ Max\ core\ file\ size\ +0\ +4096\ +bytes ]] || fail "limits: ${lines[3]}"
}

@test "rlimits: raising a hard limit is refused (no CAP_SYS_RESOURCE), nothing left" {
    local hard
    hard=$(nofile_hard)
    # Asking more than the hard limit we run under fails in the kernel, not here.
    update_config '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 10, hard: ($h + 1)}]' --argjson h "$hard"
    run husk create --bundle "$BUNDLE" "$ID"
    if [ "$status" -eq 0 ]; then
        # only possible with CAP_SYS_RESOURCE, which this machine does not grant
        husk delete --force "$ID"
        skip "this runtime may raise hard limits here"
    fi
    is_husk && assert_contains "setrlimit RLIMIT_NOFILE"
    assert_no_trace "$ID"
}

@test "oomScoreAdj is written to /proc/self/oom_score_adj" {
    update_config '.process.oomScoreAdj = 321'
    ctr_run cat /proc/self/oom_score_adj
    assert_success
    assert_equal "$output" 321
}

@test "scheduler and ioPriority are applied (sched_setattr, ioprio_set)" {
    update_config '.process.scheduler = {policy: "SCHED_BATCH", nice: 7}
                   | .process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 6}'
    # /proc/PID/stat field 19 is the nice value, 41 the policy (3: SCHED_BATCH).
    ctr_run sh -c 'set -- $(cat /proc/self/stat); echo "${19} ${41}"; ionice -p $$'
    assert_success
    assert_equal "${lines[0]}" "7 3"
    assert_equal "${lines[1]}" "best-effort: prio 6"
    update_config '.process.scheduler = {policy: "SCHED_IDLE"} | .process.ioPriority = {class: "IOPRIO_CLASS_IDLE"}'
    ctr_run sh -c 'set -- $(cat /proc/self/stat); echo "${41}"; ionice -p $$'
    assert_success
    assert_equal "${lines[0]}" 5
    assert_equal "${lines[1]}" idle
}

@test "scheduler: a deadline the kernel refuses fails create clearly" {
    # runtime > deadline: sched_setattr(2) says EINVAL; nothing is left behind.
    update_config '.process.scheduler = {policy: "SCHED_DEADLINE", runtime: 20000000, deadline: 10000000, period: 30000000}'
    set_cmd true
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "process.scheduler"
    assert_no_trace "$ID"
}

@test "noNewPrivileges: NoNewPrivs 1 when set, 0 when not" {
    update_config '.process.noNewPrivileges = true'
    status_of
    assert_equal "$(field NoNewPrivs)" 1
    update_config '.process.noNewPrivileges = false'
    status_of
    assert_equal "$(field NoNewPrivs)" 0
}

# ---------------------------------------------------------------- capabilities

@test "capabilities, root: the five sets are exactly the config's" {
    local bnd inh
    update_config '.process.capabilities = {
        bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_NET_RAW"],
        permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_NET_RAW"],
        effective: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_NET_RAW"],
        inheritable: ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
        ambient: ["CAP_NET_BIND_SERVICE"]}'
    status_of
    bnd=$(cap_mask CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE CAP_SETUID CAP_NET_RAW)
    assert_equal "$(field CapBnd)" "$bnd"
    assert_equal "$(field CapPrm)" "$bnd"
    assert_equal "$(field CapEff)" "$bnd"
    assert_equal "$(field CapInh)" "$(cap_mask CAP_NET_BIND_SERVICE CAP_KILL)"
    assert_equal "$(field CapAmb)" "$(cap_mask CAP_NET_BIND_SERVICE)"
}

@test "capabilities, non-root user with ambient caps: the five sets are exactly the config's" {
    update_config '.process.user = {uid: 1000, gid: 1000}
        | .process.capabilities = {
        bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        permitted: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        effective: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        inheritable: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        ambient: ["CAP_KILL", "CAP_NET_BIND_SERVICE"]}'
    status_of
    local two
    two=$(cap_mask CAP_KILL CAP_NET_BIND_SERVICE)
    assert_equal "$(field CapBnd)" "$(cap_mask CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE)"
    assert_equal "$(field CapPrm)" "$two"
    assert_equal "$(field CapEff)" "$two"
    assert_equal "$(field CapInh)" "$two"
    assert_equal "$(field CapAmb)" "$two"
    assert_equal "$(field Uid)" $'1000\t1000\t1000\t1000'
}

@test "capabilities: non-root without ambient has empty effective/permitted sets" {
    update_config '.process.user = {uid: 1000, gid: 1000}
        | .process.capabilities = {bounding: ["CAP_KILL"], permitted: ["CAP_KILL"], effective: ["CAP_KILL"]}'
    status_of
    assert_equal "$(field CapPrm)" 0000000000000000
    assert_equal "$(field CapEff)" 0000000000000000
    assert_equal "$(field CapBnd)" "$(cap_mask CAP_KILL)"
}

@test "capabilities: inheritable and ambient sets of the caller are not inherited" {
    command -v setpriv >/dev/null || skip "setpriv not installed"
    # husk runs with CAP_KILL inheritable and ambient: the container must get neither
    # (an inherited inheritable set lets file caps in the image escalate, CVE-2022-29162).
    set_cmd sh -c 'grep -E "^Cap(Inh|Amb)" /proc/self/status'
    run setpriv --inh-caps +kill --ambient-caps +kill -- "$HUSK_BIN" --root "$ROOT" run --bundle "$BUNDLE" "$ID" 3>&-
    assert_success
    assert_contains $'CapInh:\t0000000000000000'
    assert_contains $'CapAmb:\t0000000000000000'
    # no capabilities at all in the config: every set is empty, bounding too
    update_config 'del(.process.capabilities)'
    status_of
    local f
    for f in CapInh CapPrm CapEff CapBnd CapAmb; do
        assert_equal "$(field $f)" 0000000000000000
    done
}

@test "capabilities: inconsistent sets are refused with the capability named" {
    require_husk   # runc silently accepts effective outside permitted
    update_config '.process.capabilities = {bounding: ["CAP_KILL"], permitted: ["CAP_KILL"], effective: ["CAP_KILL", "CAP_CHOWN"]}'
    set_cmd true
    run husk run --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "CAP_CHOWN is in the effective set but not in the permitted set"
    update_config '.process.capabilities = {bounding: ["CAP_KILL"], permitted: ["CAP_KILL"], effective: ["CAP_KILL"], ambient: ["CAP_KILL"]}'
    run husk run --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "ambient capability CAP_KILL must also be in the permitted and inheritable sets"
    assert_no_trace "$ID"
    assert_root_empty
}

@test "capabilities: unknown names in any of the five sets are skipped with one warning naming them" {
    # A config written for a newer kernel (runc and crun warn and go on): the known
    # capabilities still apply, exactly; the unknown ones are named once, in one line.
    update_config '.process.capabilities = {
        bounding: ["CAP_KILL", "CAP_FOO", "CAP_NET_BIND_SERVICE"],
        effective: ["CAP_KILL", "CAP_FOO", "CAP_BAR"],
        permitted: ["CAP_KILL", "CAP_BAR", "CAP_NET_BIND_SERVICE"],
        inheritable: ["CAP_NET_BIND_SERVICE", "CAP_BAZ"],
        ambient: ["CAP_NET_BIND_SERVICE", "CAP_QUX", "NOT_A_CAP"]}'
    set_cmd sh -c 'cat /proc/self/status'
    run --separate-stderr husk run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_equal "$(field CapBnd)" "$(cap_mask CAP_KILL CAP_NET_BIND_SERVICE)"
    assert_equal "$(field CapEff)" "$(cap_mask CAP_KILL CAP_NET_BIND_SERVICE)"
    assert_equal "$(field CapPrm)" "$(cap_mask CAP_KILL CAP_NET_BIND_SERVICE)"
    assert_equal "$(field CapInh)" "$(cap_mask CAP_NET_BIND_SERVICE)"
    assert_equal "$(field CapAmb)" "$(cap_mask CAP_NET_BIND_SERVICE)"
    # one warning line, each name once
    [ "$(grep -c "CAP_FOO" <<<"$stderr")" -eq 1 ] || fail "stderr: $stderr"
    [ "$(grep -c "capabilities" <<<"$stderr")" -eq 1 ] || fail "stderr: $stderr"
    local n
    for n in CAP_FOO CAP_BAR CAP_BAZ CAP_QUX NOT_A_CAP; do
        assert_contains "$n" "$stderr"
    done
    if is_husk; then
        assert_contains 'husk: ignoring unknown or unavailable capabilities: "CAP_FOO", "CAP_BAR", "CAP_BAZ", "CAP_QUX", "NOT_A_CAP"' "$stderr"
        [ "$(grep -o CAP_FOO <<<"$stderr" | wc -l)" -eq 1 ] || fail "CAP_FOO named twice: $stderr"
    fi
}

# ---------------------------------------------------------------- fds

@test "no fd of the caller leaks: pid 1 has only 0, 1, 2" {
    set_cmd sh -c 'ls /proc/1/fd; true'
    run "$HUSK_BIN" --root "$ROOT" run --bundle "$BUNDLE" "$ID" 3>&- 4</dev/null 5>"$TEST_DIR/x" 9</etc/passwd
    assert_success
    assert_equal "$output" $'0\n1\n2'
}

@test "--preserve-fds N passes fds 3..3+N-1, and no more" {
    echo three >"$TEST_DIR/f3"
    echo four >"$TEST_DIR/f4"
    set_cmd sh -c 'ls /proc/1/fd; cat <&3; cat <&4; env | grep ^LISTEN_ || echo no-listen; true'
    run "$HUSK_BIN" --root "$ROOT" run --preserve-fds 2 --bundle "$BUNDLE" "$ID" \
        3<"$TEST_DIR/f3" 4<"$TEST_DIR/f4" 5</dev/null 6</dev/null
    assert_success
    assert_equal "$output" $'0\n1\n2\n3\n4\nthree\nfour\nno-listen'
}

@test "--preserve-fds never passes husk's own fds (caller had none there)" {
    require_husk   # runc would pass its own fds at those numbers
    set_cmd sh -c 'ls -l /proc/1/fd; true'
    # fds 3.. free in the caller: husk's --log file and run's own fds land there
    run "$HUSK_BIN" --root "$ROOT" --log "$TEST_DIR/husk.log" run --preserve-fds 4 --bundle "$BUNDLE" "$ID" \
        3>&- 4>&- 5>&- 6>&-
    assert_success
    assert_not_contains "husk.log"
    assert_not_contains " 3 -> "
    assert_not_contains " 4 -> "
    assert_not_contains " 5 -> "
    assert_not_contains " 6 -> "
    # with a hole: only the caller's fd 4 passes
    run "$HUSK_BIN" --root "$ROOT" --log "$TEST_DIR/husk.log" run --preserve-fds 4 --bundle "$BUNDLE" "$ID" \
        3>&- 4<"$TEST_DIR/husk.log" 5>&- 6>&-
    assert_success
    assert_contains " 4 -> $TEST_DIR/husk.log"
    assert_not_contains " 3 -> "
    assert_not_contains " 5 -> "
}

@test "LISTEN_FDS/LISTEN_PID meant for husk pass the fds and the env (as runc)" {
    echo l3 >"$TEST_DIR/f3"
    echo l4 >"$TEST_DIR/f4"
    echo p5 >"$TEST_DIR/f5"
    set_cmd sh -c 'ls /proc/1/fd; cat <&3; cat <&4; cat <&5; env | grep ^LISTEN_ | sort; true'
    # LISTEN_PID is the pid of the process that becomes husk (exec)
    run bash -c 'export LISTEN_FDS=2 LISTEN_PID=$$; exec "$0" --root "$1" run --preserve-fds 1 --bundle "$2" "$3"' \
        "$HUSK_BIN" "$ROOT" "$BUNDLE" "$ID" 3<"$TEST_DIR/f3" 4<"$TEST_DIR/f4" 5<"$TEST_DIR/f5" 6</dev/null
    assert_success
    assert_equal "$output" $'0\n1\n2\n3\n4\n5\nl3\nl4\np5\nLISTEN_FDS=2\nLISTEN_PID=1'
}

@test "LISTEN_FDS meant for another process is ignored" {
    set_cmd sh -c 'ls /proc/1/fd; env | grep ^LISTEN_ || echo no-listen; true'
    run env LISTEN_FDS=2 LISTEN_PID=1 "$HUSK_BIN" --root "$ROOT" run --bundle "$BUNDLE" "$ID" 3</dev/null 4</dev/null
    assert_success
    assert_equal "$output" $'0\n1\n2\nno-listen'
}

# ---------------------------------------------------------------- session keyring

# Run the bundle as uid 1000 with /proc/keys visible: a non-root user sees only the
# keys it possesses (its keyrings) and its own, so the listing shows its session keyring.
keys_as_user() {
    update_config '.linux.maskedPaths -= ["/proc/keys"] | .process.user = {uid: 1000, gid: 1000}'
    set_cmd cat /proc/keys
}

# in_caller_keyring CMD...: CMD in a session keyring of its own, "caller-ses-<id>",
# holding the key "caller-secret-<id>": what a login or service has, and what a
# container must not inherit (keyctl(1) says "Joined session keyring" on stderr).
in_caller_keyring() {
    keyctl session "caller-ses-$ID" sh -c 'keyctl add user "caller-secret-$1" s3cret @s >/dev/null && shift && exec "$@"' \
        sh "$ID" "$@"
}

# /proc/keys of a process exec'd as uid 1000 by a caller with its own keyring.
exec_keys_from_caller() {
    run --separate-stderr in_caller_keyring "$HUSK_BIN" --root "$ROOT" exec --user 1000:1000 "$ID" cat /proc/keys
}

@test "session keyring: the init gets a new one named _ses.<id>, never the caller's" {
    keys_as_user
    run husk run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_contains "keyring   _ses.$ID: empty"
    run --separate-stderr in_caller_keyring "$HUSK_BIN" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_contains "_ses.$ID"
    assert_not_contains "caller-ses-$ID"
    assert_not_contains "caller-secret-$ID"
}

@test "session keyring: an exec'd process joins the container's _ses.<id>, never the caller's" {
    update_config '.linux.maskedPaths -= ["/proc/keys"]'
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    # as uid 1000 (no user namespace): it sees what it possesses
    exec_keys_from_caller
    assert_success
    assert_contains "keyring   _ses.$ID:"
    assert_not_contains "caller-ses-$ID"
    assert_not_contains "caller-secret-$ID"
    # the init made it searchable by its owner, so exec could find it by name (runc: the same)
    [[ $output =~ perm\ 3f[0-9a-f][89a-f]0000\ +0\ +0\ keyring\ +_ses\.$ID: ]] || fail "perm: $output"
}

@test "session keyring: exec into a user-namespaced container joins _ses.<id> as the container's root" {
    update_config '.linux.maskedPaths -= ["/proc/keys"] | .linux.namespaces += [{type: "user"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
        | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
    chmod 755 "$TEST_DIR" "$BUNDLE"
    chown -R 100000:100000 "$BUNDLE/rootfs"
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    # As the container's uid 1000: /proc/keys shows only keys whose owner is mapped
    # here, and of _ses.<id> (the container root's, no rights for others) only when
    # possessed, that is when it is this process's session keyring.
    exec_keys_from_caller
    assert_success
    assert_contains "_ses.$ID:"
    assert_not_contains "caller-ses-$ID"
}

@test "session keyring: --no-new-keyring keeps the caller's, for the init and for exec" {
    keys_as_user
    run --separate-stderr in_caller_keyring "$HUSK_BIN" --root "$ROOT" run --no-new-keyring --bundle "$BUNDLE" "$ID"
    assert_success
    assert_contains "keyring   caller-ses-$ID:"
    assert_contains "caller-secret-$ID"
    assert_not_contains "_ses.$ID"
    update_config '.process.user = {uid: 0, gid: 0}'
    set_cmd sleep 100
    run husk run -d --no-new-keyring --bundle "$BUNDLE" "$ID"
    assert_success
    exec_keys_from_caller
    assert_success
    assert_contains "keyring   caller-ses-$ID:"
    assert_not_contains "_ses.$ID"
}

# ---------------------------------------------------------------- /proc/PID/exe

@test "/proc/PID/exe of the container init is protected: not even a handle kept on it writes the husk binary" {
    require_husk
    skip_under_valgrind "the init's exe is valgrind's tool binary; husk skips its re-exec there (src/runtime/selfclone.c)"
    # A copy of husk creates the container: were the defence to fail, only the copy
    # is written.
    local sum pid copy=$TEST_DIR/husk-copy
    cp "$HUSK_BIN" "$copy"
    sum=$(sha256sum <"$copy")
    "$copy" --root "$ROOT" create --bundle "$BUNDLE" "$ID" </dev/null >"$TEST_DIR/create.out" 2>&1 3>&- ||
        fail "create: $(cat "$TEST_DIR/create.out")"
    pid=$(state_field "$ID" pid)
    # The init (husk until it execs) does not run the binary on disk, but either a
    # sealed memfd copy or the binary through a read-only mount of its own
    # (src/runtime/selfclone.c); the link does not name the binary.
    [ "$(readlink "/proc/$pid/exe")" != "$copy" ] || fail "exe: $(readlink "/proc/$pid/exe")"
    run bash -c 'echo x >"/proc/$1/exe"' _ "$pid"
    assert_failure
    # CVE-2019-5736's way: hold the exe open, and write once no process runs the file.
    run bash -c 'exec 7<"/proc/$1/exe" || exit 9
        "$2" --root "$3" delete --force "$4" || exit 8
        while [ -d "/proc/$1" ]; do sleep 0.05; done
        echo PWNED >>/proc/self/fd/7' _ "$pid" "$copy" "$ROOT" "$ID"
    assert_status 1
    [[ $output == *"Read-only file system"* || $output == *"Operation not permitted"* ]] ||
        fail "the write failed for another reason:" "$output"
    assert_equal "$(sha256sum <"$copy")" "$sum"
}

@test "/proc/1/exe seen from inside before exec (startContainer hook) cannot be written" {
    require_husk
    skip_under_valgrind "the init's exe is valgrind's tool binary; husk skips its re-exec there (src/runtime/selfclone.c)"
    local sum
    sum=$(sha256sum <"$HUSK_BIN")
    update_config '.hooks.startContainer = [{path: "/bin/sh", args: ["sh", "-c",
        "readlink /proc/1/exe > /hook.out; (echo x > /proc/1/exe) 2>> /hook.out; echo rc=$? >> /hook.out"]}]'
    set_cmd true
    run husk run --bundle "$BUNDLE" "$ID"
    assert_success
    run cat "$BUNDLE/rootfs/hook.out"
    # a sealed memfd ("/memfd:husk (deleted)") or the read-only mount of the binary
    # alone, which the container sees as "/"
    [[ ${lines[0]} == /memfd:husk* || ${lines[0]} == / ]] || fail "exe: ${lines[0]}"
    [[ $output == *"Text file busy"* || $output == *"Read-only file system"* ]] || fail "$output"
    assert_contains "rc=1"
    assert_equal "$(sha256sum <"$HUSK_BIN")" "$sum"
}

# ---------------------------------------------------------------- --version

@test "husk --version: version, OCI spec version and features" {
    require_husk
    run "$HUSK_BIN" --version
    assert_success
    [[ ${lines[0]} =~ ^husk\ version\ [0-9]+\.[0-9]+\.[0-9]+ ]] || fail "line 1: ${lines[0]}"
    assert_contains "spec: 1.3.0"
    assert_contains "+namespaces(pid,net,ipc,uts,mnt,user,cgroup,time)"
    assert_contains "+caps"
    assert_contains "+sealed-self-exec"
    # the spec version matches what `husk spec` writes
    local d=$TEST_DIR/v
    mkdir -p "$d"
    "$HUSK_BIN" spec --bundle "$d"
    assert_contains "spec: $(jq -r .ociVersion "$d/config.json")"
}

@test "the container's process starts with every signal at its default, even those the caller's libc reserves (32, 33)" {
    # a caller that ignores 32 and 33 (set by the kernel's call: glibc refuses them)
    ctr_run_ign() {
        python3 - "$@" <<'PY'
import ctypes, os, struct, sys
libc = ctypes.CDLL(None)
act = ctypes.create_string_buffer(struct.pack("QQQQ", 1, 0, 0, 0))   # SIG_IGN
for s in (32, 33):
    libc.syscall(13, s, act, None, 8)                                 # rt_sigaction
os.execvp(sys.argv[1], sys.argv[1:])
PY
    }
    set_cmd grep SigIgn /proc/self/status
    run ctr_run_ign "$HUSK_BIN" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_equal "$output" "SigIgn:	0000000000000000"
}
