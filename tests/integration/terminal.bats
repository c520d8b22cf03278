#!/usr/bin/env bats
# process.terminal: the pty master is sent to --console-socket (received here by
# tests/tools/recvtty), the container's stdio is the slave, /dev/console is bound to
# it, consoleSize is applied; `run` without a console socket relays the pty itself.

load helpers

# The recvtty test tool: built next to husk by meson, else compiled once per run.
recvtty_bin() {
    local b
    b=$(dirname "$HUSK_BIN")/recvtty
    if [ -x "$b" ]; then
        echo "$b"
        return
    fi
    for b in "$HUSK_REPO"/build*/recvtty; do
        [ -x "$b" ] && echo "$b" && return
    done
    b=${BATS_RUN_TMPDIR:-/tmp}/recvtty
    [ -x "$b" ] || cc -O2 -o "$b" "$HUSK_REPO/tests/tools/recvtty.c" || return 1
    echo "$b"
}

# start_recvtty [recvtty options...] — listen on $SOCK, output into $TEST_DIR/tty.out.
# Sets RECV_PID. Returns once the socket accepts connections.
start_recvtty() {
    local bin i
    bin=$(recvtty_bin) || fail "cannot build recvtty"
    SOCK=$TEST_DIR/console.sock
    "$bin" -o "$TEST_DIR/tty.out" "$@" "$SOCK" </dev/null >"$TEST_DIR/recvtty.log" 2>&1 3>&- &
    RECV_PID=$!
    on_cleanup "kill $RECV_PID"
    for ((i = 0; i < 200; i++)); do
        [ -S "$SOCK" ] && return 0
        kill -0 "$RECV_PID" 2>/dev/null || break
        sleep 0.05
    done
    fail "recvtty did not start: $(cat "$TEST_DIR/recvtty.log")"
}

# wait_recvtty [TIMEOUT=10] — wait for recvtty to see every slave closed; then
# $output is what came out of the pty, carriage returns removed.
wait_recvtty() {
    local timeout=${1:-10} i
    for ((i = 0; i < timeout * 20; i++)); do
        kill -0 "$RECV_PID" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$RECV_PID" 2>/dev/null; then
        kill "$RECV_PID"
        fail "recvtty still waiting after ${timeout}s; got: $(cat "$TEST_DIR/tty.out")"
    fi
    wait "$RECV_PID" || fail "recvtty failed: $(cat "$TEST_DIR/recvtty.log")"
    output=$(tr -d '\r' <"$TEST_DIR/tty.out")
}

@test "create --console-socket: the master arrives, stdio is the pty, /dev/console is bound to it, consoleSize applies" {
    update_config '.process.terminal = true | .process.consoleSize = {height: 30, width: 100}'
    set_cmd sh -c 'tty; for f in 0 1 2; do readlink /proc/self/fd/$f; done; stat -c "console=%F %t:%T" /dev/console; grep " /dev/console " /proc/self/mountinfo; echo "size=$(stty size)"; echo done'
    start_recvtty -n "$TEST_DIR/tty.name"
    run husk create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
    assert_success
    # The master was sent with the slave's name.
    wait_for_file "$TEST_DIR/tty.name"
    # runc 1.1 sends "/dev/ptmx" as the name.
    is_husk && assert_equal "$(cat "$TEST_DIR/tty.name")" /dev/pts/0
    run husk start "$ID"
    assert_success
    wait_recvtty
    assert_contains $'/dev/pts/0\n/dev/pts/0\n/dev/pts/0\n/dev/pts/0\n'
    # /dev/console: the pty slave (devpts major 136 = 0x88, minor 0).
    assert_contains "console=character special file 88:0"
    assert_contains " - devpts devpts "
    assert_contains "size=30 100"
    assert_contains done
}

@test "terminal: input written to the master reaches the container" {
    update_config '.process.terminal = true'
    set_cmd sh -c 'read line; echo "got:$line"'
    start_recvtty -i 'hello pty\n'
    run husk create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
    assert_success
    run husk start "$ID"
    assert_success
    wait_recvtty
    assert_contains "got:hello pty"
}

@test "terminal: the container is the session leader with the pty as controlling terminal" {
    update_config '.process.terminal = true'
    # /dev/tty opens only with a controlling terminal; pid 1 leads its session.
    set_cmd sh -c 'echo via-dev-tty >/dev/tty && echo ctty-ok; echo "sid=$(cut -d" " -f6 /proc/self/stat) pid=$$"'
    start_recvtty
    run husk create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
    assert_success
    run husk start "$ID"
    assert_success
    wait_recvtty
    assert_contains via-dev-tty
    assert_contains ctty-ok
    assert_contains "sid=1 pid=1"
}

@test "terminal: the pty slave belongs to the process user" {
    update_config '.process.terminal = true | .process.user = {uid: 1000, gid: 1000}'
    set_cmd sh -c 'stat -c "owner=%u" "$(tty)"; id -u'
    start_recvtty
    run husk create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
    assert_success
    run husk start "$ID"
    assert_success
    wait_recvtty
    assert_contains "owner=1000"
}

@test "create with terminal but without --console-socket: clear error, nothing left" {
    update_config '.process.terminal = true'
    run husk create --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "console socket"
    assert_no_trace "$ID"
    assert_root_empty
}

@test "create --console-socket without terminal: clear error, nothing left" {
    start_recvtty
    run husk create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "console socket"
    assert_no_trace "$ID"
    assert_root_empty
}

@test "create --console-socket to a socket nobody listens on: error names it, nothing left" {
    update_config '.process.terminal = true'
    run husk create --console-socket "$TEST_DIR/nobody.sock" --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "$TEST_DIR/nobody.sock"
    assert_no_trace "$ID"
    assert_root_empty
}

@test "run with terminal and no console socket: husk relays the pty itself" {
    require_husk # runc 1.1 needs its own stdin to be a tty
    update_config '.process.terminal = true | .process.consoleSize = {height: 12, width: 34}'
    set_cmd sh -c 'tty; echo "size=$(stty size)"; exit 7'
    run husk run --bundle "$BUNDLE" "$ID" </dev/null
    assert_status 7
    output=$(tr -d '\r' <<<"$output")
    assert_contains /dev/pts/0
    assert_contains "size=12 34"
    assert_no_trace "$ID"
}

@test "run with terminal relays input from our stdin" {
    require_husk # runc 1.1 needs its own stdin to be a tty
    update_config '.process.terminal = true'
    set_cmd sh -c 'read line; echo "got:$line"'
    run husk run --bundle "$BUNDLE" "$ID" <<<"from stdin"
    assert_success
    assert_contains "got:from stdin"
}

@test "run --detach with terminal and no console socket: clear error, nothing left" {
    update_config '.process.terminal = true'
    run husk run -d --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_contains "console socket"
    assert_no_trace "$ID"
    assert_root_empty
}

@test "run --console-socket (foreground): the master goes to the socket, run exits with the status" {
    require_husk # runc 1.1 refuses a console socket without --detach
    update_config '.process.terminal = true'
    set_cmd sh -c 'echo to-socket; exit 3'
    start_recvtty
    run husk run --console-socket "$SOCK" --bundle "$BUNDLE" "$ID" </dev/null
    assert_status 3
    assert_not_contains to-socket
    wait_recvtty
    assert_contains to-socket
}

@test "run with terminal from a real tty: its size is passed on, its mode restored after" {
    command -v script >/dev/null || skip "script(1) not installed"
    update_config '.process.terminal = true'
    set_cmd sh -c 'echo "size=$(stty size)"; exit 4'
    # script(1) gives husk a pty of its own as stdin/stdout.
    cat >"$TEST_DIR/tty.sh" <<EOS
stty rows 25 cols 90
before=\$(stty -g)
"$HUSK_BIN" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
echo "rc=\$?"
[ "\$(stty -g)" = "\$before" ] && echo restored
EOS
    run timeout 30 script -qec "bash $TEST_DIR/tty.sh" /dev/null </dev/null
    output=$(tr -d '\r' <<<"$output")
    assert_contains "size=25 90"
    assert_contains "rc=4"
    assert_contains restored
    assert_no_trace "$ID"
}

@test "SECURITY: an image's /dev/console symlink does not redirect the console bind" {
    require_husk # runc 1.1 fails on an image /dev/console symlink
    update_config '.process.terminal = true | .mounts |= map(select(.destination != "/dev"))'
    echo precious >"$BUNDLE/rootfs/etc/target"
    ln -sf /etc/target "$BUNDLE/rootfs/dev/console"
    set_cmd sh -c 'cat /etc/target; stat -c "console=%F %t:%T" /dev/console'
    start_recvtty
    run husk create --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
    assert_success
    run husk start "$ID"
    assert_success
    wait_recvtty
    # The link was replaced by the console; the file it pointed to is intact.
    assert_contains precious
    assert_contains "console=character special file 88:0"
    assert_equal "$(cat "$BUNDLE/rootfs/etc/target")" precious
}
