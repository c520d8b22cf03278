#!/usr/bin/env bats
# podman.bats — podman 4.3 driving husk as its OCI runtime (`podman --runtime husk`).
#
# podman never calls husk directly for a container's life: it starts conmon, which
# runs `husk create/start`, and podman itself runs `kill`, `pause`, `resume`,
# `delete`, and conmon `exec`. Every husk call goes through a logging wrapper
# ($PD/bin/husk) that appends its argv to $PD/husk-argv.log and execs $HUSK_BIN with
# a test-local --root; the last tests read that log and check every flag podman and
# conmon passed is one husk documents, and that --log/--log-format are honoured.
#
# All of podman's state is test-local: --root, --runroot, --tmpdir, a containers.conf
# in CONTAINERS_CONF (cgroupfs, file events, netavark config dir, and lower
# default_ulimits: this machine has no CAP_SYS_RESOURCE to raise hard rlimits).
# The image is a busybox rootfs imported once per file (no network needed).
#
# Containers are named hp<test number><letter>. The "leaves nothing behind" test at
# the end removes everything and checks mounts, cgroups, husk state, iptables rules.

load helpers

IMG=localhost/busybox:t

# ---------------------------------------------------------------- file setup

setup_file() {
    PODMAN_SKIP=""
    if ! command -v podman >/dev/null 2>&1 || ! command -v conmon >/dev/null 2>&1; then
        PODMAN_SKIP="podman/conmon not installed"
    elif ! is_husk; then
        PODMAN_SKIP="podman suite drives husk only (HUSK=$HUSK)"
    elif [ ! -x "$HUSK_BIN" ]; then
        PODMAN_SKIP="runtime not found: $HUSK_BIN"
    fi
    export PODMAN_SKIP
    [ -z "$PODMAN_SKIP" ] || return 0

    # Short path: podman and conmon put unix sockets (attach, ctl) under these dirs.
    PD=$(mktemp -d /tmp/hpod.XXXXXX)
    export PD
    mkdir -p "$PD/bin" "$PD/hroot" "$PD/netconf" "$PD/tmp" "$PD/asan"

    # What existed before us: the teardown removes only what these tests made.
    local c
    : >"$PD/cg-before"
    for c in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/*/libpod_parent/conmon; do
        [ -d "$c" ] && echo "$c" >>"$PD/cg-before"
    done
    ip -o link show podman0 >/dev/null 2>&1 && touch "$PD/bridge-before"
    _ipt_rules >"$PD/ipt-before"

    # conmon runs the runtime with only conmon_env_vars (PATH) in its environment,
    # so the sanitizer options of the ASan suite are baked into the wrapper.
    write_husk_wrapper "$PD/bin/husk" "$PD/husk-argv.log" "$PD/asan" --root "$PD/hroot"

    # The wrapper is named "husk", so runtime_supports_json = ["husk"] makes podman
    # pass --log FILE --log-format=json, as it does for runc and crun.
    cat >"$PD/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
# netavark takes ~2.5 s per container here: only the network tests ask for one.
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PD/tmp/events.log"
runtime_supports_json = ["husk"]
tmp_dir = "$PD/tmp"
volume_path = "$PD/r/volumes"

[network]
network_backend = "netavark"
network_config_dir = "$PD/netconf"
EOF
    export CONTAINERS_CONF=$PD/containers.conf

    local rootfs
    rootfs=$(husk_rootfs)
    tar -C "$rootfs" -cf "$PD/bb.tar" . || return 1
    pm import -q "$PD/bb.tar" "$IMG" >/dev/null || return 1
    rm -f "$PD/bb.tar"
}

teardown_file() {
    [ -n "${PD:-}" ] && [ -d "$PD" ] || return 0
    _pm_cleanup >/dev/null 2>&1 || true
    rm -rf --one-file-system "$PD"
}

setup() {
    [ -z "$PODMAN_SKIP" ] || skip "$PODMAN_SKIP"
}

teardown() {
    :
}

# ---------------------------------------------------------------- helpers

# pm ARGS...: podman with this file's private state and the wrapper as runtime.
# fd 3 (bats' output) is never passed on: conmon outlives the call.
pm() {
    podman --root "$PD/r" --runroot "$PD/rr" --tmpdir "$PD/tmp" \
        --network-config-dir "$PD/netconf" --runtime "$PD/bin/husk" "$@" 3>&-
}

# A detached `sleep` container named $1 (more podman run flags may follow).
pm_sleeper() {
    local name=$1
    shift
    pm run -d --name "$name" "$@" "$IMG" sleep 1000 >/dev/null
}

cid() { pm inspect -f '{{.Id}}' "$1"; }
pstate() { pm inspect -f '{{.State.Status}}' "$1"; }

# The v1 cgroup dir of container $1 for controller $2 (podman's cgroupfs layout).
pcgdir() { echo "/sys/fs/cgroup/$2/libpod_parent/libpod-$(cid "$1")"; }

# documented HELP_TEXT FLAG: FLAG appears in HELP_TEXT as a whole word.
documented() {
    grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)" <<<"$1"
}

_ipt_rules() {
    { iptables -S 2>/dev/null; iptables -t nat -S 2>/dev/null; } | sort
}

# Remove every container and image, then undo whatever is left: mounts under $PD,
# cgroups of containers husk created, the libpod_parent cgroups if we made them.
# Prints what had to be removed by force (should be nothing).
_pm_cleanup() {
    local m c id
    pm rm -af -t 0 >/dev/null 2>&1
    pm rmi -af >/dev/null 2>&1
    pm system reset -f >/dev/null 2>&1
    while read -r m; do
        [ -n "$m" ] || continue
        echo "mount left: $m"
        umount -l "$m" 2>/dev/null
    done < <(findmnt -rn -o TARGET | awk -v p="$PD/" 'index($1, p) == 1' | sort -r)
    for id in $(awk -F'\t' '{ for (i = 1; i <= NF; i++) if ($i == "create") { print $(NF - 1); break } }' \
        "$PD/husk-argv.log" | sort -u); do
        for c in /sys/fs/cgroup/*/libpod_parent/libpod-"$id"; do
            [ -d "$c" ] || continue
            echo "cgroup left: $c"
            _kill_cgroup "$c"
        done
        if [ -e "$PD/hroot/$id" ]; then
            echo "husk state left: $PD/hroot/$id"
            "$HUSK_BIN" --root "$PD/hroot" delete --force "$id" >/dev/null 2>&1
        fi
    done
    for c in /sys/fs/cgroup/*/libpod_parent/conmon /sys/fs/cgroup/*/libpod_parent; do
        [ -d "$c" ] || continue
        grep -qxF "$c" "$PD/cg-before" || rmdir "$c" 2>/dev/null
    done
    return 0
}

# ---------------------------------------------------------------- run

@test "podman run: foreground output and exit codes" {
    run pm run --rm "$IMG" sh -c 'echo hello from husk; exit 7'
    assert_status 7
    assert_contains "hello from husk"

    run pm run --rm "$IMG" false
    assert_status 1

    # podman maps husk's "executable file not found" to 127, as with runc.
    run -127 pm run --rm "$IMG" /no/such/program

    run pm ps -a --format '{{.Names}}'
    assert_success
    [ -z "$output" ] || fail "--rm left containers: $output"
}

@test "podman run -d, ps, logs, top, inspect pid" {
    pm run -d --name hp2a "$IMG" sh -c 'echo started; i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.2; done' >/dev/null
    [ "$(pstate hp2a)" = running ]

    run pm ps --format '{{.Names}} {{.Status}}'
    assert_success
    assert_contains "hp2a Up"

    sleep 0.6
    run pm logs hp2a
    assert_success
    assert_contains "started"
    assert_contains "tick 1"

    run pm top hp2a pid args
    assert_success
    assert_contains "sleep 0.2"

    # The pid podman read from husk's --pid-file is the container's init on the host:
    # its root is the container's and it is in the container's pid namespace as 1.
    local pid
    pid=$(pm inspect -f '{{.State.Pid}}' hp2a)
    [ "$pid" -gt 1 ]
    grep -q '^NSpid:.*[[:space:]]1$' "/proc/$pid/status" || fail "pid $pid is not pid 1 of a namespace"
    [ "$(readlink "/proc/$pid/ns/pid")" != "$(host_ns pid)" ]
    grep -qx "$pid" "$(pcgdir hp2a pids)/cgroup.procs"

    pm rm -f -t 0 hp2a >/dev/null
}

@test "podman run --rm -it: a pty from husk's --console-socket" {
    command -v script >/dev/null || skip "no script(1)"
    run script -qec "podman --root $PD/r --runroot $PD/rr --tmpdir $PD/tmp --network-config-dir $PD/netconf --runtime $PD/bin/husk run --rm -it $IMG sh -c 'tty; stty size >/dev/null && echo stty-ok'" /dev/null
    assert_success
    assert_contains "/dev/pts/0"
    assert_contains "stty-ok"

    # Without -t the same program has no terminal.
    run pm run --rm "$IMG" tty
    assert_failure
    assert_contains "not a tty"
}

# ---------------------------------------------------------------- exec

@test "podman exec: -u -e -w, exit status, and -it" {
    pm_sleeper hp4a

    run pm exec -u 1000 -e FOO=bar -w /tmp hp4a sh -c 'id -u; echo "FOO=$FOO"; pwd'
    assert_success
    assert_equal "${lines[0]}" "1000"
    assert_equal "${lines[1]}" "FOO=bar"
    assert_equal "${lines[2]}" "/tmp"

    run pm exec hp4a sh -c 'exit 5'
    assert_status 5

    run -127 pm exec hp4a /no/such/program

    # The exec'd process is in the container's pid namespace, next to sleep (pid 1).
    run pm exec hp4a cat /proc/1/cmdline
    assert_success
    assert_contains "sleep"

    if command -v script >/dev/null; then
        run script -qec "podman --root $PD/r --runroot $PD/rr --tmpdir $PD/tmp --network-config-dir $PD/netconf --runtime $PD/bin/husk exec -it hp4a tty" /dev/null
        assert_success
        assert_contains "/dev/pts/"
    fi

    pm rm -f -t 0 hp4a >/dev/null
}

# ---------------------------------------------------------------- stop / kill

@test "podman stop: TERM to a trapping init, KILL after --time to one that ignores it" {
    pm run -d --name hp5a "$IMG" sh -c 'trap "echo got TERM; exit 42" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
    # pid 1 ignores TERM without a handler: this one has none.
    pm_sleeper hp5b
    sleep 0.5

    run pm stop -t 10 hp5a
    assert_success
    [ "$(pm inspect -f '{{.State.ExitCode}}' hp5a)" = 42 ]
    run pm logs hp5a
    assert_contains "got TERM"

    local t0 t1
    t0=$(date +%s%N)
    run pm stop -t 1 hp5b
    assert_success
    t1=$(date +%s%N)
    [ $(((t1 - t0) / 1000000)) -ge 900 ] || fail "stopped in $(((t1 - t0) / 1000000)) ms, before the timeout"
    [ "$(pm inspect -f '{{.State.ExitCode}}' hp5b)" = 137 ]
    [ "$(pstate hp5b)" = exited ]

    pm rm hp5a hp5b >/dev/null
}

@test "podman kill: a chosen signal reaches the init, default KILL" {
    pm run -d --name hp6a "$IMG" sh -c 'trap "echo got USR1" USR1; echo ready; while :; do sleep 0.1; done' >/dev/null
    sleep 0.5
    run pm kill -s USR1 hp6a
    assert_success
    sleep 0.5
    run pm logs hp6a
    assert_contains "got USR1"
    [ "$(pstate hp6a)" = running ]

    run pm kill hp6a
    assert_success
    pm wait hp6a >/dev/null
    [ "$(pm inspect -f '{{.State.ExitCode}}' hp6a)" = 137 ]
    pm rm hp6a >/dev/null
}

# ---------------------------------------------------------------- pause / restart / rm

@test "podman pause/unpause: Paused state and a frozen cgroup" {
    require_v1 freezer
    pm_sleeper hp7a
    local fz
    fz=$(pcgdir hp7a freezer)

    run pm pause hp7a
    assert_success
    [ "$(pstate hp7a)" = paused ]
    [ "$(cat "$fz/freezer.state")" = FROZEN ]
    # A frozen process cannot run: an exec into it does not get to print.
    run timeout 3 podman --root "$PD/r" --runroot "$PD/rr" --tmpdir "$PD/tmp" --runtime "$PD/bin/husk" exec hp7a echo nope
    assert_not_contains "nope"

    run pm unpause hp7a
    assert_success
    [ "$(pstate hp7a)" = running ]
    [ "$(cat "$fz/freezer.state")" = THAWED ]
    run pm exec hp7a echo alive
    assert_success
    assert_contains alive

    pm rm -f -t 0 hp7a >/dev/null
}

@test "podman restart: a new init in a new container instance" {
    pm_sleeper hp8a
    local pid1 pid2
    pid1=$(pm inspect -f '{{.State.Pid}}' hp8a)
    run pm restart -t 0 hp8a
    assert_success
    [ "$(pstate hp8a)" = running ]
    pid2=$(pm inspect -f '{{.State.Pid}}' hp8a)
    [ "$pid2" -gt 0 ] && [ "$pid2" != "$pid1" ] || fail "pid $pid1 -> $pid2"
    ! kill -0 "$pid1" 2>/dev/null || fail "old init $pid1 still alive"
    run pm exec hp8a echo back
    assert_success
    assert_contains back
    pm rm -f -t 0 hp8a >/dev/null
}

@test "podman rm -f: a running container is gone with its cgroups and husk state" {
    pm_sleeper hp9a
    local id pid
    id=$(cid hp9a)
    pid=$(pm inspect -f '{{.State.Pid}}' hp9a)
    [ -d "/sys/fs/cgroup/memory/libpod_parent/libpod-$id" ]
    [ -d "$PD/hroot/$id" ]

    run pm rm -f -t 0 hp9a
    assert_success
    run pm ps -a --format '{{.Names}}'
    assert_not_contains hp9a
    [ ! -e "$PD/hroot/$id" ] || fail "husk state dir left: $PD/hroot/$id"
    local left
    left=$(ls -d /sys/fs/cgroup/*/libpod_parent/libpod-"$id" 2>/dev/null || true)
    [ -z "$left" ] || fail "cgroups left: $left"
    ! kill -0 "$pid" 2>/dev/null || fail "init $pid still alive"
}

# ---------------------------------------------------------------- resources

@test "podman --memory --pids-limit --cpus: limits seen inside and on the host" {
    run pm run --rm --memory 64m --pids-limit 42 --cpus 0.5 "$IMG" sh -c '
        cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max \
            /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us'
    assert_success
    assert_equal "${lines[0]}" 67108864
    assert_equal "${lines[1]}" 42
    assert_equal "${lines[2]}" 50000
    assert_equal "${lines[3]}" 100000

    # The same from the host's side, and the pids limit by its effect.
    pm_sleeper hp10a --pids-limit 5 --memory 32m
    [ "$(cat "$(pcgdir hp10a memory)/memory.limit_in_bytes")" = 33554432 ]
    [ "$(cat "$(pcgdir hp10a pids)/pids.max")" = 5 ]
    run pm exec hp10a sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait'
    assert_contains "fork"
    pm rm -f -t 0 hp10a >/dev/null
}

@test "podman --cap-drop/--cap-add: the capability sets of the init and of exec" {
    run pm run --rm --cap-drop all --cap-add NET_ADMIN --cap-add SYS_TIME "$IMG" grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status
    assert_success
    local want
    want=$(cap_mask NET_ADMIN SYS_TIME)
    assert_contains "CapEff:	$want"
    assert_contains "CapBnd:	$want"

    run pm run --rm --cap-drop CHOWN "$IMG" sh -c 'chown 1000 /tmp; echo rc=$?'
    assert_contains "rc=1"
    run pm run --rm "$IMG" sh -c 'chown 1000 /tmp; echo rc=$?'
    assert_contains "rc=0"

    pm_sleeper hp11a --cap-drop all --cap-add KILL
    run pm exec hp11a grep ^CapEff /proc/self/status
    assert_contains "CapEff:	$(cap_mask KILL)"
    pm rm -f -t 0 hp11a >/dev/null
}

# ---------------------------------------------------------------- mounts

@test "podman --read-only, --tmpfs and -v bind mounts" {
    # --read-only puts tmpfs mounts with tmpcopyup on /tmp, /var/tmp and /run.
    run pm run --rm --read-only "$IMG" sh -c 'touch /x && echo wrote-root; touch /tmp/y && echo wrote-tmp; grep " /tmp " /proc/mounts; stat -c %a /tmp'
    assert_not_contains "wrote-root"
    assert_contains "Read-only file system"
    assert_contains "wrote-tmp"
    assert_contains "tmpfs /tmp tmpfs"
    assert_contains "1777"

    run pm run --rm --tmpfs /scratch:size=1m,mode=1777 "$IMG" sh -c 'grep " /scratch " /proc/mounts; stat -c %a /scratch'
    assert_success
    assert_contains "tmpfs /scratch tmpfs"
    assert_contains "size=1024k"
    assert_contains "1777"

    local vol=$PD/vol
    mkdir -p "$vol"
    echo from-host >"$vol/in"
    run pm run --rm -v "$vol:/data" "$IMG" sh -c 'cat /data/in; echo from-container >/data/out'
    assert_success
    assert_contains from-host
    [ "$(cat "$vol/out")" = from-container ]

    run pm run --rm -v "$vol:/data:ro" "$IMG" sh -c 'echo x >/data/ro && echo wrote'
    assert_not_contains wrote
    [ ! -e "$vol/ro" ]
}

# ---------------------------------------------------------------- security

@test "podman seccomp: default profile filters, seccomp=unconfined does not" {
    run pm run --rm "$IMG" grep ^Seccomp: /proc/self/status
    assert_success
    assert_contains "Seccomp:	2"
    # podman's default profile refuses swapon(2) with EPERM whatever the
    # capabilities: with CAP_SYS_ADMIN the kernel alone says EINVAL (not a swap file).
    run pm run --rm --cap-add SYS_ADMIN "$IMG" swapon /etc/passwd
    assert_failure
    assert_contains "Operation not permitted"
    run pm run --rm "$IMG" grep ^Seccomp_filters: /proc/self/status
    assert_success
    [ "${output##*:}" -ge 1 ]

    run pm run --rm --security-opt seccomp=unconfined "$IMG" grep ^Seccomp: /proc/self/status
    assert_success
    assert_contains "Seccomp:	0"
    run pm run --rm --cap-add SYS_ADMIN --security-opt seccomp=unconfined "$IMG" swapon /etc/passwd
    assert_failure
    assert_contains "Invalid argument"
}

@test "podman --uidmap: a user namespace with podman's mapping" {
    run pm run --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMG" sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /etc/passwd'
    assert_success
    [[ ${lines[0]} =~ ^[[:space:]]*0[[:space:]]+100000[[:space:]]+65536$ ]] || fail "uid_map: ${lines[0]}"
    [[ ${lines[1]} =~ ^[[:space:]]*0[[:space:]]+100000[[:space:]]+65536$ ]] || fail "gid_map: ${lines[1]}"
    assert_equal "${lines[2]}" 0
    assert_equal "${lines[3]}" 0
}

# ---------------------------------------------------------------- network

@test "podman default bridge network: eth0 has an address and reaches the host" {
    local port=$((20000 + RANDOM % 20000))
    busybox nc -l -p "$port" >"$PD/nc.out" 2>/dev/null 3>&- &
    local ncpid=$!
    run pm run --rm --network bridge "$IMG" sh -c "
        ip -4 -o addr show eth0
        gw=\$(ip route | awk '/^default/ { print \$3 }')
        echo gw=\$gw
        echo hello-host | nc -w 3 \$gw $port && echo sent"
    local i
    for i in $(seq 100); do [ -s "$PD/nc.out" ] && break; sleep 0.1; done   # a loaded machine: up to 10 s
    kill "$ncpid" 2>/dev/null || true
    wait "$ncpid" 2>/dev/null || true
    assert_success
    assert_contains "eth0"
    [[ $output =~ inet\ 10\.88\.[0-9]+\.[0-9]+/16 ]] || fail "no podman address on eth0: $output"
    assert_contains "sent"
    [ "$(cat "$PD/nc.out")" = hello-host ]
}

@test "podman --network none: only lo" {
    run pm run --rm --network none "$IMG" sh -c 'ls /sys/class/net'
    assert_success
    assert_equal "$output" lo
    # A new network namespace, not the host's.
    pm run -d --name hp17a --network none "$IMG" sleep 1000 >/dev/null
    [ "$(readlink "/proc/$(pm inspect -f '{{.State.Pid}}' hp17a)/ns/net")" != "$(host_ns net)" ]
    pm rm -f -t 0 hp17a >/dev/null
}

# ---------------------------------------------------------------- the runtime's flags

@test "podman: --log FILE --log-format json gets husk's error, and podman reports it" {
    pm_sleeper hp18a
    # exec of a missing program fails in husk; podman reads the message back from the
    # --log file it gave husk (oci-log, JSON lines) and puts it in its own error.
    run -127 pm exec hp18a /no/such/program
    assert_contains "/no/such/program"

    # The same flags as podman passes them, straight to the wrapper: one JSON line.
    local log=$PD/oci-log
    rm -f "$log"
    run "$PD/bin/husk" --log-format=json --log "$log" kill no-such-container 9
    assert_failure
    [ -s "$log" ] || fail "husk wrote nothing to --log"
    run jq -r 'select(.level == "error") | .msg' "$log"
    assert_success
    assert_contains "no-such-container"
    run jq -r '.time' "$log"
    [[ $output =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]] || fail "no time in: $(cat "$log")"
    pm rm -f -t 0 hp18a >/dev/null
}

@test "podman: exec --detach returns at once and --pid-file names the exec'd process" {
    pm_sleeper hp19a
    local t0 t1
    t0=$(date +%s%N)
    run pm exec -d hp19a sleep 777
    assert_success
    t1=$(date +%s%N)
    [ $(((t1 - t0) / 1000000)) -lt 20000 ] || fail "exec -d took $(((t1 - t0) / 1000000)) ms"
    # The --pid-file podman gave husk for this exec (the wrapper's last exec line).
    local pidfile pid
    pidfile=$(grep -P '\texec\t' "$PD/husk-argv.log" | tail -1 | tr '\t' '\n' | grep -A1 -x -- --pid-file | tail -1)
    [ -s "$pidfile" ] || fail "no exec pid file: '$pidfile'"
    pid=$(cat "$pidfile")
    [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 777 " ] || fail "pid $pid is: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
    [ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$(pm inspect -f '{{.State.Pid}}' hp19a)/ns/pid")" ]
    run pm top hp19a args
    assert_contains "sleep 777"
    pm rm -f -t 0 hp19a >/dev/null
}

# Every flag podman and conmon passed, before the verb (global) and after it, is one
# that `husk --help` / `husk VERB --help` documents.
@test "podman container checkpoint/restore round-trips a container through husk and criu" {
    local why
    if why=$(criu_unusable); then
        skip "$why"
    fi
    pm run -d --name hpcr "$IMG" sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done' >/dev/null
    sleep 1
    run pm container checkpoint hpcr
    assert_success
    [ "$(pstate hpcr)" = exited ] || fail "state after checkpoint: $(pstate hpcr)"
    local before
    before=$(pm logs hpcr | tail -n 1)
    run pm container restore hpcr
    assert_success
    [ "$(pstate hpcr)" = running ] || fail "state after restore: $(pstate hpcr)"
    sleep 1
    run pm logs hpcr
    assert_success
    # It went on counting from where it was: past the last number, and 1 only once.
    [ "${lines[-1]}" -gt "$before" ] || fail "no progress after restore: ${lines[-1]} after $before"
    [ "$(grep -cx 1 <<<"$output")" = 1 ] || fail "the counter started again: $output"
    grep -q "	restore	" "$PD/husk-argv.log" || fail "husk restore was not called"
    run pm rm -f -t 0 hpcr
    assert_success
}

@test "podman: every flag passed to husk is a documented husk flag" {
    # It reads what the tests above made podman do (bats -f may have left them out).
    grep -q "	create	" "$PD/husk-argv.log" || skip "needs the tests above: run the whole file"
    # Each distinct (verb, flag) once: "- --log" for a global flag, "exec --tty".
    # A global flag's value given as a second word is an absolute path here.
    local pairs
    pairs=$(awk -F'\t' '{
        verb = "-"
        for (i = 1; i < NF; i++) {
            a = $i
            if (verb == "-") {
                if (a ~ /^-/) { sub(/=.*/, "", a); print "- " a; continue }
                if (a ~ /^\//) continue
                verb = a; continue
            }
            if (a ~ /^-/) { sub(/=.*/, "", a); print verb " " a }
        }
    }' "$PD/husk-argv.log" | sort -u)
    [ -n "$pairs" ] || fail "no flags logged"
    local verb f text unknown="" seen=""
    declare -A help
    while read -r verb f; do
        if [ -z "${help[$verb]+x}" ]; then
            if [ "$verb" = - ]; then
                help[$verb]=$("$HUSK_BIN" --help 2>&1)
            else
                help[$verb]=$("$HUSK_BIN" "$verb" --help 2>&1)
            fi
        fi
        text=${help[$verb]}
        documented "$text" "$f" || unknown+=$'\n'"$verb $f"
        [ "$verb" = - ] && seen+=" $f" || seen+=" $verb$f"
    done <<<"$pairs"
    [ -z "$unknown" ] || fail "flags husk does not document:$unknown"
    ! documented "${help[exec]}" --no-such-flag || fail "the check accepts anything"
    # What these tests made podman use (so the check above covered them).
    local want
    # (--root is not among them: podman passes none, the wrapper adds it.)
    for want in --log --log-format create--bundle create--pid-file create--console-socket \
        exec--process exec--detach exec--pid-file exec--console-socket exec--tty delete--force; do
        [[ " $seen " == *" $want "* ]] || fail "podman never passed $want (seen:$seen)"
    done
}

# ---------------------------------------------------------------- cleanup

@test "podman: removing everything leaves no mount, cgroup, husk state or iptables rule" {
    pm_sleeper hp20a
    local id
    id=$(cid hp20a)
    run _pm_cleanup
    [ -z "$output" ] || fail "had to remove by force:" "$output"
    run findmnt -rn -o TARGET
    assert_not_contains "$PD/"
    run ls -A "$PD/hroot"
    assert_equal "$output" ""
    local left
    left=$(ls -d /sys/fs/cgroup/*/libpod_parent/libpod-* 2>/dev/null | grep -F "$id" || true)
    [ -z "$left" ] || fail "cgroups left: $left"
    if [ ! -e "$PD/bridge-before" ]; then
        ! ip -o link show podman0 >/dev/null 2>&1 || fail "bridge podman0 left behind"
    fi
    # netavark keeps its chains; no rule naming a container address may remain.
    run comm -13 "$PD/ipt-before" <(_ipt_rules)
    assert_not_contains "10.88."
    # The sanitizer logs of the ASan build (written by the wrapper's husk): none.
    run ls -A "$PD/asan"
    assert_equal "$output" ""
}
