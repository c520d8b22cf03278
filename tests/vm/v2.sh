# Tests run inside the VM on a pure cgroup v2 hierarchy (cgroup_no_v1=all): the same
# effects the v1 tests check on the host, observed through the v2 interface files.
. /tests/lib.sh
CG_ROOT=/sys/fs/cgroup
CG=$CG_ROOT/husk

# create_ok: create $ID detached (stdio away from our pipes) and print its pid.
create_ok() {
    husk create --bundle "$BUNDLE" "$ID" </dev/null >/tmp/create.out 2>&1 ||
        { cat /tmp/create.out; die "create failed"; return 1; }
    husk state "$ID" | jq -r .pid
}

t_basic() {
    set_cmd sh -c 'cat /proc/self/cgroup'
    out=$(husk run --bundle "$BUNDLE" "$ID") || die "run failed: $out" || return 1
    # With a cgroup namespace the container sees itself at the root.
    [ "$out" = "0::/" ] || die "unexpected /proc/self/cgroup: $out"
}
t_cgroup_dir() {
    pid=$(create_ok) || return 1
    [ -d "$CG/$ID" ] || die "no cgroup $CG/$ID" || return 1
    grep -qx "$pid" "$CG/$ID/cgroup.procs" || die "pid $pid not in cgroup.procs" || return 1
    husk delete --force "$ID" || return 1
    [ ! -d "$CG/$ID" ] || die "cgroup left after delete"
}
t_memory_oom() {
    cfg '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
    # dd's 64 MiB buffer is filled from /dev/zero: over the 32 MiB limit, so the OOM
    # killer ends it, and as pid 1 its SIGKILL is the container's exit status.
    set_cmd dd if=/dev/zero of=/dev/null bs=64M count=1
    out=$(husk run --bundle "$BUNDLE" "$ID" 2>&1)
    rc=$?
    [ $rc -eq 137 ] || die "expected exit 137 (OOM kill), got $rc: $out" || return 1
    # The same dd without the limit completes.
    cfg 'del(.linux.resources.memory)'
    out=$(husk run --bundle "$BUNDLE" "$ID" 2>&1) || die "dd failed without a limit: $out"
}
t_memory_files() {
    cfg '.linux.resources.memory = {limit: 67108864, reservation: 33554432, swap: 100663296}'
    create_ok >/dev/null || return 1
    [ "$(cat $CG/$ID/memory.max)" = 67108864 ] || die "memory.max $(cat $CG/$ID/memory.max)" || return 1
    [ "$(cat $CG/$ID/memory.low)" = 33554432 ] || die "memory.low $(cat $CG/$ID/memory.low)" || return 1
    # OCI swap is memory+swap; v2's memory.swap.max is swap alone.
    [ "$(cat $CG/$ID/memory.swap.max)" = 33554432 ] || die "memory.swap.max $(cat $CG/$ID/memory.swap.max)"
}
t_pids() {
    cfg '.linux.resources.pids = {limit: 10}'
    # A subshell starts 30 background sleeps: the fork that would pass the limit fails
    # (EAGAIN) and ends the subshell; the sleeps it started stay, pid 1 execs a sleep.
    set_cmd sh -c '(for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do sleep 30 & done) 2>/dev/null; exec sleep 30'
    create_ok >/dev/null || return 1
    [ "$(cat $CG/$ID/pids.max)" = 10 ] || die "pids.max $(cat $CG/$ID/pids.max)" || return 1
    husk start "$ID" || return 1
    sleep 2
    cur=$(cat $CG/$ID/pids.current)
    [ "$cur" -le 10 ] && [ "$cur" -ge 5 ] || die "pids.current $cur under a limit of 10" || return 1
    grep -q '^max [1-9]' $CG/$ID/pids.events || die "no fork was refused: $(cat $CG/$ID/pids.events)"
}
t_cpu_weight() {
    # shares 512 is weight 59 on the curve crun 1.23+ and runc use (1024, the v1
    # default, is 100, v2's default): 10^((l*l + 125*l)/612 - 7/34), l = log2(shares).
    cfg '.linux.resources.cpu = {shares: 512, quota: 50000, period: 100000}'
    create_ok >/dev/null || return 1
    [ "$(cat $CG/$ID/cpu.weight)" = 59 ] || die "cpu.weight $(cat $CG/$ID/cpu.weight)" || return 1
    [ "$(cat $CG/$ID/cpu.max)" = "50000 100000" ] || die "cpu.max $(cat $CG/$ID/cpu.max)"
}
t_cpu_throttle() {
    cfg '.linux.resources.cpu = {quota: 10000, period: 100000}'
    set_cmd sh -c 'end=$(( $(date +%s) + 2 )); while [ $(date +%s) -lt $end ]; do :; done; cat /sys/fs/cgroup/cpu.stat'
    out=$(husk run --bundle "$BUNDLE" "$ID" 2>&1) || die "run failed: $out" || return 1
    thr=$(echo "$out" | awk '$1 == "nr_throttled" { print $2 }')
    [ -n "$thr" ] && [ "$thr" -gt 0 ] || die "not throttled: $out"
}
t_devices() {
    # Deny-by-default: a char device the config does not allow cannot be opened (the
    # eBPF device program answers EPERM before any driver is reached), while /dev/null,
    # allowed by default, can. c 4:64 is the VM's serial port: no capability is needed
    # to open it, so only the device program can refuse it.
    set_cmd sh -c 'mknod /tmp/ttyS0 c 4 64 && dd if=/tmp/ttyS0 count=0 && echo opened; echo ok >/dev/null && echo null-ok'
    cfg '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
    out=$(husk run --bundle "$BUNDLE" "$ID" 2>&1)
    echo "$out" | grep -q "Operation not permitted" || die "c 4:64 was not refused: $out" || return 1
    echo "$out" | grep -qx opened && die "c 4:64 was opened: $out" && return 1
    echo "$out" | grep -qx null-ok || die "/dev/null not usable: $out"
}
t_devices_allow() {
    # Read-only access to the serial port c 4:64 (not among the default devices):
    # opening it for reading works, for writing is refused.
    cfg '.linux.resources.devices = [{allow: false, access: "rwm"}, {allow: true, type: "c", major: 4, minor: 64, access: "r"}]'
    cfg '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
    set_cmd sh -c 'mknod /tmp/t c 4 64; dd if=/tmp/t count=0 2>/dev/null && echo read-ok; dd if=/dev/null of=/tmp/t count=0 2>/dev/null && echo wrote || echo nowrite'
    out=$(husk run --bundle "$BUNDLE" "$ID" 2>&1)
    echo "$out" | grep -qx read-ok || die "read of allowed c 4:64 failed: $out" || return 1
    echo "$out" | grep -qx nowrite || die "write to read-only c 4:64 allowed: $out"
}
t_unified() {
    cfg '.linux.resources.unified = {"memory.high": "50000000", "pids.max": "42"}'
    create_ok >/dev/null || return 1
    [ "$(cat $CG/$ID/memory.high)" = 49999872 ] || [ "$(cat $CG/$ID/memory.high)" = 50000000 ] ||
        die "memory.high $(cat $CG/$ID/memory.high)" || return 1
    [ "$(cat $CG/$ID/pids.max)" = 42 ] || die "pids.max $(cat $CG/$ID/pids.max)"
}
t_unified_bad() {
    cfg '.linux.resources.unified = {"nosuch.file": "1"}'
    husk create --bundle "$BUNDLE" "$ID" </dev/null >/tmp/create.out 2>&1 && die "create with a bad unified key succeeded" && return 1
    out=$(cat /tmp/create.out)
    echo "$out" | grep -q nosuch.file || die "error does not name the key: $out" || return 1
    [ ! -d "$CG/$ID" ] || die "cgroup left after the failed create" || return 1
    [ ! -e $HUSK_ROOT/$ID ] || die "state left after the failed create"
}
t_freeze() {
    pid=$(create_ok) || return 1
    husk start "$ID" || return 1
    husk pause "$ID" || die "pause failed" || return 1
    [ "$(husk state "$ID" | jq -r .status)" = paused ] || die "status not paused" || return 1
    grep -q '^frozen 1' "$CG/$ID/cgroup.events" || die "cgroup.events not frozen" || return 1
    husk resume "$ID" || die "resume failed" || return 1
    [ "$(husk state "$ID" | jq -r .status)" = running ] || die "status not running after resume"
}

t_frozen_before_create() {
    # A cgroupsPath whose cgroup.freeze is 1 (and a new child of it, frozen with it)
    # is refused at once; without the check, create would wait forever in it.
    mkdir -p $CG_ROOT/husk-frz
    echo 1 >$CG_ROOT/husk-frz/cgroup.freeze
    cfg '.linux.cgroupsPath = "/husk-frz/ctr"'
    set_cmd echo RAN
    out=$(timeout -s KILL 20 "$HUSK" --root "$HUSK_ROOT" run --bundle "$BUNDLE" "$ID" </dev/null 2>&1)
    rc=$?
    echo 0 >$CG_ROOT/husk-frz/cgroup.freeze
    rmdir $CG_ROOT/husk-frz/ctr 2>/dev/null
    rmdir $CG_ROOT/husk-frz
    [ $rc -ne 137 ] || die "run hung in the frozen cgroup" || return 1
    [ $rc -ne 0 ] || die "run succeeded in a frozen cgroup: $out" || return 1
    echo "$out" | grep -q "frozen" || die "error does not say frozen: $out" || return 1
    [ ! -e $HUSK_ROOT/$ID ] || die "state left after the refused create"
}
t_delete_frozen() {
    # Frozen behind husk's back (cgroup.freeze written directly): delete --force
    # thaws, kills, removes the cgroup, without hanging.
    pid=$(create_ok) || return 1
    husk start "$ID" || return 1
    echo 1 >"$CG/$ID/cgroup.freeze"
    timeout -s KILL 20 "$HUSK" --root "$HUSK_ROOT" delete --force "$ID" || die "delete --force failed or hung" || return 1
    [ ! -d "$CG/$ID" ] || die "cgroup left after delete"
}
t_devices_listed() {
    # A node listed in linux.devices is made, but the deny-all cgroup rules decide:
    # the eBPF program refuses it (runc, crun).
    cfg '.linux.devices = [{path: "/dev/ttyS0", type: "c", major: 4, minor: 64, fileMode: 438}]
         | .linux.resources.devices = [{allow: false, access: "rwm"}]'
    set_cmd sh -c 'ls /dev/ttyS0 && dd if=/dev/ttyS0 count=0 && echo opened'
    out=$(husk run --bundle "$BUNDLE" "$ID" 2>&1)
    echo "$out" | grep -q "Operation not permitted" || die "listed c 4:64 was not refused: $out" || return 1
    echo "$out" | grep -qx opened && die "listed c 4:64 was opened: $out" && return 1
    return 0
}

t "container runs and sees its own cgroup" t_basic
t "create puts init in /husk/<id>, delete removes it" t_cgroup_dir
t "memory limit: a hog is OOM-killed (137)" t_memory_oom
t "memory limit, reservation, swap land in memory.max/low/swap.max" t_memory_files
t "pids limit stops a fork loop" t_pids
t "cpu shares become cpu.weight, quota/period cpu.max" t_cpu_weight
t "cpu quota throttles (cpu.stat nr_throttled)" t_cpu_throttle
t "devices: deny by default through the eBPF program" t_devices
t "devices: config allow rules with access modes" t_devices_allow
t "unified keys are written" t_unified
t "an unknown unified key fails create clearly, nothing left" t_unified_bad
t "pause/resume through cgroup.freeze" t_freeze
t "a cgroup frozen before create is refused at once" t_frozen_before_create
t "delete --force thaws a cgroup frozen by a direct write" t_delete_frozen
t "devices: a node in linux.devices is not allowed by being listed" t_devices_listed
summary
