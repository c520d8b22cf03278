#!/usr/bin/env bats
# The root filesystem and the config's mounts: root.path, root.readonly,
# rootfsPropagation, pivot_root / --no-pivot, every mount type and option, and the
# security of destination resolution (symlinks in the rootfs, /proc), masked and
# read-only paths. Checked from inside the container (/proc/self/mountinfo, what a
# write or an exec does) and from the host (nothing created or mounted outside).

load helpers

# Host mounts a test makes itself (a shared TEST_DIR, a submount in a bind source)
# are listed here and unmounted before the leftover check of the shared teardown,
# so that check still sees any mount husk would have leaked.
host_mount() {
    mount "$@" || return 1
    echo "${*: -1}" >>"$TEST_DIR/host-mounts"
}

teardown() {
    if [ -f "$TEST_DIR/host-mounts" ]; then
        # Containers first (they may hold nothing of ours, but keep the order simple).
        for id in $("$HUSK_BIN" --root "$ROOT" list -q 2>/dev/null); do
            "$HUSK_BIN" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
        done
        tac "$TEST_DIR/host-mounts" | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
    fi
    husk_teardown
}

# Make TEST_DIR a shared mount: propagation only shows with a shared source (the
# host's own / is private here).
shared_testdir() {
    host_mount --bind "$TEST_DIR" "$TEST_DIR"
    mount --make-shared "$TEST_DIR"
}

# The mountinfo line of mount point $1 in $output (the container's mountinfo).
mi_line() {
    awk -v mp="$1" '$5 == mp' <<<"$output" | tail -n 1
}

# The per-mount options (field 6) of mount point $1 in $output.
mi_opts() {
    mi_line "$1" | awk '{ print $6 }'
}

# add_mount JSON — append a mount to the config.
add_mount() {
    update_config '.mounts += [$m]' --argjson m "$1"
}

# --------------------------------------------------------------------- root

@test "root.path relative to the bundle" {
    echo relative >"$BUNDLE/rootfs/marker"
    mv "$BUNDLE/rootfs" "$BUNDLE/myroot"
    update_config '.root.path = "myroot"'
    ctr_run cat /marker
    assert_success
    assert_equal "$output" relative
}

@test "root.path absolute, outside the bundle" {
    mv "$BUNDLE/rootfs" "$TEST_DIR/elsewhere"
    echo absolute >"$TEST_DIR/elsewhere/marker"
    update_config '.root.path = $p' --arg p "$TEST_DIR/elsewhere"
    ctr_run cat /marker
    assert_success
    assert_equal "$output" absolute
}

@test "root.path that does not exist: clear error, nothing left" {
    update_config '.root.path = "nosuchroot"'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains nosuchroot
    assert_no_trace "$ID"
    assert_root_empty
}

@test "root.readonly: writes to / fail with EROFS, a tmpfs on /tmp still works" {
    update_config '.root.readonly = true
        | .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"]}]'
    ctr_run sh -c 'cat /proc/self/mountinfo; touch /newfile; echo touch=$?; echo ok >/tmp/f && cat /tmp/f'
    assert_success
    assert_contains "Read-only file system"
    assert_contains "touch=1"
    assert_contains "ok"
    [[ $(mi_opts /) == ro,* ]] || fail "/ not ro: $(mi_line /)"
    [ ! -e "$BUNDLE/rootfs/newfile" ]
    # The host's view of the rootfs is untouched: it is still writable there.
    touch "$BUNDLE/rootfs/hostwrite"
}

@test "root.readonly false: / is writable" {
    ctr_run sh -c 'touch /newfile && echo ok'
    assert_success
    assert_equal "$output" ok
    [ -e "$BUNDLE/rootfs/newfile" ]
}

@test "rootfsPropagation slave: host mounts appear inside, none go out" {
    require_husk # runc 1.1 makes the rootfs parent private: its "slave" rootfs receives nothing
    shared_testdir
    mkdir -p "$BUNDLE/rootfs/late"
    update_config '.linux.rootfsPropagation = "slave"'
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    local pid
    pid=$(state_field "$ID" pid)
    output=$(cat "/proc/$pid/mountinfo")
    local root
    root=$(mi_line /)
    assert_contains "master:" "$root"
    assert_not_contains "shared:" "$root"
    # A mount made on the host below the rootfs after start propagates in.
    host_mount -t tmpfs late "$BUNDLE/rootfs/late"
    output=$(cat "/proc/$pid/mountinfo")
    [ -n "$(mi_line /late)" ] || fail "host mount did not reach a slave rootfs" "$output"
}

@test "rootfsPropagation private: host mounts do not appear inside" {
    shared_testdir
    mkdir -p "$BUNDLE/rootfs/late"
    update_config '.linux.rootfsPropagation = "private"'
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    local pid
    pid=$(state_field "$ID" pid)
    output=$(cat "/proc/$pid/mountinfo")
    local root
    root=$(mi_line /)
    assert_not_contains "master:" "$root"
    assert_not_contains "shared:" "$root"
    host_mount -t tmpfs late "$BUNDLE/rootfs/late"
    output=$(cat "/proc/$pid/mountinfo")
    [ -z "$(mi_line /late)" ] || fail "host mount reached a private rootfs" "$output"
}

@test "rootfsPropagation shared: a new peer group, not the host's" {
    require_husk # runc 1.1 shares the rootfs with the host peer group instead
    shared_testdir
    local host_group
    host_group=$(awk -v p="$TEST_DIR" '$5 == p { for (i = 7; $i != "-"; i++) if ($i ~ /^shared:/) print $i }' /proc/self/mountinfo)
    [ -n "$host_group" ]
    update_config '.linux.rootfsPropagation = "shared"'
    ctr_run cat /proc/self/mountinfo
    assert_success
    local root
    root=$(mi_line /)
    assert_contains "shared:" "$root"
    assert_not_contains "$host_group " "$root"
}

@test "rootfsPropagation unbindable: the rootfs mount is unbindable" {
    require_husk # runc 1.1 cannot bind an unbindable rootfs onto itself
    update_config '.linux.rootfsPropagation = "unbindable"'
    ctr_run cat /proc/self/mountinfo
    assert_success
    assert_contains "unbindable" "$(mi_line /)"
}

@test "rootfsPropagation private keeps a bind mount's own shared option; rshared makes every mount shared" {
    require_husk # runc 1.1 applies rootfsPropagation differently
    mkdir -p "$TEST_DIR/src"
    add_mount "{\"destination\":\"/sh\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\",\"shared\"]}"
    add_mount "{\"destination\":\"/pr\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\"]}"
    update_config '.linux.rootfsPropagation = "private"'
    ctr_run cat /proc/self/mountinfo
    assert_success
    assert_contains "shared:" "$(mi_line /sh)"
    assert_not_contains "shared:" "$(mi_line /pr)"
    assert_not_contains "shared:" "$(mi_line /)"
    update_config '.linux.rootfsPropagation = "rshared"'
    ID=$(new_id)
    ctr_run cat /proc/self/mountinfo
    assert_success
    assert_contains "shared:" "$(mi_line /)"
    assert_contains "shared:" "$(mi_line /pr)"
    assert_contains "shared:" "$(mi_line /proc)"
}

@test "rootfsPropagation with an unknown value is refused" {
    update_config '.linux.rootfsPropagation = "sideways"'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains rootfsPropagation
    assert_root_empty
}

# --------------------------------------------------------------------- pivot_root

@test "pivot_root: / is the rootfs, no host mount is visible, the old root is gone" {
    echo inside >"$BUNDLE/rootfs/marker"
    ctr_run sh -c 'cat /marker; cat /../../marker; cat /proc/self/mountinfo'
    assert_success
    assert_contains inside
    # The root mount is the bundle's rootfs.
    mi_line / | grep -q "$BUNDLE/rootfs / " || fail "root is not the rootfs: $(mi_line /)"
    # Every mount point is one the config made (or below one); none of the host's.
    local mp
    for mp in /run/netns /mnt "$TEST_DIR" "$BUNDLE"; do
        [ -z "$(mi_line "$mp")" ] || fail "host mount $mp visible inside"
    done
    # Only the config's mounts: one per line, all below / of the container.
    local n
    n=$(grep -c ' - ' <<<"$output")
    [ "$n" -lt 40 ] || fail "too many mounts inside ($n)"
}

@test "--no-pivot: chroot into the rootfs works" {
    echo nopivot >"$BUNDLE/rootfs/marker"
    set_cmd sh -c 'cat /marker; ls /proc/1/root/marker'
    run husk run --no-pivot --bundle "$BUNDLE" "$ID"
    assert_success
    assert_contains nopivot
    # documented as weaker
    run "$HUSK_BIN" create --help
    if is_husk; then
        assert_contains "--no-pivot"
        grep -q -- "--no-pivot" "$HUSK_REPO/README.md"
        grep -i -- "--no-pivot" "$HUSK_REPO/README.md" | grep -qi weaker
    fi
}

@test "--no-pivot: the host's procfs is not left for a fresh, unmasked procfs to pass the kernel's check" {
    # As runc's own test: the container's process makes a user namespace of its own
    # (where every mount it inherits is locked) and mounts a procfs. The kernel allows
    # that only while a full procfs without locked masks is in the mount namespace:
    # the host's, if --no-pivot left it under the chroot.
    [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" -gt 0 ] || skip "no user namespaces here"
    update_config '.linux.maskedPaths += ["/proc/uptime"]
        | .process.capabilities |= map_values(. + ["CAP_SETFCAP"] | unique)'
    mkdir -p "$BUNDLE/rootfs/mnt"
    set_cmd unshare -mrpf sh -c 'mount -t proc none /mnt; echo mount=$?; stat -c "%n %F" /mnt/uptime'
    run husk run --no-pivot --bundle "$BUNDLE" "$ID"
    assert_contains "mount=1"
    assert_not_contains "/mnt/uptime regular"
    # pivot_root drops the host's tree: refused the same
    run husk run --bundle "$BUNDLE" "$ID"
    assert_contains "mount=1"
}

# --------------------------------------------------------------------- bind mounts

@test "bind mount options: ro, nosuid, nodev, noexec show in mountinfo and act" {
    mkdir -p "$TEST_DIR/src"
    printf '#!/bin/sh\necho ran\n' >"$TEST_DIR/src/script"
    chmod 755 "$TEST_DIR/src/script"
    add_mount "{\"destination\":\"/ro\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\",\"ro\"]}"
    add_mount "{\"destination\":\"/flags\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\",\"nosuid\",\"nodev\",\"noexec\"]}"
    add_mount "{\"destination\":\"/plain\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\"]}"
    ctr_run sh -c 'cat /proc/self/mountinfo; touch /ro/x; echo ro=$?; /flags/script; echo noexec=$?; /plain/script; touch /flags/y; echo rw=$?'
    assert_success
    [[ $(mi_opts /ro) == ro,* ]] || fail "$(mi_line /ro)"
    local o
    o=$(mi_opts /flags)
    [[ $o == rw,* && $o == *nosuid* && $o == *nodev* && $o == *noexec* ]] || fail "$o"
    o=$(mi_opts /plain)
    [[ $o == rw,* && $o != *noexec* ]] || fail "$o"
    assert_contains "Read-only file system"
    assert_contains "ro=1"
    assert_contains "Permission denied"
    assert_contains "noexec=126"
    assert_contains "ran"
    assert_contains "rw=0"
    [ ! -e "$TEST_DIR/src/x" ]
    [ -e "$TEST_DIR/src/y" ]
}

@test "bind mount atime options: noatime, relatime, strictatime, nodiratime" {
    mkdir -p "$TEST_DIR/src"
    local opt
    for opt in noatime relatime strictatime nodiratime; do
        add_mount "{\"destination\":\"/$opt\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\",\"$opt\"]}"
    done
    ctr_run cat /proc/self/mountinfo
    assert_success
    [[ $(mi_opts /noatime) == *noatime* ]] || fail "$(mi_line /noatime)"
    [[ $(mi_opts /relatime) == *relatime* ]] || fail "$(mi_line /relatime)"
    local s
    s=$(mi_opts /strictatime)
    [[ -n $s && $s != *relatime* && $s != *noatime* ]] || fail "$(mi_line /strictatime)"
    [[ $(mi_opts /nodiratime) == *nodiratime* ]] || fail "$(mi_line /nodiratime)"
}

@test "bind vs rbind: only rbind carries submounts; ro is not recursive, rro is" {
    mkdir -p "$TEST_DIR/src/sub"
    host_mount -t tmpfs subfs "$TEST_DIR/src/sub"
    echo subfile >"$TEST_DIR/src/sub/file"
    add_mount "{\"destination\":\"/bind\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\"]}"
    add_mount "{\"destination\":\"/rbind\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"rbind\",\"ro\"]}"
    add_mount "{\"destination\":\"/rro\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"rbind\",\"rro\"]}"
    ctr_run sh -c 'cat /proc/self/mountinfo; ls /bind/sub; echo ---; cat /rbind/sub/file; touch /rbind/sub/a; echo rbind_sub=$?; touch /rbind/b; echo rbind_top=$?; touch /rro/sub/c; echo rro_sub=$?; touch /rro/d; echo rro_top=$?'
    assert_success
    # bind: the submount is not there, the directory under it is empty
    [ -z "$(mi_line /bind/sub)" ] || fail "bind carried a submount"
    [[ $output == *$'\n---\n'* ]] || true
    assert_contains subfile
    [[ $(mi_opts /rbind/sub) == rw,* ]] || fail "$(mi_line /rbind/sub)"
    [[ $(mi_opts /rro/sub) == ro,* ]] || fail "$(mi_line /rro/sub)"
    [[ $(mi_opts /rro) == ro,* ]] || fail "$(mi_line /rro)"
    assert_contains "rbind_sub=0"
    assert_contains "rbind_top=1"
    assert_contains "rro_sub=1"
    assert_contains "rro_top=1"
    [ -e "$TEST_DIR/src/sub/a" ]
    [ ! -e "$TEST_DIR/src/sub/c" ]
}

@test "bind propagation flags: shared, slave, private, rshared" {
    shared_testdir
    mkdir -p "$TEST_DIR/src/sub" "$TEST_DIR/src/late"
    host_mount -t tmpfs subfs "$TEST_DIR/src/sub"
    local p
    for p in shared slave private; do
        add_mount "{\"destination\":\"/$p\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\",\"$p\"]}"
    done
    add_mount "{\"destination\":\"/rshared\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"rbind\",\"rshared\"]}"
    add_mount "{\"destination\":\"/rslave\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"rbind\",\"rslave\"]}"
    add_mount "{\"destination\":\"/rprivate\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"rbind\",\"rprivate\"]}"
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    local pid
    pid=$(state_field "$ID" pid)
    output=$(cat "/proc/$pid/mountinfo")
    [[ $(mi_line /shared) == *shared:* ]] || fail "$(mi_line /shared)"
    [[ $(mi_line /slave) == *master:* && $(mi_line /slave) != *shared:* ]] || fail "$(mi_line /slave)"
    [[ $(mi_line /private) != *master:* && $(mi_line /private) != *shared:* ]] || fail "$(mi_line /private)"
    [[ $(mi_line /rshared/sub) == *shared:* ]] || fail "$(mi_line /rshared/sub)"
    [[ $(mi_line /rslave/sub) == *master:* && $(mi_line /rslave/sub) != *shared:* ]] || fail "$(mi_line /rslave/sub)"
    [[ $(mi_line /rprivate/sub) != *master:* && $(mi_line /rprivate/sub) != *shared:* ]] || fail "$(mi_line /rprivate/sub)"
    # Behaviour: a host mount under the source reaches the slave binds, not the private ones.
    host_mount -t tmpfs late "$TEST_DIR/src/late"
    output=$(cat "/proc/$pid/mountinfo")
    [ -n "$(mi_line /slave/late)" ] || fail "no propagation into a slave bind" "$output"
    [ -n "$(mi_line /rslave/late)" ] || fail "no propagation into an rslave bind" "$output"
    [ -z "$(mi_line /private/late)" ] || fail "propagation into a private bind"
    [ -z "$(mi_line /rprivate/late)" ] || fail "propagation into an rprivate bind"
}

@test "bind mount destinations are created: directories for dirs, files for files" {
    mkdir -p "$TEST_DIR/srcdir"
    echo dircontent >"$TEST_DIR/srcdir/f"
    echo filecontent >"$TEST_DIR/srcfile"
    add_mount "{\"destination\":\"/new/deep/dir\",\"type\":\"bind\",\"source\":\"$TEST_DIR/srcdir\",\"options\":[\"bind\"]}"
    add_mount "{\"destination\":\"/other/new/file.txt\",\"type\":\"bind\",\"source\":\"$TEST_DIR/srcfile\",\"options\":[\"bind\",\"ro\"]}"
    ctr_run sh -c 'cat /new/deep/dir/f /other/new/file.txt'
    assert_success
    assert_contains dircontent
    assert_contains filecontent
    [ -d "$BUNDLE/rootfs/new/deep/dir" ]
    [ -f "$BUNDLE/rootfs/other/new/file.txt" ]
    [ ! -s "$BUNDLE/rootfs/other/new/file.txt" ]
}

@test "bind mount relative source is relative to the bundle" {
    mkdir -p "$BUNDLE/data"
    echo bundledata >"$BUNDLE/data/f"
    add_mount '{"destination":"/data","type":"bind","source":"data","options":["rbind"]}'
    ctr_run cat /data/f
    assert_success
    assert_equal "$output" bundledata
}

@test "bind mount of a missing source: clear error, nothing left" {
    add_mount "{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"$TEST_DIR/nosuch\",\"options\":[\"bind\"]}"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "$TEST_DIR/nosuch"
    assert_no_trace "$ID"
    assert_root_empty
}

# --------------------------------------------------------------------- user namespaces, idmapped mounts

# A user namespace mapping container 0-65535 to host 100000-165535, the rootfs its.
userns_config() {
    update_config '.linux.namespaces += [{type: "user"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
        | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
    chmod 755 "$TEST_DIR" "$BUNDLE"
    chown -R 100000:100000 "$BUNDLE/rootfs"
}

@test "user namespace: a bind source below a directory the container's root cannot traverse still mounts" {
    userns_config
    mkdir -p "$TEST_DIR/locked/inner"
    echo from-the-host >"$TEST_DIR/locked/inner/f"
    chmod 000 "$TEST_DIR/locked"
    add_mount "$(jq -nc --arg s "$TEST_DIR/locked/inner" '{destination: "/m", type: "bind", source: $s, options: ["rbind", "ro"]}')"
    add_mount "$(jq -nc --arg s "$TEST_DIR/locked/inner/f" '{destination: "/file", type: "bind", source: $s, options: ["bind"]}')"
    ctr_run sh -c 'cat /m/f /file; cat /proc/self/mountinfo'
    assert_success
    assert_contains from-the-host
    [[ $(mi_opts /m) == ro,* ]] || fail "/m is not read-only: $(mi_line /m)"
    [ "$(grep -c from-the-host <<<"$output")" = 2 ] || fail "$output"
}

@test "idmapped mounts: mounts[].uidMappings/gidMappings show host owners as mapped ones (no user namespace)" {
    require_husk
    mkdir -p "$TEST_DIR/idsrc"
    touch "$TEST_DIR/idsrc/root-owned"
    touch "$TEST_DIR/idsrc/other" && chown 7:7 "$TEST_DIR/idsrc/other"
    require_idmapped_mounts "$TEST_DIR/idsrc"
    add_mount "$(jq -nc --arg s "$TEST_DIR/idsrc" '{destination: "/id", type: "bind", source: $s, options: ["rbind", "idmap"],
        uidMappings: [{containerID: 0, hostID: 1000, size: 1}], gidMappings: [{containerID: 0, hostID: 2000, size: 1}]}')"
    ctr_run stat -c "%n %u %g" /id/root-owned /id/other
    assert_success
    assert_contains "/id/root-owned 1000 2000"
    # not in the mapping: the overflow ids
    assert_contains "/id/other 65534 65534"
    # the files on the host are untouched
    assert_equal "$(stat -c '%u %g' "$TEST_DIR/idsrc/root-owned")" "0 0"
}

@test "idmapped mounts: idmap without mappings takes the container's user namespace mappings" {
    require_husk
    userns_config
    mkdir -p "$TEST_DIR/idsrc"
    touch "$TEST_DIR/idsrc/root-owned"
    require_idmapped_mounts "$TEST_DIR/idsrc"
    add_mount "$(jq -nc --arg s "$TEST_DIR/idsrc" '{destination: "/id", type: "bind", source: $s, options: ["rbind", "idmap"]}')"
    add_mount "$(jq -nc --arg s "$TEST_DIR/idsrc" '{destination: "/plain", type: "bind", source: $s, options: ["rbind"]}')"
    ctr_run sh -c 'stat -c "%n %u %g" /id/root-owned /plain/root-owned; touch /id/new; echo w=$?'
    assert_success
    # host root owns the file: through the idmapped mount it is the container's root
    assert_contains "/id/root-owned 0 0"
    assert_contains "/plain/root-owned 65534 65534"
    assert_contains "w=0"
    # what the container's root makes there belongs to host root, through the mapping
    assert_equal "$(stat -c '%u %g' "$TEST_DIR/idsrc/new")" "0 0"
}

@test "idmapped mounts: ridmap maps the submounts of an rbind, idmap only its top" {
    require_husk
    mkdir -p "$TEST_DIR/idsrc/sub"
    require_idmapped_mounts "$TEST_DIR/idsrc"
    host_mount -t tmpfs subfs "$TEST_DIR/idsrc/sub"
    touch "$TEST_DIR/idsrc/sub/f"
    local maps='uidMappings: [{containerID: 0, hostID: 1000, size: 1}], gidMappings: [{containerID: 0, hostID: 1000, size: 1}]'
    add_mount "$(jq -nc --arg s "$TEST_DIR/idsrc" "{destination: \"/r\", type: \"bind\", source: \$s, options: [\"rbind\", \"ridmap\"], $maps}")"
    add_mount "$(jq -nc --arg s "$TEST_DIR/idsrc" "{destination: \"/t\", type: \"bind\", source: \$s, options: [\"rbind\", \"idmap\"], $maps}")"
    ctr_run stat -c "%n %u" /r/sub/f /t/sub/f /t
    assert_success
    assert_contains "/r/sub/f 1000"
    assert_contains "/t/sub/f 0"
    assert_contains "/t 1000"
}

@test "idmapped mounts: bad configs are refused naming the field, nothing left" {
    require_husk
    mkdir -p "$TEST_DIR/idsrc"
    local m
    for m in \
        '{destination: "/x", type: "tmpfs", source: "tmpfs", options: ["idmap"]}|mounts[N].options: idmap: idmapped mounts are only supported for bind mounts (type "tmpfs")' \
        '{destination: "/x", type: "tmpfs", source: "tmpfs", uidMappings: [{containerID: 0, hostID: 1, size: 1}], gidMappings: [{containerID: 0, hostID: 1, size: 1}]}|mounts[N].uidMappings: idmapped mounts are only supported for bind mounts' \
        '{destination: "/x", type: "bind", source: $s, options: ["rbind"], uidMappings: [{containerID: 0, hostID: 1, size: 1}]}|mounts[N].gidMappings: required with uidMappings' \
        '{destination: "/x", type: "bind", source: $s, options: ["rbind", "ridmap"]}|mounts[N].options: ridmap: without uidMappings and gidMappings the mount takes the container'"'"'s user namespace mappings, and there are none'; do
        update_config '.mounts |= map(select(.destination != "/x"))' 
        local n
        n=$(jq '.mounts | length' "$BUNDLE/config.json")
        update_config ".mounts += [${m%%|*}]" --arg s "$TEST_DIR/idsrc"
        ctr_run true
        assert_failure
        assert_contains "${m#*|}" "${output//mounts\[$n\]/mounts[N]}"
        assert_root_empty
    done
}

# --------------------------------------------------------------------- filesystems

@test "tmpfs with size and mode" {
    add_mount '{"destination":"/scratch","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","size=2m","mode=1770"]}'
    ctr_run sh -c 'cat /proc/self/mountinfo; stat -c "mode=%a" /scratch; df -k /scratch | tail -n 1; dd if=/dev/zero of=/scratch/big bs=1k count=3000 2>&1; echo dd=$?'
    assert_success
    local l
    l=$(mi_line /scratch)
    assert_contains " - tmpfs tmpfs " "$l"
    assert_contains "size=2048k" "$l"
    assert_contains "mode=1770" "$l"
    assert_contains "mode=1770"
    assert_contains "No space left on device"
    assert_contains "dd=1"
}

@test "tmpfs without mode= takes the mode of the directory it covers; a new directory gets 1777" {
    mkdir -p "$BUNDLE/rootfs/covered"
    chmod 0710 "$BUNDLE/rootfs/covered"
    add_mount '{"destination":"/covered","type":"tmpfs","source":"tmpfs","options":["nosuid","size=1m"]}'
    add_mount '{"destination":"/fresh","type":"tmpfs","source":"tmpfs","options":["nosuid"]}'
    add_mount '{"destination":"/given","type":"tmpfs","source":"tmpfs","options":["mode=0750"]}'
    mkdir -p "$BUNDLE/rootfs/given"
    chmod 0700 "$BUNDLE/rootfs/given"
    ctr_run stat -c "%n %a" /covered /fresh /given
    assert_success
    assert_contains "/covered 710"
    assert_contains "/fresh 1777"
    # runc 1.1 chmods the tmpfs to the covered mode even over mode= (1.2 does not)
    is_husk && assert_contains "/given 750"
}

@test "a read-only bind of /dev takes devpts, shm and mqueue mounted below it" {
    is_husk || skip "runc 1.1 remounts /dev read-only before making /dev/pts"
    mkdir -p "$TEST_DIR/devsrc"
    # /dev is the config's bind: no device nodes are made in it; maskedPaths needs null
    mknod -m 666 "$TEST_DIR/devsrc/null" c 1 3
    # A config without husk's own /dev: a read-only bind, the usual mounts under it.
    update_config '.mounts |= map(select(.destination != "/dev"))
        | .mounts = [.mounts[0], {destination: "/dev", type: "bind", source: $src, options: ["rbind", "ro"]}] + .mounts[1:]' \
        --arg src "$TEST_DIR/devsrc"
    ctr_run sh -c 'cat /proc/self/mountinfo; touch /dev/x; echo w=$?; touch /dev/shm/x; echo shm=$?'
    assert_success
    [[ $(mi_opts /dev) == ro,* ]] || fail "/dev is not read-only: $(mi_line /dev)"
    assert_contains " - devpts devpts " "$(mi_line /dev/pts)"
    assert_contains " - tmpfs shm " "$(mi_line /dev/shm)"
    assert_contains " - mqueue mqueue " "$(mi_line /dev/mqueue)"
    assert_contains "w=1"
    assert_contains "shm=0"
}

@test "proc, sysfs, devpts, mqueue, tmpfs /dev are mounted with their types and options" {
    ctr_run cat /proc/self/mountinfo
    assert_success
    assert_contains " - proc proc " "$(mi_line /proc)"
    assert_contains " - sysfs sysfs " "$(mi_line /sys)"
    [[ $(mi_opts /sys) == ro,* ]] || fail "$(mi_line /sys)"
    assert_contains " - devpts devpts " "$(mi_line /dev/pts)"
    assert_contains "ptmxmode=666" "$(mi_line /dev/pts)"
    assert_contains " - mqueue mqueue " "$(mi_line /dev/mqueue)"
    assert_contains " - tmpfs tmpfs " "$(mi_line /dev)"
    assert_contains " - tmpfs shm " "$(mi_line /dev/shm)"
}

@test "mounts are made in order: a later mount goes on top of an earlier one" {
    add_mount '{"destination":"/stack","type":"tmpfs","source":"first","options":["size=1m"]}'
    add_mount '{"destination":"/stack","type":"tmpfs","source":"second","options":["size=2m"]}'
    add_mount '{"destination":"/stack/inner","type":"tmpfs","source":"third","options":["size=1m"]}'
    ctr_run cat /proc/self/mountinfo
    assert_success
    [[ $(mi_line /stack) == *" second "* ]] || fail "$(mi_line /stack)"
    [[ $(mi_line /stack/inner) == *" third "* ]] || fail "$(mi_line /stack/inner)"
}

@test "cgroup mount (v1 hybrid): a tmpfs with one mount per hierarchy, of the container's cgroup" {
    ctr_run sh -c 'cat /proc/self/mountinfo; echo ---; cat /sys/fs/cgroup/memory/cgroup.procs; echo ---; ls /sys/fs/cgroup; mkdir /sys/fs/cgroup/memory/x; echo mkdir=$?'
    assert_success
    assert_contains " - tmpfs " "$(mi_line /sys/fs/cgroup)"
    local h
    for h in memory cpu pids devices freezer; do
        [ -d "/sys/fs/cgroup/$h" ] || continue
        assert_contains " - cgroup cgroup " "$(mi_line /sys/fs/cgroup/$h)"
        [[ $(mi_opts /sys/fs/cgroup/$h) == ro,* ]] || fail "$(mi_line /sys/fs/cgroup/$h)"
    done
    # runc 1.1 leaves the hybrid unified hierarchy out.
    if [ -d /sys/fs/cgroup/unified ] && is_husk; then
        assert_contains " - cgroup2 cgroup2 " "$(mi_line /sys/fs/cgroup/unified)"
    fi
    # The memory hierarchy is the container's own cgroup: its only process is pid 1
    # and the sh (same process: sh is pid 1 and cat a child).
    local procs
    procs=$(awk '/^---$/ { n++; next } n == 1' <<<"$output")
    [[ $procs == *1* ]] || fail "cgroup.procs: $procs"
    [ "$(wc -l <<<"$procs")" -le 3 ] || fail "host processes visible: $procs"
    assert_contains "mkdir=1"
}

@test "cgroup mount without a cgroup namespace binds the container's own cgroup dirs" {
    update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
    ctr_run sh -c 'cat /proc/self/mountinfo; echo ---; cat /sys/fs/cgroup/memory/cgroup.procs'
    assert_success
    # The mount's root is the container's cgroup path, not the hierarchy root.
    local l
    l=$(mi_line /sys/fs/cgroup/memory)
    [[ $(awk '{ print $4 }' <<<"$l") == */husk/"$ID" ]] || fail "memory hierarchy root: $l"
    local procs
    procs=$(awk '/^---$/ { n++; next } n == 1' <<<"$output")
    [ "$(wc -l <<<"$procs")" -le 3 ] || fail "host processes visible: $procs"
}

# --------------------------------------------------------------------- security

@test "SECURITY: a destination through an absolute symlink stays inside the rootfs" {
    mkdir -p "$TEST_DIR/hostdir"
    echo host >"$TEST_DIR/hostdir/hostfile"
    # rootfs/mnt -> the host's dir, by absolute path; the mount goes deeper below it.
    rm -rf "$BUNDLE/rootfs/mnt"
    ln -s "$TEST_DIR/hostdir" "$BUNDLE/rootfs/mnt"
    add_mount '{"destination":"/mnt/sub/deeper","type":"tmpfs","source":"tmpfs","options":["size=1m"]}'
    add_mount '{"destination":"/mnt","type":"tmpfs","source":"covering","options":["size=1m"]}'
    ctr_run sh -c 'cat /proc/self/mountinfo'
    assert_success
    # The host dir is untouched: nothing created in it, nothing mounted on it.
    assert_equal "$(ls -A "$TEST_DIR/hostdir")" hostfile
    ! grep -q " $TEST_DIR/hostdir" /proc/self/mountinfo
    # The mounts landed in the rootfs, at the symlink's target taken inside the rootfs.
    [ -d "$BUNDLE/rootfs$TEST_DIR/hostdir/sub/deeper" ]
    [ -n "$(mi_line "$TEST_DIR/hostdir")" ] || fail "tmpfs not at the in-rootfs target"
}

@test "SECURITY: a destination through a ../../.. symlink stays inside the rootfs" {
    mkdir -p "$TEST_DIR/escape"
    ln -s "../../../../../../../../..$TEST_DIR/escape" "$BUNDLE/rootfs/climb"
    mkdir -p "$TEST_DIR/src"
    echo srcdata >"$TEST_DIR/src/f"
    add_mount "{\"destination\":\"/climb/made\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\"]}"
    ctr_run sh -c 'cat /climb/made/f'
    assert_success
    assert_equal "$output" srcdata
    [ -z "$(ls -A "$TEST_DIR/escape")" ] || fail "created on the host: $(ls -A "$TEST_DIR/escape")"
    [ -d "$BUNDLE/rootfs$TEST_DIR/escape/made" ]
}

@test "SECURITY: a file bind onto a symlink to a host file does not touch the host file" {
    echo precious >"$TEST_DIR/hostfile"
    ln -s "$TEST_DIR/hostfile" "$BUNDLE/rootfs/etc/target"
    echo replacement >"$TEST_DIR/src"
    add_mount "{\"destination\":\"/etc/target\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\"]}"
    ctr_run cat /etc/target
    # Either the bind landed inside the rootfs or it was refused; never on the host file.
    if [ "$status" -eq 0 ]; then
        assert_equal "$output" replacement
    fi
    assert_equal "$(cat "$TEST_DIR/hostfile")" precious
    ! grep -q " $TEST_DIR/hostfile " /proc/self/mountinfo
}

@test "SECURITY: /proc as a symlink in the rootfs is refused" {
    mkdir -p "$TEST_DIR/fakeproc"
    rmdir "$BUNDLE/rootfs/proc"
    ln -s "$TEST_DIR/fakeproc" "$BUNDLE/rootfs/proc"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "/proc"
    [ -z "$(ls -A "$TEST_DIR/fakeproc")" ]
    assert_no_trace "$ID"
    assert_root_empty
    # Also a relative link to a directory inside the rootfs.
    rm "$BUNDLE/rootfs/proc"
    mkdir -p "$BUNDLE/rootfs/notproc"
    ln -s notproc "$BUNDLE/rootfs/proc"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "/proc"
    assert_root_empty
}

@test "SECURITY: a bind mount into /proc (CVE-2019-16884) is refused" {
    echo x >"$TEST_DIR/src"
    add_mount "{\"destination\":\"/proc/self/attr/exec\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"bind\"]}"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "/proc"
    assert_root_empty
}

@test "SECURITY: a bind mount resolving into /proc through a symlink is refused" {
    mkdir -p "$TEST_DIR/srcdir"
    ln -s /proc/self/attr "$BUNDLE/rootfs/attrlink"
    add_mount "{\"destination\":\"/attrlink\",\"type\":\"bind\",\"source\":\"$TEST_DIR/srcdir\",\"options\":[\"bind\"]}"
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "/proc"
    assert_no_trace "$ID"
    assert_root_empty
}

@test "no mount leaks to the host, during the container's life or after delete" {
    mkdir -p "$TEST_DIR/src"
    add_mount "{\"destination\":\"/b\",\"type\":\"bind\",\"source\":\"$TEST_DIR/src\",\"options\":[\"rbind\"]}"
    add_mount '{"destination":"/t","type":"tmpfs","source":"tmpfs"}'
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    ! grep -q " $TEST_DIR" /proc/self/mountinfo || fail "leak while running: $(grep " $TEST_DIR" /proc/self/mountinfo)"
    run husk delete --force "$ID"
    assert_success
    ! grep -q " $TEST_DIR" /proc/self/mountinfo
}

# --------------------------------------------------------------------- masked / readonly

@test "maskedPaths: a file reads empty, a directory is an empty read-only tmpfs, missing ones are ignored" {
    echo secret >"$BUNDLE/rootfs/etc/secret"
    mkdir -p "$BUNDLE/rootfs/secretdir"
    echo hidden >"$BUNDLE/rootfs/secretdir/f"
    update_config '.linux.maskedPaths = ["/etc/secret", "/secretdir", "/does/not/exist", "/proc/timer_list"]'
    ctr_run sh -c 'echo "file=[$(cat /etc/secret)]"; echo "dir=[$(ls -A /secretdir)]"; touch /secretdir/n; echo dirw=$?; echo "tl=[$(cat /proc/timer_list)]"; cat /proc/self/mountinfo'
    assert_success
    assert_contains "file=[]"
    assert_contains "dir=[]"
    assert_contains "dirw=1"
    assert_contains "tl=[]"
    [[ $(mi_opts /secretdir) == ro,* ]] || fail "$(mi_line /secretdir)"
    assert_contains " - tmpfs " "$(mi_line /secretdir)"
    [ -z "$(mi_line /does/not/exist)" ]
    [ ! -e "$BUNDLE/rootfs/does" ]
}

@test "readonlyPaths: writes fail, missing ones are ignored" {
    mkdir -p "$BUNDLE/rootfs/rodir"
    update_config '.linux.readonlyPaths = ["/rodir", "/nope/nothing", "/proc/sys"]'
    ctr_run sh -c 'touch /rodir/x; echo w=$?; echo 1 >/proc/sys/kernel/hostname; echo sys=$?; touch /etc/ok; echo etc=$?; cat /proc/self/mountinfo'
    assert_success
    assert_contains "w=1"
    assert_contains "sys=1"
    assert_contains "etc=0"
    [[ $(mi_opts /rodir) == ro,* ]] || fail "$(mi_line /rodir)"
    [[ $(mi_opts /proc/sys) == ro,* ]] || fail "$(mi_line /proc/sys)"
    [ ! -e "$BUNDLE/rootfs/nope" ]
}

@test "tmpcopyup: a tmpfs starts with a copy of the directory it covers, symlinks not followed" {
    mkdir -p "$BUNDLE/rootfs/seed/sub"
    echo one >"$BUNDLE/rootfs/seed/f"
    echo two >"$BUNDLE/rootfs/seed/sub/g"
    chmod 0640 "$BUNDLE/rootfs/seed/f"
    chown 1000:1000 "$BUNDLE/rootfs/seed/sub/g"
    chmod 0750 "$BUNDLE/rootfs/seed"
    ln -s /etc/passwd "$BUNDLE/rootfs/seed/link"
    mkfifo "$BUNDLE/rootfs/seed/fifo"
    update_config '.mounts += [{destination: "/seed", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "nosuid", "ro"]},
                               {destination: "/empty", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "mode=1777"]}]'
    ctr_run sh -c 'grep " /seed " /proc/mounts; cat /seed/f /seed/sub/g; stat -c "%n %a %u" /seed /seed/f /seed/sub/g /empty;
                   readlink /seed/link; [ -p /seed/fifo ] && echo fifo; touch /seed/x; echo w=$?'
    assert_success
    assert_contains "tmpfs /seed tmpfs ro"
    assert_contains "one"
    assert_contains "two"
    assert_contains "/seed 750 0"
    assert_contains "/seed/f 640 0"
    assert_contains "/seed/sub/g 644 1000"
    assert_contains "/empty 1777 0"
    assert_contains "/etc/passwd"
    assert_contains "fifo"
    assert_contains "w=1"
    # The copy is the tmpfs's: the rootfs underneath is untouched.
    [ ! -e "$BUNDLE/rootfs/seed/x" ]
    [ ! -e "$BUNDLE/rootfs/empty/x" ]

    # Only for tmpfs.
    update_config '.mounts += [{destination: "/p2", type: "proc", source: "proc", options: ["tmpcopyup"]}]'
    ctr_run true
    assert_failure
    is_husk && assert_contains "tmpcopyup is only for tmpfs"
    assert_root_empty
}
