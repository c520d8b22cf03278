#!/usr/bin/env bats
# Namespaces: new ones, joined ones (by path), user namespace mappings, time offsets,
# hostname/domainname and sysctl — each checked from inside the container, or from
# the host's view of it.

load helpers

# ns_inside NSNAME... — print `readlink /proc/self/ns/NAME` for each, from inside a
# container of the current bundle (one line each).
ns_inside() {
    local script="" n
    for n in "$@"; do
        script+="readlink /proc/self/ns/$n; "
    done
    ctr_run sh -c "$script"
    assert_success
}

# Drop linux.namespaces entries of a type.
drop_ns() {
    update_config '.linux.namespaces |= map(select(.type != $t))' --arg t "$1"
}

# Add (or replace) an entry: add_ns TYPE [PATH]
add_ns() {
    drop_ns "$1"
    if [ -n "${2-}" ]; then
        update_config '.linux.namespaces += [{type: $t, path: $p}]' --arg t "$1" --arg p "$2"
    else
        update_config '.linux.namespaces += [{type: $t}]' --arg t "$1"
    fi
}

# OCI type name -> /proc/PID/ns name
proc_name() {
    case $1 in
        network) echo net ;;
        mount) echo mnt ;;
        *) echo "$1" ;;
    esac
}

# Give the rootfs (and the path to it) to a mapped uid, for user-namespace tests.
rootfs_for_uid() {
    chmod 755 "$TEST_DIR" "$BUNDLE"
    chown -R "$1:$1" "$BUNDLE/rootfs"
}

map_user() {
    update_config '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
                 | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
}

# A process in fresh namespaces of the given unshare(1) options, to join by path.
# Prints its pid once its namespaces exist; killed in teardown.
sleeper() {
    unshare "$@" sleep 100 </dev/null >/dev/null 2>&1 3>&- &
    local pid=$! i
    on_cleanup "kill -9 $pid"
    for ((i = 0; i < 100; i++)); do
        [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$(command -v sleep)")" ] && break
        sleep 0.02
    done
    echo "$pid"
}

# ---------------------------------------------------------------- new namespaces

@test "every namespace type in the config: its inode differs from the host's" {
    require_husk   # runc 1.1 has no time namespace
    require_ns user cgroup time
    add_ns user
    add_ns time
    map_user
    rootfs_for_uid 100000
    ns_inside pid mnt net ipc uts user cgroup time
    local n i=0
    local -a lines=("${lines[@]}")
    for n in pid mnt net ipc uts user cgroup time; do
        [[ ${lines[$i]} == "$n:["* ]] || fail "unexpected line ${lines[$i]} for $n"
        [ "${lines[$i]}" != "$(host_ns "$n")" ] || fail "$n namespace is the host's: ${lines[$i]}"
        i=$((i + 1))
    done
}

@test "namespace types left out of the config are the host's" {
    local t n
    for t in pid network ipc uts cgroup; do
        drop_ns "$t"
    done
    update_config '.hostname = null'
    require_ns cgroup time
    ns_inside pid net ipc uts user cgroup time
    local i=0
    for n in pid net ipc uts user cgroup time; do
        assert_equal "${lines[$i]}" "$(host_ns "$n")"
        i=$((i + 1))
    done
    # and the mount namespace is always new (required)
    ns_inside mnt
    [ "$output" != "$(host_ns mnt)" ]
}

@test "each namespace type alone: new when listed, host's when not" {
    require_husk   # runc 1.1 has no time namespace
    local t n others
    for t in pid network ipc uts cgroup time; do
        n=$(proc_name "$t")
        # only mount + t
        update_config '.linux.namespaces = [{type: "mount"}, {type: $t}] | .hostname = null' --arg t "$t"
        ns_inside pid net ipc uts cgroup time
        local i=0 o
        for o in pid net ipc uts cgroup time; do
            if [ "$o" = "$n" ]; then
                [ "${lines[$i]}" != "$(host_ns "$o")" ] || fail "$t listed but $o is the host's"
            else
                assert_equal "${lines[$i]}" "$(host_ns "$o")"
            fi
            i=$((i + 1))
        done
    done
}

@test "no mount namespace: refused clearly, nothing left" {
    drop_ns mount
    run husk run --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "mount namespace is required"
    assert_no_trace "$ID"
}

# ---------------------------------------------------------------- joining by path

@test "a new network namespace has its loopback device up, as runc's; a joined one is left as it is" {
    ctr_run ip link show lo
    assert_success
    assert_contains "LOOPBACK,UP"
    local ns=husk-$$-$RANDOM
    ip netns add "$ns"
    on_cleanup "ip netns del $ns"
    add_ns network "/run/netns/$ns"
    ctr_run ip link show lo
    assert_success
    assert_not_contains "UP"
}

@test "join a network namespace made with ip netns add" {
    local ns=husk-$$-$RANDOM
    ip netns add "$ns"
    on_cleanup "ip netns del $ns"
    local ino
    ino=$(stat -L -c %i "/run/netns/$ns")
    add_ns network "/run/netns/$ns"
    ns_inside net
    assert_equal "$output" "net:[$ino]"
    # and a net.* sysctl applies to that namespace, not the host's
    update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
    ctr_run cat /proc/sys/net/ipv4/ip_forward
    assert_success
    assert_equal "$output" 1
    assert_equal "$(ip netns exec "$ns" cat /proc/sys/net/ipv4/ip_forward)" 1
}

@test "join uts, ipc, pid, cgroup and time namespaces of a running process" {
    require_husk   # runc 1.1 has no time namespace
    local pid t n
    pid=$(sleeper --uts --ipc --pid --cgroup --time --fork)
    # with --fork, the sleeper is unshare's child
    local child
    for ((i = 0; i < 50; i++)); do
        child=$(tr -d ' ' <"/proc/$pid/task/$pid/children" 2>/dev/null)
        [ -n "$child" ] && break
        sleep 0.02
    done
    [ -n "$child" ] || fail "no sleeper child"
    on_cleanup "kill -9 $child"
    for t in uts ipc pid cgroup time; do
        add_ns "$t" "/proc/$child/ns/$t"
    done
    update_config '.hostname = null'
    ns_inside uts ipc pid cgroup time
    local i=0
    for n in uts ipc pid cgroup time; do
        assert_equal "${lines[$i]}" "$(readlink "/proc/$child/ns/$n")"
        [ "${lines[$i]}" != "$(host_ns "$n")" ]
        i=$((i + 1))
    done
}

@test "join a user namespace by path (no mappings of our own)" {
    require_husk   # runc 1.1 wants uidMappings even when joining
    local pid
    pid=$(sleeper --user)
    add_ns user "/proc/$pid/ns/user"
    # no maps yet: there is no root to become in it
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "uid and gid 0 must be mapped in user namespace /proc/$pid/ns/user"
    assert_no_trace "$ID"
    # root of that namespace is host uid/gid 100000; written from here, as root
    echo "0 100000 65536" >"/proc/$pid/uid_map"
    echo "0 100000 65536" >"/proc/$pid/gid_map"
    add_ns user "/proc/$pid/ns/user"
    rootfs_for_uid 100000
    ctr_run sh -c 'readlink /proc/self/ns/user; id -u; cat /proc/self/uid_map; touch /f; stat -c %u /f'
    assert_success
    assert_equal "${lines[0]}" "$(readlink "/proc/$pid/ns/user")"
    assert_equal "${lines[1]}" 0
    [[ ${lines[2]} =~ ^\ *0\ +100000\ +65536$ ]] || fail "uid_map: ${lines[2]}"
    assert_equal "${lines[3]}" 0
    # and from the host: the file and the new namespaces belong to host uid 100000
    assert_equal "$(stat -c %u "$BUNDLE/rootfs/f")" 100000
}

@test "join: a network namespace given as uts is refused, nothing left" {
    local ns=husk-$$-$RANDOM
    ip netns add "$ns"
    on_cleanup "ip netns del $ns"
    add_ns uts "/run/netns/$ns"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    if is_husk; then
        assert_contains "linux.namespaces["
        assert_contains "is a network namespace, not a uts namespace"
        [ "${#lines[@]}" -eq 1 ] || fail "expected one error line"
    fi
    assert_no_trace "$ID"
    assert_root_empty
}

@test "join: a path that is no namespace, or does not exist, is refused, nothing left" {
    add_ns ipc /etc/passwd
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "/etc/passwd is not a namespace"
    assert_no_trace "$ID"
    add_ns ipc /proc/self/ns/nope
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "path: open /proc/self/ns/nope"
    assert_no_trace "$ID"
    assert_root_empty
}

# ---------------------------------------------------------------- user namespace

@test "user namespace: root inside, the mapped uid outside" {
    add_ns user
    map_user
    rootfs_for_uid 100000
    set_cmd sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; sleep 100'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_success
    run husk start "$ID"
    assert_success
    wait_status "$ID" running
    local pid i
    pid=$(state_field "$ID" pid)
    for ((i = 0; i < 100; i++)); do
        [ "$(ctr_stdout "$ID" | wc -l)" -ge 4 ] && break
        sleep 0.05
    done
    run ctr_stdout "$ID"
    assert_equal "${lines[0]}" 0
    assert_equal "${lines[1]}" 0
    [[ ${lines[2]} =~ ^\ *0\ +100000\ +65536$ ]] || fail "uid_map: ${lines[2]}"
    [[ ${lines[3]} =~ ^\ *0\ +100000\ +65536$ ]] || fail "gid_map: ${lines[3]}"
    # the host sees an unprivileged uid
    assert_equal "$(stat -c %u:%g "/proc/$pid")" 100000:100000
    run grep -E '^(Uid|Gid):' "/proc/$pid/status"
    assert_equal "${lines[0]}" "Uid:	100000	100000	100000	100000"
    assert_equal "${lines[1]}" "Gid:	100000	100000	100000	100000"
    husk delete --force "$ID"
}

@test "user namespace: container uid 1000 is host uid 101000" {
    add_ns user
    map_user
    rootfs_for_uid 100000
    update_config '.process.user = {uid: 1000, gid: 1000}'
    ctr_run sh -c 'id -u; cat /proc/self/status | grep ^Uid'
    assert_success
    assert_equal "${lines[0]}" 1000
    assert_equal "${lines[1]}" "Uid:	1000	1000	1000	1000"
}

@test "user namespace without mappings, or mappings without a user namespace: refused" {
    require_husk   # husk is stricter than runc 1.1
    add_ns user
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "linux.uidMappings: required with a new user namespace"
    assert_no_trace "$ID"
    drop_ns user
    map_user
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "linux.uidMappings: mappings are set but linux.namespaces has no \"user\" entry"
    assert_no_trace "$ID"
    assert_root_empty
}

# ---------------------------------------------------------------- time namespace

@test "time namespace: linux.timeOffsets shift boottime and monotonic" {
    require_husk   # runc 1.1 has no time namespace
    require_ns time
    add_ns time
    update_config '.linux.timeOffsets = {boottime: {secs: 864000}, monotonic: {secs: 3600, nanosecs: 5}}'
    ctr_run sh -c 'cat /proc/uptime; cat /proc/self/timens_offsets'
    assert_success
    local host inside
    host=$(cut -d. -f1 /proc/uptime)
    inside=$(cut -d. -f1 <<<"${lines[0]}")
    local d=$((inside - host))
    [ "$d" -ge 863990 ] && [ "$d" -le 864010 ] || fail "uptime inside $inside, host $host: offset $d"
    [[ ${lines[1]} =~ ^monotonic\ +3600\ +5$ ]] || fail "offsets: ${lines[1]}"
    [[ ${lines[2]} =~ ^boottime\ +864000\ +0$ ]] || fail "offsets: ${lines[2]}"
}

@test "timeOffsets without a new time namespace: refused, nothing left" {
    require_husk   # runc 1.1 has no time namespace
    update_config '.linux.timeOffsets = {boottime: {secs: 10}}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "linux.timeOffsets: needs a new time namespace"
    assert_no_trace "$ID"
}

# ---------------------------------------------------------------- uts

@test "hostname and domainname are set in the container's UTS namespace" {
    update_config '.hostname = "box1" | .domainname = "example.org"'
    ctr_run sh -c 'hostname; cat /proc/sys/kernel/domainname'
    assert_success
    assert_equal "${lines[0]}" box1
    is_husk && assert_equal "${lines[1]}" example.org   # runc 1.1 ignores domainname
    [ "$(hostname)" != box1 ]
}

@test "hostname without a UTS namespace, or in the host's joined one: refused" {
    # should a runtime get this wrong, give the host its name back
    on_cleanup "hostname $(hostname)"
    drop_ns uts
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "hostname \"husktest\" is set but the container has no UTS namespace"
    assert_no_trace "$ID"
    # joining the host's own namespace by path is sharing it (runc 1.1 allows it)
    is_husk || return 0
    add_ns uts "/proc/$$/ns/uts"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "hostname is set but linux.namespaces joins the host's UTS namespace"
    assert_no_trace "$ID"
    [ "$(hostname)" != husktest ]
}

# ---------------------------------------------------------------- sysctl

@test "sysctl: namespaced net and ipc keys are set inside, the host is untouched" {
    local hf hs
    hf=$(cat /proc/sys/net/ipv4/ip_forward)
    hs=$(cat /proc/sys/kernel/shm_rmid_forced)
    update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1",
                                    "net/ipv4/conf/lo/forwarding": "1"}'
    ctr_run sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/conf/lo/forwarding'
    assert_success
    assert_equal "$output" $'1\n1\n1'
    assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$hf"
    assert_equal "$(cat /proc/sys/kernel/shm_rmid_forced)" "$hs"
}

@test "sysctl: a non-namespaced key is refused, nothing left" {
    update_config '.linux.sysctl = {"kernel.panic": "1"}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains 'sysctl "kernel.panic" is not namespaced'
    assert_no_trace "$ID"
    update_config '.linux.sysctl = {"vm.swappiness": "1"}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_no_trace "$ID"
    update_config '.linux.sysctl = {"net/ipv4/../../kernel/panic": "1"}'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "invalid key"
    assert_no_trace "$ID"
    assert_root_empty
}

@test "sysctl: kernel.hostname is refused with or without a UTS namespace, naming the JSON path" {
    local host
    host=$(hostname)
    set_cmd sh -c 'echo fromsysctl-ran'
    update_config '.linux.sysctl = {"kernel.hostname": "fromsysctl"}'
    run husk run --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains 'linux.sysctl["kernel.hostname"]'
    is_husk && assert_contains '"hostname" field'
    assert_not_contains fromsysctl-ran
    assert_no_trace "$ID"
    # the same in the host's UTS namespace (no hostname field), in the '/' form too
    update_config 'del(.hostname) | .linux.sysctl = {"kernel/hostname": "fromsysctl"}'
    drop_ns uts
    run husk run --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains 'linux.sysctl["kernel/hostname"]'
    assert_not_contains fromsysctl-ran
    assert_no_trace "$ID"
    assert_equal "$(hostname)" "$host"
    assert_root_empty
}

@test "sysctl: net.* without a network namespace of its own is refused" {
    on_cleanup "echo $(cat /proc/sys/net/ipv4/ip_forward) >/proc/sys/net/ipv4/ip_forward"
    update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
    drop_ns network
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "not allowed in the host's network namespace"
    assert_no_trace "$ID"
    # nor when "joining" the host's own network namespace by path
    add_ns network "/proc/$$/ns/net"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "not allowed in the host's network namespace"
    assert_no_trace "$ID"
    # an ipc key without an ipc namespace
    update_config '.linux.sysctl = {"kernel.shm_rmid_forced": "1"}'
    add_ns network
    drop_ns ipc
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "not allowed in the host's IPC namespace"
    assert_no_trace "$ID"
    assert_root_empty
}
