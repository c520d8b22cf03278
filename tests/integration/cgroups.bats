#!/usr/bin/env bats
# cgroups: the container's cgroup (paths, cleanup) and linux.resources, checked by
# their effects inside the container (OOM kill, fork limit, denied devices, cpu
# throttling, cpu affinity) and by the values the host sees in the cgroup files.
#
# Written for this host's layout (hybrid: v1 controllers plus a cgroup2 mount at
# /sys/fs/cgroup/unified holding hugetlb); tests needing a controller skip when
# it is absent.

load helpers


# Major:minor of a real block device of this machine.
block_dev() {
    local d
    for d in /sys/block/*; do
        [ -e "$d/device" ] && [ -r "$d/dev" ] && { cat "$d/dev"; return 0; }
    done
    return 1
}

# Start a container detached (create + start) and wait until it runs.
ctr_start() {
    set_cmd "$@"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    run husk start "$ID"
    assert_success
    wait_status "$ID" running
}

@test "memory: a process above memory.limit is OOM-killed (137)" {
    require_v1 memory
    update_config '.linux.resources.memory = {limit: 33554432}'
    ctr_run sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" x); echo survived'
    assert_status 137
    assert_not_contains survived
    assert_no_trace "$ID"
}

@test "memory: without a limit the same program survives" {
    ctr_run sh -c 'x=$(head -c 50000000 /dev/zero | tr "\0" x); echo survived'
    assert_success
    assert_contains survived
}

@test "memory: every v1 value is visible in the container's cgroup" {
    require_v1 memory
    update_config '.linux.resources.memory = {limit: 67108864, reservation: 33554432,
        swappiness: 7, disableOOMKiller: true, checkBeforeUpdate: true}'
    # Kernel-dependent files: memsw needs swap accounting, kmem.tcp a v1 memory
    # controller that still has it. Asked for only where they exist.
    v1_has_file memory memory.memsw.limit_in_bytes && update_config '.linux.resources.memory.swap = 134217728'
    v1_has_file memory memory.kmem.tcp.limit_in_bytes && update_config '.linux.resources.memory.kernelTCP = 16777216'
    ctr_start sleep 100
    local d
    d=$(cgdir memory)
    assert_equal "$(cat "$d/memory.limit_in_bytes")" 67108864
    assert_equal "$(cat "$d/memory.soft_limit_in_bytes")" 33554432
    assert_equal "$(cat "$d/memory.swappiness")" 7
    if [ -e "$d/memory.kmem.tcp.limit_in_bytes" ]; then
        assert_equal "$(cat "$d/memory.kmem.tcp.limit_in_bytes")" 16777216
    fi
    grep -qx 'oom_kill_disable 1' "$d/memory.oom_control"
    if [ -e "$d/memory.memsw.limit_in_bytes" ]; then
        assert_equal "$(cat "$d/memory.memsw.limit_in_bytes")" 134217728
    fi
    # the container's init is in it
    grep -qx "$(state_field "$ID" pid)" "$d/cgroup.procs"
}

@test "memory: a value the kernel refuses fails create, naming the field" {
    require_v1 memory
    # swap (memory+swap) below the memory limit
    update_config '.linux.resources.memory = {limit: 67108864, swap: 33554432}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    [ -e "$CG/memory/memory.memsw.limit_in_bytes" ] || return 0
    is_husk && assert_contains "linux.resources.memory.swap"
    assert_no_trace "$ID"
}

@test "pids: a fork loop stops at pids.limit" {
    require_v1 pids
    update_config '.linux.resources.pids = {limit: 6}'
    # sh itself is one task; each `sleep &` one more; the shell dies when fork fails.
    ctr_run sh -c 'i=0; while [ $i -lt 50 ]; do sleep 10 & i=$((i+1)); echo $i > /tmp/forked; done; echo all'
    assert_failure
    assert_not_contains all
    assert_contains "can't fork"
    assert_equal "$(cat "$BUNDLE/rootfs/tmp/forked")" 5
    assert_no_trace "$ID"
}

@test "pids: -1 is max; 0 is a limit of zero (not unlimited)" {
    require_v1 pids
    update_config '.linux.resources.pids = {limit: -1}'
    ctr_start sleep 100
    assert_equal "$(cat "$(cgdir pids)/pids.max")" max

    # with 0, not even the container's init can be forked
    ID=$(new_id)
    update_config '.linux.resources.pids = {limit: 0}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_no_trace "$ID"
}

@test "cpu: a quota throttles a busy loop (nr_throttled > 0)" {
    require_v1 cpu
    update_config '.linux.resources.cpu = {quota: 10000, period: 100000, shares: 512}'
    ctr_start sh -c 'while :; do :; done'
    local d
    d=$(cgdir cpu)
    assert_equal "$(cat "$d/cpu.cfs_quota_us")" 10000
    assert_equal "$(cat "$d/cpu.cfs_period_us")" 100000
    assert_equal "$(cat "$d/cpu.shares")" 512
    sleep 1
    local thr
    thr=$(awk '$1 == "nr_throttled" { print $2 }' "$d/cpu.stat")
    [ "$thr" -gt 0 ] || fail "nr_throttled=$thr in $d/cpu.stat"
    # and the loop got about 10% of one cpu, far from 100%
    local used
    used=$(cat "$CG/cpuacct/husk/$ID/cpuacct.usage" 2>/dev/null || echo 0)
    [ "$used" -lt 600000000 ] || fail "busy loop used ${used}ns of cpu in ~1s despite a 10% quota"
    husk kill "$ID" KILL
}

@test "cpu: burst, idle and realtime period are written" {
    require_v1 cpu
    [ -e "$CG/cpu/cpu.cfs_burst_us" ] || skip "no cpu.cfs_burst_us"
    update_config '.linux.resources.cpu = {quota: 20000, period: 100000, burst: 5000,
        realtimePeriod: 200000}'
    # cpu.idle came in 5.15, after burst (5.14)
    local idle=0
    [ -e "$CG/cpu/cpu.idle" ] && idle=1 && update_config '.linux.resources.cpu.idle = 0'
    ctr_start sleep 100
    is_husk && assert_equal "$(cat "$(cgdir cpu)/cpu.cfs_burst_us")" 5000   # runc 1.1 lacks burst
    [ "$idle" = 0 ] || assert_equal "$(cat "$(cgdir cpu)/cpu.idle")" 0
    if [ -e "$(cgdir cpu)/cpu.rt_period_us" ]; then
        assert_equal "$(cat "$(cgdir cpu)/cpu.rt_period_us")" 200000
    fi
}

@test "cpu: a realtime runtime beyond the parent's budget is a clear error" {
    require_husk
    [ -e "$CG/cpu/cpu.rt_runtime_us" ] || skip "no RT group scheduling"
    [ "$(cat "$CG/cpu/husk/cpu.rt_runtime_us" 2>/dev/null || echo 0)" = 0 ] || skip "/husk has an rt budget"
    update_config '.linux.resources.cpu = {realtimeRuntime: 1000, realtimePeriod: 100000}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "linux.resources.cpu.realtimeRuntime"
    assert_contains "parent cgroup's cpu.rt_runtime_us is 0"
    assert_no_trace "$ID"
}

@test "cpu: burst larger than quota is refused" {
    update_config '.linux.resources.cpu = {quota: 1000, period: 100000, burst: 5000}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "linux.resources.cpu.burst"
    assert_no_trace "$ID"
}

@test "cpuset: cpus restricts where the container runs" {
    require_v1 cpuset
    update_config '.linux.resources.cpu = {cpus: "0", mems: "0"}'
    ctr_run sh -c 'grep Cpus_allowed_list /proc/self/status'
    assert_success
    assert_contains $'Cpus_allowed_list:\t0'
}

@test "cpuset: invalid cpus fails create and leaves no cgroup" {
    require_v1 cpuset
    update_config '.linux.resources.cpu = {cpus: "999"}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "linux.resources.cpu.cpus"
    assert_no_trace "$ID"
    [ ! -e "$(cgdir cpuset)" ]
    [ ! -e "$(cgdir memory)" ]
}

@test "devices: deny by default; a node made with mknod cannot be opened" {
    require_v1 devices
    update_config '.process.capabilities |= map_values(. + ["CAP_MKNOD"])'
    ctr_run sh -c 'mknod /tmp/fuse c 10 229 || exit 3
        if dd if=/tmp/fuse of=/dev/null count=0 2>/tmp/err; then echo FUSE_OPENED; else cat /tmp/err; fi
        echo x > /dev/null && echo NULL_OK
        head -c 4 /dev/urandom | wc -c'
    assert_success
    assert_not_contains FUSE_OPENED
    assert_contains "Operation not permitted"
    assert_contains NULL_OK
    assert_contains 4
}

@test "devices: a config allow rule opens one device, with its access only" {
    require_v1 devices
    update_config '.process.capabilities |= map_values(. + ["CAP_MKNOD"])
        | .linux.resources.devices += [{allow: true, type: "c", major: 10, minor: 229, access: "r"}]'
    ctr_start sleep 100
    # The host sees exactly the allow list: the rule, the defaults, no "a *:* rwm".
    local list
    list=$(cat "$(cgdir devices)/devices.list")
    assert_contains "c 10:229 r" "$list"
    assert_contains "c 1:3 rwm" "$list"
    assert_contains "c *:* m" "$list"
    assert_not_contains "a *:* rwm" "$list"
    run husk kill "$ID" KILL
    wait_status "$ID" stopped
    run husk delete "$ID"
    assert_success

    ID=$(new_id)
    ctr_run sh -c 'mknod /tmp/fuse c 10 229 || exit 3
        dd if=/tmp/fuse of=/dev/null count=0 2>/dev/null && echo READ_OK
        dd if=/dev/zero of=/tmp/fuse count=0 2>/dev/null && echo WRITE_OK; true'
    assert_success
    assert_contains READ_OK
    assert_not_contains WRITE_OK
}

@test "devices: a node in linux.devices is made but not allowed when the cgroup rules deny it" {
    require_v1 devices
    # /dev/kmsg (c 1:11): created, but resources.devices (spec's deny-all) has no
    # rule for it, so neither the init nor an exec may open it (runc, crun).
    update_config '.linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 438}]
        | .linux.resources.devices = [{allow: false, access: "rwm"}]'
    ctr_start sh -c 'ls -l /dev/kmsg > /tmp/ls
        if dd if=/dev/zero of=/dev/kmsg count=0 2>/tmp/werr; then echo WRITE_OPENED; else cat /tmp/werr; fi > /tmp/w
        if dd if=/dev/kmsg of=/dev/null count=0 2>/tmp/rerr; then echo READ_OPENED; else cat /tmp/rerr; fi > /tmp/r
        touch /tmp/done; sleep 100'
    local i
    for ((i = 0; i < 100; i++)); do
        run husk exec "$ID" test -e /tmp/done
        [ "$status" -eq 0 ] && break
        sleep 0.05
    done
    run husk exec "$ID" cat /tmp/ls /tmp/w /tmp/r
    assert_success
    assert_contains "/dev/kmsg"
    assert_not_contains WRITE_OPENED
    assert_not_contains READ_OPENED
    assert_contains "Operation not permitted"
    run husk exec "$ID" sh -c 'dd if=/dev/zero of=/dev/kmsg count=0 && echo EXEC_WRITE_OPENED'
    assert_failure
    assert_not_contains EXEC_WRITE_OPENED
    assert_contains "Operation not permitted"
    ! grep -q "c 1:11" "$(cgdir devices)/devices.list"
}

@test "blkio: throttles are written for a real device" {
    require_v1 blkio
    local dev
    dev=$(block_dev) || skip "no block device"
    update_config --arg maj "${dev%:*}" --arg min "${dev#*:}" '
        .linux.resources.blockIO = {
          throttleReadBpsDevice: [{major: ($maj|tonumber), minor: ($min|tonumber), rate: 1048576}],
          throttleWriteIOPSDevice: [{major: ($maj|tonumber), minor: ($min|tonumber), rate: 120}]}'
    ctr_start sleep 100
    local d
    d=$(cgdir blkio)
    grep -qx "$dev 1048576" "$d/blkio.throttle.read_bps_device"
    grep -qx "$dev 120" "$d/blkio.throttle.write_iops_device"
}

@test "blkio: weight is written where the kernel has a weight file (CFQ or BFQ)" {
    require_v1 blkio
    v1_has_file blkio blkio.weight || v1_has_file blkio blkio.bfq.weight ||
        skip "this kernel has neither blkio.weight nor blkio.bfq.weight (no CFQ/BFQ)"
    update_config '.linux.resources.blockIO = {weight: 300}'
    ctr_start sleep 100
    local d
    d=$(cgdir blkio)
    if [ -e "$d/blkio.weight" ]; then
        assert_equal "$(cat "$d/blkio.weight")" 300
    else
        grep -q '300' "$d/blkio.bfq.weight"
    fi
}

@test "blkio: weight without kernel support is a clear error naming the field" {
    require_v1 blkio
    if v1_has_file blkio blkio.weight || v1_has_file blkio blkio.bfq.weight; then
        skip "this kernel supports blkio weights"
    fi
    update_config '.linux.resources.blockIO = {weight: 300}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "linux.resources.blockIO.weight"
    assert_no_trace "$ID"
}

@test "blkio: leafWeight without kernel support is a clear error" {
    require_v1 blkio
    ! v1_has_file blkio blkio.leaf_weight || skip "this kernel has blkio.leaf_weight"
    update_config '.linux.resources.blockIO = {leafWeight: 100}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "linux.resources.blockIO.leafWeight"
    assert_no_trace "$ID"
}

@test "hugetlb: limits go to the cgroup2 mount on this hybrid host" {
    require_husk
    [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2MB huge pages"
    local hd
    if [ -d "$CG/hugetlb" ]; then hd=$CG/hugetlb; else hd=$CG/unified; fi
    update_config '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 4194304}]'
    ctr_start sleep 100
    if [ "$hd" = "$CG/unified" ]; then
        assert_equal "$(cat "$hd/husk/$ID/hugetlb.2MB.max")" 4194304
    else
        assert_equal "$(cat "$hd/husk/$ID/hugetlb.2MB.limit_in_bytes")" 4194304
    fi
}

@test "hugetlb: a page size the host lacks is a clear error" {
    require_husk
    [ ! -d /sys/kernel/mm/hugepages/hugepages-1048576kB ] || skip "host has 1GB pages"
    update_config '.linux.resources.hugepageLimits = [{pageSize: "1GB", limit: 1073741824}]'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "linux.resources.hugepageLimits[0]"
    assert_contains "hugetlb.1GB"
    assert_no_trace "$ID"
}

@test "network: net_cls/net_prio asked for but not mounted: error naming the controller" {
    require_husk
    [ ! -d "$CG/net_cls" ] || skip "net_cls is mounted here"
    update_config '.linux.resources.network = {classID: 1048577}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "linux.resources.network.classID: cgroup controller net_cls is not available"
    assert_no_trace "$ID"

    update_config '.linux.resources.network = {priorities: [{name: "eth0", priority: 5}]}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "net_prio"
    assert_no_trace "$ID"
}

@test "missing controllers the config does not ask for are ignored" {
    update_config '.linux.resources.network = {} | .linux.resources.hugepageLimits = []'
    ctr_run true
    assert_success
}

@test "rdma: asked for without the controller: clear error" {
    require_husk
    [ ! -d "$CG/rdma" ] || skip "rdma is mounted here"
    update_config '.linux.resources.rdma = {mlx5_0: {hcaHandles: 2}}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "linux.resources.rdma.mlx5_0: cgroup controller rdma is not available"
    assert_no_trace "$ID"
}

@test "unified: keys for controllers the cgroup2 mount holds are written" {
    require_husk
    grep -qw hugetlb "$CG/unified/cgroup.controllers" 2>/dev/null || skip "no hugetlb on $CG/unified"
    update_config '.linux.resources.unified = {"hugetlb.2MB.max": "2097152"}'
    ctr_start sleep 100
    assert_equal "$(cat "$CG/unified/husk/$ID/hugetlb.2MB.max")" 2097152
}

@test "unified: a key for a controller it lacks is an error naming it" {
    require_husk
    [ -d "$CG/unified" ] || skip "no cgroup2 mount"
    ! grep -qw memory "$CG/unified/cgroup.controllers" || skip "memory is on the unified hierarchy"
    update_config '.linux.resources.unified = {"memory.max": "10000000"}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "linux.resources.unified.memory.max: cgroup controller memory is not available"
    assert_no_trace "$ID"
}

@test "unified: a key that is not a file of the cgroup is refused" {
    require_husk
    update_config '.linux.resources.unified = {"../../cgroup.procs": "1"}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "linux.resources.unified"
    assert_contains "not a cgroup file name"
    assert_no_trace "$ID"
}

@test "cgroupsPath: absolute path; husk removes what it made, not a parent it found" {
    require_husk   # the helpers point a reference runtime at /husk/<id>
    require_v1 memory
    local parent=husk-keep-$$-$RANDOM
    mkdir "$CG/memory/$parent"
    on_cleanup "rmdir $CG/memory/$parent/x/$ID $CG/memory/$parent/x $CG/memory/$parent 2>/dev/null"
    update_config --arg p "/$parent/x/$ID" '.linux.cgroupsPath = $p'
    ctr_start sleep 100
    [ -d "$CG/memory/$parent/x/$ID" ]
    grep -qx "$(state_field "$ID" pid)" "$CG/memory/$parent/x/$ID/cgroup.procs"
    [ -d "$CG/pids/$parent/x/$ID" ]
    run husk delete --force "$ID"
    assert_success
    [ ! -e "$CG/memory/$parent/x" ]
    [ ! -e "$CG/pids/$parent" ]
    # the parent husk did not create stays
    [ -d "$CG/memory/$parent" ]
    rmdir "$CG/memory/$parent"
}

@test "cpuset: an existing ancestor without cpus (made by a racing create) is filled, as runc does" {
    require_husk   # the helpers point a reference runtime at /husk/<id>
    require_v1 cpuset
    local parent=husk-cpuset-$$-$RANDOM
    # What a concurrent create leaves for an instant: its mkdir won, its copy of
    # the parent's cpus and mems has not happened yet.
    mkdir "$CG/cpuset/$parent"
    on_cleanup "rmdir $CG/cpuset/$parent/$ID $CG/cpuset/$parent 2>/dev/null"
    [ -z "$(cat "$CG/cpuset/$parent/cpuset.cpus")" ] || skip "this kernel fills a new cpuset (clone_children?)"
    update_config --arg p "/$parent/$ID" '.linux.cgroupsPath = $p'
    ctr_start sleep 100
    grep -qx "$(state_field "$ID" pid)" "$CG/cpuset/$parent/$ID/cgroup.procs"
    assert_equal "$(cat "$CG/cpuset/$parent/cpuset.cpus")" "$(cat "$CG/cpuset/cpuset.cpus")"
    run husk delete --force "$ID"
    assert_success
    [ -d "$CG/cpuset/$parent" ]   # found, not made: it stays
    rmdir "$CG/cpuset/$parent"
}

@test "cgroupsPath: relative path is below husk's own cgroup, which stays" {
    require_husk   # the helpers point a reference runtime at /husk/<id>
    require_v1 memory
    local own rel=husk-rel-$ID
    own=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
    update_config --arg p "$rel" '.linux.cgroupsPath = $p | .linux.resources.memory = {limit: 67108864}'
    ctr_start sleep 100
    local d=$CG/memory${own%/}/$rel
    [ -d "$d" ] || fail "no $d"
    assert_equal "$(cat "$d/memory.limit_in_bytes")" 67108864
    run husk delete --force "$ID"
    assert_success
    [ ! -e "$d" ]
    [ -d "$CG/memory${own%/}" ]
}

# ---------------------------------------------------------------- frozen / shared cgroups

# thaw_rm NAME: in teardown, thaw /NAME (and /NAME/*) on every v1 hierarchy and the
# unified one, kill what is in them, remove them.
thaw_rm_on_cleanup() {
    on_cleanup "for d in $CG/*/$1/* $CG/*/$1; do [ -d \"\$d\" ] || continue
        [ -f \"\$d/freezer.state\" ] && echo THAWED >\"\$d/freezer.state\"
        [ -f \"\$d/cgroup.freeze\" ] && echo 0 >\"\$d/cgroup.freeze\"
        for p in \$(cat \"\$d/cgroup.procs\"); do kill -9 \$p; done; sleep 0.2; rmdir \"\$d\"; done"
}

# run_bounded SECONDS FREEZER_DIR ARG...: `run` husk (this test's root) under a
# SIGKILL timeout, its output through a file. If it hangs, FREEZER_DIR is thawed so
# that the setup processes it left there die (their SIGKILL waits for the thaw) and
# hold nothing of bats'.
run_bounded() {
    local secs=$1 thaw=$2
    shift 2
    status=0
    timeout -s KILL "$secs" "$HUSK_BIN" --root "$ROOT" "$@" </dev/null >"$TEST_DIR/bounded.out" 2>&1 3>&- || status=$?
    output=$(cat "$TEST_DIR/bounded.out")
    if [ "$status" -eq 137 ]; then
        echo THAWED >"$thaw/freezer.state" 2>/dev/null
        show_run
        fail "husk $1 hung (killed after $secs s)"
    fi
}

@test "freezer: a cgroupsPath frozen before create is refused at once, nothing left" {
    require_v1 freezer
    local name=husk-frz-$$-$RANDOM
    thaw_rm_on_cleanup "$name"
    mkdir "$CG/freezer/$name"
    echo FROZEN >"$CG/freezer/$name/freezer.state"
    update_config --arg p "/$name" '.linux.cgroupsPath = $p'
    set_cmd echo RAN
    local t0=$SECONDS
    run_bounded 20 "$CG/freezer/$name" run --bundle "$BUNDLE" "$ID"
    assert_failure
    [ $((SECONDS - t0)) -lt 10 ] || fail "took $((SECONDS - t0)) s"
    assert_not_contains RAN
    is_husk && assert_contains "frozen"
    is_husk && assert_contains "$CG/freezer/$name"
    assert_root_empty
    [ -z "$(cat "$CG/freezer/$name/cgroup.procs")" ] || fail "a process was left in the frozen cgroup"
    # only the frozen cgroup that was there stays; what husk made on the others is gone
    local left
    left=$(ls -d "$CG"/*/"$name" 2>/dev/null)
    assert_equal "$left" "$CG/freezer/$name"

    # A new cgroup below a frozen parent is frozen too: refused the same way.
    update_config --arg p "/$name/ctr" '.linux.cgroupsPath = $p'
    run_bounded 20 "$CG/freezer/$name" create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "from a parent cgroup"
    assert_root_empty
    [ ! -e "$CG/freezer/$name/ctr" ]
}

@test "freezer: a cgroup frozen during create (by a prestart hook) fails create within seconds, nothing left" {
    require_husk   # the hook writes to husk's default cgroup path
    require_v1 freezer
    local d=$CG/freezer/husk/$ID
    on_cleanup "[ -d $d ] && echo THAWED >$d/freezer.state"
    cat >"$TEST_DIR/freeze-hook" <<HOOK
#!/bin/sh
echo FROZEN >$d/freezer.state
HOOK
    chmod +x "$TEST_DIR/freeze-hook"
    update_config --arg h "$TEST_DIR/freeze-hook" '.hooks = {prestart: [{path: $h}]}'
    local t0=$SECONDS
    run_bounded 20 "$d" create --bundle "$BUNDLE" "$ID"
    assert_failure
    [ $((SECONDS - t0)) -lt 15 ] || fail "took $((SECONDS - t0)) s"
    assert_contains "frozen during create"
    assert_no_trace "$ID"
    assert_root_empty
}

@test "freezer: delete --force thaws a cgroup frozen by a direct write (v1 and unified) and kills" {
    require_v1 freezer
    ctr_start sleep 100
    run husk exec -d "$ID" sleep 200
    assert_success
    echo FROZEN >"$(cgdir freezer)/freezer.state"
    local u=$CG/unified/husk/$ID
    [ -f "$u/cgroup.freeze" ] && echo 1 >"$u/cgroup.freeze"
    local pid
    pid=$(state_field "$ID" pid)
    run_bounded 20 "$(cgdir freezer)" delete --force "$ID"
    assert_success
    local i
    for ((i = 0; i < 40; i++)); do
        grep -q '^State:.*[RSD]' "/proc/$pid/status" 2>/dev/null || break
        sleep 0.05
    done
    ! grep -q '^State:.*[RSD]' "/proc/$pid/status" 2>/dev/null || fail "init $pid survived"
    assert_no_trace "$ID"
}

@test "cgroupsPath: an existing cgroup with processes: warning, the container runs, the others survive" {
    require_husk   # the helpers point a reference runtime at /husk/<id>
    require_v1 freezer
    local name=husk-busy-$$-$RANDOM
    thaw_rm_on_cleanup "$name"
    mkdir "$CG/freezer/$name"
    sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
    local other=$!
    on_cleanup "kill -9 $other"
    echo "$other" >"$CG/freezer/$name/cgroup.procs"
    update_config --arg p "/$name" '.linux.cgroupsPath = $p'
    ctr_run echo RAN
    assert_success
    assert_contains RAN
    assert_contains "container's cgroup is not empty: 1 process(es) found"
    # its own pid namespace died with the init; the stranger's process is not the
    # container's to kill
    kill -0 "$other" || fail "delete killed a process that was not the container's"
    assert_root_empty
}
