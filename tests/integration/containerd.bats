#!/usr/bin/env bats
# containerd.bats — containerd 1.6 driving husk as its runc (`ctr run --runc-binary`).
#
# ctr talks to containerd, which starts one containerd-shim-runc-v2 per task; the shim
# runs every OCI verb as `<runc-binary> --root R --log F --log-format json VERB ...`
# and reads errors back from F. The runc-binary is a logging wrapper ($CD/husk-wrap)
# that appends its argv to $CD/argv.log and execs $HUSK_BIN; --runc-root puts husk's
# state in $CD/hr/<namespace>. The tests check what the shim gets back from husk
# (output, exit statuses, pids, ps lists, errors) against the host's view of the
# processes, and the last tests check every flag the shim passed is one husk
# documents and that --log is honoured in the json format the shim parses.
#
# containerd is private to this file: config, root, state, sockets under $CD (a short
# /tmp dir), started in setup_file and stopped in teardown_file, which also unmounts
# what it left, checks no shim survived and nothing stays mounted. The image is a
# busybox rootfs packed by hand as an OCI image layout (tar, sha256sum, jq) and
# imported with `ctr image import`: no network, no snapshotter beyond overlayfs.
#
# containerd 1.6's ctr has no `task update`, and the runc v2 shim reads metrics from
# the cgroup files itself (not `runc events`): `update` and `events` are covered in
# verbs.bats; here `events --stats` is compared with what the shim reports.

load helpers

NS=husk
IMG=docker.io/library/husk-busybox:t

# ---------------------------------------------------------------- file setup

setup_file() {
    CTRD_SKIP=""
    if ! command -v containerd >/dev/null 2>&1 || ! command -v ctr >/dev/null 2>&1 ||
        ! command -v containerd-shim-runc-v2 >/dev/null 2>&1; then
        CTRD_SKIP="containerd/ctr/containerd-shim-runc-v2 not installed"
    elif ! is_husk; then
        CTRD_SKIP="containerd suite drives husk only (HUSK=$HUSK)"
    elif [ ! -x "$HUSK_BIN" ]; then
        CTRD_SKIP="runtime not found: $HUSK_BIN"
    fi
    export CTRD_SKIP
    [ -z "$CTRD_SKIP" ] || return 0

    CD=$(mktemp -d /tmp/hctrd.XXXXXX)
    HR=$CD/hr/$NS
    SOCK=$CD/c.sock
    export CD HR SOCK
    mkdir -p "$CD/asan" "$CD/hr"

    # The shim passes its own environment on; the sanitizer options of the ASan
    # suite are baked into the wrapper anyway, with reports going to $CD/asan
    # (the shim keeps only husk's --log, not its stderr).
    write_husk_wrapper "$CD/husk-wrap" "$CD/argv.log" "$CD/asan"

    # Only what ctr needs: no CRI, no snapshotters beyond native/overlayfs, no
    # tracing, no debug/metrics listeners; every path under $CD.
    cat >"$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CD/opt"
EOF
    containerd --config "$CD/config.toml" </dev/null >"$CD/containerd.log" 2>&1 3>&- &
    echo $! >"$CD/containerd.pid"
    local i
    for ((i = 0; i < 200; i++)); do
        [ -S "$SOCK" ] && ctrc version >/dev/null 2>&1 && break
        sleep 0.05
    done
    ctrc version >/dev/null || {
        cat "$CD/containerd.log" >&2
        fail "containerd did not come up"
        return 1
    }

    local rootfs
    rootfs=$(husk_rootfs)
    mk_oci_image "$rootfs" "$CD/img.tar" "$IMG" || return 1
    ctrc image import "$CD/img.tar" >/dev/null || return 1
    rm -f "$CD/img.tar"
}

teardown_file() {
    [ -n "${CD:-}" ] && [ -d "$CD" ] || return 0
    local problems="" t pid i m p

    # Whatever a failed test left: kill, delete the tasks, then the containers.
    for t in $(ctrc task ls -q 2>/dev/null); do
        ctrc task kill -s SIGKILL "$t" >/dev/null 2>&1
        ctrc task delete -f "$t" >/dev/null 2>&1
    done
    for t in $(ctrc container ls -q 2>/dev/null); do
        ctrc container delete "$t" >/dev/null 2>&1
    done
    ctrc image rm "$IMG" >/dev/null 2>&1

    # Stop containerd (SIGTERM, as systemd would) and wait for it.
    pid=$(cat "$CD/containerd.pid")
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        problems+=$'\n'"containerd $pid did not stop on SIGTERM"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null

    # A shim of ours outlives containerd only if a task was left running.
    for p in $(our_shims); do
        problems+=$'\n'"containerd-shim left: $p $(tr '\0' ' ' <"/proc/$p/cmdline")"
        kill -KILL "$p" 2>/dev/null
    done

    # Snapshot and rootfs mounts under $CD: containerd unmounts them on delete;
    # anything still there is a leak (reported), then unmounted for the cleanup.
    while read -r m; do
        [ -n "$m" ] || continue
        problems+=$'\n'"mount left: $m"
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done < <(mounts_under "$CD")
    m=$(mounts_under "$CD")
    [ -z "$m" ] || problems+=$'\n'"still mounted after umount: $m"

    [ -z "$(ls -A "$HR" 2>/dev/null)" ] || problems+=$'\n'"husk state left in $HR: $(ls -A "$HR")"
    rm -rf --one-file-system "$CD"
    [ -z "$problems" ] || fail "containerd teardown:$problems"
}

setup() {
    [ -z "$CTRD_SKIP" ] || skip "$CTRD_SKIP"
    ID=hc${BATS_TEST_NUMBER}-$$
    export ID
}

# Every task must be gone with its container: no husk state dir, no cgroup, no mount
# of its rootfs. A test that failed half-way is cleaned up here (and reported).
teardown() {
    [ -z "$CTRD_SKIP" ] || return 0
    local problems="" t
    for t in $(ctrc task ls -q 2>/dev/null); do
        problems+=$'\n'"task left: $t"
        ctrc task kill -s SIGKILL "$t" >/dev/null 2>&1
        sleep 0.2
        ctrc task delete -f "$t" >/dev/null 2>&1
    done
    for t in $(ctrc container ls -q 2>/dev/null); do
        problems+=$'\n'"container left: $t"
        ctrc container delete "$t" >/dev/null 2>&1
    done
    [ ! -e "$HR/$ID" ] || problems+=$'\n'"husk state dir left: $HR/$ID"
    [ -z "$(ctr_cgroups)" ] || problems+=$'\n'"cgroups left: $(ctr_cgroups)"
    [ -z "$(mounts_under "$CD/state/io.containerd.runtime.v2.task/$NS/$ID")" ] ||
        problems+=$'\n'"rootfs still mounted"
    [ -z "$problems" ] || fail "teardown:$problems"
}

# ---------------------------------------------------------------- helpers

# ctrc ARGS...: ctr against our containerd, in namespace $NS. fd 3 (bats' output)
# is never passed on; a hung call fails after 60 s instead of hanging the suite.
ctrc() {
    timeout 60 ctr --address "$SOCK" --namespace "$NS" "$@" 3>&-
}

# The runc flags of `ctr run`/`ctr task exec`: husk through the wrapper, private root.
RUNC=()
runc_opts() { RUNC=(--runc-binary "$CD/husk-wrap" --runc-root "$CD/hr"); }

# ctr run -d $IMG $ID ARGS...: a detached task; PID is its init's host pid.
start_task() {
    runc_opts
    run ctrc run -d "${RUNC[@]}" "$IMG" "$ID" "$@"
    assert_success
    wait_task RUNNING
    PID=$(task_field PID)
}

# task_field PID|STATUS: the column of `ctr task ls` for $ID.
task_field() {
    ctrc task ls | awk -v id="$ID" -v f="$1" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == id { print $col[f] }'
}

wait_task() {
    local i st=""
    for ((i = 0; i < 100; i++)); do
        st=$(task_field STATUS)
        [ "$st" = "$1" ] && return 0
        sleep 0.1
    done
    fail "task $ID: status '$st', waited 10s for '$1'"
}

# Remove the task and its container (the task must have stopped).
remove_task() {
    run ctrc task delete "$ID"
    assert_success
    run ctrc container delete "$ID"
    assert_success
}

# husk's own view of $ID, with the root the shim gave it.
husk_state() { "$HUSK_BIN" --root "$HR" state "$ID"; }

# Cgroups of $ID on every hierarchy (ctr's default cgroupsPath is /<namespace>/<id>).
ctr_cgroups() {
    local d
    for d in /sys/fs/cgroup/*/"$NS/$ID" /sys/fs/cgroup/"$NS/$ID"; do
        [ -d "$d" ] && echo "$d"
    done
    return 0
}

mounts_under() {
    awk -v p="$1" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# Pids of containerd-shim-runc-v2 processes serving our containerd (its address is
# on their command line); no other shim on the machine is touched.
our_shims() {
    pgrep -f -- "^containerd-shim-runc-v2 .*-address $SOCK( |\$)" || true
}

# wrapper_calls ID: the wrapper's log lines about container ID (tab-separated argv).
wrapper_calls() {
    awk -F'\t' -v id="$1" '$(NF - 1) == id || $0 ~ "\t" id "\t"' "$CD/argv.log"
}

# mk_oci_image ROOTFS OUT.tar NAME: an OCI image layout (one uncompressed layer) of
# ROOTFS, packed into OUT.tar for `ctr image import`.
mk_oci_image() {
    local rootfs=$1 out=$2 name=$3 d l c m
    d=$(mktemp -d "$CD/img.XXXXXX")
    mkdir -p "$d/blobs/sha256"
    tar -C "$rootfs" --numeric-owner --sort=name -cf "$d/layer" . || return 1
    l=$(sha256sum "$d/layer" | cut -d' ' -f1)
    jq -cn --arg diff "sha256:$l" '{architecture: "amd64", os: "linux",
        config: {Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"], WorkingDir: "/"},
        rootfs: {type: "layers", diff_ids: [$diff]}}' >"$d/config"
    c=$(sha256sum "$d/config" | cut -d' ' -f1)
    jq -cn --arg c "sha256:$c" --argjson cs "$(stat -c %s "$d/config")" \
        --arg l "sha256:$l" --argjson ls "$(stat -c %s "$d/layer")" '{schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
        layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' >"$d/manifest"
    m=$(sha256sum "$d/manifest" | cut -d' ' -f1)
    jq -cn --arg m "sha256:$m" --argjson ms "$(stat -c %s "$d/manifest")" --arg n "$name" '{schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
            platform: {architecture: "amd64", os: "linux"},
            annotations: {"io.containerd.image.name": $n}}]}' >"$d/index.json"
    mv "$d/layer" "$d/blobs/sha256/$l"
    mv "$d/config" "$d/blobs/sha256/$c"
    mv "$d/manifest" "$d/blobs/sha256/$m"
    echo '{"imageLayoutVersion": "1.0.0"}' >"$d/oci-layout"
    tar -C "$d" -cf "$out" oci-layout index.json blobs || return 1
    rm -rf "$d"
}

# ---------------------------------------------------------------- run

@test "ctr run --rm in the foreground: output and exit status come through husk" {
    runc_opts
    run ctrc run --rm "${RUNC[@]}" "$IMG" "$ID" sh -c 'echo "hello $((6 * 7))"; echo err >&2; exit 3'
    assert_status 3
    assert_contains "hello 42"
    assert_contains "err"
    run ctrc run --rm "${RUNC[@]}" "$IMG" "$ID" true
    assert_success
    # The shim ran husk for both, with the root it was given.
    run wrapper_calls "$ID"
    assert_contains "--root	$HR	"
    assert_contains "create	--bundle	"
    assert_contains "start	$ID	"
    [ "$(wrapper_calls "$ID" | grep -c "	create	")" -eq 2 ]
    [ -z "$(ctrc container ls -q)" ]
}

@test "ctr run -d: RUNNING, husk's pid file is the task's pid, husk's state agrees" {
    start_task sleep 1000
    [ -n "$PID" ] && [ "$PID" -gt 1 ]
    # the pid the shim read from husk's --pid-file is the container's init
    assert_equal "$(tr '\0' ' ' <"/proc/$PID/cmdline")" "sleep 1000 "
    [ "$(readlink "/proc/$PID/ns/pid")" != "$(host_ns pid)" ]
    [ "$(readlink "/proc/$PID/ns/mnt")" != "$(host_ns mnt)" ]
    grep -qx 1 <(awk '/^NSpid:/ { print $NF }' "/proc/$PID/status")
    # husk's own state, under the --root the shim passed
    run husk_state
    assert_success
    assert_equal "$(jq -r .status <<<"$output")" running
    assert_equal "$(jq -r .pid <<<"$output")" "$PID"
    assert_equal "$(jq -r .bundle <<<"$output")" "$CD/state/io.containerd.runtime.v2.task/$NS/$ID"
    # in the cgroup ctr asked for (/<namespace>/<id>)
    grep -q ":pids:/$NS/$ID\$" "/proc/$PID/cgroup"
    run ctrc task kill -s SIGKILL "$ID"
    assert_success
    wait_task STOPPED
    remove_task
}

# ---------------------------------------------------------------- exec, ps

@test "ctr task exec: same namespaces and cgroups as the init, exit status passed through" {
    start_task sleep 1000
    local ns want=""
    for ns in pid net ipc uts mnt cgroup; do want+="$(readlink "/proc/$PID/ns/$ns") "; done
    run --separate-stderr ctrc task exec --exec-id e1 "$ID" sh -c \
        'for n in pid net ipc uts mnt cgroup; do printf "%s " "$(readlink /proc/self/ns/$n)"; done; echo; exit 5'
    assert_status 5
    assert_equal "$output" "$want"
    # its cgroups are the init's
    run ctrc task exec --exec-id e2 "$ID" cat /proc/self/cgroup
    assert_success
    assert_equal "$output" "$(cat "/proc/$PID/cgroup")"
    # a missing program: husk's error reaches ctr, nothing keeps running
    run ctrc task exec --exec-id e3 "$ID" /no/such/prog
    assert_failure
    assert_contains '/no/such/prog'
    # the shim asked for a detached exec with a process file and a pid file
    run wrapper_calls "$ID"
    assert_contains "exec	--process	"
    assert_contains "--detach	--pid-file	$CD/state/io.containerd.runtime.v2.task/$NS/$ID/e1.pid	$ID"
    run ctrc task kill -s SIGKILL "$ID"
    wait_task STOPPED
    remove_task
}

@test "ctr task ps: the init and the exec'd processes, by host pid and exec id" {
    start_task sleep 1000
    run ctrc task exec -d --exec-id sleeper "$ID" sleep 999
    assert_success
    local i epid=""
    for ((i = 0; i < 50; i++)); do
        epid=$(ctrc task ps "$ID" | awk '/ExecID:sleeper/ { print $1 }')
        [ -n "$epid" ] && break
        sleep 0.1
    done
    [ -n "$epid" ] || fail "exec'd process not in ctr task ps: $(ctrc task ps "$ID")"
    # the pid listed for the exec id is that process, inside the init's pid namespace
    assert_equal "$(tr '\0' ' ' <"/proc/$epid/cmdline")" "sleep 999 "
    assert_equal "$(readlink "/proc/$epid/ns/pid")" "$(readlink "/proc/$PID/ns/pid")"
    run ctrc task ps "$ID"
    assert_success
    [ "$(awk 'NR > 1' <<<"$output" | wc -l)" -eq 2 ]
    grep -q "^$PID " <<<"$output"
    # what husk gave the shim: ps --format json, a pid array
    run "$HUSK_BIN" --root "$HR" ps --format json "$ID"
    assert_success
    jq -e --argjson a "$PID" --argjson b "$epid" 'sort == ([$a, $b] | sort)' <<<"$output"
    grep -q "	ps	--format	json	$ID	" "$CD/argv.log"
    run ctrc task kill -s SIGKILL "$ID"
    wait_task STOPPED
    remove_task
}

# ---------------------------------------------------------------- kill

@test "ctr task kill: SIGTERM by default, -s SIGKILL; STOPPED with the exit code" {
    # An init that handles TERM exits with 7 ...
    start_task sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
    run ctrc task kill "$ID"
    assert_success
    wait_task STOPPED
    grep -q "	kill	$ID	15	" "$CD/argv.log"
    run ctrc task delete "$ID"
    assert_success
    assert_contains "exit code 7"
    run ctrc container delete "$ID"
    assert_success

    # ... one that does not (sleep as pid 1 ignores TERM) needs SIGKILL.
    start_task sleep 1000
    run ctrc task kill "$ID"
    assert_success
    sleep 0.5
    assert_equal "$(task_field STATUS)" RUNNING
    run ctrc task kill -s SIGKILL "$ID"
    assert_success
    wait_task STOPPED
    [ ! -d "/proc/$PID" ] || [ "$(awk '/^State:/ { print $2 }' "/proc/$PID/status")" = Z ]
    grep -q "	kill	$ID	9	" "$CD/argv.log"
    run ctrc task delete "$ID"
    assert_success
    assert_contains "exit code 137"
    run ctrc container delete "$ID"
    assert_success
}

@test "ctr task kill --all: reaches exec'd processes too (husk kill --all)" {
    start_task sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
    run ctrc task exec -d --exec-id x "$ID" sleep 999
    assert_success
    local epid="" i
    for ((i = 0; i < 50; i++)); do
        epid=$(ctrc task ps "$ID" | awk '/ExecID:x,/ { print $1 }')
        [ -n "$epid" ] && break
        sleep 0.1
    done
    [ -n "$epid" ] || fail "exec'd process not in ctr task ps: $(ctrc task ps "$ID")"
    run ctrc task kill --all "$ID"
    assert_success
    wait_task STOPPED
    grep -q "	kill	--all	$ID	15	" "$CD/argv.log"
    for ((i = 0; i < 50; i++)); do
        [ -d "/proc/$epid" ] || break
        sleep 0.1
    done
    [ ! -d "/proc/$epid" ] || fail "exec'd sleep $epid survived kill --all"
    run ctrc task delete "$ID"
    assert_contains "exit code 7"
    run ctrc container delete "$ID"
    assert_success
}

# ---------------------------------------------------------------- pause, metrics

@test "ctr task pause/resume: PAUSED, the processes really stop, then go on" {
    start_task sh -c 'i=0; while :; do i=$((i+1)); echo $i > /cnt.new; mv /cnt.new /cnt; sleep 0.02; done'
    local cnt=/proc/$PID/root/cnt a b i
    for ((i = 0; i < 50; i++)); do
        [ "$(cat "$cnt" 2>/dev/null || echo 0)" -gt 2 ] && break
        sleep 0.1
    done
    run ctrc task pause "$ID"
    assert_success
    wait_task PAUSED
    assert_equal "$(husk_state | jq -r .status)" paused
    if [ -f "/sys/fs/cgroup/freezer/$NS/$ID/freezer.state" ]; then
        assert_equal "$(cat "/sys/fs/cgroup/freezer/$NS/$ID/freezer.state")" FROZEN
    fi
    a=$(cat "$cnt")
    sleep 0.5
    b=$(cat "$cnt")
    assert_equal "$b" "$a"
    run ctrc task resume "$ID"
    assert_success
    wait_task RUNNING
    sleep 0.5
    b=$(cat "$cnt")
    [ "$b" -gt "$a" ] || fail "counter did not advance after resume: $a -> $b"
    grep -q "	pause	$ID	" "$CD/argv.log"
    grep -q "	resume	$ID	" "$CD/argv.log"
    run ctrc task kill -s SIGKILL "$ID"
    wait_task STOPPED
    remove_task
}

@test "ctr task metrics: the cgroup husk made holds the task; numbers agree with husk events --stats" {
    start_task sleep 1000
    run ctrc task exec -d --exec-id m "$ID" sleep 999
    assert_success
    run ctrc task metrics --format json "$ID"
    assert_success
    local m=$output
    jq -e '.pids.current >= 2' <<<"$m"
    jq -e '.memory.usage.usage > 0' <<<"$m"
    jq -e '.cpu.usage.total > 0' <<<"$m"
    # husk's events --stats (runc's shape) reads the same cgroups
    run "$HUSK_BIN" --root "$HR" events --stats "$ID"
    assert_success
    jq -e --arg id "$ID" '.type == "stats" and .id == $id' <<<"$output"
    jq -e --argjson n "$(jq .pids.current <<<"$m")" '.data.pids.current == $n' <<<"$output"
    jq -e '.data.memory.usage.usage > 0' <<<"$output"
    run ctrc task kill -s SIGKILL "$ID"
    wait_task STOPPED
    remove_task
}

# ---------------------------------------------------------------- delete

@test "ctr task delete + container delete: no husk state, no cgroup, no rootfs mount left" {
    start_task sleep 1000
    [ -f "$HR/$ID/state.json" ] || [ -d "$HR/$ID" ]
    [ -n "$(ctr_cgroups)" ]
    # a running task is not deleted without -f
    run ctrc task delete "$ID"
    assert_failure
    assert_equal "$(task_field STATUS)" RUNNING
    run ctrc task delete -f "$ID"
    assert_success
    grep -q "	delete	--force	$ID	" "$CD/argv.log"
    run ctrc container delete "$ID"
    assert_success
    [ ! -e "$HR/$ID" ]
    [ -z "$(ls -A "$HR")" ]
    [ -z "$(ctr_cgroups)" ]
    [ ! -d "/proc/$PID" ]
    [ -z "$(mounts_under "$CD/state/io.containerd.runtime.v2.task/$NS/$ID")" ]
}

# ---------------------------------------------------------------- tty

@test "ctr run -t and ctr task exec -t: the process has a terminal (--console-socket)" {
    command -v script >/dev/null || skip "script(1) not installed"
    runc_opts
    run timeout 60 script -qec "ctr --address $SOCK --namespace $NS run --rm -t ${RUNC[*]} $IMG $ID \
        sh -c 'test -t 0 && test -t 1 && echo ISATTY; tty; exit 4'" /dev/null
    assert_status 4
    assert_contains "ISATTY"
    assert_contains "/dev/pts/0"
    grep -q "	create	--bundle	.*	--console-socket	" <(wrapper_calls "$ID")

    start_task sleep 1000
    run timeout 60 script -qec "ctr --address $SOCK --namespace $NS task exec -t --exec-id tt $ID \
        sh -c 'test -t 0 && echo EXECTTY; exit 6'" /dev/null
    assert_status 6
    assert_contains "EXECTTY"
    grep -q "	exec	--process	.*	--console-socket	.*	--detach	" <(wrapper_calls "$ID")
    run ctrc task kill -s SIGKILL "$ID"
    wait_task STOPPED
    remove_task
}

# ---------------------------------------------------------------- errors, flags

@test "a failing husk create: the shim reads husk's error from --log (json) and ctr reports it" {
    runc_opts
    run ctrc run --rm "${RUNC[@]}" "$IMG" "$ID" /no/such/program
    assert_failure
    # only in husk's --log file: the shim keeps nothing else of husk's
    assert_contains 'OCI runtime create failed'
    assert_contains 'exec: "/no/such/program"'
    [ -z "$(ctrc container ls -q)" ]

    # What the shim parses: one JSON object per line, level and msg.
    local log=$CD/fail.json
    run "$HUSK_BIN" --root "$HR" --log "$log" --log-format json state no-such-ctr
    assert_failure
    jq -e -s 'length >= 1 and all(has("level") and has("msg") and has("time"))' "$log"
    jq -e -s 'map(select(.level == "error")) | length == 1' "$log"
    jq -e -s '.[] | select(.level == "error") | .msg | test("no-such-ctr")' "$log"
}

@test "every flag the shim passed is one husk documents, with the values it needs" {
    [ -s "$CD/argv.log" ] || skip "no earlier test ran husk"
    local line verb flag bad="" seen="" i
    local -a a
    local -A help
    help[global]=$("$HUSK_BIN" --help)
    while IFS=$'\t' read -r -a a; do
        i=0
        # global flags, each with its value
        while [ "$i" -lt "${#a[@]}" ] && [[ ${a[$i]} == --* ]]; do
            flag=${a[$i]}
            case $flag in
                --root) [ "${a[$((i + 1))]}" = "$HR" ] || bad+=$'\n'"--root ${a[$((i + 1))]}"; i=$((i + 2)) ;;
                --log) [[ ${a[$((i + 1))]} == "$CD/state/"*/log.json ]] || bad+=$'\n'"--log ${a[$((i + 1))]}"; i=$((i + 2)) ;;
                --log-format) [ "${a[$((i + 1))]}" = json ] || bad+=$'\n'"--log-format ${a[$((i + 1))]}"; i=$((i + 2)) ;;
                --systemd-cgroup) bad+=$'\n'"--systemd-cgroup passed (not asked for)"; i=$((i + 1)) ;;
                *) bad+=$'\n'"unknown global flag $flag"; i=$((i + 1)) ;;
            esac
            grep -q -- "  $flag " <<<"${help[global]}" || bad+=$'\n'"global $flag not in husk --help"
        done
        verb=${a[$i]}
        seen+=" $verb"
        [ -n "${help[$verb]:-}" ] || help[$verb]=$("$HUSK_BIN" "$verb" --help)
        for ((i = i + 1; i < ${#a[@]}; i++)); do
            flag=${a[$i]}
            [[ $flag == --* ]] || continue
            grep -q -- "$flag\b" <<<"${help[$verb]}" || bad+=$'\n'"$verb $flag not in husk $verb --help"
        done
    done <"$CD/argv.log"
    [ -z "$bad" ] || fail "flags:$bad"
    # the verbs the shim needs from husk, all used by the tests above
    for verb in create start exec ps kill pause resume delete; do
        [[ " $seen " == *" $verb "* ]] || fail "the shim never ran husk $verb"
    done
}

@test "the sanitizers (ASan build) reported nothing for any call the shim made" {
    local f
    f=$(ls -A "$CD/asan")
    [ -z "$f" ] || {
        head -50 "$CD"/asan/* >&2
        fail "sanitizer reports: $f"
    }
}
