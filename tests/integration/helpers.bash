# shellcheck shell=bash
# helpers.bash — shared setup for husk's integration tests (bats).
#
# Every test gets:
#   TEST_DIR  a private temp dir (short path under /tmp: unix sockets live there)
#   BUNDLE    $TEST_DIR/bundle with rootfs/ (a copy of the cached busybox rootfs)
#             and config.json from `$HUSK spec`, patched: terminal false,
#             args ["sleep","100"], root writable, hostname "husktest"
#   ROOT      $TEST_DIR/root, passed as --root by the `husk` wrapper
#   ID        a fresh container id (more with `new_id`)
#
# The runtime under test is $HUSK (default: <repo>/build/husk). `HUSK=runc bats
# tests/integration` runs the same suite against runc as a reference; assertions on
# husk's own messages are guarded with `is_husk`.
#
# teardown force-deletes whatever is left in ROOT, then fails the test if a state
# dir, a cgroup /sys/fs/cgroup/*/husk/<id> or a mount under TEST_DIR survived.

bats_require_minimum_version 1.5.0

HUSK_REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
HUSK=${HUSK:-$HUSK_REPO/build/husk}
case $HUSK in
    */*) HUSK_BIN=$(readlink -f "$HUSK") ;;
    *) HUSK_BIN=$(command -v "$HUSK" || echo "$HUSK") ;;
esac
export HUSK HUSK_BIN HUSK_REPO

# ---------------------------------------------------------------- small asserts

fail() {
    printf '%s\n' "$@" >&2
    return 1
}

# Print the last `run` (status, output, stderr) — bats shows it when a test fails.
show_run() {
    echo "status: ${status:-?}" >&2
    echo "output: ${output:-}" >&2
    [ -z "${stderr:-}" ] || echo "stderr: $stderr" >&2
}

assert_success() {
    if [ "$status" -ne 0 ]; then
        show_run
        fail "expected success, got exit status $status"
    fi
}

assert_failure() {
    if [ "$status" -eq 0 ]; then
        show_run
        fail "expected failure, got exit status 0"
    fi
}

assert_status() {
    if [ "$status" -ne "$1" ]; then
        show_run
        fail "expected exit status $1, got $status"
    fi
}

# assert_output_contains STRING [TEXT] — TEXT defaults to $output
assert_contains() {
    local needle=$1 hay=${2-$output}
    if [[ $hay != *"$needle"* ]]; then
        show_run
        fail "expected to find: $needle" "in: $hay"
    fi
}

assert_not_contains() {
    local needle=$1 hay=${2-$output}
    if [[ $hay == *"$needle"* ]]; then
        show_run
        fail "expected NOT to find: $needle" "in: $hay"
    fi
}

assert_equal() {
    if [ "$1" != "$2" ]; then
        fail "expected: '$2'" "actual:   '$1'"
    fi
}

# ---------------------------------------------------------------- runtime

is_husk() {
    [[ $(basename "$HUSK_BIN") == husk* ]]
}

require_husk() {
    is_husk || skip "husk-specific (HUSK=$HUSK)"
}

# `make valgrind-check` runs the suite with HUSK=tests/valgrind/husk-vg and
# HUSK_UNDER_VALGRIND=1. The few tests that cannot hold there skip with the reason.
skip_under_valgrind() {
    [ "${HUSK_UNDER_VALGRIND:-0}" != 1 ] || skip "under valgrind: $*"
}

# For a test of hooks with a startContainer hook: under valgrind, the runner of
# that hook is forked by stage 2 after the container's rlimits are set, and
# valgrind needs fds above RLIMIT_NOFILE for itself in a fork; the config's nofile
# limit (set natively, newsys.h) takes them away and valgrind 3.19 aborts there.
# Such a test is about hooks, not limits: under valgrind it keeps the caller's.
valgrind_startcontainer_hooks() {
    [ "${HUSK_UNDER_VALGRIND:-0}" != 1 ] || update_config 'del(.process.rlimits)'
}

# The test-only seccomp agent (tests/tools/seccomp_listener.c), built next to husk
# (under valgrind: next to the husk that husk-vg runs).
listener_bin() {
    local b
    for b in "$(dirname "$HUSK_BIN")/seccomp_listener" ${HUSK_VG_REAL:+"$(dirname "$HUSK_VG_REAL")/seccomp_listener"} \
        "$HUSK_REPO/build/seccomp_listener"; do
        [ -x "$b" ] && echo "$b" && return 0
    done
    return 1
}

# write_husk_wrapper FILE ARGV_LOG SANITIZER_DIR [ARG...]: a runtime for podman's
# conmon or containerd's shim: appends each call's argv to ARGV_LOG (one line,
# arguments tab-separated, a single printf so concurrent calls do not interleave),
# then runs husk with ARG... before the caller's arguments. Those callers pass on
# little of our environment, so the ASan suite's sanitizer options (reports into
# SANITIZER_DIR) and valgrind-check's settings are baked in.
write_husk_wrapper() {
    local file=$1 log=$2 sdir=$3 pre="" a
    shift 3
    for a in "$@"; do pre="$pre '$a'"; done
    local asan=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    local ubsan=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
    cat >"$file" <<EOF
#!/bin/sh
# Logging wrapper around husk (tests/integration/helpers.bash, write_husk_wrapper).
line=""
for a in "\$@"; do line="\$line\$a	"; done
printf '%s\n' "\$line" >>'$log'
ASAN_OPTIONS='$asan:log_path=$sdir/asan'
UBSAN_OPTIONS='$ubsan:log_path=$sdir/ubsan'
export ASAN_OPTIONS UBSAN_OPTIONS
$(valgrind_env_lines)
exec '$HUSK_BIN'$pre "\$@"
EOF
    chmod +x "$file"
    : >"$log"
}

# The environment of `make valgrind-check`'s husk-vg, as shell lines, for wrapper
# scripts run by podman's conmon or containerd's shim: conmon passes on only PATH,
# so without these the wrapper's husk-vg would check a different binary.
valgrind_env_lines() {
    local v
    for v in HUSK_VG_REAL HUSK_VG_LOGDIR HUSK_UNDER_VALGRIND; do
        [ -z "${!v:-}" ] || printf "%s='%s'; export %s\n" "$v" "${!v}" "$v"
    done
}

# The runtime with this test's private root. Use as `run husk create ...`.
#
# create and run --detach leave a container process holding the stdio it was given;
# if that were bats' output pipe, `run` would wait for the container to exit. So
# those get stdin /dev/null and stdout/stderr in files (see ctr_stdout/ctr_stderr),
# whose content at return is copied to our stdout/stderr (the runtime's own
# messages). bats' fd 3 is never passed on (a holder would hang bats).
#
# Against a reference runtime (runc), create/run first point the bundle's
# linux.cgroupsPath at /husk/<id>, husk's default, so cgroup assertions hold for both.
husk() {
    local verb=${1-} detach=0 a
    if [ "$verb" = create ] || [ "$verb" = run ]; then
        is_husk || _ref_cgroups_path "$@"
        [ "$verb" = create ] && detach=1
        for a in "$@"; do
            case $a in -d | --detach) detach=1 ;; esac
        done
    fi
    if [ "$detach" = 0 ]; then
        "$HUSK_BIN" --root "$ROOT" "$@" 3>&-
        return
    fi
    local io rc
    io=$(_io_base "${*: -1}")
    : >"$io.out"
    : >"$io.err"
    "$HUSK_BIN" --root "$ROOT" "$@" </dev/null >>"$io.out" 2>>"$io.err" 3>&-
    rc=$?
    cat "$io.out"
    cat "$io.err" >&2
    return "$rc"
}

_io_base() {
    local safe=${1//[^A-Za-z0-9_.-]/_}
    echo "$TEST_DIR/io-${safe:0:100}"
}

# ctr_stdout ID / ctr_stderr ID: what a detached container (created with the
# `husk` wrapper) has written so far.
ctr_stdout() { cat "$(_io_base "$1").out"; }
ctr_stderr() { cat "$(_io_base "$1").err"; }

_ref_cgroups_path() {
    local bundle=$PWD id="" prev=""
    local a
    shift
    for a in "$@"; do
        case $prev in
            --bundle | -b) bundle=$a ;;
        esac
        case $a in
            --bundle=*) bundle=${a#--bundle=} ;;
        esac
        prev=$a
        id=$a
    done
    [ -f "$bundle/config.json" ] || return 0
    jq empty "$bundle/config.json" 2>/dev/null || return 0
    local t
    t=$(mktemp "$bundle/.cfg.XXXXXX")
    if jq --arg p "/husk/$id" '.linux.cgroupsPath = $p' "$bundle/config.json" >"$t" 2>/dev/null; then
        cat "$t" >"$bundle/config.json"
    fi
    rm -f "$t"
}

# ---------------------------------------------------------------- ids

# new_id: print a fresh unique container id and record it for the leftover check.
new_id() {
    local id
    id="husk-t${BATS_SUITE_TEST_NUMBER:-0}-$$-${RANDOM}${RANDOM}"
    echo "$id" >>"$TEST_DIR/ids"
    echo "$id"
}

# ---------------------------------------------------------------- rootfs + bundle

# Build the busybox rootfs once per bats run (or use $HUSK_TEST_ROOTFS).
husk_rootfs() {
    local dir=${HUSK_TEST_ROOTFS:-${BATS_RUN_TMPDIR:-/tmp}/husk-rootfs}
    (
        flock 9
        if [ ! -x "$dir/bin/busybox" ] || [ ! -e "$dir/etc/passwd" ]; then
            "$HUSK_REPO/scripts/mkrootfs.sh" "$dir" >&2
        fi
    ) 9>"$dir.lock"
    echo "$dir"
}

# update_config JQ_EXPR [jq options...] — edit $BUNDLE/config.json in place.
update_config() {
    local expr=$1
    shift
    local t
    t=$(mktemp "$BUNDLE/.cfg.XXXXXX")
    jq "$expr" "$@" <"$BUNDLE/config.json" >"$t" || {
        rm -f "$t"
        fail "update_config: jq failed on: $expr"
        return 1
    }
    mv "$t" "$BUNDLE/config.json"
}

# set_cmd ARG... — set process.args.
set_cmd() {
    update_config '.process.args = $ARGS.positional' --args -- "$@"
}

# ctr_run ARG... — set process.args and `run husk run` the bundle as $ID.
# Output and exit status land in $output / $status as with bats' run.
ctr_run() {
    set_cmd "$@"
    run husk run --bundle "$BUNDLE" "$ID"
}

# Hard limit of RLIMIT_NOFILE here: configs must not ask for more (no CAP_SYS_RESOURCE).
nofile_hard() {
    local h
    h=$(ulimit -Hn)
    [ "$h" = unlimited ] && h=1048576
    echo "$h"
}

husk_setup() {
    [ -x "$HUSK_BIN" ] || fail "runtime not found: $HUSK (build it: meson setup build && ninja -C build)"
    TEST_DIR=$(mktemp -d /tmp/husk-test.XXXXXX)
    BUNDLE=$TEST_DIR/bundle
    ROOT=$TEST_DIR/root
    export TEST_DIR BUNDLE ROOT
    : >"$TEST_DIR/ids"
    # The engine's configuration ($HUSK_ENGINE_CONFIG) for every test. A container
    # without --network is on the default network, and its resolv.conf would name
    # the host's nameservers: a name lookup would leave this machine. "dns" gives it
    # 127.0.0.1 instead, its own loopback, where nothing listens (on a user network,
    # aardvark-dns forwards the names that are not a container's there: the host's
    # loopback, where nothing listens on port 53 either). A test that writes its own
    # engine.json keeps this key.
    printf '{"dns": ["127.0.0.1"]}\n' >"$TEST_DIR/engine.json"
    export HUSK_ENGINE_CONFIG=$TEST_DIR/engine.json
    ID=$(new_id)
    export ID

    local rootfs
    rootfs=$(husk_rootfs)
    mkdir -p "$BUNDLE" "$ROOT"
    cp -a "$rootfs" "$BUNDLE/rootfs"

    "$HUSK_BIN" spec --bundle "$BUNDLE" || fail "$HUSK spec failed"
    local hard
    hard=$(nofile_hard)
    update_config '
        .process.terminal = false
        | .process.args = ["sleep", "100"]
        | .root = {path: "rootfs", readonly: false}
        | .hostname = "husktest"
        | .process.rlimits = ((.process.rlimits // []) | map(
              if .type == "RLIMIT_NOFILE"
              then .hard = ([.hard, $h] | min) | .soft = ([.soft, $h] | min)
              else . end))
    ' --argjson h "$hard"
}

# The cgroup mount point; cgdir CONTROLLER: the v1 dir of container $ID for it.
CG=/sys/fs/cgroup
cgdir() { echo "$CG/$1/husk/$ID"; }

# require_v1 CONTROLLER: skip the test where that v1 controller is not mounted.
require_v1() {
    [ -d "$CG/$1" ] && [ "$(stat -f -c %T "$CG/$1")" = cgroupfs ] || skip "no cgroup v1 $1 controller here"
}

# require_ns TYPE...: skip where the kernel lacks a namespace type (time came in 5.6,
# and each type is a config option).
require_ns() {
    local t
    for t in "$@"; do
        [ -e "/proc/self/ns/$t" ] || skip "this kernel has no $t namespace"
    done
}

# v1_has_file CONTROLLER FILE: does a new cgroup of that v1 controller have FILE?
# (Kernel-dependent knobs: blkio.weight needs BFQ, blkio.leaf_weight an old kernel.)
v1_has_file() {
    local probe="$CG/$1/husk-probe-$$-$RANDOM" has=1
    mkdir "$probe" 2>/dev/null || return 1
    [ -e "$probe/$2" ] && has=0
    rmdir "$probe" 2>/dev/null || true
    return "$has"
}

# Cgroup dirs of a container, on every hierarchy, that exist now.
cgroup_dirs() {
    local d
    for d in /sys/fs/cgroup/*/husk/"$1" /sys/fs/cgroup/husk/"$1"; do
        [ -d "$d" ] && echo "$d"
    done
    return 0
}

# wait_status ID STATUS [TIMEOUT_SECONDS=10]
wait_status() {
    local id=$1 want=$2 timeout=${3:-10} st=""
    local i n=$((timeout * 20))
    for ((i = 0; i < n; i++)); do
        st=$("$HUSK_BIN" --root "$ROOT" state "$id" 2>/dev/null | jq -r .status 2>/dev/null)
        [ "$st" = "$want" ] && return 0
        sleep 0.05
    done
    fail "container $id: status '$st', waited ${timeout}s for '$want'"
}

# state_field ID FIELD — print .FIELD of `husk state ID`.
state_field() {
    "$HUSK_BIN" --root "$ROOT" state "$1" | jq -r ".$2"
}

# wait_for_file FILE [TIMEOUT_SECONDS=10]
wait_for_file() {
    local f=$1 timeout=${2:-10} i
    for ((i = 0; i < timeout * 20; i++)); do
        [ -s "$f" ] && return 0
        sleep 0.05
    done
    fail "timed out waiting for $f"
}

# Nothing of container ID left: no state dir, no cgroup.
assert_no_trace() {
    local id=$1 cg
    [ ! -e "$ROOT/$id" ] || fail "state dir $ROOT/$id left behind"
    cg=$(cgroup_dirs "$id")
    [ -z "$cg" ] || fail "cgroups left behind:" "$cg"
}

# The root dir holds no container state at all.
assert_root_empty() {
    local left
    left=$(find "$ROOT" -mindepth 1 -maxdepth 1 2>/dev/null)
    [ -z "$left" ] || fail "left under --root:" "$left"
}

husk_teardown() {
    [ -n "${TEST_DIR:-}" ] && [ -d "$TEST_DIR" ] || return 0
    local problems="" id d cg m

    # Containers the test left on purpose are fine; force-delete them.
    if [ -d "$ROOT" ]; then
        for id in $("$HUSK_BIN" --root "$ROOT" list -q 2>/dev/null); do
            "$HUSK_BIN" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 ||
                problems+=$'\n'"delete --force $id failed"
        done
        # Anything still in ROOT was not listed or not deletable.
        for d in "$ROOT"/*; do
            [ -e "$d" ] || continue
            problems+=$'\n'"left in --root: $d"
            "$HUSK_BIN" --root "$ROOT" delete --force "$(basename "$d")" >/dev/null 2>&1 || true
        done
    fi

    # Cgroups of every id this test used must be gone.
    while read -r id; do
        [ -n "$id" ] || continue
        for cg in $(cgroup_dirs "$id"); do
            problems+=$'\n'"cgroup left: $cg"
            _kill_cgroup "$cg"
        done
    done <"$TEST_DIR/ids"

    # No mount may remain under TEST_DIR (e.g. a bind mount that leaked to the host).
    while read -r m; do
        [ -n "$m" ] || continue
        problems+=$'\n'"mount left: $m"
        umount -l "$m" 2>/dev/null || true
    done < <(awk -v p="$TEST_DIR" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r)

    # Extra cleanup a test registered (netns, background processes ...).
    if [ -f "$TEST_DIR/cleanup" ]; then
        bash "$TEST_DIR/cleanup" >/dev/null 2>&1 || true
    fi

    rm -rf --one-file-system "$TEST_DIR"
    if [ -n "$problems" ]; then
        fail "teardown found leftovers:$problems"
    fi
}

# on_cleanup 'shell command' — run in teardown, even when the test failed.
on_cleanup() {
    printf '%s\n' "$1" >>"$TEST_DIR/cleanup"
}

_kill_cgroup() {
    local cg=$1 p
    if [ -f "$cg/cgroup.procs" ]; then
        while read -r p; do kill -9 "$p" 2>/dev/null; done <"$cg/cgroup.procs"
        sleep 0.1
    fi
    rmdir "$cg" 2>/dev/null || true
}

setup() {
    husk_setup
}

teardown() {
    husk_teardown
}

# ---------------------------------------------------------------- criu

# criu_unusable: print why criu cannot checkpoint on this machine (and succeed), or
# fail when it can. Debian 12's criu 3.17 stops at start-up on kernels 6.13 and later
# (their vDSO data is split into [vvar] and [vvar_vclock]); tests/vm/criu.sh runs the
# same checks under Debian's own 6.1 kernel.
criu_unusable() {
    command -v criu >/dev/null 2>&1 || { echo "criu is not installed"; return 0; }
    local out
    out=$(criu check 2>&1) && return 1
    echo "criu $(criu --version 2>/dev/null | awk '/^Version/ { print $2 }') cannot run on" \
        "Linux $(uname -r): $(grep -m1 -o 'Error (.*' <<<"$out" || echo "criu check failed")"
}

# ---------------------------------------------------------------- misc

# Namespace inode of the host (this shell), e.g. host_ns net -> "net:[4026531840]".
host_ns() {
    readlink "/proc/self/ns/$1"
}

# Hex capability mask (16 digits, as /proc/PID/status prints it) for CAP_ names.
cap_mask() {
    local mask=0 c n
    for c in "$@"; do
        n=$(cap_number "$c") || return 1
        mask=$((mask | (1 << n)))
    done
    printf '%016x\n' "$mask"
}

cap_number() {
    local names=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
        SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK
        IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT
        SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL
        SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON
        BPF CHECKPOINT_RESTORE)
    local want=${1#CAP_} i
    for i in "${!names[@]}"; do
        if [ "${names[$i]}" = "$want" ]; then
            echo "$i"
            return 0
        fi
    done
    fail "unknown capability $1"
}

# require_idmapped_mounts DIR: skip the test unless an idmapped bind mount of DIR
# works here (kernel 5.12+ and a filesystem that supports idmapping): one throwaway
# container of $BUNDLE's rootfs mounts it.
require_idmapped_mounts() {
    local dir=$1 probe=$TEST_DIR/idmap-probe pid out
    mkdir -p "$probe"
    pid=$(new_id)
    jq --arg r "$BUNDLE/rootfs" --arg s "$dir" '.root.path = $r | .process.args = ["true"]
        | .mounts += [{destination: "/idmap-probe", type: "bind", source: $s, options: ["rbind", "idmap"],
                       uidMappings: [{containerID: 0, hostID: 100000, size: 1}],
                       gidMappings: [{containerID: 0, hostID: 100000, size: 1}]}]' \
        "$BUNDLE/config.json" >"$probe/config.json"
    out=$("$HUSK_BIN" --root "$ROOT" run --bundle "$probe" "$pid" 2>&1 </dev/null 3>&-) && return 0
    # husk's "idmap SOURCE: <errno>": the kernel or the filesystem refused
    [[ $out == *"idmap $dir"* ]] && skip "no idmapped mounts of $dir here: $out"
    fail "idmapped mount probe failed: $out"
}
