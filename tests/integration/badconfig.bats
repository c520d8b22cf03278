#!/usr/bin/env bats
# badconfig.bats — the malformed-config corpus (tests/corpus/): every broken config.json
# must make `husk create` (and `husk run`) exit 1 with exactly one line on stderr naming
# the JSON path, and leave nothing behind: no state dir, no cgroup, no process, no mount
# (the last two checked here per case, the rest also by helpers' teardown).

load helpers

CORPUS=$BATS_TEST_DIRNAME/../corpus

# A process whose root is the bundle's rootfs would be a container left running.
procs_in_bundle() {
    find /proc -maxdepth 2 -name root -lname "$BUNDLE/rootfs*" 2>/dev/null | head -n 3
}

# check_bad VERB NAME PATH MSG — run VERB (create|run) on $BUNDLE as a fresh id and
# check the one-error-line contract. Prints a problem description and fails on error.
check_bad() {
    local verb=$1 name=$2 path=$3 msg=$4 id rc err left n
    id=$(new_id)
    # husk's own stdout/stderr go to files (a container that wrongly started must not
    # hold our pipe); timeout: a case must never hang (generous: ASan builds on a
    # busy machine are slow, and this guards against hangs, not slowness).
    rc=0
    timeout 120 "$HUSK_BIN" --root "$ROOT" "$verb" --bundle "$BUNDLE" "$id" \
        </dev/null >"$TEST_DIR/out" 2>"$TEST_DIR/err" 3>&- || rc=$?
    err=$(cat "$TEST_DIR/err")
    n=$(wc -l <"$TEST_DIR/err")
    local why=""
    [ "$rc" = 1 ] || why+=" exit=$rc"
    [ "$n" = 1 ] || why+=" lines=$n"
    if [ -n "$path" ] && [ "$path" != - ]; then
        [[ $err == *"config.json: $path: "* ]] || why+=" path"
    else
        [[ $err == *"config.json: "* ]] || why+=" name"
    fi
    [ -z "$msg" ] || [[ $err == *"$msg"* ]] || why+=" message"
    [ ! -e "$ROOT/$id" ] || why+=" state-dir-left"
    left=$(cgroup_dirs "$id")
    [ -z "$left" ] || why+=" cgroup-left"
    left=$(procs_in_bundle)
    [ -z "$left" ] || why+=" process-left($left)"
    if [ -n "$why" ]; then
        "$HUSK_BIN" --root "$ROOT" delete --force "$id" >/dev/null 2>&1
        echo "$name [$verb]:$why :: $err (want: config.json: $path ... $msg)"
        return 1
    fi
}

# Every case of configs.tsv, each from the same valid config. One test for all
# (~140 cases, a few ms each); every failing case is listed, not just the first.
@test "badconfig: every corpus case fails cleanly naming its JSON path" {
    require_husk
    cp "$BUNDLE/config.json" "$TEST_DIR/base.json"
    local name expr path msg failures="" count=0
    while IFS=$'\t' read -r name expr path msg; do
        [[ -z $name || $name == \#* ]] && continue
        jq "$expr" "$TEST_DIR/base.json" >"$BUNDLE/config.json" ||
            fail "$name: jq failed on: $expr"
        count=$((count + 1))
        failures+=$(check_bad create "$name" "$path" "$msg") && continue
        failures+=$'\n'
    done <"$CORPUS/configs.tsv"
    [ "$count" -ge 100 ] || fail "only $count cases in configs.tsv"
    [ -z "$failures" ] || fail "failing cases:" "$failures"
}

@test "badconfig: husk run fails the same way (a sample of the corpus)" {
    require_husk
    cp "$BUNDLE/config.json" "$TEST_DIR/base.json"
    local name expr path msg failures=""
    while IFS=$'\t' read -r name expr path msg; do
        case $name in 013-* | 027-* | 049-* | 081-* | 098-* | 123-* | 142-*) ;; *) continue ;; esac
        jq "$expr" "$TEST_DIR/base.json" >"$BUNDLE/config.json"
        failures+=$(check_bad run "$name" "$path" "$msg") || failures+=$'\n'
    done <"$CORPUS/configs.tsv"
    [ -z "$failures" ] || fail "failing cases:" "$failures"
}

# ---- raw files: not JSON a jq expression can make

@test "badconfig: raw malformed files (truncated, invalid UTF-8, NUL, deep nesting, trailing data)" {
    require_husk
    local failures="" f
    # truncated in the middle of the document
    head -c 300 "$BUNDLE/config.json" >"$TEST_DIR/truncated"
    # invalid UTF-8 in a string value (a lone continuation byte, an overlong '/')
    jq -c '.hostname = "HOSTX"' "$BUNDLE/config.json" | sed 's/HOSTX/a\xc0\xafb/' >"$TEST_DIR/badutf8"
    jq -c '.process.args[0] = "ARGX"' "$BUNDLE/config.json" | sed 's/ARGX/\x80/' >"$TEST_DIR/badutf8-args"
    # a raw NUL byte in the middle of the text, and at the end
    { head -c 100 "$BUNDLE/config.json"; printf '\0'; tail -c +101 "$BUNDLE/config.json"; } >"$TEST_DIR/nul"
    { cat "$BUNDLE/config.json"; printf '\0'; } >"$TEST_DIR/nul-end"
    # 100k '[' (no closing): must not recurse or allocate per level
    { printf '{"ociVersion":"1.0.0","x":'; head -c 100000 /dev/zero | tr '\0' '['; } >"$TEST_DIR/deep-open"
    # 100k levels, balanced
    { printf '{"ociVersion":"1.0.0","x":'; head -c 100000 /dev/zero | tr '\0' '['
      head -c 100000 /dev/zero | tr '\0' ']'; printf '}'; } >"$TEST_DIR/deep-balanced"
    # two documents, and garbage after one
    { cat "$BUNDLE/config.json"; cat "$BUNDLE/config.json"; } >"$TEST_DIR/two-docs"
    { cat "$BUNDLE/config.json"; echo 'garbage'; } >"$TEST_DIR/trailing"
    # empty, whitespace only, a bare string, single quotes, comments
    : >"$TEST_DIR/empty"
    printf '  \n\t\n' >"$TEST_DIR/blank"
    printf '"config"' >"$TEST_DIR/string"
    printf "{'ociVersion': '1.0.0'}" >"$TEST_DIR/single-quotes"
    printf '{"ociVersion": "1.0.0" /* c */}' >"$TEST_DIR/comment"
    # a raw control character inside a string
    jq -c '.hostname = "HOSTX"' "$BUNDLE/config.json" | sed 's/HOSTX/a\x01b/' >"$TEST_DIR/ctrl"
    # duplicate key with conflicting types is accepted by JSON parsers (last wins): not here
    for f in truncated badutf8 badutf8-args nul nul-end deep-open deep-balanced two-docs \
        trailing empty blank string single-quotes comment ctrl; do
        cp "$TEST_DIR/$f" "$BUNDLE/config.json"
        failures+=$(check_bad create "raw-$f" "" "") || failures+=$'\n'
    done
    [ -z "$failures" ] || fail "failing cases:" "$failures"
}

@test "badconfig: invalid UTF-8 in a value names the JSON path" {
    require_husk
    jq -c '.process.args = ["sh", "ARGX"]' "$BUNDLE/config.json" | sed 's/ARGX/\xff/' >"$TEST_DIR/c"
    cp "$TEST_DIR/c" "$BUNDLE/config.json"
    run check_bad create utf8-path "process.args[1]" "invalid UTF-8"
    [ "$status" = 0 ] || fail "$output"
}

@test "badconfig: a 10 MB config is read and refused cleanly; beyond the limit is too large" {
    require_husk
    # 10 MB of env entries in an otherwise valid config: an unknown-but-harmless size
    # that still must parse in reasonable time and then fail on the one bad field.
    jq -c --argjson n 100000 '.process.env += [range($n) | "VAR_\(.)=" + ("x" * 90)]
                              | .process.user.uid = -1' "$BUNDLE/config.json" >"$TEST_DIR/big"
    local size
    size=$(stat -c %s "$TEST_DIR/big")
    [ "$size" -gt 10000000 ] || fail "generated only $size bytes"
    cp "$TEST_DIR/big" "$BUNDLE/config.json"
    run check_bad create big-10mb "process.user.uid" ""
    [ "$status" = 0 ] || fail "$output"
    # 33 MB of whitespace padding: over husk's 32 MiB limit, refused before parsing
    { cat "$TEST_DIR/big"; head -c 24000000 /dev/zero | tr '\0' ' '; } >"$BUNDLE/config.json"
    local id
    id=$(new_id)
    run --separate-stderr timeout 20 "$HUSK_BIN" --root "$ROOT" create --bundle "$BUNDLE" "$id" 3>&-
    assert_status 1
    assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
    assert_contains "config.json" "$stderr"
    assert_no_trace "$id"
}

@test "badconfig: 100k env entries reach the process" {
    require_husk
    # busybox sh imports its environment quadratically (33 s for 100k variables
    # here), so the process is busybox env, which only prints what it was given.
    # timeout is a hang guard, not a speed check.
    update_config '.process.env += [range(100000) | "V\(.)=\(.)"]'
    set_cmd env
    run --separate-stderr timeout 120 "$HUSK_BIN" --root "$ROOT" run --bundle "$BUNDLE" "$ID" 3>&-
    assert_success
    assert_contains "V99999=99999"
    [ "$(printf '%s\n' "$output" | grep -c '^V[0-9]*=')" -eq 100000 ] || fail "env has $(printf '%s\n' "$output" | wc -l) lines"
}

@test "badconfig: 100k rlimits/mounts entries fail cleanly without hanging" {
    require_husk
    cp "$BUNDLE/config.json" "$TEST_DIR/base.json"
    jq -c '.process.rlimits = [range(100000) | {type: "RLIMIT_NOFILE", soft: 1, hard: 1}]' \
        "$TEST_DIR/base.json" >"$BUNDLE/config.json"
    run check_bad create rlimits-100k "process.rlimits[1]" "duplicate"
    [ "$status" = 0 ] || fail "$output"
    jq -c '.mounts += [range(100000) | {destination: "/m\(.)", type: "tmpfs", source: "tmpfs"}]
           | .mounts[-1].destination = "relative"' "$TEST_DIR/base.json" >"$BUNDLE/config.json"
    run check_bad create mounts-100k "mounts[100006].destination" ""
    [ "$status" = 0 ] || fail "$output"
}

# ---- config.json that is not a regular file

@test "badconfig: config.json as a fifo, a directory, /dev/zero, a dangling symlink: refused, no hang" {
    require_husk
    local failures="" kind
    for kind in fifo dir symlink-fifo symlink-zero dangling; do
        rm -rf "$BUNDLE/config.json" "$TEST_DIR/fifo"
        case $kind in
            fifo) mkfifo "$BUNDLE/config.json" ;;
            dir) mkdir "$BUNDLE/config.json" ;;
            symlink-fifo) mkfifo "$TEST_DIR/fifo" && ln -s "$TEST_DIR/fifo" "$BUNDLE/config.json" ;;
            symlink-zero) ln -s /dev/zero "$BUNDLE/config.json" ;;
            dangling) ln -s "$TEST_DIR/nowhere.json" "$BUNDLE/config.json" ;;
        esac
        local id err rc
        id=$(new_id)
        rc=0
        timeout 10 "$HUSK_BIN" --root "$ROOT" create --bundle "$BUNDLE" "$id" \
            </dev/null >/dev/null 2>"$TEST_DIR/err" 3>&- || rc=$?
        err=$(cat "$TEST_DIR/err")
        if [ "$rc" != 1 ] || [ "$(wc -l <"$TEST_DIR/err")" != 1 ] || [[ $err != *config.json* ]] ||
            [ -e "$ROOT/$id" ] || [ -n "$(cgroup_dirs "$id")" ]; then
            failures+="$kind: exit=$rc :: $err"$'\n'
        fi
    done
    [ -z "$failures" ] || fail "failing cases:" "$failures"
}

@test "badconfig: config.json as a symlink to a valid config is followed (as runc does)" {
    require_husk
    mv "$BUNDLE/config.json" "$TEST_DIR/real.json"
    ln -s "$TEST_DIR/real.json" "$BUNDLE/config.json"
    ctr_run sh -c 'echo followed'
    assert_success
    assert_contains followed
}

@test "badconfig: unreadable config.json fails cleanly" {
    require_husk
    # root bypasses file modes; drop CAP_DAC_OVERRIDE/READ_SEARCH for this one command
    command -v capsh >/dev/null || skip "capsh not installed"
    chmod 000 "$BUNDLE/config.json"
    local id
    id=$(new_id)
    run --separate-stderr capsh --drop=cap_dac_override,cap_dac_read_search -- -c \
        "exec $HUSK_BIN --root $ROOT create --bundle $BUNDLE $id </dev/null 3>&-"
    assert_status 1
    assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
    assert_contains "config.json" "$stderr"
    assert_contains "Permission denied" "$stderr"
    assert_no_trace "$id"
}
