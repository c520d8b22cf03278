#!/usr/bin/env bats
# ocispec.bats — the engine's config.json (src/engine/ocispec.c: an image config plus
# docker's run flags), observed from inside a busybox container run by `husk run`.
# The bundle is written by the test tool ocispec_bundle (tests/tools/), which calls
# ocispec_build and ocispec_write_etc_files as `husk container run` does.

load helpers

# The tool, built next to husk (under valgrind: next to the husk that husk-vg runs).
ocispec_tool() {
    local b
    for b in "$(dirname "$HUSK_BIN")/ocispec_bundle" ${HUSK_VG_REAL:+"$(dirname "$HUSK_VG_REAL")/ocispec_bundle"}; do
        [ -x "$b" ] && echo "$b" && return 0
    done
    return 1
}

setup() {
    husk_setup
    require_husk
    TOOL=$(ocispec_tool) || fail "ocispec_bundle not built (ninja -C build)"
    mkdir -p "$TEST_DIR/userdata"
    echo '{"config":{"Cmd":["sh"],"Env":["FROM_IMAGE=1"],"WorkingDir":"/"}}' >"$TEST_DIR/image.json"
    rm -f "$BUNDLE/config.json"
}

teardown() {
    husk_teardown
}

# spec [FLAGS...] [-- CMD...]: write $BUNDLE/config.json.
spec() {
    "$TOOL" --image-config "$TEST_DIR/image.json" --rootfs "$BUNDLE/rootfs" --userdata "$TEST_DIR/userdata" \
        --out "$BUNDLE/config.json" "$@"
}

# run_in [FLAGS...] -- CMD...: build the config and run it; $output is the container's.
run_in() {
    spec "$@" || fail "ocispec_bundle failed"
    run husk run --bundle "$BUNDLE" "$ID"
}

status_field() {
    awk -v k="$1:" '$1 == k { print $2 }' <<<"$output"
}

@test "ocispec: docker's default capabilities, masked and read-only paths, seccomp" {
    run_in -- sh -c 'grep -E "^(Cap|Seccomp|NoNewPrivs)" /proc/self/status; echo timer=$(wc -c </proc/timer_list);
        echo x >/proc/sys/kernel/domainname && echo sys-writable; echo x >/sys/kernel/uevent_helper 2>/dev/null && echo sysfs-writable;
        unshare -U true; echo unshare=$?'
    assert_success
    local want
    want=$(cap_mask CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP \
        NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE)
    assert_equal "$(status_field CapEff)" "$want"
    assert_equal "$(status_field CapBnd)" "$want"
    assert_equal "$(status_field CapPrm)" "$want"
    assert_equal "$(status_field CapInh)" 0000000000000000
    assert_equal "$(status_field Seccomp)" 2
    assert_equal "$(status_field NoNewPrivs)" 0
    assert_contains "timer=0"
    assert_not_contains "sys-writable"
    assert_not_contains "sysfs-writable"
    # A user namespace needs no capability: only the profile refuses it.
    assert_contains "unshare=1"
    assert_contains "Operation not permitted"
}

@test "ocispec: --privileged has every capability, no masks, no seccomp" {
    run_in --privileged -- sh -c 'grep -E "^(CapEff|Seccomp)" /proc/self/status; echo timer=$(head -c 5 /proc/timer_list | wc -c);
        unshare -U true && echo unshare-ok; grep " /sys " /proc/self/mounts'
    assert_success
    # Every capability we hold to hand on (docker's "all": its own bounding set).
    assert_equal "$(status_field CapEff)" "$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)"
    assert_equal "$(status_field Seccomp)" 0
    assert_contains "timer=5"
    assert_contains "unshare-ok"
    assert_contains "sysfs rw,"
}

@test "ocispec: --cap-add/--cap-drop (with and without CAP_, ALL) and the profile follows" {
    run_in --cap-add sys_admin --cap-drop CAP_CHOWN -- sh -c 'grep CapEff /proc/self/status; unshare -U true && echo unshare-ok'
    assert_success
    local want
    want=$(cap_mask DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP \
        NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE SYS_ADMIN)
    assert_equal "$(status_field CapEff)" "$want"
    # CAP_SYS_ADMIN opens unshare in the profile, as docker's does.
    assert_contains "unshare-ok"

    run_in --cap-drop ALL --cap-add KILL -- grep CapEff /proc/self/status
    assert_success
    assert_equal "$(status_field CapEff)" "$(cap_mask KILL)"

    run spec --cap-add NOT_A_CAP -- true
    assert_status 125
    assert_contains "--cap-add NOT_A_CAP: unknown capability"
}

@test "ocispec: -u through the image's /etc/passwd and /etc/group, HOME, numeric uid" {
    echo "staff:x:50:user" >>"$BUNDLE/rootfs/etc/group"
    echo "other:x:51:root" >>"$BUNDLE/rootfs/etc/group"
    run_in -u user -- sh -c 'id; echo HOME=$HOME'
    assert_success
    assert_contains "uid=1000(user) gid=1000(user) groups=50(staff)"
    assert_contains "HOME=/home/user"

    # docker's sysctls of a container's own network namespace: low ports for anyone.
    run_in -u user -- sh -c 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start; nc -l -p 80 & sleep 0.2; kill $! && echo bound-80'
    assert_success
    assert_equal "${lines[0]}" 0
    assert_contains "bound-80"

    run_in -u user:nogroup -- id
    assert_success
    assert_contains "uid=1000(user) gid=65534(nogroup)"
    assert_not_contains "staff"

    run_in -u 4321:4322 -- id
    assert_success
    assert_contains "uid=4321 gid=4322"

    run spec -u ghost -- id
    assert_status 125
    assert_contains "-u ghost: no such user"
}

@test "ocispec: /etc/passwd symlinked out of the rootfs is read inside it" {
    # A host file the image points at must not decide who the container runs as.
    printf 'outsider:x:555:555::/:/bin/sh\n' >"$TEST_DIR/passwd"
    rm "$BUNDLE/rootfs/etc/passwd"
    ln -s "$TEST_DIR/passwd" "$BUNDLE/rootfs/etc/passwd"
    run spec -u outsider -- id
    assert_status 125
    assert_contains "no such user \"outsider\""
}

@test "ocispec: env, cwd, hostname, /etc/hosts, /etc/resolv.conf" {
    HUSK_T_CALLER=fromcaller run_in -t -e A=1 -e HUSK_T_CALLER -w /var/tmp/new --hostname web1 -- sh -c \
        'env; echo cwd=$(pwd); echo h=$(hostname); cat /etc/hostname /etc/hosts /etc/resolv.conf'
    assert_success
    assert_contains "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert_contains "FROM_IMAGE=1"
    assert_contains "A=1"
    assert_contains "HUSK_T_CALLER=fromcaller"
    assert_contains "HOSTNAME=web1"
    assert_contains "TERM=xterm"
    assert_contains "cwd=/var/tmp/new"
    assert_contains "h=web1"
    assert_contains $'127.0.0.1\tlocalhost'
    assert_contains $'127.0.0.1\tweb1'
    assert_not_contains "nameserver"
}

@test "ocispec: --ulimit, --read-only with --tmpfs, --shm-size, no-new-privileges" {
    run_in --ulimit nofile=100:200 --read-only --tmpfs /run:size=1m --shm-size 2097152 \
        --security-opt no-new-privileges -- sh -c \
        'echo soft=$(ulimit -n) hard=$(ulimit -Hn); touch /x 2>&1; touch /run/ok && echo tmpfs-ok;
         grep -E " /(run|dev/shm) " /proc/self/mounts; grep NoNewPrivs /proc/self/status'
    assert_success
    assert_contains "soft=100 hard=200"
    assert_contains "Read-only file system"
    assert_contains "tmpfs-ok"
    assert_contains "size=1024k"
    assert_contains "size=2048k"
    assert_equal "$(status_field NoNewPrivs)" 1
}

@test "ocispec: --device HOST:CTR:PERMS, and resources reach the cgroup" {
    require_v1 pids
    run_in --device /dev/null:/dev/xnull:rw --pids-limit 42 -- sh -c \
        'ls -l /dev/xnull; echo hi >/dev/xnull && echo write-ok; cat /sys/fs/cgroup/pids/pids.max'
    assert_success
    assert_contains "1,   3"
    assert_contains "write-ok"
    assert_contains "42"
}

@test "ocispec: --init runs tini as pid 1 before the command" {
    [ -x /usr/bin/tini-static ] || skip "no /usr/bin/tini-static (Debian package tini)"
    run_in --init -- sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo me=$$'
    assert_success
    assert_contains "/dev/init -- sh -c"
    assert_not_contains "me=1"
}

@test "ocispec: --security-opt seccomp=FILE (docker's profile format) and seccomp=unconfined" {
    # docker's format: archMap, "names", includes by capability.
    cat >"$TEST_DIR/profile.json" <<'JSON'
{
    "defaultAction": "SCMP_ACT_ALLOW",
    "archMap": [ { "architecture": "SCMP_ARCH_X86_64", "subArchitectures": [ "SCMP_ARCH_X86", "SCMP_ARCH_X32" ] },
                 { "architecture": "SCMP_ARCH_AARCH64", "subArchitectures": [ "SCMP_ARCH_ARM" ] } ],
    "syscalls": [
        { "names": [ "mkdir", "mkdirat" ], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 },
        { "names": [ "rmdir" ], "action": "SCMP_ACT_ERRNO", "includes": { "caps": [ "CAP_SYS_ADMIN" ] } }
    ]
}
JSON
    run_in --security-opt seccomp="$TEST_DIR/profile.json" -- sh -c 'mkdir /tmp/d; echo mkdir=$?; grep Seccomp: /proc/self/status'
    assert_success
    assert_contains "Permission denied"
    assert_contains "mkdir=1"
    assert_equal "$(status_field Seccomp)" 2

    run_in --security-opt seccomp=unconfined -- sh -c 'grep Seccomp: /proc/self/status; unshare -U true && echo unshare-ok'
    assert_success
    assert_equal "$(status_field Seccomp)" 0
    assert_contains "unshare-ok"
}
