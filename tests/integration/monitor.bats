#!/usr/bin/env bats
# monitor.bats — husk-monitor, the per-container monitor of `husk container …`, run for
# real around a plain command by tests/tools/monitor_harness (which does what
# `container run -d` does around it: a subreaper session leader forks the command
# with pipes or a pty and execs the monitor through monitor_exec). Checked from its
# files (ctr.log in docker's json-file format, rotation, exit), its socket (attach:
# output, stdin, resize, exit code; attach.c is the client), the exit command it
# execs (and the fds it gets), and its idle RSS; and `container logs` (ctr_log.c,
# through the harness's -L) over what it wrote, -f included.

load helpers

setup() {
    TEST_DIR=$(mktemp -d /tmp/husk-mon.XXXXXX)
    C=$TEST_DIR/c
    mkdir -m 0700 "$C"
    export TEST_DIR C
    HARNESS=$(dirname "$HUSK_BIN")/monitor_harness
    MONITOR=$(dirname "$HUSK_BIN")/husk-monitor
    [ -x "$HARNESS" ] || fail "monitor_harness not built beside $HUSK_BIN"
    [ -x "$MONITOR" ] || fail "husk-monitor not built beside $HUSK_BIN"
}

teardown() {
    local p
    # a sanitizer build of the monitor reports to its stderr (-e of the harness)
    if grep -qE 'Sanitizer|runtime error:' "$TEST_DIR/monitor.err" 2>/dev/null; then
        cat "$TEST_DIR/monitor.err" >&2
        rm -rf "$TEST_DIR"
        fail "the monitor reported a sanitizer error"
    fi
    if [ -f "$TEST_DIR/pids" ]; then
        while read -r p; do
            pkill -KILL -P "$p" 2>/dev/null || true
            kill -KILL "$p" 2>/dev/null || true
        done <"$TEST_DIR/pids"
    fi
    rm -rf "$TEST_DIR"
}

# mon FLAGS… -- CMD…  (the harness takes the dir before the command)
monc() {
    local flags=()
    while [ "$1" != -- ]; do flags+=("$1"); shift; done
    shift
    MPID=$("$HARNESS" -e "$TEST_DIR/monitor.err" "${flags[@]}" "$C" "$@") ||
        fail "monitor_harness failed: $(cat "$TEST_DIR/monitor.err" 2>/dev/null)"
    echo "$MPID" >>"$TEST_DIR/pids"
}

# wait_gone PID: until the process is gone (at most 10 s)
wait_gone() {
    local i
    for i in $(seq 200); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
    fail "process $1 still there"
}

wait_file() {
    local i
    for i in $(seq 200); do
        [ -e "$1" ] && return 0
        sleep 0.05
    done
    fail "no $1"
}

# A command that waits for $TEST_DIR/go before doing $1 (so a client can attach first).
gated() {
    echo "while [ ! -e $TEST_DIR/go ]; do sleep 0.02; done; $1"
}

attach_bg() {   # attach_bg NAME [FLAGS…]: attach in the background, output to NAME.{out,err,rc}
    local name=$1
    shift
    ( rc=0
      "$HARNESS" -a "$@" "$C" >"$TEST_DIR/$name.out" 2>"$TEST_DIR/$name.err" </dev/null || rc=$?
      echo $rc >"$TEST_DIR/$name.rc" ) &
}

RFC3339NANO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$'

@test "monitor: the log is docker's json-file: a line per object, stream, time, escapes, partial lines" {
    monc -- sh -c 'echo out1; echo "err <&> \"q\" \\ tab	" >&2; printf "partial"; sleep 0.2; echo " rest"; printf "\001é\n"; exit 3'
    wait_gone "$MPID"
    run cat "$C/ctr.log"
    echo "$output"
    # every line one valid object with exactly these keys
    run jq -c 'keys' "$C/ctr.log"
    assert_success
    [ "$(echo "$output" | sort -u)" = '["log","stream","time"]' ] || fail "keys: $output"
    # (the two pipes are read as they come: no order between them)
    run jq -r '.stream' "$C/ctr.log"
    assert_equal "$(echo "$output" | sort | tr '\n' ' ')" "stderr stdout stdout stdout stdout "
    run jq -j 'select(.stream == "stdout") | .log' "$C/ctr.log"
    assert_equal "$output" "out1
partial rest
$(printf '\001é')"
    run jq -r 'select(.stream == "stderr") | .log' "$C/ctr.log"
    assert_equal "$output" 'err <&> "q" \ tab	'
    # Go's escaping, as docker writes it
    grep -qF '\u003c\u0026\u003e \"q\" \\ tab\t\n' "$C/ctr.log" || fail "escapes: $(cat "$C/ctr.log")"
    grep -qF '"log":"\u0001é\n"' "$C/ctr.log" || fail "control char: $(cat "$C/ctr.log")"
    # the partial line is its own entry, without a newline
    run jq -r 'select(.log == "partial") | .log' "$C/ctr.log"
    assert_equal "$output" partial
    run jq -r '.time' "$C/ctr.log"
    local t
    for t in $output; do
        [[ $t =~ $RFC3339NANO ]] || fail "time $t is not RFC3339Nano"
    done
    # times are now-ish and ordered
    run jq -r '.time' "$C/ctr.log"
    assert_equal "$output" "$(echo "$output" | sort)"
    local now first
    now=$(date -u +%s)
    first=$(date -u -d "$(jq -r .time "$C/ctr.log" | head -1)" +%s)
    [ $((now - first)) -lt 60 ] || fail "time $first vs now $now"
}

@test "monitor: exit file records status or 128+signal, and the time" {
    monc -- sh -c 'exit 42'
    wait_gone "$MPID"
    run cat "$C/exit"
    [[ $output =~ ^42\ [0-9T:.-]+Z$ ]] || fail "exit: $output"
    local t=${output#42 }
    [[ $t =~ $RFC3339NANO ]] || fail "time $t"
    [ -z "$(ls "$C" | grep -v -e '^ctr.log$' -e '^exit$')" ] || fail "left in the dir: $(ls "$C")"

    # a second run in the same dir (a restart): the old record goes at once, the log
    # is appended to
    monc -- sh -c "$(gated 'echo second; kill -KILL $$')"
    [ ! -e "$C/exit" ] || fail "a previous run's exit file is still there: $(cat "$C/exit")"
    touch "$TEST_DIR/go"
    wait_gone "$MPID"
    run cat "$C/exit"
    [[ $output =~ ^137\  ]] || fail "exit: $output"
    assert_equal "$(jq -r .log "$C/ctr.log" | grep -c second)" 1
}

@test "monitor: rotation keeps max-files of at most max-size bytes, newest last" {
    monc -s 300 -n 3 -- sh -c 'i=1; while [ $i -le 60 ]; do echo "line $i"; i=$((i+1)); done'
    wait_gone "$MPID"
    ls -l "$C"
    [ -f "$C/ctr.log" ] && [ -f "$C/ctr.log.1" ] && [ -f "$C/ctr.log.2" ] || fail "files: $(ls "$C")"
    [ ! -e "$C/ctr.log.3" ] || fail "more files than --log-max-files: $(ls "$C")"
    local f
    for f in "$C"/ctr.log*; do
        [ "$(stat -c %s "$f")" -le 300 ] || fail "$f: $(stat -c %s "$f") bytes > 300"
    done
    # oldest first, the lines are consecutive and end with the last one
    run sh -c "cat '$C/ctr.log.2' '$C/ctr.log.1' '$C/ctr.log' | jq -j .log"
    assert_success
    local last first n
    last=$(echo "$output" | tail -1)
    assert_equal "$last" "line 60"
    first=$(echo "$output" | head -1 | cut -d' ' -f2)
    n=$(echo "$output" | wc -l)
    assert_equal "$((first + n - 1))" 60
    [ "$n" -lt 60 ] || fail "nothing was rotated away"

    # one file: truncated in place
    rm -rf "$C"/*
    monc -s 100 -n 1 -- sh -c 'i=1; while [ $i -le 20 ]; do echo "line $i"; i=$((i+1)); done'
    wait_gone "$MPID"
    [ ! -e "$C/ctr.log.1" ] || fail "rotated with max-files 1"
    [ "$(stat -c %s "$C/ctr.log")" -le 100 ]
    assert_equal "$(jq -j .log "$C/ctr.log" | tail -1)" "line 20"
}

@test "monitor: attach gets stdout and stderr live, delivers stdin, and the exit code" {
    monc -i -- sh -c "$(gated 'read x; echo "got $x"; echo oops >&2; cat; exit 7')"
    [ "$(stat -c %a "$C/attach.sock")" = 600 ] || fail "attach.sock mode $(stat -c %a "$C/attach.sock")"
    ( rc=0
      printf 'hello\nmore\n' | "$HARNESS" -a -i "$C" >"$TEST_DIR/a.out" 2>"$TEST_DIR/a.err" || rc=$?
      echo $rc >"$TEST_DIR/a.rc" ) &
    attach_bg b        # a second client, output only
    sleep 0.3
    touch "$TEST_DIR/go"
    wait
    assert_equal "$(cat "$TEST_DIR/a.rc")" 7
    assert_equal "$(cat "$TEST_DIR/a.out")" "got hello
more"
    assert_equal "$(cat "$TEST_DIR/a.err")" "oops"
    assert_equal "$(cat "$TEST_DIR/b.rc")" 7
    assert_equal "$(cat "$TEST_DIR/b.out")" "got hello
more"
    assert_equal "$(cat "$TEST_DIR/b.err")" "oops"
    wait_gone "$MPID"
    [[ $(cat "$C/exit") =~ ^7\  ]]
    [ ! -e "$C/attach.sock" ] || fail "attach.sock left"
    # a late client finds no monitor
    run "$HARNESS" -a "$C"
    assert_failure
}

@test "monitor: a pty (-t): output, input, resize (TIOCSWINSZ) over attach" {
    monc -t -- sh -c "$(gated 'stty size; read x; echo "got $x"; exit 5')"
    ( rc=0
      printf 'typed\n' | "$HARNESS" -a -i -t -R 33,101 "$C" >"$TEST_DIR/a.out" 2>"$TEST_DIR/a.err" || rc=$?
      echo $rc >"$TEST_DIR/a.rc" ) &
    sleep 0.3
    touch "$TEST_DIR/go"
    wait
    assert_equal "$(cat "$TEST_DIR/a.rc")" 5
    run cat "$TEST_DIR/a.out"
    assert_contains "33 101"
    assert_contains "got typed"
    run jq -j .log "$C/ctr.log"
    assert_contains "33 101"
    assert_equal "$(jq -r .stream "$C/ctr.log" | sort -u)" stdout
}

@test "monitor: the detach keys leave the container running" {
    monc -t -- sh -c "$(gated 'sleep 0.5; echo after; exit 0')"
    ( rc=0
      printf 'ab\020\021' | "$HARNESS" -a -i -t "$C" >"$TEST_DIR/a.out" 2>"$TEST_DIR/a.err" || rc=$?
      echo $rc >"$TEST_DIR/a.rc" ) &
    wait
    assert_equal "$(cat "$TEST_DIR/a.rc")" 250
    kill -0 "$MPID"
    touch "$TEST_DIR/go"
    wait_gone "$MPID"
    [[ $(cat "$C/exit") =~ ^0\  ]]
}

@test "monitor: the exit command runs after the exit file, with only fds 0 1 2, clean signals" {
    cat >"$TEST_DIR/exitcmd" <<EOF
#!/bin/sh
cp $C/exit $TEST_DIR/exit-seen
[ -e $C/attach.sock ] && echo sock-still-there >$TEST_DIR/bad
echo \$\$ >$TEST_DIR/exitcmd.pid
grep -E '^Sig(Blk|Ign)' /proc/self/status >$TEST_DIR/sigs
exec ls -l /proc/self/fd >$TEST_DIR/fds
EOF
    chmod +x "$TEST_DIR/exitcmd"
    # -I: the process that execs the monitor ignores SIGCHLD (the kernel would reap
    # the init unseen) and blocks SIGINT: the monitor starts clean all the same
    monc -I -i -x "$TEST_DIR/exitcmd" -- sh -c "$(gated 'echo bye; exit 9')"
    touch "$TEST_DIR/go"
    wait_file "$TEST_DIR/fds"
    sleep 0.1
    cat "$TEST_DIR/fds"
    [[ $(cat "$TEST_DIR/exit-seen") =~ ^9\  ]] || fail "exit file when the exit command ran: $(cat "$TEST_DIR/exit-seen")"
    [ ! -e "$TEST_DIR/bad" ] || fail "attach.sock still there when the exit command ran"
    # the exit command is the monitor itself (execv, same pid)
    assert_equal "$(cat "$TEST_DIR/exitcmd.pid")" "$MPID"
    # 0 1 2, and 3: ls's own /proc/self/fd
    run awk 'NR > 1 { print $9 }' "$TEST_DIR/fds"
    assert_equal "$(echo $output)" "0 1 2 3"
    # the exit command starts with no signal blocked or ignored
    run cat "$TEST_DIR/sigs"
    assert_equal "$output" "SigBlk:	0000000000000000
SigIgn:	0000000000000000"
    run cat "$TEST_DIR/fds"
    assert_not_contains "pipe:"
    assert_not_contains "socket:"
    assert_not_contains "ctr.log"
    assert_not_contains "signalfd"
}

@test "monitor: SIGTERM, SIGINT and SIGHUP do not stop it; idle RSS is small" {
    monc -i -- sh -c "$(gated 'echo done')"
    local s
    for s in TERM INT HUP QUIT; do
        kill -s "$s" "$MPID"
    done
    sleep 0.2
    kill -0 "$MPID" || fail "the monitor died of a signal"
    # it holds only its own fds: 0-2, the container's stdio, the log, the socket, signalfd
    ls -l "/proc/$MPID/fd"
    run ls "/proc/$MPID/fd"
    [ "$(echo "$output" | wc -l)" -le 10 ] || fail "fds: $output"
    local rss
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$MPID/status")
    echo "# husk-monitor idle VmRSS: ${rss} kB" >&3
    if readelf -d "$MONITOR" 2>/dev/null | grep -q 'libasan'; then
        echo "# (a sanitizer build: RSS not asserted)" >&3
    else
        [ "$rss" -lt 4096 ] || fail "idle RSS ${rss} kB"
    fi
    touch "$TEST_DIR/go"
    wait_gone "$MPID"
    assert_equal "$(jq -r .log "$C/ctr.log")" done
}

@test "monitor: refuses a pid that is not its child, and bad arguments" {
    run "$MONITOR" --pid 1 --stdout 0 --stderr 0 "$C"
    assert_status 1
    assert_contains "not a child"
    run "$MONITOR" --pid 1 "$C" extra
    assert_status 2
    run "$MONITOR" --pid 1 --stdout 99 --stderr 0 "$C"
    assert_status 2
    assert_contains "bad fd"
    [ ! -e "$C/attach.sock" ]
}

@test "monitor: logs: streams apart, --tail, -t, --since/--until over rotated files" {
    monc -s 250 -n 5 -- sh -c 'for i in 1 2 3 4 5 6; do echo "out $i"; done; echo "err 1" >&2; sleep 1.1; echo late; echo "err 2" >&2'
    wait_gone "$MPID"
    [ -e "$C/ctr.log.1" ] || fail "not rotated: $(ls "$C")"
    run --separate-stderr "$HARNESS" -L "$C"
    assert_success
    assert_equal "$output" "out 1
out 2
out 3
out 4
out 5
out 6
late"
    assert_equal "$stderr" "err 1
err 2"
    run --separate-stderr "$HARNESS" -L "$C" --tail 2
    assert_equal "$output$stderr" "lateerr 2"
    run "$HARNESS" -L "$C" --tail 1 -t
    [[ $output =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z\ err\ 2$ ]] || fail "-t: $output"
    # --since the time of "late" (an RFC 3339 time from the log itself) and --until
    # the entry before it
    local late before
    late=$(jq -r 'select(.log == "late\n") | .time' "$C"/ctr.log*)
    before=$(cat "$C"/ctr.log.* "$C/ctr.log" 2>/dev/null | jq -r 'select(.log == "err 1\n") | .time')
    run --separate-stderr "$HARNESS" -L "$C" --since "$late"
    assert_equal "$output" late
    assert_equal "$stderr" "err 2"
    run --separate-stderr "$HARNESS" -L "$C" --until "$before"
    assert_equal "$(echo "$output" | tail -1)" "out 6"
    assert_equal "$stderr" "err 1"
    # relative: nothing in the last 0.5 s, all in the last hour
    sleep 0.5
    run "$HARNESS" -L "$C" --since 500ms
    assert_equal "$output" ""
    run "$HARNESS" -L "$C" --since 1h --tail all
    assert_equal "$(echo "$output" | wc -l)" 9
    run "$HARNESS" -L "$C" --since yesterday
    assert_status 125
    assert_contains "invalid time yesterday"
}

@test "monitor: logs -f follows a running container across rotations until it exits" {
    monc -s 300 -n 20 -- sh -c "$(gated 'i=1; while [ $i -le 40 ]; do echo "line $i"; i=$((i+1)); sleep 0.02; done; echo bye >&2')"
    ( rc=0
      "$HARNESS" -L "$C" -f >"$TEST_DIR/f.out" 2>"$TEST_DIR/f.err" || rc=$?
      echo $rc >"$TEST_DIR/f.rc" ) &
    sleep 0.3
    [ ! -e "$TEST_DIR/f.rc" ] || fail "logs -f returned before the container ran: $(cat "$TEST_DIR/f.err")"
    touch "$TEST_DIR/go"
    wait
    assert_equal "$(cat "$TEST_DIR/f.rc")" 0
    assert_equal "$(cat "$TEST_DIR/f.out")" "$(seq -f 'line %g' 1 40)"
    assert_equal "$(cat "$TEST_DIR/f.err")" bye
    [ -e "$C/ctr.log.3" ] || fail "not rotated enough: $(ls "$C")"
    # on an exited container, -f returns at once
    run --separate-stderr timeout 5 "$HARNESS" -L "$C" -f --tail 2
    assert_success
    assert_equal "$output" "line 40"
    assert_equal "$stderr" "bye"
}

@test "monitor: a slow client holds the output back, loses nothing; the log has it all" {
    monc -- sh -c "$(gated 'seq 200000; echo end >&2')"
    ( set -o pipefail
      rc=0
      "$HARNESS" -a "$C" 2>"$TEST_DIR/slow.err" | { sleep 1; cat; } >"$TEST_DIR/slow.out" || rc=$?
      echo $rc >"$TEST_DIR/slow.rc" ) &
    attach_bg fast
    sleep 0.3
    touch "$TEST_DIR/go"
    wait
    assert_equal "$(cat "$TEST_DIR/slow.rc")" 0
    assert_equal "$(cat "$TEST_DIR/fast.rc")" 0
    seq 200000 >"$TEST_DIR/expected"
    cmp "$TEST_DIR/expected" "$TEST_DIR/slow.out" || fail "the slow client lost output"
    cmp "$TEST_DIR/expected" "$TEST_DIR/fast.out" || fail "the fast client lost output"
    assert_equal "$(cat "$TEST_DIR/slow.err")" end
    wait_gone "$MPID"
    jq -j 'select(.stream == "stdout") | .log' "$C/ctr.log" | cmp "$TEST_DIR/expected" - || fail "the log lost output"
}

@test "monitor: logs -f with one file follows it through truncations" {
    monc -s 200 -n 1 -- sh -c "$(gated 'i=1; while [ $i -le 12 ]; do echo "line $i"; i=$((i+1)); sleep 0.25; done')"
    ( rc=0
      "$HARNESS" -L "$C" -f >"$TEST_DIR/f.out" 2>"$TEST_DIR/f.err" || rc=$?
      echo $rc >"$TEST_DIR/f.rc" ) &
    sleep 0.3
    touch "$TEST_DIR/go"
    wait
    assert_equal "$(cat "$TEST_DIR/f.rc")" 0
    assert_equal "$(cat "$TEST_DIR/f.out")" "$(seq -f 'line %g' 1 12)"
    [ ! -e "$C/ctr.log.1" ]
}

@test "monitor: as the subreaper it reaps orphans of the container, not only the init" {
    monc -- sh -c '( sleep 0.1 & ) ; exec sleep 30'
    local i
    for i in $(seq 40); do
        # the orphaned `sleep 0.1` was reparented to the monitor, exited, and is gone
        [ "$(ps --ppid "$MPID" -o pid= | wc -l)" -eq 1 ] && break
        sleep 0.05
    done
    run ps --ppid "$MPID" -o stat=,args=
    echo "$output"
    [ "$(echo "$output" | wc -l)" -eq 1 ] || fail "children of the monitor: $output"
    assert_not_contains "Z"
    assert_contains "sleep 30"
    kill -KILL "$(ps --ppid "$MPID" -o pid= | tr -d ' ')"
    wait_gone "$MPID"
    [[ $(cat "$C/exit") =~ ^137\  ]]
}
