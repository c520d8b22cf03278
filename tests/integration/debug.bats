#!/usr/bin/env bats
# --debug: one line per step husk takes (config, cgroups, namespaces, mounts,
# pivot_root, hooks, start, exec ...), from whichever of create's processes takes it,
# to stderr or to --log, in runc's (logrus') text or json format. containerd passes
# `--debug --log F --log-format json`. Without --debug nothing extra is written, and
# the log's fds never reach the container.

load helpers

# Lines of FILE that are not runc-style text debug lines: time="..." level=debug msg="..."
not_text_debug() {
    grep -Ev '^time="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z" level=debug msg=".*"$' "$1" || true
}

# husk ARGS with stdio in files (a created init keeps them): $TEST_DIR/o, $TEST_DIR/e
husk_files() {
    "$HUSK_BIN" --root "$ROOT" "$@" </dev/null >"$TEST_DIR/o" 2>"$TEST_DIR/e" 3>&-
}

@test "--debug: each step to stderr, one text line each (time, level=debug, msg); nothing without --debug" {
    require_husk
    husk_files --debug create --bundle "$BUNDLE" "$ID"
    local e=$TEST_DIR/e
    [ -z "$(not_text_debug "$e")" ] || fail "not a debug line: $(not_text_debug "$e")"
    local step
    for step in "config loaded" "cgroups made" "namespaces" "mounts" "pivot_root" "waiting for start" \
        "created $ID"; do
        grep -q "msg=\".*$step" "$e" || fail "no \"$step\" line in: $(cat "$e")"
    done
    # from the parent and the init (stage 2), which is cloned straight into its
    # namespaces: with nothing to join and no user or time namespace, no stage 1
    grep -q 'msg="container init (pid [0-9]*): cloned into its namespaces' "$e" ||
        fail "no line of the init cloned into its namespaces: $(cat "$e")"
    grep -q 'msg="stage 2' "$e" || fail "no line of stage 2: $(cat "$e")"
    if grep -q 'msg="stage 1' "$e"; then fail "a stage 1 ran: $(cat "$e")"; fi

    husk_files --debug start "$ID"
    grep -q "msg=\"start $ID" "$TEST_DIR/e" || fail "start: $(cat "$TEST_DIR/e")"
    husk_files --debug exec "$ID" true
    grep -q 'msg="exec: .*exec /bin/true' "$TEST_DIR/e" || fail "exec: $(cat "$TEST_DIR/e")"
    grep -q "joined the container's namespaces" "$TEST_DIR/e" || fail "exec: $(cat "$TEST_DIR/e")"
    husk_files --debug kill "$ID" KILL
    grep -q "msg=\"kill $ID: signal 9" "$TEST_DIR/e" || fail "kill: $(cat "$TEST_DIR/e")"
    wait_status "$ID" stopped
    husk_files --debug delete "$ID"
    grep -q "msg=\"delete $ID" "$TEST_DIR/e" || fail "delete: $(cat "$TEST_DIR/e")"

    # the same without --debug: not a byte on stderr
    local id2
    id2=$(new_id)
    husk_files create --bundle "$BUNDLE" "$id2"
    [ ! -s "$TEST_DIR/e" ] || fail "stderr without --debug: $(cat "$TEST_DIR/e")"
    husk_files start "$id2"
    husk_files exec "$id2" true
    husk_files kill "$id2" KILL
    [ ! -s "$TEST_DIR/e" ] || fail "stderr without --debug: $(cat "$TEST_DIR/e")"
    wait_status "$id2" stopped
    husk_files delete "$id2"
    [ ! -s "$TEST_DIR/e" ] || fail "stderr without --debug: $(cat "$TEST_DIR/e")"
}

@test "--debug --log F --log-format json (containerd's way): JSON debug lines of every step, hooks and exec; stderr stays quiet" {
    require_husk
    update_config '.hooks = {prestart: [{path: "/bin/true"}], createRuntime: [{path: "/bin/true"}],
                             createContainer: [{path: "/bin/true"}], poststop: [{path: "/bin/true"}]}'
    local log=$TEST_DIR/log.json
    husk_files --debug --log "$log" --log-format json create --bundle "$BUNDLE" "$ID"
    [ ! -s "$TEST_DIR/e" ] || fail "stderr: $(cat "$TEST_DIR/e")"
    husk_files --debug --log "$log" --log-format json start "$ID"
    husk_files --debug --log "$log" --log-format json exec "$ID" true
    husk_files --debug --log "$log" --log-format json kill "$ID" KILL
    wait_status "$ID" stopped
    husk_files --debug --log "$log" --log-format json delete "$ID"
    [ ! -s "$TEST_DIR/e" ] || fail "stderr: $(cat "$TEST_DIR/e")"
    # every line one JSON object: level debug, a message, an RFC 3339 time
    jq -e -s 'length > 10 and all(.[]; (.level == "debug") and (.msg | type == "string") and
        (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")))' "$log" >/dev/null ||
        fail "log: $(cat "$log")"
    local step
    for step in "config loaded" "cgroups made" "namespaces" "mounts" "pivot_root" "prestart hook" \
        "createRuntime hook" "createContainer hook" "exec /bin/sleep" "start $ID" "exec /bin/true" \
        "kill $ID" "delete $ID"; do
        jq -e -s --arg s "$step" 'any(.[]; .msg | contains($s))' "$log" >/dev/null ||
            fail "no \"$step\" line in: $(cat "$log")"
    done
}

@test "--log-format text: runc's time=... level=... msg=\"...\" lines, for errors too" {
    require_husk
    local log=$TEST_DIR/log.txt
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --debug --log "$log" --log-format text state 'no-such'
    assert_failure
    assert_equal "$stderr" "husk: container does not exist: no-such"
    grep -Eq '^time="[^"]+Z" level=debug msg="husk [^"]*: state \(pid [0-9]+\)"$' "$log" || fail "log: $(cat "$log")"
    grep -Eq '^time="[^"]+Z" level=error msg="container does not exist: no-such"$' "$log" || fail "log: $(cat "$log")"
    # a message with a quote and a newline stays one line, escaped
    run "$HUSK_BIN" --root "$ROOT" --log "$log" state $'a"b\nc'
    assert_failure
    [ "$(wc -l <"$log")" -eq 3 ] || fail "log: $(cat "$log")"
}

@test "--debug with --log or stderr: no fd of the log reaches the container (init, exec), nor a terminal's output" {
    set_cmd sh -c 'ls /proc/1/fd; true'
    run "$HUSK_BIN" --root "$ROOT" --debug --log "$TEST_DIR/l.json" --log-format json run --bundle "$BUNDLE" "$ID" 3>&-
    assert_success
    assert_equal "$output" $'0\n1\n2'
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --debug run --bundle "$BUNDLE" "$ID" 3>&-
    assert_success
    assert_equal "$output" $'0\n1\n2'

    # exec: the shell's own fds
    set_cmd sleep 100
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_success
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --debug --log "$TEST_DIR/l.json" exec "$ID" sh -c 'ls /proc/$$/fd; true' 3>&-
    assert_success
    assert_equal "$output" $'0\n1\n2'
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --debug exec "$ID" sh -c 'ls /proc/$$/fd; true' 3>&-
    assert_success
    assert_equal "$output" $'0\n1\n2'
    husk kill "$ID" KILL
    wait_status "$ID" stopped
    husk delete "$ID"

    # a terminal: the debug lines go to husk's stderr, never into the container's pty
    is_husk || return 0   # runc's foreground run with a terminal needs a tty of its own
    set_cmd sh -c 'echo in-the-pty'
    update_config '.process.terminal = true'
    run --separate-stderr "$HUSK_BIN" --root "$ROOT" --debug run --bundle "$BUNDLE" "$ID" 3>&-
    assert_success
    assert_contains in-the-pty
    assert_not_contains "level=debug"
    assert_contains "level=debug" "$stderr"
}
