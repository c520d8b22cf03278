#!/usr/bin/env bats
# image-registry.bats — husk image pull/push, login/logout against Debian's
# docker-registry on 127.0.0.1 (plain HTTP, TLS with a CA made here, TLS + htpasswd),
# with images built here by hand (OCI layout, busybox-static) and pushed with skopeo.

load helpers
load registry

setup_file() {
    REG_DIR=$(mktemp -d /tmp/husk-reg.XXXXXX)
    export REG_DIR
    reg_start plain plain
    reg_start tls tls
    reg_start auth auth
    REG_TOKEN_REPOS="test/bb pushed/tok" reg_start token token

    local rootfs w=$REG_DIR/work
    rootfs=$(husk_rootfs)
    mkdir -p "$w/l2" "$w/arm" "$w/big"
    tar -C "$rootfs" -cf "$w/base.tar" .
    echo amd64 >"$w/l2/arch"
    echo "hello from layer 2" >"$w/l2/hello"
    tar -C "$w/l2" -cf "$w/l2.tar" .
    echo arm64 >"$w/arm/arch"
    tar -C "$w/arm" -cf "$w/arm.tar" .
    # one layer bigger than the chunk size of a push (8 MiB), incompressible
    head -c 12000000 /dev/urandom >"$w/big/blob"
    tar -C "$w/big" -cf "$w/big.tar" .

    L=$REG_DIR/layout
    export L
    oci_image "$L" bb amd64 "$w/base.tar" "$w/l2.tar" >"$REG_DIR/bb.digest"
    oci_image "$L" bb-arm arm64 "$w/base.tar" "$w/arm.tar" >/dev/null
    oci_index "$L" multi bb bb-arm >"$REG_DIR/multi.digest"
    oci_image "$L" big amd64 "$w/base.tar" "$w/big.tar" >/dev/null
    # a layer no runtime knows how to unpack (an artifact)
    echo artifact >"$w/odd.tar"
    OCI_LAYER_TYPE=application/vnd.example.unknown oci_image "$L" odd amd64 "$w/odd.tar" >/dev/null

    # a layer whose gzip stream ends early (the blob is whole: its digest is the short one's)
    mkdir -p "$w/tr"
    head -c 300000 /dev/urandom >"$w/tr/data"
    tar -C "$w/tr" -cf "$w/tr.tar" .
    OCI_LAYER_TRUNCATE=4096 oci_image "$L" trunc amd64 "$w/tr.tar" >/dev/null

    reg_push "$L" bb "$REG_PLAIN/test/bb:1"
    reg_push "$L" trunc "$REG_PLAIN/test/trunc:1"
    reg_push "$L" multi "$REG_PLAIN/test/multi:1"
    reg_push "$L" odd "$REG_PLAIN/test/odd:1"
    reg_push "$L" bb "$REG_TLS/test/bb:1"
    reg_push "$L" bb "$REG_AUTH/test/bb:1" --dest-creds "$REG_USER:$REG_PASS"
    reg_push "$L" bb "$REG_TOKEN/test/bb:1" --dest-creds "$REG_USER:$REG_PASS"
    # fault proxies (tests/tools/fault_proxy.py) in front of the real registries
    proxy_start faults "$REG_PLAIN"
    proxy_start tokfront "$REG_TOKEN"
    proxy_start sink "$REG_PLAIN"
}

teardown_file() {
    reg_stop_all
    rm -rf "$REG_DIR"
}

setup() {
    husk_setup
    STORE=$TEST_DIR/store
    # no credentials or engine settings of the host's
    export REGISTRY_AUTH_FILE=$TEST_DIR/auth.json HOME=$TEST_DIR/home XDG_RUNTIME_DIR=$TEST_DIR/xdg
    export HUSK_ENGINE_CONFIG=$TEST_DIR/engine.json HUSK_CERTS_DIR=$TEST_DIR/no-certs
    mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
}

himg() {
    "$HUSK_BIN" --storage-root "$STORE" image "$@"
}

# The store holds no image record, and no blob is named that does not hash to its name.
assert_nothing_registered() {
    if compgen -G "$STORE/images/*.json" >/dev/null; then
        fail "image records left: $(ls "$STORE/images")"
    fi
    local b
    for b in "$STORE"/blobs/sha256/*; do
        [ -f "$b" ] || continue
        [ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || fail "blob $b does not match its name"
    done
}

# One line on stderr, naming the reference, exit 125.
assert_engine_error() { # REF WHAT
    assert_status 125
    assert_equal "$(wc -l <<<"$stderr")" 1
    [[ $stderr == *"$1"* ]] || fail "the error does not name $1: $stderr"
    [[ $stderr == *"$2"* ]] || fail "the error does not say \"$2\": $stderr"
}

@test "image pull: plain HTTP with --tls-verify=false; layers unpacked, image registered, -q prints the id" {
    require_husk
    run --separate-stderr himg pull --tls-verify=false "$REG_PLAIN/test/bb:1"
    assert_success
    local digest
    digest=$(cat "$REG_DIR/bb.digest")
    assert_equal "$output" "Digest: $digest
Status: Downloaded newer image for $REG_PLAIN/test/bb:1
$REG_PLAIN/test/bb:1"
    # every blob of the manifest is in the store, whole
    local m=$L/blobs/sha256/${digest#sha256:} d
    for d in $(jq -r '.config.digest, .layers[].digest' "$m") "$digest"; do
        cmp "$STORE/blobs/sha256/${d#sha256:}" "$L/blobs/sha256/${d#sha256:}"
    done
    run himg inspect "$REG_PLAIN/test/bb:1"
    assert_success
    local id
    id=$(jq -r '.config.digest' "$m")
    jq -e --arg id "$id" --arg r "$REG_PLAIN/test/bb:1" --arg d "$REG_PLAIN/test/bb@$digest" \
        '.[0] | .Id == $id and .RepoTags == [$r] and .RepoDigests == [$d] and .Architecture == "amd64"' \
        <<<"$output" >/dev/null || fail "inspect: $output"
    # the top layer's file, in its layer directory
    local top
    top=$(jq -r '.rootfs.diff_ids | last' "$L/blobs/sha256/${id#sha256:}")
    grep -rqs "hello from layer 2" "$STORE/layers/" || fail "layer 2 not unpacked"
    # again: nothing fetched, up to date; -q prints only the id
    run --separate-stderr himg pull -q --tls-verify=false "$REG_PLAIN/test/bb:1"
    assert_success
    assert_equal "$output" "$id"
    run himg pull --tls-verify=false "$REG_PLAIN/test/bb:1"
    assert_contains "Status: Image is up to date for $REG_PLAIN/test/bb:1"
    : "$top"
}

@test "image pull: by digest; blobs already in the store are not fetched again" {
    require_husk
    local digest
    digest=$(cat "$REG_DIR/bb.digest")
    run himg pull -q --tls-verify=false "$REG_PLAIN/test/bb@$digest"
    assert_success
    # the registry's copy of the layers goes away: a second pull from another tag that
    # names the same blobs must not need them
    run himg pull -q --tls-verify=false "$REG_PLAIN/test/multi:1"
    assert_success
    local n
    n=$(find "$STORE/blobs/sha256" -type f | wc -l)
    [ "$n" -ge 5 ] || fail "only $n blobs"
}

@test "image pull: TLS is the default; plain HTTP only with --tls-verify=false or insecure-registries" {
    require_husk
    run --separate-stderr himg pull "$REG_PLAIN/test/bb:1"
    assert_engine_error "$REG_PLAIN/test/bb:1" "unreachable"
    assert_nothing_registered
    echo "{\"insecure-registries\": [\"$REG_PLAIN\"]}" >"$HUSK_ENGINE_CONFIG"
    run --separate-stderr himg pull -q "$REG_PLAIN/test/bb:1"
    assert_success
    # a CIDR entry as docker takes it
    rm -rf "$STORE"
    echo '{"insecure-registries": ["127.0.0.0/8"]}' >"$HUSK_ENGINE_CONFIG"
    run --separate-stderr himg pull -q "$REG_PLAIN/test/bb:1"
    assert_success
}

@test "image pull: TLS verified against the registry's CA from certs.d/HOST:PORT/ca.crt" {
    require_husk
    # no CA: the certificate is refused
    run --separate-stderr himg pull "$REG_TLS/test/bb:1"
    assert_engine_error "$REG_TLS/test/bb:1" "certificate"
    assert_nothing_registered
    export HUSK_CERTS_DIR=$REG_DIR/certs.d
    run --separate-stderr himg pull -q "$REG_TLS/test/bb:1"
    assert_success
    # --tls-verify=false talks TLS without checking it
    rm -rf "$STORE"
    export HUSK_CERTS_DIR=$TEST_DIR/no-certs
    run --separate-stderr himg pull -q --tls-verify=false "$REG_TLS/test/bb:1"
    assert_success
}

@test "image pull: basic auth: refused without or with wrong credentials, pulled with --creds" {
    require_husk
    export HUSK_CERTS_DIR=$REG_DIR/certs.d
    run --separate-stderr himg pull "$REG_AUTH/test/bb:1"
    assert_engine_error "$REG_AUTH/test/bb:1" "authentication required"
    run --separate-stderr himg pull --creds "$REG_USER:wrong" "$REG_AUTH/test/bb:1"
    assert_engine_error "$REG_AUTH/test/bb:1" "unauthorized"
    assert_nothing_registered
    run --separate-stderr himg pull -q --creds "$REG_USER:$REG_PASS" "$REG_AUTH/test/bb:1"
    assert_success
}

@test "image pull/push, login: bearer tokens from the registry's realm, fetched with the credentials, per scope" {
    require_husk
    local log=$REG_DIR/token/token.log
    : >"$log"
    run --separate-stderr himg pull --tls-verify=false "$REG_TOKEN/test/bb:1"
    assert_engine_error "$REG_TOKEN/test/bb:1" "authentication required"
    run --separate-stderr himg pull --tls-verify=false --creds "$REG_USER:nope" "$REG_TOKEN/test/bb:1"
    assert_engine_error "$REG_TOKEN/test/bb:1" "unauthorized"
    assert_nothing_registered
    : >"$log"
    run --separate-stderr himg pull -q --tls-verify=false --creds "$REG_USER:$REG_PASS" "$REG_TOKEN/test/bb:1"
    assert_success
    # one token for the pull scope, asked once for the manifest and every blob
    assert_equal "$(cat "$log")" "service=husk-test-registry&scope=repository%3Atest%2Fbb%3Apull credentials=ok"
    : >"$log"
    run --separate-stderr himg push --tls-verify=false --creds "$REG_USER:$REG_PASS" "$REG_TOKEN/test/bb:1" \
        "$REG_TOKEN/pushed/tok:1"
    assert_success
    assert_equal "$(cat "$log")" "service=husk-test-registry&scope=repository%3Apushed%2Ftok%3Apull%2Cpush credentials=ok"
    run skopeo inspect --raw --tls-verify=false --creds "$REG_USER:$REG_PASS" "docker://$REG_TOKEN/pushed/tok:1"
    assert_success
    # login asks the realm for a token of no scope
    : >"$log"
    run --separate-stderr "$HUSK_BIN" login --tls-verify=false -u "$REG_USER" -p "$REG_PASS" "$REG_TOKEN"
    assert_success
    assert_equal "$(cat "$log")" "service=husk-test-registry credentials=ok"
    run --separate-stderr "$HUSK_BIN" login --tls-verify=false -u "$REG_USER" -p bad "$REG_TOKEN"
    assert_engine_error "$REG_TOKEN" "unauthorized"
}

@test "login/logout: checked against the registry, stored 0600 in REGISTRY_AUTH_FILE, used by pull" {
    require_husk
    export HUSK_CERTS_DIR=$REG_DIR/certs.d
    run --separate-stderr "$HUSK_BIN" login -u "$REG_USER" -p wrong "$REG_AUTH"
    assert_engine_error "$REG_AUTH" "unauthorized"
    [ ! -e "$REGISTRY_AUTH_FILE" ] || fail "a refused login wrote $(cat "$REGISTRY_AUTH_FILE")"
    # another registry's entry is kept
    echo '{"auths": {"other.example:5000": {"auth": "YTpi"}}, "x": 1}' >"$REGISTRY_AUTH_FILE"
    run --separate-stderr bash -c "echo '$REG_PASS' | '$HUSK_BIN' login -u '$REG_USER' --password-stdin '$REG_AUTH'"
    assert_success
    assert_equal "$output" "Login Succeeded!"
    assert_equal "$(stat -c %a "$REGISTRY_AUTH_FILE")" 600
    jq -e --arg h "$REG_AUTH" --arg a "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64)" \
        '.auths[$h].auth == $a and .auths["other.example:5000"].auth == "YTpi" and .x == 1' \
        "$REGISTRY_AUTH_FILE" >/dev/null || fail "auth file: $(cat "$REGISTRY_AUTH_FILE")"
    run --separate-stderr himg pull -q "$REG_AUTH/test/bb:1"
    assert_success
    run --separate-stderr "$HUSK_BIN" logout "$REG_AUTH"
    assert_success
    jq -e --arg h "$REG_AUTH" '.auths[$h] == null and .auths["other.example:5000"] != null' \
        "$REGISTRY_AUTH_FILE" >/dev/null || fail "auth file: $(cat "$REGISTRY_AUTH_FILE")"
    run --separate-stderr "$HUSK_BIN" logout "$REG_AUTH"
    assert_engine_error "$REG_AUTH" "not logged in"
}

@test "image pull: credentials from docker's ~/.docker/config.json and podman's XDG_RUNTIME_DIR auth.json" {
    require_husk
    export HUSK_CERTS_DIR=$REG_DIR/certs.d
    unset REGISTRY_AUTH_FILE
    local a
    a=$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64)
    mkdir -p "$HOME/.docker"
    echo "{\"auths\": {\"https://$REG_AUTH\": {\"auth\": \"$a\"}}}" >"$HOME/.docker/config.json"
    run --separate-stderr himg pull -q "$REG_AUTH/test/bb:1"
    assert_success
    rm -rf "$STORE" "$HOME/.docker"
    mkdir -p "$XDG_RUNTIME_DIR/containers"
    echo "{\"auths\": {\"$REG_AUTH\": {\"auth\": \"$a\"}}}" >"$XDG_RUNTIME_DIR/containers/auth.json"
    run --separate-stderr himg pull -q "$REG_AUTH/test/bb:1"
    assert_success
    # and login writes there when REGISTRY_AUTH_FILE is not set
    rm "$XDG_RUNTIME_DIR/containers/auth.json"
    run --separate-stderr "$HUSK_BIN" login -u "$REG_USER" -p "$REG_PASS" "$REG_AUTH"
    assert_success
    [ -f "$XDG_RUNTIME_DIR/containers/auth.json" ] || fail "login did not write XDG_RUNTIME_DIR/containers/auth.json"
}

@test "image pull: the platform from an index: the host's by default, --platform, none that fits" {
    require_husk
    run --separate-stderr himg pull --tls-verify=false "$REG_PLAIN/test/multi:1"
    assert_success
    assert_contains "Digest: $(cat "$REG_DIR/multi.digest")"
    run himg inspect "$REG_PLAIN/test/multi:1"
    assert_equal "$(jq -r '.[0].Architecture' <<<"$output")" amd64
    run --separate-stderr himg pull --tls-verify=false --platform linux/arm64 "$REG_PLAIN/test/multi:1"
    assert_success
    run himg inspect "$REG_PLAIN/test/multi:1"
    assert_equal "$(jq -r '.[0].Architecture' <<<"$output")" arm64
    run --separate-stderr himg pull --tls-verify=false --platform linux/s390x "$REG_PLAIN/test/multi:1"
    assert_engine_error "$REG_PLAIN/test/multi:1" "linux/s390x"
    [[ $stderr == *"linux/amd64, linux/arm64"* ]] || fail "the error does not list the index's platforms"
    run --separate-stderr himg pull --tls-verify=false --platform nonsense "$REG_PLAIN/test/multi:1"
    assert_status 125
}

@test "image pull: a missing tag, an unreachable registry, an unknown layer media type: one line, exit 125" {
    require_husk
    run --separate-stderr himg pull --tls-verify=false "$REG_PLAIN/test/bb:nope"
    assert_engine_error "$REG_PLAIN/test/bb:nope" "not found"
    local port
    port=$(_reg_free_port)
    run --separate-stderr himg pull "127.0.0.1:$port/test/bb:1"
    assert_engine_error "127.0.0.1:$port/test/bb:1" "unreachable"
    run --separate-stderr himg pull --tls-verify=false "$REG_PLAIN/test/odd:1"
    assert_engine_error "$REG_PLAIN/test/odd:1" "unknown layer media type \"application/vnd.example.unknown\""
    assert_nothing_registered
}

@test "image pull: connection errors are retried with backoff: a registry that comes up a moment later is reached" {
    require_husk
    local port
    port=$(_reg_free_port)
    himg pull --tls-verify=false "127.0.0.1:$port/test/late:1" >"$TEST_DIR/out" 2>"$TEST_DIR/err" &
    local pid=$!
    sleep 0.3
    reg_start late plain "$port" || fail "late registry: $(cat "$REG_DIR/late/log")"
    wait "$pid" && fail "pulled a tag that does not exist"
    # it reached the registry: the tag is missing, not the registry
    grep -q "not found" "$TEST_DIR/err" || fail "not retried: $(cat "$TEST_DIR/err")"
    kill "$(cat "$REG_DIR/late/pid")"
    wait "$(cat "$REG_DIR/late/pid")" 2>/dev/null || true
    rm -f "$REG_DIR/late/pid"
}

@test "image pull: docker.io images through a registry-mirrors entry of engine.json" {
    require_husk
    # anything that would leave for docker.io goes to a dead proxy instead
    export https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
    echo "{\"registry-mirrors\": [\"http://$REG_PLAIN\"]}" >"$HUSK_ENGINE_CONFIG"
    run --separate-stderr himg pull test/bb:1
    assert_success
    assert_contains "Status: Downloaded newer image for docker.io/test/bb:1"
    run himg inspect test/bb:1
    assert_success
    jq -e '.[0].RepoTags == ["test/bb:1"]' <<<"$output" >/dev/null || fail "inspect: $output"
}

@test "image pull: a corrupted blob is refused (digest mismatch), nothing registered or named" {
    require_husk
    # an image of its own whose layer the registry then serves corrupted
    local w=$TEST_DIR/c layout=$TEST_DIR/layout
    mkdir -p "$w/d"
    echo "corrupt me $RANDOM$RANDOM" >"$w/d/f"
    tar -C "$w/d" -cf "$w/l.tar" .
    oci_image "$layout" c amd64 "$w/l.tar" >/dev/null
    reg_push "$layout" c "$REG_PLAIN/test/corrupt:1"
    local m layer data
    m=$(jq -r '.manifests[0].digest' "$layout/index.json")
    layer=$(jq -r '.layers[0].digest | sub("sha256:"; "")' "$layout/blobs/sha256/${m#sha256:}")
    data=$REG_DIR/plain/data/docker/registry/v2/blobs/sha256/${layer:0:2}/$layer/data
    [ -f "$data" ] || fail "no $data"
    # same size, one byte different
    printf 'X' | dd of="$data" bs=1 seek=20 conv=notrunc 2>/dev/null
    run --separate-stderr himg pull --tls-verify=false "$REG_PLAIN/test/corrupt:1"
    assert_engine_error "$REG_PLAIN/test/corrupt:1" "digest mismatch"
    [[ $stderr == *"sha256:$layer"* ]] || fail "the error does not name the blob: $stderr"
    [ ! -e "$STORE/blobs/sha256/$layer" ] || fail "the corrupted blob was named"
    assert_nothing_registered
}

@test "image pull: two pulls of images sharing layers at once fetch each blob once" {
    require_husk
    local digest base before after
    digest=$(cat "$REG_DIR/bb.digest")
    base=$(jq -r '.layers[0].digest' "$L/blobs/sha256/${digest#sha256:}")
    before=$(grep -c "GET /v2/test/[a-z]*/blobs/$base" "$REG_DIR/plain/log" || true)
    ( "$HUSK_BIN" --storage-root "$STORE" image pull -q --tls-verify=false "$REG_PLAIN/test/bb:1" >"$TEST_DIR/a" 2>&1
      echo $? >>"$TEST_DIR/a" ) &
    local p1=$!
    ( "$HUSK_BIN" --storage-root "$STORE" image pull -q --tls-verify=false "$REG_PLAIN/test/multi:1" \
        >"$TEST_DIR/b" 2>&1
      echo $? >>"$TEST_DIR/b" ) &
    local p2=$!
    wait "$p1" "$p2"
    assert_equal "$(tail -1 "$TEST_DIR/a")" 0
    assert_equal "$(tail -1 "$TEST_DIR/b")" 0
    # both name the same image (multi's amd64 entry is bb's manifest)
    assert_equal "$(head -1 "$TEST_DIR/a")" "$(head -1 "$TEST_DIR/b")"
    after=$(grep -c "GET /v2/test/[a-z]*/blobs/$base" "$REG_DIR/plain/log" || true)
    assert_equal "$((after - before))" 1
}

@test "image pull: a blob another pull holds the lock of is waited for and then found, not fetched" {
    require_husk
    local digest base log=$REG_DIR/plain/log before start
    digest=$(cat "$REG_DIR/bb.digest")
    base=$(jq -r '.layers[0].digest | sub("sha256:"; "")' "$L/blobs/sha256/${digest#sha256:}")
    mkdir -p "$STORE/blobs/.locks" "$STORE/blobs/sha256"
    # "another pull": holds the blob's lock, then stores the blob and lets go
    flock "$STORE/blobs/.locks/$base" sh -c "echo 1 >'$TEST_DIR/locked'; sleep 1.5;
        cp '$L/blobs/sha256/$base' '$STORE/blobs/sha256/$base'" &
    local holder=$!
    wait_for_file "$TEST_DIR/locked"
    before=$(grep -c "GET /v2/test/bb/blobs/sha256:$base" "$log" || true)
    start=$(date +%s%N)
    run --separate-stderr himg pull -q --tls-verify=false "$REG_PLAIN/test/bb:1"
    assert_success
    wait "$holder"
    # it waited for the holder, and fetched nothing of that blob
    [ $(( ($(date +%s%N) - start) / 1000000 )) -ge 1000 ] || fail "did not wait for the lock"
    assert_equal "$(grep -c "GET /v2/test/bb/blobs/sha256:$base" "$log" || true)" "$before"
}

@test "image push: to another repository (blobs uploaded, the big one in chunks), then pulled back; known blobs skipped" {
    require_husk
    run --separate-stderr himg pull -q --tls-verify=false "$REG_PLAIN/test/bb:1"
    assert_success
    run --separate-stderr himg push --tls-verify=false "$REG_PLAIN/test/bb:1" "$REG_PLAIN/pushed/bb:v2"
    assert_success
    assert_equal "$output" "digest: $(cat "$REG_DIR/bb.digest")"
    # what skopeo sees there is the same manifest
    assert_equal "$(skopeo inspect --raw --tls-verify=false "docker://$REG_PLAIN/pushed/bb:v2" | sha256sum | cut -d' ' -f1)" \
                 "$(cut -d: -f2 "$REG_DIR/bb.digest")"
    # a big layer (over the 8 MiB chunk) and the TLS + auth registry
    reg_push "$L" big "$REG_PLAIN/test/big:1"
    run --separate-stderr himg pull -q --tls-verify=false "$REG_PLAIN/test/big:1"
    assert_success
    export HUSK_CERTS_DIR=$REG_DIR/certs.d
    local log=$REG_DIR/auth/log patches posts
    run --separate-stderr himg push --creds "$REG_USER:$REG_PASS" "$REG_PLAIN/test/big:1" "$REG_AUTH/pushed/big:1"
    assert_success
    # the 12 MB layer went in two PATCHes, the small ones in one PUT each
    patches=$(grep -c '"PATCH /v2/pushed/big/blobs/uploads/' "$log" || true)
    assert_equal "$patches" 2
    posts=$(grep -c '"POST /v2/pushed/big/blobs/uploads/' "$log" || true)
    assert_equal "$posts" 3
    run skopeo copy --quiet --src-tls-verify=false --src-creds "$REG_USER:$REG_PASS" \
        "docker://$REG_AUTH/pushed/big:1" "oci:$TEST_DIR/back:big"
    assert_success
    local b
    for b in "$TEST_DIR"/back/blobs/sha256/*; do
        cmp "$b" "$STORE/blobs/sha256/$(basename "$b")"
    done
    # pushed again: every blob is there already
    run --separate-stderr himg push --creds "$REG_USER:$REG_PASS" "$REG_PLAIN/test/big:1" "$REG_AUTH/pushed/big:2"
    assert_success
    assert_equal "$(grep -c '"POST /v2/pushed/big/blobs/uploads/' "$log")" "$posts"
    # and a push without credentials is refused
    run --separate-stderr himg push "$REG_PLAIN/test/big:1" "$REG_AUTH/pushed/big:3"
    assert_engine_error "$REG_AUTH/pushed/big:3" "authentication required"
}

@test "image pull/push: per-layer progress lines on a terminal, none without one" {
    require_husk
    command -v script >/dev/null || skip "no script(1) for a pseudo-terminal"
    run script -qec "'$HUSK_BIN' --storage-root '$STORE' image pull --tls-verify=false $REG_PLAIN/test/bb:1" /dev/null
    assert_success
    local digest l
    digest=$(cat "$REG_DIR/bb.digest")
    for l in $(jq -r '.layers[].digest | sub("sha256:"; "") | .[0:12]' "$L/blobs/sha256/${digest#sha256:}"); do
        assert_contains "$l: Pulling fs layer"
        assert_contains "$l: Download complete"
    done
    assert_contains "Downloading ["
    # pulled again: every layer is there already
    run script -qec "'$HUSK_BIN' --storage-root '$STORE' image pull --tls-verify=false $REG_PLAIN/test/bb:1" /dev/null
    assert_contains "Already exists"
    # -q on a terminal: the id only
    run script -qec "'$HUSK_BIN' --storage-root '$STORE' image pull -q --tls-verify=false $REG_PLAIN/test/bb:1" /dev/null
    [[ $output =~ ^sha256:[0-9a-f]{64}[[:space:]]*$ ]] || fail "not only the id: $output"
    run script -qec "'$HUSK_BIN' --storage-root '$STORE' image push --tls-verify=false $REG_PLAIN/test/bb:1 $REG_PLAIN/progress/bb:1" /dev/null
    assert_success
    assert_contains "Pushed"
}

@test "image push: podman pulls and runs the image husk pushed" {
    require_husk
    command -v podman >/dev/null || skip "podman not installed"
    run --separate-stderr himg pull -q --tls-verify=false "$REG_PLAIN/test/bb:1"
    assert_success
    local id=$output
    run --separate-stderr himg push --tls-verify=false "$REG_PLAIN/test/bb:1" "$REG_PLAIN/pushed/pod:1"
    assert_success
    local pd=$TEST_DIR/pd
    mkdir -p "$pd"
    cat >"$pd/containers.conf" <<EOF2
[engine]
events_logger = "file"
events_logfile_path = "$pd/events.log"
EOF2
    unset REGISTRY_AUTH_FILE   # podman refuses one that does not exist
    pm() { CONTAINERS_CONF=$pd/containers.conf podman --root "$pd/r" --runroot "$pd/rr" --storage-driver vfs "$@"; }
    on_cleanup "CONTAINERS_CONF=$pd/containers.conf podman --root $pd/r --runroot $pd/rr --storage-driver vfs rm -af >/dev/null 2>&1; CONTAINERS_CONF=$pd/containers.conf podman --root $pd/r --runroot $pd/rr --storage-driver vfs rmi -af >/dev/null 2>&1; rm -rf $pd/r"
    run --separate-stderr pm pull -q --tls-verify=false "$REG_PLAIN/pushed/pod:1"
    assert_success
    assert_equal "$output" "${id#sha256:}"
    # (no CAP_SYS_RESOURCE here: podman's default nofile and nproc limits cannot be set)
    # runc (crun refuses this host's hybrid cgroups); conmon's and the container's
    # cgroups under a parent of this test's own, removed in teardown
    local parent=husk-regtest-$$
    on_cleanup "for c in /sys/fs/cgroup/*/$parent; do find \$c -depth -type d -exec rmdir {} + ; done"
    run --separate-stderr pm --runtime runc --cgroup-manager cgroupfs run --rm --network none --cgroup-parent "/$parent" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$REG_PLAIN/pushed/pod:1" cat /hello
    assert_success
    assert_equal "$output" "hello from layer 2"
}

# proxy_rules NAME JSON: the faults the proxy NAME injects from now on (rule ids are
# made unique to the test, so "times" counts from zero); its log is emptied.
proxy_rules() {
    local dir=$REG_DIR/proxy-$1
    jq --arg t "$BATS_TEST_NUMBER" 'map(.id = ($t + "-" + (.id // "r")))' <<<"$2" >"$dir/rules.json.new"
    mv "$dir/rules.json.new" "$dir/rules.json"
    : >"$dir/log"
}

@test "image pull: a manifest of an unknown media type is refused: one line naming the reference, exit 125, nothing stored" {
    require_husk
    proxy_rules faults '[{"method": "GET", "path": "/v2/test/bb/manifests/1$", "media_type": "application/vnd.example.manifest.v9+json"}]'
    run --separate-stderr himg pull --tls-verify=false "$PROXY_FAULTS/test/bb:1"
    assert_engine_error "$PROXY_FAULTS/test/bb:1" 'unsupported media type "application/vnd.example.manifest.v9+json"'
    assert_nothing_registered
    [ -z "$(find "$STORE/blobs/sha256" -type f 2>/dev/null)" ] || fail "blobs stored: $(ls "$STORE/blobs/sha256")"
    # nothing was fetched after the manifest
    if grep -q "/blobs/" "$REG_DIR/proxy-faults/log"; then
        fail "blobs fetched: $(cat "$REG_DIR/proxy-faults/log")"
    fi
}

@test "image pull: 5xx and 429 answers are retried (a 429's Retry-After waited for), then the pull completes" {
    require_husk
    local digest layer
    digest=$(cat "$REG_DIR/bb.digest")
    layer=$(jq -r '.layers[1].digest' "$L/blobs/sha256/${digest#sha256:}")
    proxy_rules faults "[{\"id\": \"ping\", \"path\": \"^/v2/\$\", \"status\": 502, \"times\": 1},
        {\"id\": \"m\", \"method\": \"GET\", \"path\": \"/manifests/1\$\", \"status\": 503, \"times\": 2},
        {\"id\": \"b\", \"method\": \"GET\", \"path\": \"/blobs/$layer\$\", \"status\": 429, \"retry_after\": \"2\", \"times\": 1},
        {\"id\": \"c\", \"method\": \"GET\", \"path\": \"/blobs/\", \"status\": 500, \"times\": 1}]"
    run --separate-stderr himg pull -q --tls-verify=false "$PROXY_FAULTS/test/bb:1"
    assert_success
    run himg inspect "$PROXY_FAULTS/test/bb:1"
    assert_success
    local log=$REG_DIR/proxy-faults/log
    assert_equal "$(grep -c '^GET /v2/test/bb/manifests/1 503' "$log")" 2
    assert_equal "$(grep -c '^GET /v2/test/bb/manifests/1 200' "$log")" 1
    grep -q '^GET /v2/ 502' "$log" || fail "no 502 answered: $(cat "$log")"
    grep -q "^GET /v2/test/bb/blobs/.* 500" "$log" || fail "no 500 answered: $(cat "$log")"
    # the 429 said "Retry-After: 2": the blob was asked again no sooner
    local t429 t200
    t429=$(awk -v p="/v2/test/bb/blobs/$layer" '$2 == p && $3 == 429 { print $5 }' "$log")
    t200=$(awk -v p="/v2/test/bb/blobs/$layer" '$2 == p && $3 == 200 { print $5 }' "$log")
    [ -n "$t429" ] && [ -n "$t200" ] || fail "blob $layer not refused then served: $(cat "$log")"
    awk -v a="$t429" -v b="$t200" 'BEGIN { exit !(b - a >= 1.9) }' ||
        fail "retried $(awk -v a="$t429" -v b="$t200" 'BEGIN { print b - a }') s after a Retry-After of 2 s"
}

@test "image pull: a persistent 5xx gives one line naming the reference, the status and the attempts" {
    require_husk
    proxy_rules faults '[{"method": "GET", "path": "/manifests/", "status": 503, "message": "the registry is down for maintenance"}]'
    run --separate-stderr himg pull --tls-verify=false "$PROXY_FAULTS/test/bb:1"
    assert_engine_error "$PROXY_FAULTS/test/bb:1" "the registry is down for maintenance (HTTP status 503, 4 attempts)"
    assert_equal "$(grep -c '^GET /v2/test/bb/manifests/1 503' "$REG_DIR/proxy-faults/log")" 4
    assert_nothing_registered
    # the same for a blob
    local digest layer
    digest=$(cat "$REG_DIR/bb.digest")
    layer=$(jq -r '.layers[0].digest' "$L/blobs/sha256/${digest#sha256:}")
    proxy_rules faults "[{\"method\": \"GET\", \"path\": \"/blobs/$layer\", \"status\": 500}]"
    run --separate-stderr himg pull --tls-verify=false "$PROXY_FAULTS/test/bb:1"
    assert_engine_error "$PROXY_FAULTS/test/bb:1" "blob $layer: injected (HTTP status 500, 4 attempts)"
    assert_nothing_registered
}

@test "image pull: blob redirects are followed; the registry's token does not go to the other host" {
    require_husk
    # the token registry's blobs are "in storage" at another host name (localhost, not
    # 127.0.0.1): the sink proxy in front of the plain registry, which has the same blobs
    local sink=localhost:${PROXY_SINK#127.0.0.1:}
    proxy_rules tokfront "[{\"method\": \"GET\", \"path\": \"/blobs/sha256:\", \"redirect\": \"http://$sink\"}]"
    proxy_rules sink '[]'
    run --separate-stderr himg pull -q --tls-verify=false --creds "$REG_USER:$REG_PASS" "$PROXY_TOKFRONT/test/bb:1"
    assert_success
    local n
    n=$(grep -c '^GET /v2/test/bb/blobs/sha256:[0-9a-f]* 302' "$REG_DIR/proxy-tokfront/log")
    assert_equal "$n" 3
    assert_equal "$(grep -c '^GET /v2/test/bb/blobs/sha256:[0-9a-f]* 200 auth=no' "$REG_DIR/proxy-sink/log")" 3
    if grep -q "auth=yes" "$REG_DIR/proxy-sink/log"; then
        fail "the Authorization header went to the other host: $(cat "$REG_DIR/proxy-sink/log")"
    fi
    run himg inspect "$PROXY_TOKFRONT/test/bb:1"
    assert_success
}

@test "image pull: a truncated gzip layer is refused: one line, exit 125, nothing registered or unpacked" {
    require_husk
    run --separate-stderr himg pull --tls-verify=false "$REG_PLAIN/test/trunc:1"
    assert_engine_error "$REG_PLAIN/test/trunc:1" "layer sha256:"
    assert_nothing_registered
    local left
    left=$(find "$STORE/layers" -mindepth 1 -maxdepth 1 ! -name '*.lock' 2>/dev/null)
    [ -z "$left" ] || fail "layers left: $left"
}

@test "image pull: killed at each step, it leaves no image and the next pull completes" {
    require_husk
    local points p
    points=$(HUSK_TEST_KILL_AT=list "$HUSK_BIN" --version 2>/dev/null | awk -F'\t' '$1 ~ /^pull\./ { print $1 }')
    [ -n "$points" ] || skip "no kill points in $HUSK (configure with -Dtest_hooks=true)"
    for p in pull.after-manifest pull.after-blob pull.during-unpack pull.before-register; do
        grep -qx "$p" <<<"$points" || fail "kill point $p missing from: $points"
    done
    local ref=$REG_PLAIN/test/bb:1 id
    id=$(jq -r .config.digest "$L/blobs/sha256/$(cut -d: -f2 "$REG_DIR/bb.digest")")
    for p in $points; do
        # reached only while a big blob downloads: its own test below
        [ "$p" != pull.during-streamed-unpack ] || continue
        rm -rf "$STORE"
        run --separate-stderr env HUSK_TEST_KILL_AT="$p" "$HUSK_BIN" --storage-root "$STORE" image pull -q \
            --tls-verify=false "$ref"
        [ "$status" -eq 137 ] || fail "$p: exit status $status, not killed: $stderr"
        assert_nothing_registered
        run --separate-stderr himg ls -q
        assert_success
        assert_equal "$output" ""
        run --separate-stderr himg pull -q --tls-verify=false "$ref"
        assert_success
        assert_equal "$output" "$id"
        run --separate-stderr himg inspect "$ref"
        assert_success
        local tmp
        tmp=$(find "$STORE/layers" -maxdepth 1 -name '.tmp-*')
        [ -z "$tmp" ] || fail "$p: unpack directories left after the next pull: $tmp"
        grep -rqs "hello from layer 2" "$STORE/layers/" || fail "$p: layer 2 not unpacked"
    done
}

@test "image pull: a layer is unpacked while its blob downloads; killed then, it leaves no image and the next pull completes" {
    require_husk
    HUSK_TEST_KILL_AT=list "$HUSK_BIN" --version 2>/dev/null | grep -q '^pull\.' ||
        skip "no kill points in $HUSK (configure with -Dtest_hooks=true)"
    # the 12 MB incompressible layer takes a while to come: its unpacking starts before
    reg_push "$L" big "$REG_PLAIN/test/bigstream:1"
    local ref=$REG_PLAIN/test/bigstream:1
    run --separate-stderr env HUSK_TEST_KILL_AT=pull.during-streamed-unpack "$HUSK_BIN" --storage-root "$STORE" \
        image pull -q --tls-verify=false "$ref"
    [ "$status" -eq 137 ] || fail "not killed while a layer was unpacked during its download: status $status: $stderr"
    assert_nothing_registered
    run --separate-stderr himg pull -q --tls-verify=false "$ref"
    assert_success
    [ -z "$(find "$STORE/layers" -maxdepth 1 -name '.tmp-*')" ] || fail "unpack directories left"
    # the layer is whole: the big file as pushed
    local blob
    blob=$(find "$STORE/layers" -path '*/diff/blob' -type f)
    [ -n "$blob" ] || fail "the big layer's file is missing"
    cmp "$blob" "$REG_DIR/work/big/blob"
}

@test "image pull: a download cut off midway is retried; what was unpacked from it is dropped, the layer made whole" {
    require_husk
    reg_push "$L" big "$REG_PLAIN/test/bigcut:1"
    local m layer
    m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "big") | .digest' "$L/index.json")
    layer=$(jq -r '.layers[1].digest' "$L/blobs/sha256/${m#sha256:}")
    # half of the 12 MB layer, then the connection closes: the unpacking of the first
    # half (already under way) is abandoned, the second download unpacked
    proxy_rules faults "[{\"id\": \"cut\", \"method\": \"GET\", \"path\": \"/blobs/$layer\$\", \"cut\": 6000000, \"times\": 1}]"
    run --separate-stderr himg pull -q --tls-verify=false "$PROXY_FAULTS/test/bigcut:1"
    assert_success
    local log=$REG_DIR/proxy-faults/log
    assert_equal "$(grep -c "^GET /v2/test/bigcut/blobs/$layer cut" "$log")" 1
    assert_equal "$(grep -c "^GET /v2/test/bigcut/blobs/$layer 200" "$log")" 1
    [ -z "$(find "$STORE/layers" -maxdepth 1 -name '.tmp-*')" ] || fail "unpack directories left"
    local blob
    blob=$(find "$STORE/layers" -path '*/diff/blob' -type f)
    [ "$(echo "$blob" | wc -l)" = 1 ] || fail "not one big file: $blob"
    cmp "$blob" "$REG_DIR/work/big/blob"
}

@test "image pull: credentials from a docker credential helper (credHelpers, credsStore): docker-credential-NAME get" {
    require_husk
    export HUSK_CERTS_DIR=$REG_DIR/certs.d
    mkdir -p "$TEST_DIR/bin" "$HOME/.docker"
    # the helper: the server name on stdin, {"Username", "Secret"} on stdout
    cat >"$TEST_DIR/bin/docker-credential-husktest" <<EOS
#!/bin/sh
[ "\$1" = get ] || exit 3
read -r server
echo "\$server" >>"$TEST_DIR/helper.log"
case \$server in
$REG_AUTH) printf '{"ServerURL": "%s", "Username": "%s", "Secret": "%s"}\n' "\$server" "$REG_USER" "\${HELPER_SECRET:-$REG_PASS}" ;;
*) echo "credentials not found in native keychain"; exit 1 ;;
esac
EOS
    printf '#!/bin/sh\necho "the keyring is locked"\nexit 1\n' >"$TEST_DIR/bin/docker-credential-broken"
    chmod +x "$TEST_DIR/bin/docker-credential-husktest" "$TEST_DIR/bin/docker-credential-broken"
    export PATH=$TEST_DIR/bin:$PATH
    echo "{\"credHelpers\": {\"$REG_AUTH\": \"husktest\"}, \"auths\": {\"$REG_AUTH\": {}}}" >"$HOME/.docker/config.json"
    run --separate-stderr himg pull -q "$REG_AUTH/test/bb:1"
    assert_success
    assert_equal "$(cat "$TEST_DIR/helper.log")" "$REG_AUTH"
    # the store of every host
    rm -rf "$STORE"
    echo '{"credsStore": "husktest"}' >"$HOME/.docker/config.json"
    run --separate-stderr himg pull -q "$REG_AUTH/test/bb:1"
    assert_success
    # what the helper gives is what is sent: a wrong secret is refused
    rm -rf "$STORE"
    HELPER_SECRET=wrong run --separate-stderr himg pull "$REG_AUTH/test/bb:1"
    assert_engine_error "$REG_AUTH/test/bb:1" "unauthorized"
    # a helper that fails: one line naming it and saying why
    echo "{\"credHelpers\": {\"$REG_AUTH\": \"broken\"}}" >"$HOME/.docker/config.json"
    run --separate-stderr himg pull "$REG_AUTH/test/bb:1"
    assert_engine_error "$REG_AUTH/test/bb:1" "credential helper docker-credential-broken for $REG_AUTH: the keyring is locked"
    assert_nothing_registered
}

@test "image push: a multi-platform image loaded from an OCI layout goes whole (each manifest, then the index); pulled back per --platform" {
    require_husk
    local w=$REG_DIR/work lay=$TEST_DIR/multi a b ix
    a=$(oci_image "$lay" a amd64 "$w/base.tar" "$w/l2.tar")
    b=$(oci_image "$lay" b arm64 "$w/base.tar" "$w/arm.tar")
    ix=$(oci_index "$lay" localhost/multi:1 a b)
    # only the index is named in the layout
    jq '.manifests |= map(select(.annotations["org.opencontainers.image.ref.name"] == "localhost/multi:1"))' \
        "$lay/index.json" >"$lay/i.json" && mv "$lay/i.json" "$lay/index.json"
    run --separate-stderr himg load -i "$lay"
    assert_success
    assert_equal "$output" "Loaded image: localhost/multi:1"
    run himg inspect localhost/multi:1
    assert_equal "$(jq -r '.[0].Architecture' <<<"$output")" amd64
    # the other platform's blobs are the image's: a prune keeps them
    run --separate-stderr himg prune -f
    assert_success
    local log=$REG_DIR/plain/log
    run --separate-stderr himg push --tls-verify=false localhost/multi:1 "$REG_PLAIN/pushed/multi:1"
    assert_success
    assert_equal "$output" "digest: $ix"
    assert_equal "sha256:$(skopeo inspect --raw --tls-verify=false "docker://$REG_PLAIN/pushed/multi:1" | sha256sum | cut -d' ' -f1)" "$ix"
    grep -q "\"PUT /v2/pushed/multi/manifests/$a " "$log" || fail "manifest $a not pushed by digest"
    grep -q "\"PUT /v2/pushed/multi/manifests/$b " "$log" || fail "manifest $b not pushed by digest"
    # pulled back: each platform
    rm -rf "$STORE"
    run --separate-stderr himg pull --tls-verify=false --platform linux/arm64 "$REG_PLAIN/pushed/multi:1"
    assert_success
    assert_contains "Digest: $ix"
    run himg inspect "$REG_PLAIN/pushed/multi:1"
    assert_equal "$(jq -r '.[0].Architecture' <<<"$output")" arm64
    rm -rf "$STORE"
    run --separate-stderr himg pull -q --tls-verify=false "$REG_PLAIN/pushed/multi:1"
    assert_success
    run himg inspect "$REG_PLAIN/pushed/multi:1"
    assert_equal "$(jq -r '.[0].Architecture' <<<"$output")" amd64
    # one platform of an index pulled alone is pushed as that one manifest
    run --separate-stderr himg push --tls-verify=false "$REG_PLAIN/pushed/multi:1" "$REG_PLAIN/pushed/single:1"
    assert_success
    assert_equal "$output" "digest: $a"
}

@test "container run --pull missing: husk-engine-lean passes a missing image to husk-engine, which pulls it and runs it" {
    echo "{\"insecure-registries\": [\"$REG_PLAIN\"]}" >"$HUSK_ENGINE_CONFIG"
    run "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" container run --rm --network none "$REG_PLAIN/test/bb:1" cat /hello
    assert_success
    assert_contains "Unable to find image '$REG_PLAIN/test/bb:1' locally"
    assert_contains "hello from layer 2"
    [ "$(grep -c 'Unable to find image' <<<"$output")" = 1 ] || fail "said twice: $output"
    run "$HUSK_BIN" --root "$ROOT" --storage-root "$STORE" container run --rm --network none --pull never "$REG_PLAIN/test/bb:1" cat /arch
    assert_success
    assert_equal "$output" "amd64"
}
