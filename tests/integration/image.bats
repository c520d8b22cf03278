#!/usr/bin/env bats
# image.bats — husk image import/ls/inspect/tag/rm/history/save/load, on a store
# private to each test (--storage-root), checked from the store's files, the
# archives' contents, and against podman reading and writing the same archives.

load helpers

setup() {
    husk_setup
    STORE=$TEST_DIR/store
    export STORE
    ROOTFS=$(husk_rootfs)
    # a rootfs tarball as mydocker's busybox.tar
    tar -C "$ROOTFS" -cf "$TEST_DIR/bb.tar" .
}

himg() {
    "$HUSK_BIN" --storage-root "$STORE" image "$@"
}

# The store holds no image record and no half-written file.
assert_no_images() {
    run himg ls -q
    assert_success
    assert_equal "$output" ""
    if compgen -G "$STORE/images/*.json" >/dev/null; then
        fail "image records left: $(ls "$STORE/images")"
    fi
}

@test "image import: a rootfs tarball becomes an image whose layer is the tar" {
    require_husk
    run himg import -c 'CMD ["sh","-c","echo hi"]' -c 'ENV A=1' -m first "$TEST_DIR/bb.tar" busybox:t
    assert_success
    [[ $output =~ ^sha256:[0-9a-f]{64}$ ]] || fail "not an id: $output"
    local id=$output diff
    diff=sha256:$(sha256sum "$TEST_DIR/bb.tar" | cut -d' ' -f1)
    run himg inspect busybox:t
    assert_success
    jq -e --arg id "$id" --arg d "$diff" '.[0] | .Id == $id and .RepoTags == ["busybox:t"]
        and .Os == "linux" and .Architecture == "amd64" and .RootFS.Type == "layers"
        and .RootFS.Layers == [$d] and .Config.Cmd == ["sh","-c","echo hi"] and .Config.Env == ["A=1"]
        and (.Size > 1000000)' <<<"$output" >/dev/null || fail "inspect: $output"
    # docker's --format templates, as the other inspect verbs take them
    run himg inspect --format '{{.Id}} {{json .RootFS.Layers}}' busybox:t
    assert_success
    assert_equal "$output" "$id [\"$diff\"]"
    # the layer is unpacked once, with the rootfs' files, owners and modes
    local layer=$STORE/layers/${diff#sha256:}/diff
    [ -d "$layer" ] || fail "no $layer"
    assert_equal "$(cd "$layer" && find . -printf '%p %y %m %u\n' | sort)" \
                 "$(cd "$ROOTFS" && find . -printf '%p %y %m %u\n' | sort)"
    cmp "$layer/bin/busybox" "$ROOTFS/bin/busybox"
    # the config's id is the sha256 of the config blob
    assert_equal "$(sha256sum "$STORE/blobs/sha256/${id#sha256:}" | cut -d' ' -f1)" "${id#sha256:}"
    run himg history busybox:t
    assert_success
    assert_contains "husk image import"
    assert_contains "first"
}

@test "image import: gzip and zstd tarballs give the same layer; standard input works" {
    require_husk
    gzip -c "$TEST_DIR/bb.tar" >"$TEST_DIR/bb.tar.gz"
    run himg import "$TEST_DIR/bb.tar.gz" a:gz
    assert_success
    local id1=$output
    if command -v zstd >/dev/null; then
        zstd -q -c "$TEST_DIR/bb.tar" >"$TEST_DIR/bb.tar.zst"
        run himg import "$TEST_DIR/bb.tar.zst" a:zst
        assert_success
    fi
    run bash -c "'$HUSK_BIN' --storage-root '$STORE' image import - a:stdin <'$TEST_DIR/bb.tar'"
    assert_success
    local diff
    diff=sha256:$(sha256sum "$TEST_DIR/bb.tar" | cut -d' ' -f1)
    for t in a:gz a:stdin; do
        run himg inspect "$t"
        assert_success
        assert_equal "$(jq -r '.[0].RootFS.Layers[0]' <<<"$output")" "$diff"
    done
    # one layer directory for all of them
    assert_equal "$(find "$STORE/layers" -mindepth 1 -maxdepth 1 -type d | wc -l)" 1
}

@test "image ls: docker's columns, -q, --digests, --format json, a name filter" {
    require_husk
    run himg import "$TEST_DIR/bb.tar" busybox:t
    assert_success
    local id=$output
    run himg tag busybox:t localhost:5000/bb:v1
    assert_success
    run himg ls
    assert_success
    [[ ${lines[0]} =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]] || fail "header: ${lines[0]}"
    assert_contains "busybox"
    assert_contains "localhost:5000/bb"
    assert_contains "${id:7:12}"
    run himg ls -q
    assert_equal "$output" "${id:7:12}"
    run himg ls --format json
    assert_success
    assert_equal "$(jq -s 'length' <<<"$output")" 2
    jq -e -s --arg s "${id:7:12}" 'all(.ID == $s) and (map(.Repository) | sort) == ["busybox", "localhost:5000/bb"]' \
        <<<"$output" >/dev/null || fail "json: $output"
    run himg ls localhost:5000/bb
    assert_success
    assert_equal "${#lines[@]}" 2
    assert_contains "v1"
    run himg ls --digests
    assert_success
    assert_contains DIGEST
    run himg ls --format yaml
    assert_status 125
    assert_contains "--format"
}

@test "image tag and rm: names move, the last name or the id removes the image" {
    require_husk
    run himg import "$TEST_DIR/bb.tar" one:t
    local id=$output
    run himg tag one:t two:t
    assert_success
    run himg tag "${id:7:6}" three:t
    assert_success
    run himg inspect one:t
    assert_equal "$(jq -c '.[0].RepoTags | sort' <<<"$output")" '["one:t","three:t","two:t"]'
    # an id with several names needs -f
    run himg rm "${id:7:12}"
    assert_status 125
    assert_contains "referenced by 3 tags"
    run himg rm two:t
    assert_success
    assert_equal "$output" "Untagged: two:t"
    run himg inspect two:t
    assert_status 125
    assert_contains 'image "two:t": no such image'
    run himg rm -f "$id"
    assert_success
    assert_contains "Deleted: $id"
    assert_no_images
    # a tag moves from the image that had it
    run himg import "$TEST_DIR/bb.tar" x:1
    local a=$output
    echo extra >"$TEST_DIR/extra"
    tar -C "$TEST_DIR" -cf "$TEST_DIR/other.tar" extra
    run himg import "$TEST_DIR/other.tar" y:1
    local b=$output
    run himg tag y:1 x:1
    assert_success
    run himg inspect x:1
    assert_equal "$(jq -r '.[0].Id' <<<"$output")" "$b"
    run himg inspect "$a"
    assert_equal "$(jq -c '.[0].RepoTags' <<<"$output")" '[]'
}

@test "image save/load: docker-archive and oci-archive round-trip to the same image" {
    require_husk
    run himg import -c 'CMD ["sh"]' "$TEST_DIR/bb.tar" busybox:t
    local id=$output
    run himg save -o "$TEST_DIR/d.tar" busybox:t
    assert_success
    # docker's layout: manifest.json naming the config and each layer as a plain tar
    tar -xOf "$TEST_DIR/d.tar" manifest.json | jq -e --arg c "${id#sha256:}.json" \
        '.[0].Config == $c and .[0].RepoTags == ["busybox:t"] and (.[0].Layers | length) == 1' >/dev/null
    run himg save -o "$TEST_DIR/o.tar" --format oci-archive busybox:t
    assert_success
    tar -xOf "$TEST_DIR/o.tar" index.json | jq -e \
        '.manifests[0].annotations["org.opencontainers.image.ref.name"] == "docker.io/library/busybox:t"' >/dev/null
    local f
    for f in d.tar o.tar; do
        run himg rm busybox:t
        assert_success
        assert_no_images
        run himg load -i "$TEST_DIR/$f"
        assert_success
        assert_equal "$output" "Loaded image: busybox:t"
        run himg inspect busybox:t
        assert_equal "$(jq -r '.[0].Id' <<<"$output")" "$id"
    done
    # an OCI layout directory
    mkdir "$TEST_DIR/layout"
    tar -C "$TEST_DIR/layout" -xf "$TEST_DIR/o.tar"
    run himg rm busybox:t
    run himg load -i "$TEST_DIR/layout"
    assert_success
    assert_equal "$output" "Loaded image: busybox:t"
}

@test "image save/load: podman loads husk's archives and husk loads podman's, same image ids" {
    require_husk
    command -v podman >/dev/null || skip "podman not installed"
    local pd=$TEST_DIR/pd
    mkdir -p "$pd"
    cat >"$pd/containers.conf" <<EOF2
[engine]
events_logger = "file"
events_logfile_path = "$pd/events.log"
EOF2
    pm() { CONTAINERS_CONF=$pd/containers.conf podman --root "$pd/r" --runroot "$pd/rr" --storage-driver vfs "$@"; }
    on_cleanup "CONTAINERS_CONF=$pd/containers.conf podman --root $pd/r --runroot $pd/rr --storage-driver vfs rmi -af >/dev/null 2>&1; rm -rf $pd/r"
    run himg import -c 'CMD ["sh"]' "$TEST_DIR/bb.tar" busybox:t
    local id=$output
    run himg save -o "$TEST_DIR/d.tar" busybox:t
    assert_success
    run pm load -i "$TEST_DIR/d.tar"
    assert_success
    # podman 4 names a short RepoTag of a docker-archive localhost/NAME (docker: docker.io/library/NAME)
    run pm image inspect --format '{{.Id}}' localhost/busybox:t
    assert_success
    assert_equal "$output" "${id#sha256:}"
    # the other way: podman's docker-archive and oci-archive
    run pm save -o "$TEST_DIR/p-d.tar" localhost/busybox:t
    assert_success
    run pm save --format oci-archive -o "$TEST_DIR/p-o.tar" localhost/busybox:t
    assert_success
    run himg rm busybox:t
    run himg load -i "$TEST_DIR/p-d.tar"
    assert_success
    assert_equal "$output" "Loaded image: localhost/busybox:t"
    run himg inspect localhost/busybox:t
    assert_equal "$(jq -r '.[0].Id' <<<"$output")" "$id"
    run himg rm localhost/busybox:t
    assert_no_images
    run himg load -i "$TEST_DIR/p-o.tar"
    assert_success
    run himg inspect "${id:7:12}"
    assert_success
}

@test "image load/import/inspect: bad input is one line naming it, exit 125, nothing registered" {
    require_husk
    echo "not an archive" >"$TEST_DIR/junk"
    run himg load -i "$TEST_DIR/junk"
    assert_status 125
    assert_contains "$TEST_DIR/junk"
    assert_equal "${#lines[@]}" 1
    assert_no_images
    run himg import "$TEST_DIR/missing.tar" x:y
    assert_status 125
    assert_contains "$TEST_DIR/missing.tar"
    assert_no_images
    run himg import "$TEST_DIR/bb.tar" 'Bad:Name'
    assert_status 125
    assert_contains 'invalid reference "Bad:Name"'
    assert_no_images
    run himg import "$TEST_DIR/bb.tar" "x@sha256:$(printf '%064d' 0)"
    assert_status 125
    assert_contains 'a digest cannot name a new image'
    assert_no_images
    run himg import -c 'RUN rm -rf /' "$TEST_DIR/bb.tar" x:y
    assert_status 125
    assert_contains 'RUN cannot be applied here'
    assert_no_images
    run himg inspect nosuch:tag
    assert_status 125
    assert_contains 'image "nosuch:tag": no such image'
    run himg tag nosuch:tag x:y
    assert_status 125
    # an archive whose layer was changed after it was written: the config's diff_id no longer matches
    run himg import "$TEST_DIR/bb.tar" busybox:t
    run himg save -o "$TEST_DIR/d.tar" busybox:t
    run himg rm busybox:t
    mkdir "$TEST_DIR/x"
    tar -C "$TEST_DIR/x" -xf "$TEST_DIR/d.tar"
    local layer
    layer=$(jq -r '.[0].Layers[0]' "$TEST_DIR/x/manifest.json")
    echo tampered >"$TEST_DIR/evil"
    tar -C "$TEST_DIR" -rf "$TEST_DIR/x/$layer" evil
    tar -C "$TEST_DIR/x" -cf "$TEST_DIR/bad.tar" .
    # into an empty store: one that has the layer already would not read it again
    rm -rf "$STORE"
    run himg load -i "$TEST_DIR/bad.tar"
    assert_status 125
    assert_contains "archive $TEST_DIR/bad.tar: layer"
    assert_contains "diff id mismatch"
    assert_no_images
    # and the blobs it had stored are taken back
    assert_equal "$(find "$STORE/blobs" -type f | wc -l)" 0
    # a file that is no tar: its blob goes too
    run himg import "$TEST_DIR/junk" x:y
    assert_status 125
    assert_contains "import $TEST_DIR/junk"
    assert_equal "$(find "$STORE/blobs" -type f | wc -l)" 0
    assert_no_images
}

@test "image prune: dangling images, then (-a) every image; blobs and layers nobody uses go" {
    require_husk
    run himg import "$TEST_DIR/bb.tar" keep:1
    local keep=$output
    echo extra >"$TEST_DIR/extra"
    tar -C "$TEST_DIR" -cf "$TEST_DIR/other.tar" extra
    run himg import "$TEST_DIR/other.tar" gone:1
    local gone=$output
    run himg tag keep:1 gone:1    # gone's image is now dangling
    local layer_other
    layer_other=$(sha256sum "$TEST_DIR/other.tar" | cut -d' ' -f1)
    [ -d "$STORE/layers/$layer_other" ]
    # without -f it asks; "n" keeps everything
    run bash -c "echo n | '$HUSK_BIN' --storage-root '$STORE' image prune"
    assert_success
    run himg inspect "$gone"
    assert_success
    run himg prune -f
    assert_success
    assert_contains "deleted: $gone"
    assert_contains "Total reclaimed space:"
    run himg inspect "$gone"
    assert_status 125
    [ ! -e "$STORE/layers/$layer_other" ] || fail "the dangling image's layer is still there"
    [ ! -e "$STORE/blobs/sha256/$layer_other" ] || fail "its blob is still there"
    run himg inspect keep:1
    assert_success
    run himg prune -a -f
    assert_success
    assert_contains "untagged: keep:1"
    assert_contains "deleted: $keep"
    assert_no_images
    assert_equal "$(find "$STORE/blobs" "$STORE/layers" "$STORE/l" -mindepth 1 \( -type f -o -type d -o -type l \) \
        ! -name '*.lock' ! -name sha256 | wc -l)" 0
}
