# shellcheck shell=bash
# registry.bash — Debian's docker-registry (the distribution registry) for the
# tests, on 127.0.0.1 only, each with a config file and storage of the test file's own:
#
#   reg_start NAME plain|tls|auth|token [PORT]   start one; sets REG_<NAME>=127.0.0.1:PORT
#                                   tls and auth use a server certificate for 127.0.0.1
#                                   signed by a CA made here ($REG_DIR/certs.d/HOST:PORT/ca.crt,
#                                   the layout HUSK_CERTS_DIR takes); auth adds htpasswd
#                                   (user "huskuser", password "huskpass"); token (plain
#                                   HTTP) sends Bearer challenges to a token endpoint of the
#                                   test's own (tests/tools/token_server.py, same
#                                   credentials) that hands out a JWT signed here for the
#                                   repositories in $REG_TOKEN_REPOS (pull and push)
#   proxy_start NAME HOST:PORT      tests/tools/fault_proxy.py in front of a registry: sets
#                                   PROXY_<NAME>=127.0.0.1:PORT; its rules (faults to inject)
#                                   in $REG_DIR/proxy-NAME/rules.json, its log in …/log
#   reg_stop_all                    stop them (teardown_file)
#   oci_image LAYOUT TAG ARCH TAR…  an OCI image (gzip layers from the tars, bottom first)
#                                   written by hand into an OCI layout under TAG
#                                   (OCI_LAYER_TRUNCATE=N: each gzip layer N bytes short)
#   oci_index LAYOUT TAG TAG…       an OCI index over images already in LAYOUT
#   reg_push LAYOUT TAG REGISTRY/REPO:TAG [skopeo flags]  copy to a registry with skopeo
#
# Set up in setup_file; the registries' data dirs live under $REG_DIR.

REG_USER=huskuser
REG_PASS=huskpass

_reg_free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

_reg_certs() {
    [ -f "$REG_DIR/ca.crt" ] && return 0
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=husk test CA" \
        -keyout "$REG_DIR/ca.key" -out "$REG_DIR/ca.crt" 2>/dev/null || return 1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$REG_DIR/server.key" -out "$REG_DIR/server.csr" 2>/dev/null || return 1
    printf 'subjectAltName=IP:127.0.0.1\n' >"$REG_DIR/san.ext"
    openssl x509 -req -in "$REG_DIR/server.csr" -CA "$REG_DIR/ca.crt" -CAkey "$REG_DIR/ca.key" \
        -CAcreateserial -days 2 -extfile "$REG_DIR/san.ext" -out "$REG_DIR/server.crt" 2>/dev/null
}

_b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# A token server on a free port; prints the realm URL. The JWT (RS256, the signer's
# certificate in x5c, trusted by the registry through rootcertbundle) grants pull and
# push on $REG_TOKEN_REPOS for an hour.
_reg_token_server() {
    local dir=$1 port now header claims access r sig
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=husk token signer" \
        -keyout "$dir/signer.key" -out "$dir/signer.crt" 2>/dev/null || return 1
    now=$(date +%s)
    access="[]"
    for r in ${REG_TOKEN_REPOS:-}; do
        access=$(jq -c --arg r "$r" '. + [{type: "repository", name: $r, actions: ["pull", "push"]}]' <<<"$access")
    done
    header=$(jq -cn --arg c "$(openssl x509 -in "$dir/signer.crt" -outform DER | base64 -w0)" \
        '{typ: "JWT", alg: "RS256", x5c: [$c]}' | _b64url)
    claims=$(jq -cn --argjson now "$now" --argjson a "$access" \
        '{iss: "husk-test-issuer", sub: "huskuser", aud: "husk-test-registry", exp: ($now + 3600),
          nbf: ($now - 60), iat: ($now - 60), jti: "husk-\($now)", access: $a}' | _b64url)
    sig=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign "$dir/signer.key" -binary | _b64url)
    printf '%s.%s.%s\n' "$header" "$claims" "$sig" >"$dir/token"
    port=$(_reg_free_port) || return 1
    python3 "$HUSK_REPO/tests/tools/token_server.py" "$port" "$dir/token" "$REG_USER" "$REG_PASS" \
        "$dir/token.log" >"$dir/token-server.log" 2>&1 &
    echo $! >"$dir/token.pid"
    for _ in $(seq 1 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
    echo "http://127.0.0.1:$port/token"
}

reg_start() { # NAME MODE [PORT]
    local name=$1 mode=$2 port dir try realm
    : "${REG_DIR:?reg_start needs REG_DIR}"
    dir=$REG_DIR/$name
    mkdir -p "$dir/data"
    [ "$mode" = plain ] || [ "$mode" = token ] || _reg_certs || return 1
    if [ "$mode" = token ]; then
        realm=$(_reg_token_server "$dir") || return 1
    fi
    for try in 1 2 3; do
        port=${3:-$(_reg_free_port)} || return 1
        {
            # the access log (in $dir/log) lets a test count the requests
            printf 'version: 0.1\nlog:\n  level: error\n'
            printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$dir/data"
            printf 'http:\n  addr: 127.0.0.1:%s\n  secret: husk-test-secret\n' "$port"
            if [ "$mode" = tls ] || [ "$mode" = auth ]; then
                printf '  tls:\n    certificate: %s\n    key: %s\n' "$REG_DIR/server.crt" "$REG_DIR/server.key"
            fi
            if [ "$mode" = auth ]; then
                htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$dir/htpasswd"
                printf 'auth:\n  htpasswd:\n    realm: husk-test\n    path: %s\n' "$dir/htpasswd"
            fi
            if [ "$mode" = token ]; then
                printf 'auth:\n  token:\n    realm: %s\n    service: husk-test-registry\n' "$realm"
                printf '    issuer: husk-test-issuer\n    rootcertbundle: %s\n' "$dir/signer.crt"
            fi
        } >"$dir/config.yml"
        # the registry takes REGISTRY_* variables as configuration (REGISTRY_AUTH_FILE, a
        # containers setting, would be its auth.file)
        env -u REGISTRY_AUTH_FILE docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
        echo $! >"$dir/pid"
        local scheme=https i
        if [ "$mode" = plain ] || [ "$mode" = token ]; then
            scheme=http
        fi
        for i in $(seq 1 50); do
            if curl -sk -o /dev/null "$scheme://127.0.0.1:$port/v2/"; then
                if [ "$scheme" = https ]; then
                    mkdir -p "$REG_DIR/certs.d/127.0.0.1:$port"
                    cp "$REG_DIR/ca.crt" "$REG_DIR/certs.d/127.0.0.1:$port/ca.crt"
                fi
                printf -v "REG_${name^^}" '%s' "127.0.0.1:$port"
                export "REG_${name^^}"
                return 0
            fi
            kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
            sleep 0.1
        done
        kill "$(cat "$dir/pid")" 2>/dev/null
        wait "$(cat "$dir/pid")" 2>/dev/null
    done
    echo "docker-registry $name did not start: $(cat "$dir/log")" >&2
    return 1
}

proxy_start() { # NAME UPSTREAM
    local name=$1 up=$2 dir=$REG_DIR/proxy-$1 port i
    mkdir -p "$dir"
    echo '[]' >"$dir/rules.json"
    : >"$dir/log"
    port=$(_reg_free_port) || return 1
    python3 "$HUSK_REPO/tests/tools/fault_proxy.py" "$port" "$up" "$dir/rules.json" "$dir/log" \
        >"$dir/out" 2>&1 &
    echo $! >"$dir/pid"
    for i in $(seq 1 50); do
        if curl -s -o /dev/null "http://127.0.0.1:$port/v2/"; then
            : >"$dir/log"
            printf -v "PROXY_${name^^}" '%s' "127.0.0.1:$port"
            export "PROXY_${name^^}"
            return 0
        fi
        sleep 0.1
    done
    echo "fault proxy $name did not start: $(cat "$dir/out")" >&2
    return 1
}

reg_stop_all() {
    local f
    for f in "$REG_DIR"/*/pid "$REG_DIR"/*/token.pid; do
        [ -f "$f" ] || continue
        kill "$(cat "$f")" 2>/dev/null
        wait "$(cat "$f")" 2>/dev/null || true
    done
}

# ---------------------------------------------------------------- images by hand

_oci_put() { # LAYOUT FILE -> "sha256:<hex> size", the file stored as a blob
    local d s
    d=$(sha256sum "$2" | cut -d' ' -f1)
    s=$(stat -c %s "$2")
    cp "$2" "$1/blobs/sha256/$d"
    echo "sha256:$d $s"
}

_oci_ref() { # LAYOUT TAG MEDIATYPE DIGEST SIZE: name it in index.json
    local f=$1/index.json
    jq --arg t "$2" --arg m "$3" --arg d "$4" --argjson s "$5" \
        '.manifests = ([.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] != $t)]
          + [{mediaType: $m, digest: $d, size: $s, annotations: {"org.opencontainers.image.ref.name": $t}}])' \
        "$f" >"$f.new" && mv "$f.new" "$f"
}

oci_image() {
    local layout=$1 tag=$2 arch=$3 t ds dig size diffs="[]" layers="[]" mt
    shift 3
    mt=${OCI_LAYER_TYPE:-application/vnd.oci.image.layer.v1.tar+gzip}
    mkdir -p "$layout/blobs/sha256"
    [ -f "$layout/oci-layout" ] || echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
    [ -f "$layout/index.json" ] || echo '{"schemaVersion":2,"manifests":[]}' >"$layout/index.json"
    for t in "$@"; do
        gzip -n -c "$t" >"$t.gz"
        [ -z "${OCI_LAYER_TRUNCATE:-}" ] || truncate -s "-$OCI_LAYER_TRUNCATE" "$t.gz"
        diffs=$(jq --arg d "sha256:$(sha256sum "$t" | cut -d' ' -f1)" '. + [$d]' <<<"$diffs")
        read -r dig size < <(_oci_put "$layout" "$t.gz")
        layers=$(jq --arg d "$dig" --argjson s "$size" --arg m "$mt" '. + [{mediaType: $m, digest: $d, size: $s}]' <<<"$layers")
        rm -f "$t.gz"
    done
    jq -n --arg a "$arch" --argjson d "$diffs" \
        '{created: "2026-01-01T00:00:00Z", architecture: $a, os: "linux",
          config: {Cmd: ["sh"], Env: ["PATH=/bin"]}, rootfs: {type: "layers", diff_ids: $d}}' >"$layout/config.json"
    read -r dig size < <(_oci_put "$layout" "$layout/config.json")
    jq -n --arg d "$dig" --argjson s "$size" --argjson l "$layers" \
        '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $d, size: $s}, layers: $l}' \
        >"$layout/manifest.json"
    read -r dig size < <(_oci_put "$layout" "$layout/manifest.json")
    rm -f "$layout/config.json" "$layout/manifest.json"
    _oci_ref "$layout" "$tag" application/vnd.oci.image.manifest.v1+json "$dig" "$size"
    echo "$dig"
}

oci_index() {
    local layout=$1 tag=$2 t list="[]" e arch dig size
    shift 2
    for t in "$@"; do
        e=$(jq -c --arg t "$t" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)' \
            "$layout/index.json")
        dig=$(jq -r .digest <<<"$e")
        arch=$(jq -r .digest <<<"$e" | sed 's/sha256://' | xargs -I{} jq -r .config.digest "$layout/blobs/sha256/{}" |
            sed 's/sha256://' | xargs -I{} jq -r .architecture "$layout/blobs/sha256/{}")
        list=$(jq --argjson e "$e" --arg a "$arch" \
            '. + [{mediaType: $e.mediaType, digest: $e.digest, size: $e.size, platform: {os: "linux", architecture: $a}}]' \
            <<<"$list")
    done
    jq -n --argjson l "$list" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: $l}' \
        >"$layout/ix.json"
    read -r dig size < <(_oci_put "$layout" "$layout/ix.json")
    rm -f "$layout/ix.json"
    _oci_ref "$layout" "$tag" application/vnd.oci.image.index.v1+json "$dig" "$size"
    echo "$dig"
}

reg_push() {
    local layout=$1 tag=$2 dest=$3
    shift 3
    skopeo copy --quiet --all --preserve-digests --dest-tls-verify=false "$@" "oci:$layout:$tag" "docker://$dest"
}
