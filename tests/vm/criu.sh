# Checkpoint/restore tests, run inside the VM: criu 3.17 (Debian 12's) cannot start on
# kernels from 6.13 on (the vDSO's data pages were split into [vvar] and [vvar_vclock],
# and criu's check of its own vDSO fails: "vdso: Unexpected rt vDSO area bounds"), so
# tests/integration/checkpoint.bats skips on such hosts; Debian's own kernel (6.1) in
# the VM runs them. Any layout: `sh tests/vm/run-vm.sh build/husk hybrid criu`.
. /tests/lib.sh
# criu probes TCP repair over 127.0.0.1 and nftables at start-up, and dumps sockets
# with the sock_diag modules (scripts/vm-modules.sh put them in /lib/modules).
ip link set lo up
while read -r m; do insmod "/lib/modules/$m.ko" || echo "# insmod $m failed"; done </lib/modules/modules.order
# The VM has no iptables: criu locks a container's network with nftables instead
# (criu's own configuration file, read by its command line).
mkdir -p /etc/criu
echo "network-lock nftables" >/etc/criu/default.conf
case $HUSK_VM_LAYOUT in v2) CG_ROOT=/sys/fs/cgroup ;; *) CG_ROOT=/sys/fs/cgroup/memory ;; esac

# A container counting into /data/cnt, /data a bind mount of the host's /tmp/data-$ID.
start_counter() {
    DATA=/tmp/data-$ID
    rm -rf "$DATA"
    mkdir -p "$DATA"
    cfg '.mounts += [{destination: "/data", type: "bind", source: $d, options: ["rbind"]}]' --arg d "$DATA"
    set_cmd sh -c 'i=0; while :; do i=$((i+1)); echo $i > /data/cnt.new; mv /data/cnt.new /data/cnt; sleep 0.05; done'
    husk run -d --bundle "$BUNDLE" "$ID" </dev/null >/tmp/run.out 2>&1 || { cat /tmp/run.out; die "run failed"; return 1; }
    wait_count 3
}
count() { cat "$DATA/cnt" 2>/dev/null || echo 0; }
# wait_count N: until the counter is past N (30 s).
wait_count() {
    i=0
    while [ "$(count)" -le "$1" ]; do
        i=$((i + 1))
        [ $i -lt 300 ] || { die "counter stuck at $(count) (wanted > $1)"; return 1; }
        sleep 0.1
    done
}
# ckpt IMAGE-DIR [flags] ID: checkpoint, showing criu's errors when it fails.
ckpt() {
    img=$1
    shift
    husk checkpoint --image-path "$img" "$@" && return 0
    grep -B6 -E "Error" "$img/dump.log" | head -n 30
    die "checkpoint failed"
}
status() { husk state "$1" 2>/dev/null | jq -r .status; }
in_cgroup() { grep -qx "$(husk state "$1" | jq -r .pid)" "$CG_ROOT/husk/$1/cgroup.procs"; }

t_criu_check() {
    criu check || die "criu check failed"
}
t_counter_resumes() {
    start_counter || return 1
    ckpt /tmp/img-$ID "$ID" || return 1
    # The container is gone, its processes with it.
    ! husk state "$ID" >/dev/null 2>&1 || die "container still there after checkpoint" || return 1
    [ ! -d "$CG_ROOT/husk/$ID" ] || die "cgroup left after checkpoint" || return 1
    before=$(count)
    sleep 0.5
    [ "$(count)" = "$before" ] || die "counter went on after checkpoint" || return 1
    husk restore -d --pid-file /tmp/pid-$ID --image-path /tmp/img-$ID --bundle "$BUNDLE" "$ID" </dev/null \
        >/tmp/r.out 2>&1 || { cat /tmp/r.out; grep Error /tmp/img-$ID/restore.log; die "restore failed"; return 1; }
    [ "$(status "$ID")" = running ] || die "status after restore: $(status "$ID")" || return 1
    [ "$(cat /tmp/pid-$ID)" = "$(husk state "$ID" | jq -r .pid)" ] || die "--pid-file differs from state" || return 1
    in_cgroup "$ID" || die "restored init not in its cgroup" || return 1
    wait_count $((before + 3)) || return 1
    # It went on from where it was, not from 1.
    n=$(count)
    [ "$n" -gt "$before" ] || die "counter restarted: $n after $before" || return 1
    husk kill "$ID" KILL || die "kill failed" || return 1
    sleep 0.3
    [ "$(status "$ID")" = stopped ] || die "not stopped after kill" || return 1
    husk delete "$ID" || die "delete failed"
}
t_leave_running() {
    start_counter || return 1
    ckpt /tmp/img-$ID --leave-running "$ID" || return 1
    [ "$(status "$ID")" = running ] || die "status after --leave-running: $(status "$ID")" || return 1
    n=$(count)
    wait_count $((n + 3))
}
t_restore_new_id() {
    start_counter || return 1
    ckpt /tmp/img-$ID "$ID" || return 1
    before=$(count)
    NEW=${ID}b
    # A restore into other cgroups takes its own cgroupsPath (runc-restore(8)).
    cfg '.linux.cgroupsPath = "/husk/" + $n' --arg n "$NEW"
    husk restore -d --image-path /tmp/img-$ID --bundle "$BUNDLE" "$NEW" </dev/null >/tmp/r.out 2>&1 ||
        { cat /tmp/r.out; grep Error /tmp/img-$ID/restore.log; die "restore failed"; return 1; }
    [ "$(status "$NEW")" = running ] || die "status after restore: $(status "$NEW")" || return 1
    in_cgroup "$NEW" || { husk delete -f "$NEW"; die "restored init not in the new id's cgroup"; return 1; }
    wait_count $((before + 3)) || { husk delete -f "$NEW"; return 1; }
    husk delete -f "$NEW" || die "delete failed" || return 1
    [ ! -d "$CG_ROOT/husk/$NEW" ] || die "cgroup of $NEW left"
}
t_paused_checkpoint() {
    start_counter || return 1
    husk pause "$ID" || die "pause failed" || return 1
    ckpt /tmp/img-$ID --leave-running "$ID" || return 1
    [ "$(status "$ID")" = paused ] || die "status: $(status "$ID")" || return 1
    husk resume "$ID" || die "resume failed" || return 1
    n=$(count)
    wait_count $((n + 2))
}
t_restore_foreground() {
    start_counter || return 1
    ckpt /tmp/img-$ID "$ID" || return 1
    # Without --detach husk waits for the restored init and passes its status on.
    (sleep 2; husk kill "$ID" KILL) &
    husk restore --image-path /tmp/img-$ID --bundle "$BUNDLE" "$ID" </dev/null >/tmp/r.out 2>&1
    rc=$?
    [ $rc -eq 137 ] || { cat /tmp/r.out; die "restore exited $rc, wanted 137 (SIGKILL)"; return 1; }
    ! husk state "$ID" >/dev/null 2>&1 || die "container left after restore returned"
}

# The init's stdout a pipe (as conmon gives it): after restore its output comes
# through the pipe restore was given (criu --inherit-fd with the old pipe's key).
t_stdout_pipe() {
    set_cmd sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done'
    (husk run -d --bundle "$BUNDLE" "$ID" </dev/null 2>/tmp/run.err | cat >/tmp/out1-$ID) &
    i=0
    while [ "$(wc -l </tmp/out1-$ID 2>/dev/null || echo 0)" -lt 5 ]; do
        i=$((i + 1))
        [ $i -lt 300 ] || { cat /tmp/run.err; die "no output through the first pipe"; return 1; }
        sleep 0.1
    done
    ckpt /tmp/img-$ID "$ID" || return 1
    grep -q pipe: /tmp/img-$ID/descriptors.json || die "stdout not recorded as a pipe" || return 1
    last=$(tail -n 1 /tmp/out1-$ID)
    (husk restore -d --image-path /tmp/img-$ID --bundle "$BUNDLE" "$ID" </dev/null 2>/tmp/r.err |
        cat >/tmp/out2-$ID) &
    i=0
    while [ "$(wc -l </tmp/out2-$ID 2>/dev/null || echo 0)" -lt 5 ]; do
        i=$((i + 1))
        [ $i -lt 300 ] || { cat /tmp/r.err; die "no output through the new pipe"; return 1; }
        sleep 0.1
    done
    first=$(head -n 1 /tmp/out2-$ID)
    [ "$first" -gt "$last" ] || die "output restarted: $first after $last" || return 1
    husk delete -f "$ID"
}

# Iterative migration: a pre-dump (the container runs on), then the dump against it.
t_pre_dump() {
    start_counter || return 1
    ckpt /tmp/img-$ID/pre --pre-dump "$ID" || return 1
    [ "$(status "$ID")" = running ] || die "status after --pre-dump: $(status "$ID")" || return 1
    n=$(count)
    wait_count $((n + 2)) || return 1
    ckpt /tmp/img-$ID/final --parent-path ../pre "$ID" || return 1
    before=$(count)
    husk restore -d --image-path /tmp/img-$ID/final --bundle "$BUNDLE" "$ID" </dev/null >/tmp/r.out 2>&1 ||
        { cat /tmp/r.out; grep Error /tmp/img-$ID/final/restore.log; die "restore failed"; return 1; }
    wait_count $((before + 3))
}

t "criu check passes on this kernel" t_criu_check
t "checkpoint ends the container; restore goes on counting from where it was" t_counter_resumes
t "checkpoint --leave-running keeps the container running" t_leave_running
t "restore under a new id: state and cgroup of the new id" t_restore_new_id
t "checkpoint of a paused container leaves it paused" t_paused_checkpoint
t "restore without --detach waits and passes the status on" t_restore_foreground
t "a pipe as stdout: after restore the output comes through restore's pipe" t_stdout_pipe
t "checkpoint --pre-dump, then checkpoint --parent-path, then restore" t_pre_dump
summary
