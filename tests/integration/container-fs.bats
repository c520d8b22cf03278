#!/usr/bin/env bats
# container-fs.bats — husk container diff/commit/export/cp: a container's files seen
# and changed from the host, checked from inside containers (of the committed
# image too, and under podman), from the store's blobs, and from the host's side:
# a symlink in a container never lets cp read or write a host file.

load container
load registry

# diff's lines as one string
diff_of() {
    hc container diff "$1"
}

@test "container diff: A/C/D of a container's changes, none for a fresh one, stopped or running" {
    require_husk
    run hc container create --name fresh busybox:t true
    assert_success
    run diff_of fresh
    assert_success
    assert_equal "$output" ""
    run hc container run --name c1 busybox:t sh -c 'echo hi > /newfile; rm /etc/group; mkdir -p /tmp/d; echo x > /tmp/d/f; echo more >> /etc/passwd'
    assert_success
    run diff_of c1
    assert_success
    assert_equal "$output" "C /etc
D /etc/group
C /etc/passwd
A /newfile
C /tmp
A /tmp/d
A /tmp/d/f"
    # running: the same from its upper dir; by id prefix
    run hc container run -d --name c2 busybox:t sh -c 'touch /run-file; sleep 100'
    assert_success
    local id=$output
    for _ in $(seq 50); do
        [ -n "$(hc container diff c2)" ] && break
        sleep 0.1
    done
    run diff_of "${id:0:12}"
    assert_equal "$output" "A /run-file"
    run hc container diff nosuch
    assert_status 125
    assert_contains "nosuch"
}

@test "container diff/commit: the runtime's mount points in an image without /dev /proc /sys /etc are not changes" {
    require_husk
    mkdir -p "$TEST_DIR/mini/bin"
    cp "$(husk_rootfs)/bin/busybox" "$TEST_DIR/mini/bin/"
    ln -s busybox "$TEST_DIR/mini/bin/sh"
    tar -C "$TEST_DIR/mini" -cf "$TEST_DIR/mini.tar" .
    run hc image import "$TEST_DIR/mini.tar" mini:1
    assert_success
    run hc container run --name m mini:1 /bin/sh -c 'echo x > /bin/new'
    assert_success
    # the runtime made /dev /proc /sys and /etc/{hosts,hostname,resolv.conf} in its upper dir
    local id
    id=$(cid m)
    [ -d "$STORE/containers/$id/upper/proc" ] && [ -e "$STORE/containers/$id/upper/etc/hosts" ] ||
        skip "the runtime made no mount point in the upper dir"
    run diff_of m
    assert_equal "$output" "C /bin
A /bin/new"
    run hc container commit m mini:2
    assert_success
    local layer
    layer=$(hc image inspect mini:2 | jq -r '.[0].RootFS.Layers[1]')
    run tar -tf "$STORE/blobs/sha256/${layer#sha256:}"
    assert_equal "$output" "bin/
bin/new"
}

@test "container commit: whiteouts, opaque dirs, hard links, -c, -m, -a; the image runs with the changes" {
    require_husk
    run hc container run --name c1 -e FROMRUN=1 busybox:t sh -c '
        echo hi > /newfile
        rm /etc/group
        rm -rf /sbin && mkdir /sbin && echo only > /sbin/only
        echo hl > /h1 && ln /h1 /h2
        ln -s /newfile /sl'
    assert_success
    run hc container commit -m "my message" -a "me <me@x>" -c 'CMD ["cat","/newfile"]' -c 'ENV A=1' c1 committed:1
    assert_success
    local img=$output
    [[ $img =~ ^sha256:[0-9a-f]{64}$ ]] || fail "not an image id: $img"
    # the image: its CMD, the container's env, the message
    run hc container run --rm committed:1
    assert_success
    assert_equal "$output" "hi"
    run hc container run --rm committed:1 sh -c 'test ! -e /etc/group && ls /sbin && cat /h1 &&
        test "$(stat -c %i /h1)" = "$(stat -c %i /h2)" && readlink /sl && echo "A=$A FROMRUN=$FROMRUN"'
    assert_success
    assert_equal "$output" "only
hl
/newfile
A=1 FROMRUN=1"
    run hc image history committed:1
    assert_contains "my message"
    run hc image inspect committed:1
    jq -e '.[0].Author == "me <me@x>" and (.[0].RootFS.Layers | length) == 2 and .[0].Config.Cmd == ["cat","/newfile"]
        and (.[0].Config.Env | index("A=1")) != null and (.[0].Config.Env | map(startswith("HOSTNAME=")) | any | not)' \
        <<<"$output" >/dev/null || fail "inspect: $output"
    # the layer tar in the store (uncompressed: its digest is the diff id): the image
    # spec's whiteout and opaque markers, the hard link
    local layer
    layer=$(jq -r '.[0].RootFS.Layers[1]' <<<"$output")
    run tar -tvf "$STORE/blobs/sha256/${layer#sha256:}"
    assert_success
    assert_contains "etc/.wh.group"
    assert_contains "sbin/.wh..wh..opq"
    assert_contains "h2 link to h1"
    assert_not_contains "etc/hosts"
    assert_not_contains "etc/hostname"
    # a commit of the committed image's container stacks one more layer
    run hc container run --name c2 committed:1 sh -c 'rm /newfile'
    run hc container commit c2 committed:2
    assert_success
    run hc container run --rm committed:2 sh -c 'test ! -e /newfile && cat /sbin/only'
    assert_success
    assert_equal "$output" "only"
}

@test "container commit: a running container is paused meanwhile and goes on; bad input leaves no image" {
    require_husk
    run hc container run -d --name r busybox:t sh -c 'echo live > /state; while :; do sleep 0.1; done'
    assert_success
    for _ in $(seq 50); do
        [ -n "$(hc container diff r)" ] && break
        sleep 0.1
    done
    run hc container commit r live:1
    assert_success
    run hc container inspect --format '{{.State.Status}}' r
    assert_equal "$output" "running"
    run hc container run --rm live:1 cat /state
    assert_equal "$output" "live"
    run hc image ls -q
    local before=$output
    run hc container commit -c 'RUN rm -rf /' r bad:1
    assert_status 125
    assert_contains "RUN"
    run hc container commit nosuch x:1
    assert_status 125
    assert_contains "nosuch"
    run hc image ls -q
    assert_equal "$output" "$before"
    run hc container inspect --format '{{.State.Status}}' r
    assert_equal "$output" "running"
}

@test "container commit: the image saved with image save loads and runs under podman" {
    require_husk
    command -v podman >/dev/null || skip "podman not installed"
    local pd=$TEST_DIR/pd c
    mkdir -p "$pd/tmp"
    for c in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/*/libpod_parent/conmon; do
        [ -d "$c" ] && echo "$c" >>"$pd/cg-before"
    done
    touch "$pd/cg-before"
    # podman 4.3 with husk as its runtime (crun refuses hybrid cgroups here), its
    # ulimits within what this machine may set
    cat >"$pd/containers.conf" <<EOF2
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$pd/events.log"
tmp_dir = "$pd/tmp"
EOF2
    pm() { CONTAINERS_CONF=$pd/containers.conf podman --root "$pd/r" --runroot "$pd/rr" --storage-driver vfs --runtime "$HUSK_BIN" "$@"; }
    on_cleanup "CONTAINERS_CONF=$pd/containers.conf podman --root $pd/r --runroot $pd/rr --storage-driver vfs rm -af >/dev/null 2>&1;
        CONTAINERS_CONF=$pd/containers.conf podman --root $pd/r --runroot $pd/rr --storage-driver vfs rmi -af >/dev/null 2>&1;
        for c in /sys/fs/cgroup/*/libpod_parent/conmon /sys/fs/cgroup/*/libpod_parent; do
            [ -d \$c ] && ! grep -qxF \$c $pd/cg-before && rmdir \$c 2>/dev/null; done; rm -rf $pd/r"
    run hc container run --name c1 busybox:t sh -c 'echo hi > /newfile; rm /etc/group; rm -rf /sbin; mkdir /sbin; touch /sbin/only'
    assert_success
    run hc container commit -c 'CMD ["cat","/newfile"]' c1 committed:1
    assert_success
    run hc image save -o "$TEST_DIR/c.tar" committed:1
    assert_success
    run pm load -i "$TEST_DIR/c.tar"
    assert_success
    run pm run --rm localhost/committed:1
    assert_success
    assert_equal "$output" "hi"
    run pm run --rm localhost/committed:1 sh -c 'test ! -e /etc/group && ls /sbin'
    assert_success
    assert_equal "$output" "only"
}

@test "container commit: the image is pushed to a registry, pulled into another store and runs there" {
    require_husk
    command -v docker-registry >/dev/null || skip "docker-registry not installed"
    REG_DIR=$TEST_DIR/reg
    export REG_DIR
    mkdir -p "$REG_DIR"
    on_cleanup "kill \$(cat $REG_DIR/plain/pid) 2>/dev/null"
    reg_start plain plain || fail "the registry did not start"
    run hc container run --name c1 busybox:t sh -c 'echo pushed > /newfile; rm /etc/group; rm -rf /sbin; mkdir /sbin'
    assert_success
    run hc container commit -c 'CMD ["cat","/newfile"]' c1 "$REG_PLAIN/fs/committed:1"
    assert_success
    run --separate-stderr hc image push --tls-verify=false "$REG_PLAIN/fs/committed:1"
    assert_success
    # what skopeo sees there: two layers, the second the commit's plain tar
    run skopeo inspect --raw --tls-verify=false "docker://$REG_PLAIN/fs/committed:1"
    assert_success
    jq -e '(.layers | length) == 2 and .layers[1].mediaType == "application/vnd.oci.image.layer.v1.tar"' \
        <<<"$output" >/dev/null || fail "manifest: $output"
    local other=$TEST_DIR/store2
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --storage-root "$other" image pull -q --tls-verify=false \
        "$REG_PLAIN/fs/committed:1"
    assert_success
    run "$HUSK_BIN" --root "$ROOT" --storage-root "$other" container run --rm "$REG_PLAIN/fs/committed:1"
    assert_success
    assert_equal "$output" "pushed"
    run "$HUSK_BIN" --root "$ROOT" --storage-root "$other" container run --rm "$REG_PLAIN/fs/committed:1" \
        sh -c 'test ! -e /etc/group && ls -A /sbin | wc -l'
    assert_success
    assert_equal "$output" "0"
}

@test "container export: the merged filesystem as a tar; -o FILE; nothing mounted after" {
    require_husk
    run hc container run --name c1 busybox:t sh -c 'echo hi > /newfile; rm /etc/group'
    assert_success
    hc container export c1 >"$TEST_DIR/e.tar"
    run tar -tf "$TEST_DIR/e.tar"
    assert_success
    assert_contains "bin/busybox"
    assert_contains "newfile"
    assert_not_contains "etc/group"
    run hc container export -o "$TEST_DIR/o.tar" c1
    assert_success
    cmp <(tar -tf "$TEST_DIR/o.tar") <(tar -tf "$TEST_DIR/e.tar")
    mkdir "$TEST_DIR/x"
    tar -C "$TEST_DIR/x" -xf "$TEST_DIR/o.tar"
    assert_equal "$(cat "$TEST_DIR/x/newfile")" "hi"
    cmp "$TEST_DIR/x/bin/busybox" "$(husk_rootfs)/bin/busybox"
    # the stopped container's rootfs was mounted for the export only
    ! grep -q "$STORE" /proc/self/mountinfo || fail "mount left: $(grep "$STORE" /proc/self/mountinfo)"
    run hc container export nosuch
    assert_status 125
    ! ls "$TEST_DIR"/*.tmp-* 2>/dev/null || fail "temporary file left"
}

@test "container cp: docker's SRC/DEST rules both ways, '-' tars, running and stopped containers" {
    require_husk
    run hc container run -d --name r busybox:t sh -c 'mkdir -p /d/sub && echo f > /d/sub/f && echo top > /d/top && sleep 100'
    assert_success
    for _ in $(seq 50); do
        hc container exec r test -e /d/top 2>/dev/null && break
        sleep 0.1
    done
    local h=$TEST_DIR/h
    mkdir "$h"
    # container -> host: a file to a new name, into a dir; a dir, its contents ("/.")
    run hc container cp r:/d/top "$h/t1"
    assert_success
    assert_equal "$(cat "$h/t1")" "top"
    run hc container cp r:/d/top "$h"
    assert_success
    assert_equal "$(cat "$h/top")" "top"
    run hc container cp r:/d "$h"
    assert_success
    assert_equal "$(cat "$h/d/sub/f")" "f"
    run hc container cp r:/d/. "$h/new"
    assert_success
    assert_equal "$(cat "$h/new/sub/f")" "f"
    run hc container cp r:/d/top "$h/missing/"
    assert_status 125
    run hc container cp r:/d "$h/t1"
    assert_status 125
    run hc container cp r:/nope "$h"
    assert_status 125
    assert_contains "/nope"
    # '-': a tar on stdout
    run bash -c "'$HUSK_BIN' --root '$ROOT' --storage-root '$STORE' container cp r:/d - | tar -t"
    assert_success
    assert_contains "d/sub/f"
    # host -> container: a file, a dir, a tar on stdin
    echo in > "$h/in"
    run hc container cp "$h/in" r:/d/
    assert_success
    mkdir -p "$h/hd/x" && echo y > "$h/hd/x/y"
    run hc container cp "$h/hd" r:/
    assert_success
    run bash -c "tar -C '$h' -cf - in | '$HUSK_BIN' --root '$ROOT' --storage-root '$STORE' container cp - r:/tmp"
    assert_success
    run hc container exec r sh -c 'cat /d/in /hd/x/y /tmp/in; stat -c %u /d/in'
    assert_equal "$output" "in
y
in
0"
    # a stopped container: its rootfs mounted for the copy only
    run hc container stop -t 0 r
    run hc container cp "$h/in" r:/after
    assert_success
    run hc container cp r:/after "$h/after"
    assert_success
    assert_equal "$(cat "$h/after")" "in"
    ! grep -q "$STORE" /proc/self/mountinfo || fail "mount left"
    run hc container start r
    run hc container exec r cat /after
    assert_equal "$output" "in"
    # --read-only: nothing is written into it, reading is fine
    run hc container create --name ro --read-only busybox:t true
    run hc container cp "$h/in" ro:/tmp/
    assert_status 125
    assert_contains "read-only"
    run hc container cp ro:/etc/passwd "$h/ro-passwd"
    assert_success
    # usage errors
    run hc container cp "$h/in" "$h/in2"
    assert_status 125
    run hc container cp r:/a r:/b
    assert_status 125
}

@test "container cp: symlinks in the container (absolute, ../.., a tar's own) never reach the host" {
    require_husk
    local tag=husk-cp-esc-$$-$RANDOM h=$TEST_DIR/h
    mkdir "$h"
    run hc container run --name c busybox:t sh -c "ln -s / /esc; ln -s ../../../../../../.. /up; ln -s /tmp /tmpl;
        echo container > /etc/ctr-only; ln -s /etc/shadow-of-host /dangling"
    assert_success
    # reads: the container's files, never the host's
    run hc container cp c:/esc/etc/ctr-only "$h/r1"
    assert_success
    assert_equal "$(cat "$h/r1")" "container"
    run hc container cp c:/up/etc/passwd "$h/r2"
    assert_success
    cmp "$h/r2" "$(husk_rootfs)/etc/passwd"
    run hc container cp c:/up/etc/hostname-of-the-host-$tag "$h/r3"
    assert_status 125
    # -L on a symlink: followed inside the container
    run hc container cp -L c:/esc/etc/passwd "$h/r4"
    cmp "$h/r4" "$(husk_rootfs)/etc/passwd"
    # writes: into the container, never the host's / or /tmp
    echo payload > "$h/p"
    run hc container cp "$h/p" "c:/esc/tmp/$tag"
    assert_success
    run hc container cp "$h/p" "c:/up/$tag"
    assert_success
    run hc container cp "$h/p" "c:/tmpl/$tag.2"
    assert_success
    [ ! -e "/tmp/$tag" ] && [ ! -e "/$tag" ] && [ ! -e "/tmp/$tag.2" ] || fail "written on the host"
    # a tar whose own symlink points at / : its next entry still lands in the container
    mkdir -p "$h/t" && ln -s / "$h/t/l" && mkdir "$h/t2" && echo x > "$h/t2/$tag" && \
        tar -C "$h/t" -cf "$h/evil.tar" l && tar -C "$h/t2" -rf "$h/evil.tar" --transform "s,^,l/," "$tag"
    run bash -c "'$HUSK_BIN' --root '$ROOT' --storage-root '$STORE' container cp - c:/tmp <'$h/evil.tar'"
    assert_success
    [ ! -e "/$tag" ] || fail "written on the host: /$tag"
    # ".." in a tar's names: refused
    tar -C "$h" -cf "$h/dots.tar" --transform "s,^,../../../../../tmp/," p
    run bash -c "'$HUSK_BIN' --root '$ROOT' --storage-root '$STORE' container cp - c:/tmp <'$h/dots.tar'"
    assert_status 125
    [ ! -e "/tmp/p" ] || [ "$(cat /tmp/p)" != payload ] || fail "written on the host: /tmp/p"
    # the container has them all
    run hc container cp "c:/$tag" "$h/back1"
    assert_success
    run hc container cp "c:/tmp/$tag" "$h/back2"
    assert_success
    run hc container cp "c:/tmp/$tag.2" "$h/back3"
    assert_success
    assert_equal "$(cat "$h/back1" "$h/back2" "$h/back3")" "x
payload
payload"
}

# Three layers with every entry type, owners, modes, a hard link, an xattr, a file
# whiteout and an opaque directory: the rootfs husk's container gets and podman's
# container gets from the same OCI layout must be the same, entry for entry.
@test "container rootfs: the same as podman's from one image (types, modes, owners, links, contents, whiteouts, opaque dirs)" {
    require_husk
    command -v podman >/dev/null || skip "podman not installed"
    local l=$TEST_DIR/layers pd=$TEST_DIR/pd
    mkdir -p "$l/1/etc" "$l/1/data/keep" "$l/1/data/gone" "$l/1/opq" "$l/2/data" "$l/3/opq" "$pd"
    cp "$(husk_rootfs)/bin/busybox" "$l/1/busybox"
    echo one >"$l/1/data/keep/a"; echo old >"$l/1/data/gone/b"; echo hidden >"$l/1/opq/hidden"
    chmod 0640 "$l/1/data/keep/a"; chown 1000:1001 "$l/1/data/keep/a"
    ln -s keep/a "$l/1/data/sym"; ln "$l/1/data/keep/a" "$l/1/data/hard"
    mkfifo "$l/1/data/fifo"; chmod 4755 "$l/1/busybox"
    echo 'root:x:0:0::/root:/bin/sh' >"$l/1/etc/passwd"
    setfattr -n user.husk -v yes "$l/1/data/keep/a" 2>/dev/null || true
    tar --xattrs -C "$l/1" -cf "$l/1.tar" .
    # layer 2: remove data/gone/b (a whiteout), add a file with odd mode
    mkdir -p "$l/2/data/gone"; : >"$l/2/data/gone/.wh.b"; echo two >"$l/2/data/new"; chmod 0600 "$l/2/data/new"
    tar -C "$l/2" -cf "$l/2.tar" .
    # layer 3: opq/ made opaque (its lower content hidden), one new file in it
    : >"$l/3/opq/.wh..wh..opq"; echo shown >"$l/3/opq/shown"
    tar -C "$l/3" -cf "$l/3.tar" .
    oci_image "$TEST_DIR/layout" t amd64 "$l/1.tar" "$l/2.tar" "$l/3.tar" >/dev/null
    # husk
    run hc image load -i "$TEST_DIR/layout"
    assert_success
    local ref=${output##* }   # "Loaded image ID: sha256:…" (the layout's tag is no image name)
    hc container create --pull never --name r "$ref" sh >/dev/null
    hc container export -o "$TEST_DIR/husk.tar" r
    # podman (vfs, a store of the test's own)
    cat >"$pd/containers.conf" <<EOF2
[engine]
events_logger = "file"
events_logfile_path = "$pd/events.log"
EOF2
    pm() { CONTAINERS_CONF=$pd/containers.conf podman --root "$pd/r" --runroot "$pd/rr" --storage-driver vfs "$@"; }
    on_cleanup "CONTAINERS_CONF=$pd/containers.conf podman --root $pd/r --runroot $pd/rr --storage-driver vfs rm -af >/dev/null 2>&1; CONTAINERS_CONF=$pd/containers.conf podman --root $pd/r --runroot $pd/rr --storage-driver vfs rmi -af >/dev/null 2>&1; rm -rf $pd/r"
    tar -C "$TEST_DIR/layout" -cf "$TEST_DIR/layout.tar" .
    pm load -q -i "$TEST_DIR/layout.tar" >/dev/null 2>&1
    pm create --name r "$(pm images -q | head -1)" sh >/dev/null 2>&1
    pm export -o "$TEST_DIR/podman.tar" r
    python3 "$HUSK_REPO/tests/tools/tarlist.py" "$TEST_DIR/husk.tar" >"$TEST_DIR/husk.list"
    python3 "$HUSK_REPO/tests/tools/tarlist.py" "$TEST_DIR/podman.tar" >"$TEST_DIR/podman.list"
    diff -u "$TEST_DIR/podman.list" "$TEST_DIR/husk.list" || fail "the rootfs differ (podman's, then husk's)"
    # and what the layers say happened, happened
    grep -q '^data/gone d ' "$TEST_DIR/husk.list" || fail "data/gone missing"
    ! grep -q '^data/gone/b ' "$TEST_DIR/husk.list" || fail "the whiteout did not remove data/gone/b"
    ! grep -q '^opq/hidden ' "$TEST_DIR/husk.list" || fail "the opaque dir did not hide opq/hidden"
    grep -q '^opq/shown f ' "$TEST_DIR/husk.list" || fail "opq/shown missing"
    # data/keep/a and data/hard: one file (0640, 1000:1001) and a hard link to it
    grep -qE '^data/(keep/a|hard) f 640 1000:1001 ' "$TEST_DIR/husk.list" || fail "owner or mode of data/keep/a"
    grep -qE '^data/(keep/a|hard) h 640 1000:1001 0 data/(hard|keep/a) ' "$TEST_DIR/husk.list" ||
        fail "the hard link is not one"
}
