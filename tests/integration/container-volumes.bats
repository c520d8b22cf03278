#!/usr/bin/env bats
# container-volumes.bats — -v, --mount, --volumes-from, the image's Volumes and
# `husk volume`: each behaviour seen from inside the container (what it reads and
# writes) and from the host (ROOT/volumes/NAME/_data, the host directory, the
# init's /proc/PID/mountinfo).

load container

setup() {
    container_setup
    # an image with content where volumes go: /data (owned 1234:5678, 0750, a
    # file 0640 inside), a VOLUME /cache with a file, and /escape, a symlink
    # pointing at a host directory outside the rootfs
    local img=$TEST_DIR/img
    mkdir -p "$img" "$TEST_DIR/hostdir"
    tar -C "$img" -xf "$TEST_DIR/bb.tar"
    mkdir -p "$img/data/sub" "$img/cache"
    echo seed >"$img/data/seed"
    echo deep >"$img/data/sub/deep"
    echo cached >"$img/cache/c"
    chown -R 1234:5678 "$img/data"
    chmod 0750 "$img/data"
    chmod 0640 "$img/data/seed"
    ln -s "$TEST_DIR/hostdir" "$img/escape"
    # an xattr to be copied into a volume, where the filesystem takes user xattrs
    XATTR=
    if python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.husk", b"kept")' "$img/data/seed" 2>/dev/null; then
        XATTR=1
    fi
    tar --xattrs --xattrs-include='*' -C "$img" -cf "$TEST_DIR/vol.tar" .
    hc image import -c 'CMD ["sh"]' -c 'VOLUME /cache' "$TEST_DIR/vol.tar" volimg:t >/dev/null || fail "image import failed"
}

vroot() { echo "$STORE/volumes/$1/_data"; }

@test "container volumes: -v NAME:CTR is created, filled with the image's content (owners, modes), written from inside, seen on the host, kept after rm" {
    require_husk
    run hc container run --rm -v myvol:/data volimg:t sh -c 'cat /data/seed /data/sub/deep; echo new >/data/new; stat -c "%u:%g %a" /data /data/seed'
    assert_success
    assert_contains "seed"
    assert_contains "deep"
    assert_contains "1234:5678 750"
    assert_contains "1234:5678 640"
    # the host's view: ROOT/volumes/myvol/_data and volume.json
    [ "$(cat "$(vroot myvol)/new")" = new ] || fail "new not in the volume"
    [ "$(cat "$(vroot myvol)/seed")" = seed ] || fail "seed not copied"
    [ "$(stat -c '%u:%g %a' "$(vroot myvol)")" = "1234:5678 750" ] || fail "_data: $(stat -c '%u:%g %a' "$(vroot myvol)")"
    if [ -n "$XATTR" ]; then
        run python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.husk").decode())' "$(vroot myvol)/seed"
        assert_equal "$output" kept
    fi
    jq -e '.Name == "myvol" and .Driver == "local" and .Scope == "local" and .Anonymous == false' \
        "$STORE/volumes/myvol/volume.json" >/dev/null || fail "$(cat "$STORE/volumes/myvol/volume.json")"
    # survives --rm; an existing non-empty volume is never filled again
    rm "$(vroot myvol)/seed"
    run hc container run --rm -v myvol:/data volimg:t sh -c 'ls /data'
    assert_success
    assert_contains "new"
    assert_not_contains "seed"
    # the image's own /data is untouched
    run hc container run --rm volimg:t cat /data/seed
    assert_success
    assert_equal "$output" "seed"
    # a volume made empty by `volume create` is filled on its first mount (docker's)
    hc volume create pre >/dev/null
    run hc container run --rm -v pre:/data volimg:t cat /data/seed
    assert_success
    assert_equal "$output" "seed"
    [ "$(stat -c '%u:%g %a' "$(vroot pre)")" = "1234:5678 750" ] || fail "pre: $(stat -c '%u:%g %a' "$(vroot pre)")"
    [ -z "$(ls -A "$STORE/volumes/pre" | grep -v -e '^_data$' -e '^volume.json$')" ] || fail "left: $(ls -A "$STORE/volumes/pre")"
}

@test "container volumes: -v HOST:CTR binds the host directory (in the init's mountinfo); :ro is refused writes" {
    require_husk
    mkdir "$TEST_DIR/h"
    echo fromhost >"$TEST_DIR/h/f"
    run hc container run -d --name b -v "$TEST_DIR/h:/mnt/h" -v "$TEST_DIR/h:/mnt/ro:ro" busybox:t sleep 100
    assert_success
    local pid
    pid=$(hc container inspect --format '{{.State.Pid}}' b)
    grep -E " /mnt/h rw" "/proc/$pid/mountinfo" >/dev/null || fail "no bind at /mnt/h: $(cat /proc/$pid/mountinfo)"
    grep -E " /mnt/ro ro" "/proc/$pid/mountinfo" >/dev/null || fail "no ro bind at /mnt/ro: $(cat /proc/$pid/mountinfo)"
    # the mount exists only in the container's mount namespace
    ! grep -q " /mnt/h " /proc/self/mountinfo || fail "the bind is in the host's mount table"
    run hc container exec b sh -c 'cat /mnt/h/f; echo inside >/mnt/h/g'
    assert_success
    assert_contains fromhost
    [ "$(cat "$TEST_DIR/h/g")" = inside ] || fail "write not on the host"
    run hc container exec b sh -c 'echo x >/mnt/ro/z'
    assert_failure
    assert_contains "Read-only file system"
    [ ! -e "$TEST_DIR/h/z" ] || fail "ro bind was written"
    run hc container inspect b
    jq -e --arg h "$TEST_DIR/h" '.[0] | (.Mounts | length) == 2
        and (.Mounts[0] | .Type == "bind" and .Source == $h and .Destination == "/mnt/h" and .RW == true)
        and (.Mounts[1] | .Destination == "/mnt/ro" and .RW == false and .Mode == "ro")
        and (.HostConfig.Binds | length) == 2' <<<"$output" >/dev/null || fail "inspect: $output"
    hc container rm -f b >/dev/null
    [ "$(cat "$TEST_DIR/h/f")" = fromhost ] || fail "host data gone"
}

@test "container volumes: --mount type=bind|volume|tmpfs with docker's keys" {
    require_husk
    mkdir "$TEST_DIR/m"
    run hc container run --rm \
        --mount "type=bind,source=$TEST_DIR/m,target=/b" \
        --mount "type=volume,src=mv,dst=/data,readonly" \
        --mount "type=tmpfs,destination=/t,tmpfs-size=1m" \
        volimg:t sh -c 'echo b >/b/x; cat /data/seed; echo no >/data/y || echo refused; grep " /t " /proc/mounts'
    assert_success
    assert_contains seed
    assert_contains refused
    assert_contains "tmpfs /t tmpfs"
    assert_contains "size=1024k"
    [ "$(cat "$TEST_DIR/m/x")" = b ] || fail "bind not written"
    [ -e "$(vroot mv)/seed" ] && [ ! -e "$(vroot mv)/y" ] || fail "volume mv: $(ls "$(vroot mv)")"
}

@test "container volumes: -v CTR and the image's VOLUME make anonymous volumes, filled; rm -v removes them, rm alone keeps them" {
    require_husk
    run hc container create --name a -v /data volimg:t sh -c 'echo w >/data/w; echo w2 >/cache/w2'
    assert_success
    run hc container inspect a
    local names
    names=$(jq -r '.[0].Mounts[] | select(.Type == "volume") | .Name' <<<"$output" | sort)
    [ "$(wc -l <<<"$names")" = 2 ] || fail "mounts: $output"
    local n
    for n in $names; do
        [[ $n =~ ^[0-9a-f]{64}$ ]] || fail "not a generated name: $n"
        jq -e '.Anonymous == true' "$STORE/volumes/$n/volume.json" >/dev/null || fail "not anonymous: $n"
    done
    local data cache
    data=$(jq -r '.[0].Mounts[] | select(.Destination == "/data") | .Name' <<<"$output")
    cache=$(jq -r '.[0].Mounts[] | select(.Destination == "/cache") | .Name' <<<"$output")
    [ "$(cat "$(vroot "$data")/seed")" = seed ] || fail "/data not filled"
    [ "$(cat "$(vroot "$cache")/c")" = cached ] || fail "/cache not filled"
    run hc container start -a a
    assert_success
    [ -e "$(vroot "$data")/w" ] && [ -e "$(vroot "$cache")/w2" ] || fail "writes not in the volumes"
    # a second container: rm without -v keeps its anonymous volumes
    run hc container create --name k volimg:t true
    local kvol
    kvol=$(hc container inspect --format '{{json .Mounts}}' k | jq -r '.[0].Name')
    hc container rm k >/dev/null
    [ -d "$STORE/volumes/$kvol/_data" ] || fail "rm without -v removed $kvol"
    run hc container rm -v a
    assert_success
    for n in $names; do
        [ ! -e "$STORE/volumes/$n" ] || fail "rm -v left $n"
    done
    # --rm takes the anonymous volumes with the container, as docker's
    local before after
    before=$(ls "$STORE/volumes" | sort)
    run hc container run --rm -v /x volimg:t sh -c 'echo y >/x/y'
    assert_success
    after=$(ls "$STORE/volumes" | sort)
    assert_equal "$after" "$before"
    # a named volume survives rm -v
    hc container run --name nv -v keep:/data volimg:t true >/dev/null
    hc container rm -v nv >/dev/null
    [ -d "$STORE/volumes/keep/_data" ] || fail "rm -v removed a named volume"
}

@test "container volumes: a symlink at the destination pointing out of the rootfs keeps the mount inside the container" {
    require_husk
    run hc container run --rm -v esc:/escape volimg:t sh -c 'echo inside >/escape/x; ls /escape'
    assert_success
    assert_contains x
    # the write went into the volume, and nothing onto the host directory the symlink names
    [ "$(cat "$(vroot esc)/x")" = inside ] || fail "not in the volume: $(ls -la "$(vroot esc)")"
    [ -z "$(ls -A "$TEST_DIR/hostdir")" ] || fail "the host directory was written: $(ls -A "$TEST_DIR/hostdir")"
    ! grep -q "$TEST_DIR/hostdir" /proc/self/mountinfo || fail "a mount landed on the host"
}

@test "container volumes: --volumes-from shares the mounts, :ro makes them read-only" {
    require_husk
    mkdir "$TEST_DIR/h"
    hc container create --name src -v shared:/data -v "$TEST_DIR/h:/h" volimg:t true >/dev/null
    run hc container run --rm --volumes-from src volimg:t sh -c 'echo f >/data/from; echo g >/h/g; cat /data/seed'
    assert_success
    assert_contains seed
    [ -e "$(vroot shared)/from" ] && [ -e "$TEST_DIR/h/g" ] || fail "writes not shared"
    run hc container run --rm --volumes-from src:ro volimg:t sh -c 'echo f >/data/no'
    assert_failure
    assert_contains "Read-only file system"
    run hc container run --rm --volumes-from nosuch volimg:t true
    assert_status 125
    assert_contains "--volumes-from"
}

@test "container volumes: bad specs are one line, exit 125, and leave nothing" {
    require_husk
    local bad
    for bad in "-v relative:dir" "-v /nonexistent-husk:/x" "-v bad/name:/x" "-v a:/x:rx" "-v /x:/" \
        "--mount type=nfs,target=/x" "--mount type=bind,target=/x" "--mount type=volume,target=/x,bogus=1" \
        "--mount type=tmpfs,source=a,target=/x"; do
        # shellcheck disable=SC2086
        run hc container run --rm $bad volimg:t true
        assert_status 125
        [ "$(wc -l <<<"$output")" = 1 ] || fail "$bad: more than one line: $output"
        [[ $output == *"${bad%% *}"* ]] || fail "$bad: the flag is not named: $output"
    done
    run hc container run --rm -v aa:/x -v bb:/x volimg:t true
    assert_status 125
    assert_contains "duplicate mount point"
    run hc container ls -aq
    assert_equal "$output" ""
    [ -z "$(ls -A "$STORE/volumes" 2>/dev/null)" ] || fail "volumes left: $(ls -A "$STORE/volumes")"
}

@test "container volumes: not part of a commit; in diff neither" {
    require_husk
    hc container run --name c -v cv:/data volimg:t sh -c 'echo v >/data/v; echo u >/upper' >/dev/null
    run hc container commit c committed:t
    assert_success
    run hc container run --rm committed:t sh -c 'cat /upper; cat /data/seed; test -e /data/v || echo no-v'
    assert_success
    assert_contains u
    assert_contains seed
    assert_contains no-v
    run hc container diff c
    assert_success
    assert_not_contains "/data"
    # the volume's data is still the volume's
    [ "$(cat "$(vroot cv)/v")" = v ] || fail "volume data gone"
}

@test "volume create, ls (-q, --format json, --filter), inspect, rm (refused while used), prune" {
    require_husk
    run hc volume create --label a=b lab
    assert_success
    assert_equal "$output" lab
    run hc volume create
    assert_success
    [[ $output =~ ^[0-9a-f]{64}$ ]] || fail "not a name: $output"
    local anon=$output
    run hc volume create "bad/name"
    assert_status 125
    assert_contains "bad/name"
    run hc volume inspect lab
    assert_success
    jq -e --arg mp "$STORE/volumes/lab/_data" '.[0] | .Name == "lab" and .Driver == "local" and .Mountpoint == $mp
        and .Labels.a == "b" and .Scope == "local" and (.CreatedAt | length) > 0' <<<"$output" >/dev/null || fail "$output"
    run hc volume inspect nosuch
    assert_status 125
    assert_contains '"nosuch"'
    run hc volume ls -q
    assert_success
    assert_contains lab
    assert_contains "$anon"
    run hc volume ls --format json --filter label=a=b
    assert_success
    jq -e '.Name == "lab" and .Driver == "local"' <<<"$output" >/dev/null || fail "$output"
    run hc volume ls -q --filter name=la
    assert_equal "$output" lab
    # in use: rm refused (also with -f), dangling filter
    hc container create --name u -v lab:/data busybox:t true >/dev/null
    run hc volume rm lab
    assert_status 125
    assert_contains "in use"
    run hc volume rm -f lab
    assert_status 125
    run hc volume ls -q --filter dangling=true
    assert_equal "$output" "$anon"
    # prune: unused anonymous ones only; -a every unused one
    hc volume create keepme >/dev/null
    run hc volume prune -f
    assert_success
    assert_contains "$anon"
    [ ! -e "$STORE/volumes/$anon" ] || fail "prune left $anon"
    [ -d "$STORE/volumes/keepme" ] || fail "prune removed a named volume"
    run hc volume prune -f -a
    assert_success
    assert_contains keepme
    [ -d "$STORE/volumes/lab" ] || fail "prune -a removed a used volume"
    hc container rm u >/dev/null
    run hc volume rm lab
    assert_success
    [ ! -e "$STORE/volumes/lab" ] || fail "rm left lab"
    run hc volume rm -f nosuch
    assert_success
    run hc volume ls -q
    assert_equal "$output" ""
}

@test "container volumes: a create killed after making its volumes leaves whole volumes that prune removes" {
    require_husk
    HUSK_TEST_KILL_AT=list "$HUSK_BIN" --version 2>/dev/null | grep -q '^container-create.after-volumes' ||
        skip "no kill points in $HUSK (configure with -Dtest_hooks=true)"
    run env HUSK_TEST_KILL_AT=container-create.after-volumes "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" \
        container run -d -v /data volimg:t true
    assert_status 137
    run hc container ls -aq
    assert_equal "$output" ""
    # both volumes (-v /data and the image's /cache) are whole: filled, with their volume.json
    run hc volume ls -q
    assert_success
    [ "$(wc -l <<<"$output")" = 2 ] || fail "volumes: $output"
    local n
    for n in $output; do
        jq -e '.Anonymous == true' "$STORE/volumes/$n/volume.json" >/dev/null || fail "$n: no volume.json"
    done
    run hc volume prune -f
    assert_success
    run hc volume ls -q
    assert_equal "$output" ""
    [ -z "$(ls -A "$STORE/volumes")" ] || fail "left: $(ls -A "$STORE/volumes")"
}
