# Tests run inside the VM on a pure cgroup v1 layout (every controller on its own v1
# hierarchy, no cgroup2 mount): the other end of what this (hybrid) host shows.
. /tests/lib.sh
CG_ROOT=/sys/fs/cgroup/memory
V1=/sys/fs/cgroup

create_ok() {
    husk create --bundle "$BUNDLE" "$ID" </dev/null >/tmp/create.out 2>&1 ||
        { cat /tmp/create.out; die "create failed"; return 1; }
    husk state "$ID" | jq -r .pid
}

t_layout() {
    [ ! -e /sys/fs/cgroup/unified ] || die "unexpected cgroup2 mount" || return 1
    pid=$(create_ok) || return 1
    for c in memory pids cpu,cpuacct devices freezer blkio cpuset; do
        [ -d "$V1/$c/husk/$ID" ] || die "no $V1/$c/husk/$ID" || return 1
        grep -qx "$pid" "$V1/$c/husk/$ID/cgroup.procs" || die "pid $pid not in $c" || return 1
    done
    husk delete --force "$ID" || return 1
    for c in memory pids cpu,cpuacct devices freezer blkio cpuset; do
        [ ! -d "$V1/$c/husk/$ID" ] || die "$c cgroup left after delete" || return 1
    done
}
t_memory_oom() {
    cfg '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
    set_cmd dd if=/dev/zero of=/dev/null bs=64M count=1
    out=$(husk run --bundle "$BUNDLE" "$ID" 2>&1)
    rc=$?
    [ $rc -eq 137 ] || die "expected exit 137 (OOM kill), got $rc: $out"
}
t_files() {
    cfg '.linux.resources = {memory: {limit: 67108864}, cpu: {shares: 512, quota: 50000, period: 100000}, pids: {limit: 10}}'
    create_ok >/dev/null || return 1
    [ "$(cat $V1/memory/husk/$ID/memory.limit_in_bytes)" = 67108864 ] || die "memory.limit_in_bytes" || return 1
    [ "$(cat $V1/cpu,cpuacct/husk/$ID/cpu.shares)" = 512 ] || die "cpu.shares" || return 1
    [ "$(cat $V1/cpu,cpuacct/husk/$ID/cpu.cfs_quota_us)" = 50000 ] || die "cpu.cfs_quota_us" || return 1
    [ "$(cat $V1/pids/husk/$ID/pids.max)" = 10 ] || die "pids.max"
}
t_devices() {
    set_cmd sh -c 'mknod /tmp/ttyS0 c 4 64 && dd if=/tmp/ttyS0 count=0 && echo opened; echo ok >/dev/null && echo null-ok'
    cfg '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
    out=$(husk run --bundle "$BUNDLE" "$ID" 2>&1)
    echo "$out" | grep -q "Operation not permitted" || die "c 4:64 was not refused: $out" || return 1
    echo "$out" | grep -qx opened && die "c 4:64 was opened: $out" && return 1
    echo "$out" | grep -qx null-ok || die "/dev/null not usable: $out"
}
t_freeze() {
    create_ok >/dev/null || return 1
    husk start "$ID" || return 1
    husk pause "$ID" || die "pause failed" || return 1
    [ "$(cat $V1/freezer/husk/$ID/freezer.state)" = FROZEN ] || die "freezer.state not FROZEN" || return 1
    [ "$(husk state "$ID" | jq -r .status)" = paused ] || die "status not paused" || return 1
    husk resume "$ID" || die "resume failed" || return 1
    [ "$(husk state "$ID" | jq -r .status)" = running ] || die "status not running after resume"
}
t_unified_refused() {
    # A v1-only host has no cgroup2 files: unified keys fail clearly, nothing left.
    cfg '.linux.resources.unified = {"memory.high": "50000000"}'
    husk create --bundle "$BUNDLE" "$ID" </dev/null >/tmp/create.out 2>&1 && die "create succeeded" && return 1
    grep -q unified /tmp/create.out || die "error does not name unified: $(cat /tmp/create.out)" || return 1
    [ ! -d "$V1/memory/husk/$ID" ] || die "cgroup left"
}

t "every v1 controller holds the init; delete removes them all" t_layout
t "memory limit: a hog is OOM-killed (137)" t_memory_oom
t "limits land in the v1 files" t_files
t "devices: deny by default (devices.deny/allow)" t_devices
t "pause/resume through the v1 freezer" t_freeze
t "unified keys on a v1-only host fail clearly" t_unified_refused
summary
