#!/usr/bin/env bats
# /dev inside the container: the default devices, /dev/pts and /dev/ptmx, /dev/shm,
# the /dev/fd and std{in,out,err} links, and linux.devices with their exact
# type, major:minor, mode and owner.

load helpers

# dev_line PATH — from $output (lines "PATH TYPE MAJ:MIN MODE UID:GID" printed by
# the container's `stat`), the fields after PATH.
dev_line() {
    awk -v p="$1" '$1 == p { $1 = ""; sub(/^ /, ""); print }' <<<"$output"
}

# The stat line the container prints per node: type, major:minor (hex, as busybox
# gives them), octal mode, owner.
STAT_FMT='%n %F %t:%T %a %u:%g'

@test "default devices: null zero full random urandom tty with the right numbers and modes" {
    ctr_run sh -c "stat -c '$STAT_FMT' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty"
    assert_success
    assert_equal "$(dev_line /dev/null)" "character special file 1:3 666 0:0"
    assert_equal "$(dev_line /dev/zero)" "character special file 1:5 666 0:0"
    assert_equal "$(dev_line /dev/full)" "character special file 1:7 666 0:0"
    assert_equal "$(dev_line /dev/random)" "character special file 1:8 666 0:0"
    assert_equal "$(dev_line /dev/urandom)" "character special file 1:9 666 0:0"
    assert_equal "$(dev_line /dev/tty)" "character special file 5:0 666 0:0"
}

@test "default devices work: /dev/null swallows, /dev/zero reads zeros, /dev/full is full" {
    ctr_run sh -c 'echo x >/dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1; echo x >/dev/full; echo full=$?; head -c 8 /dev/urandom | wc -c'
    assert_success
    assert_contains null-ok
    assert_contains "00 00 00 00"
    assert_contains "No space left on device"
    assert_contains "full=1"
    assert_contains 8
}

@test "/dev/ptmx -> pts/ptmx, /dev/pts is a new devpts instance with ptmxmode 0666" {
    ctr_run sh -c "readlink /dev/ptmx; stat -c '$STAT_FMT' /dev/pts/ptmx; cat /proc/self/mountinfo"
    assert_success
    assert_contains $'\npts/ptmx\n' $'\n'"$output"$'\n'
    assert_equal "$(dev_line /dev/pts/ptmx)" "character special file 5:2 666 0:0"
    local l
    l=$(awk '$5 == "/dev/pts"' <<<"$output")
    assert_contains " - devpts devpts " "$l"
    assert_contains "ptmxmode=666" "$l"
    assert_contains "mode=620" "$l"
    # A new instance: not the host's devpts (whose device number differs).
    local host_dev
    host_dev=$(awk '$5 == "/dev/pts" { print $3 }' /proc/self/mountinfo | tail -n 1)
    [ "$(awk '{ print $3 }' <<<"$l")" != "$host_dev" ] || fail "the host's devpts: $l"
}

@test "/dev/shm is a tmpfs usable by everyone, /dev/mqueue is mqueue" {
    ctr_run sh -c "stat -c '$STAT_FMT' /dev/shm; echo hi >/dev/shm/f && cat /dev/shm/f; stat -f -c %T /dev/shm; grep ' /dev/mqueue ' /proc/self/mountinfo"
    assert_success
    assert_equal "$(dev_line /dev/shm)" "directory 0:0 1777 0:0"
    assert_contains hi
    assert_contains tmpfs
    assert_contains " - mqueue mqueue "
}

@test "/dev/fd, /dev/stdin, /dev/stdout, /dev/stderr links" {
    ctr_run sh -c 'for l in fd stdin stdout stderr; do echo "$l -> $(readlink /dev/$l)"; done; echo via-stdout >/dev/stdout; echo via-stderr >/dev/stderr'
    assert_success
    assert_contains "fd -> /proc/self/fd"
    assert_contains "stdin -> /proc/self/fd/0"
    assert_contains "stdout -> /proc/self/fd/1"
    assert_contains "stderr -> /proc/self/fd/2"
    assert_contains via-stdout
    assert_contains via-stderr
}

@test "/dev/core -> /proc/kcore only where the kernel has a kcore (as runc)" {
    ctr_run sh -c 'readlink /dev/core || echo no-core'
    assert_success
    if [ -e /proc/kcore ]; then
        assert_equal "$output" /proc/kcore
    else
        assert_equal "$output" no-core
    fi
}

@test "no /dev/console without a terminal" {
    ctr_run sh -c 'ls -l /dev/console || echo no-console'
    assert_success
    assert_contains no-console
}

@test "linux.devices: char, block and fifo nodes with exactly their attributes" {
    # fileMode is decimal in JSON: 432 = 0660, 288 = 0440, 420 = 0644.
    update_config '.linux.devices = [
        {path: "/dev/mychar", type: "c", major: 10, minor: 229, fileMode: 432, uid: 1000, gid: 1001},
        {path: "/dev/myblock", type: "b", major: 7, minor: 3, fileMode: 288, uid: 0, gid: 6},
        {path: "/dev/sub/dir/deep", type: "u", major: 1, minor: 9, fileMode: 420},
        {path: "/dev/myfifo", type: "p", fileMode: 432}
    ]'
    ctr_run sh -c "stat -c '$STAT_FMT' /dev/mychar /dev/myblock /dev/sub/dir/deep /dev/myfifo"
    assert_success
    # busybox prints major:minor in hex: 10 = a, 229 = e5
    assert_equal "$(dev_line /dev/mychar)" "character special file a:e5 660 1000:1001"
    assert_equal "$(dev_line /dev/myblock)" "block special file 7:3 440 0:6"
    assert_equal "$(dev_line /dev/sub/dir/deep)" "character special file 1:9 644 0:0"
    assert_equal "$(dev_line /dev/myfifo)" "fifo 0:0 660 0:0"
}

@test "linux.devices entry for a default device overrides its mode and owner" {
    require_husk # runc 1.1 fails reopening a /dev/null that is not 0666
    update_config '.linux.devices = [{path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 384, uid: 1000, gid: 1000}]'
    ctr_run stat -c "$STAT_FMT" /dev/null
    assert_success
    assert_equal "$(dev_line /dev/null)" "character special file 1:3 600 1000:1000"
}

@test "linux.devices outside /dev are made where asked" {
    update_config '.linux.devices = [{path: "/opt/devs/zero", type: "c", major: 1, minor: 5, fileMode: 438}]'
    ctr_run sh -c "stat -c '$STAT_FMT' /opt/devs/zero; head -c 2 /opt/devs/zero | od -An -tx1"
    assert_success
    assert_equal "$(dev_line /opt/devs/zero)" "character special file 1:5 666 0:0"
    assert_contains "00 00"
}

@test "without a /dev mount the rootfs' own /dev gets the devices" {
    require_husk # runc 1.1 keeps an image's bogus /dev/null
    update_config '.mounts |= map(select(.destination | startswith("/dev") | not))'
    # The image ships a bogus /dev/null (a regular file): it is replaced by the device.
    echo bogus >"$BUNDLE/rootfs/dev/null"
    ctr_run sh -c "stat -c '$STAT_FMT' /dev/null /dev/zero; readlink /dev/ptmx"
    assert_success
    assert_equal "$(dev_line /dev/null)" "character special file 1:3 666 0:0"
    assert_equal "$(dev_line /dev/zero)" "character special file 1:5 666 0:0"
    assert_contains pts/ptmx
}

@test "SECURITY: a device path through a symlink out of the rootfs stays inside" {
    mkdir -p "$TEST_DIR/hostdev"
    update_config '.mounts |= map(select(.destination | startswith("/dev") | not))'
    ln -s "$TEST_DIR/hostdev" "$BUNDLE/rootfs/devlink"
    update_config '.linux.devices = [{path: "/devlink/evil", type: "c", major: 1, minor: 3}]'
    ctr_run sh -c "stat -c '$STAT_FMT' /devlink/evil"
    assert_success
    assert_equal "$(dev_line /devlink/evil)" "character special file 1:3 666 0:0"
    [ -z "$(ls -A "$TEST_DIR/hostdev")" ] || fail "node made on the host: $(ls -l "$TEST_DIR/hostdev")"
    [ -c "$BUNDLE/rootfs$TEST_DIR/hostdev/evil" ]
}

@test "linux.devices with a bad type is refused with the JSON path, nothing left" {
    update_config '.linux.devices = [{path: "/dev/x", type: "z", major: 1, minor: 3}]'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "linux.devices[0].type"
    assert_no_trace "$ID"
    assert_root_empty
}

@test "linux.devices with a relative path is refused" {
    require_husk # runc 1.1 accepts relative device paths
    update_config '.linux.devices = [{path: "dev/x", type: "c", major: 1, minor: 3}]'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    is_husk && assert_contains "linux.devices[0].path"
    assert_root_empty
}
