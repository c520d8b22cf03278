# shellcheck shell=bash
# lib.sh — the load tests of husk (issue 5), shared by tests/load/lifecycles.sh,
# tests/load/many.sh (make load-check: 500 lifecycles, 200 containers) and the short
# version in tests/integration/concurrency.bats (make check).
#
#   load_lifecycles N P  N full lifecycles (create, start, exec, kill, wait stopped,
#                        delete), P at a time; every LOAD_RACE_EVERY-th id is given to
#                        LOAD_RACERS workers released together by a barrier: exactly one
#                        create must win, the others must fail with one line saying the id
#                        exists, and the winner's later steps must all succeed.
#   load_many N P        N containers created and started (P at a time), then: no husk
#                        process is left, `husk list` shows all N (timed), `husk state`
#                        of each works; then all are deleted.
#
# Both end with the leak checks: nothing under --root, no cgroup
# /sys/fs/cgroup/*/husk/<id> (the unified mount included), no mount under the work
# dir, no process running the container's marker command or a husk command for this
# --root. Both print one summary line starting with "load:".
#
# Environment: HUSK_BIN (the runtime), ROOT (its --root), LOAD_DIR (a work dir; the
# shared read-only rootfs, the bundles and the per-attempt results live there),
# LOAD_ROOTFS (optional: a ready busybox rootfs to share instead of building one).
#
# Every husk call goes through /usr/bin/time, which records the peak RSS (ru_maxrss of
# husk and the children it waited for, i.e. stage 1) and the wall time of each call.

LOAD_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOAD_REPO=$(cd "$LOAD_LIB_DIR/../.." && pwd)
: "${LOAD_RACE_EVERY:=10}"
: "${LOAD_RACERS:=3}"
: "${LOAD_TIMEOUT:=30}"

load_msg() { printf '%s\n' "$*" >&2; }

# ------------------------------------------------------------------ set up

# load_init: the shared read-only rootfs and the template config.json.
load_init() {
    [ -x "$HUSK_BIN" ] || { load_msg "load: runtime not found: $HUSK_BIN"; return 1; }
    [ -n "${ROOT:-}" ] && [ -n "${LOAD_DIR:-}" ] || { load_msg "load: ROOT and LOAD_DIR must be set"; return 1; }
    mkdir -p "$LOAD_DIR" "$ROOT" "$LOAD_DIR/res" "$LOAD_DIR/b"
    # Built once and kept (every container mounts it read-only, nothing writes to it).
    local rootfs=${LOAD_ROOTFS:-${TMPDIR:-/tmp}/husk-load-rootfs}
    (
        flock 9
        if [ ! -x "$rootfs/bin/busybox" ] || [ ! -e "$rootfs/etc/passwd" ]; then
            "$LOAD_REPO/scripts/mkrootfs.sh" "$rootfs" >&2
        fi
    ) 9>"$rootfs.lock" || return 1
    # A marker no other process on the machine runs: the leak check looks for it.
    LOAD_MARKER=${LOAD_MARKER:-98765$$$RANDOM}
    export LOAD_MARKER LOAD_DIR ROOT HUSK_BIN LOAD_RACE_EVERY LOAD_RACERS LOAD_TIMEOUT
    local tmpl=$LOAD_DIR/tmpl
    mkdir -p "$tmpl"
    rm -f "$tmpl/config.json"
    "$HUSK_BIN" spec --bundle "$tmpl" || return 1
    # One rootfs for every bundle, read-only (root.path absolute); each container is
    # small: sleep, at most 32 pids, 64 MiB.
    jq --arg r "$rootfs" --arg m "$LOAD_MARKER" '
        .process.terminal = false
        | .process.args = ["sleep", $m]
        | .root = {path: $r, readonly: true}
        | .hostname = "load"
        | .linux.resources.pids = {limit: 32}
        | .linux.resources.memory = {limit: 67108864}
    ' "$tmpl/config.json" >"$LOAD_DIR/config.json" || return 1
}

# load_bundles ID...: a bundle for each ID (just a config.json: the rootfs is shared)
# and its results dir. Builtins only past the one mkdir: hundreds of forks are slow.
load_bundles() {
    local id cfg
    cfg=$(<"$LOAD_DIR/config.json")
    printf '%s\0' "$@" | (cd "$LOAD_DIR/b" && xargs -0 mkdir -p)
    printf '%s\0' "$@" | (cd "$LOAD_DIR/res" && xargs -0 mkdir -p)
    for id in "$@"; do
        printf '%s\n' "$cfg" >"$LOAD_DIR/b/$id/config.json"
    done
}

# hk TIMEFILE ARGS...: run husk with --root, timed. stdio as given by the caller.
hk() {
    local tf=$1
    shift
    /usr/bin/time -a -o "$tf" -f "%M %e $1" "$HUSK_BIN" --root "$ROOT" "$@" 3>&- 4>&- 9>&-
}

mem_available_kib() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }

# now_ms: wall clock in milliseconds.
now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

# Sleep without forking: wait on a fifo nobody writes (fd 4, opened read-write).
_nap() { read -r -t "$1" -u 4 _ || true; }

_load_nap_fifo() {
    [ -p "$LOAD_DIR/nap" ] || mkfifo "$LOAD_DIR/nap" 2>/dev/null || [ -p "$LOAD_DIR/nap" ]
    exec 4<>"$LOAD_DIR/nap"
}

# _count GLOB: how many files match (no fork: the verification loops call it often).
_count() {
    local f=()
    # shellcheck disable=SC2206
    f=($1)
    [ -e "${f[0]}" ] && echo "${#f[@]}" || echo 0
}

# ------------------------------------------------------------------ one lifecycle

# _wait_stopped TIMEFILE ID: poll `husk state` until status is stopped.
_wait_stopped() {
    local tf=$1 id=$2 st="" i
    for ((i = 0; i < LOAD_TIMEOUT * 50; i++)); do
        st=$(hk "$tf" state "$id" 2>/dev/null | jq -r .status 2>/dev/null) || true
        [ "$st" = stopped ] && return 0
        _nap 0.02
    done
    echo "status '$st' after ${LOAD_TIMEOUT}s, expected stopped"
    return 1
}

# _step DIR K NAME CMD...: run a step; on failure record it in DIR/fail.K.
_step() {
    local dir=$1 k=$2 name=$3 rc=0
    shift 3
    "$@" >"$dir/step.$k.out" 2>"$dir/step.$k.err" </dev/null || rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '%s: exit %s: %s %s\n' "$name" "$rc" "$(head -c 300 "$dir/step.$k.out")" \
            "$(head -c 300 "$dir/step.$k.err")" >>"$dir/fail.$k"
        return 1
    fi
}

# load_lifecycle ID K NRACERS — run by one worker (tests/load/worker.sh).
load_lifecycle() {
    local id=$1 k=$2 n=$3
    local dir=$LOAD_DIR/res/$id tf=$LOAD_DIR/res/$id/time.$2 rc=0 i
    _load_nap_fifo
    if [ "$n" -gt 1 ]; then
        # Barrier: the last racer to arrive releases the others through the fifo
        # (opened read-write by all, so no open blocks and no line is lost).
        exec 9<>"$dir/barrier"
        : >"$dir/arrived.$k"
        if [ "$(_count "$dir/arrived.*")" -ge "$n" ]; then
            for ((i = 1; i < n; i++)); do echo go >&9; done
        else
            read -r -t "$LOAD_TIMEOUT" -u 9 _ || echo "barrier timed out" >>"$dir/fail.$k"
        fi
    fi
    hk "$tf" create --bundle "$LOAD_DIR/b/$id" "$id" </dev/null >"$dir/create.$k.out" 2>"$dir/create.$k.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "$rc" >"$dir/lost.$k"
        : >"$dir/done.$k"
        return 0
    fi
    : >"$dir/won.$k"
    : >"$dir/done.$k"
    local ok=1 pid st
    _step "$dir" "$k" start hk "$tf" start "$id" || ok=0
    if [ "$ok" = 1 ]; then
        rc=0
        hk "$tf" exec "$id" /bin/true </dev/null >"$dir/exec.$k.out" 2>&1 || rc=$?
        [ "$rc" -eq 0 ] || { echo "exec /bin/true: exit $rc: $(head -c 300 "$dir/exec.$k.out")" >>"$dir/fail.$k"; ok=0; }
    fi
    if [ "$ok" = 1 ] && [ "$n" -gt 1 ]; then
        # A contested id: every racer's create has returned before the winner goes on,
        # so each loser really ran while this container existed. The winner must still
        # be intact: running, same init, and exec must still report statuses.
        pid=$(hk "$tf" state "$id" 2>/dev/null | jq -r .pid) || true
        for ((i = 0; i < LOAD_TIMEOUT * 50; i++)); do
            [ "$(_count "$dir/done.*")" -ge "$n" ] && break
            _nap 0.02
        done
        [ "$(_count "$dir/done.*")" -ge "$n" ] || { echo "racers did not finish" >>"$dir/fail.$k"; ok=0; }
        st=$(hk "$tf" state "$id" 2>&1) || true
        if [ "$(jq -r .status <<<"$st" 2>/dev/null)" != running ] || [ "$(jq -r .pid <<<"$st" 2>/dev/null)" != "$pid" ]; then
            echo "winner's state changed by a loser: $st (init was $pid)" >>"$dir/fail.$k"
            ok=0
        fi
        rc=0
        hk "$tf" exec "$id" /bin/sh -c 'exit 7' </dev/null >"$dir/exec.$k.out" 2>&1 || rc=$?
        [ "$rc" -eq 7 ] || { echo "exec sh -c 'exit 7': exit $rc: $(head -c 300 "$dir/exec.$k.out")" >>"$dir/fail.$k"; ok=0; }
    fi
    if [ "$ok" = 1 ]; then
        _step "$dir" "$k" kill hk "$tf" kill "$id" KILL || ok=0
    fi
    if [ "$ok" = 1 ]; then
        _step "$dir" "$k" "wait stopped" _wait_stopped "$tf" "$id" || ok=0
    fi
    if [ "$ok" = 1 ]; then
        _step "$dir" "$k" delete hk "$tf" delete "$id" || ok=0
    fi
    if [ "$ok" = 1 ]; then
        : >"$dir/ok.$k"
    else
        hk "$tf" delete --force "$id" </dev/null >/dev/null 2>&1 || true
    fi
    return 0
}

# ------------------------------------------------------------------ checks

# _peak_rss: "KIB VERB" of the largest ru_maxrss of any timed husk call.
_peak_rss() {
    cat "$LOAD_DIR"/res/*/time.* 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && $1 > m { m = $1; v = $3 } END { print m + 0, v }'
}

# load_verbs: per husk verb, the number of calls, median and max wall time, max RSS.
load_verbs() {
    cat "$LOAD_DIR"/res/*/time.* 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { print $3, $2, $1 }' | sort -k1,1 -k2,2n |
        awk '
        function flush() { if (v != "") printf "load:   %-7s %5d calls, median %.2f s, max %.2f s, peak RSS %d KiB\n", v, n, t[int((n + 1) / 2)], t[n], m }
        $1 != v { flush(); v = $1; n = 0; m = 0 }
        { t[++n] = $2; if ($3 > m) m = $3 }
        END { flush() }'
}

# _pids_with_cmdline STRING: pids whose command line (arguments joined by spaces)
# contains STRING. pgrep -f reads them all in one process; each match is confirmed
# with a plain string comparison (pgrep's pattern is a regex).
_pids_with_cmdline() {
    local p c re
    re=$(printf '%s' "$1" | sed 's/[][\\.^$*+?(){}|]/\\&/g')
    for p in $(pgrep -f -- "$re"); do
        c=$( { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null) || continue
        [[ $c == *"$1"* ]] && echo "$p"
    done
    return 0
}

# load_leaks PREFIX: print every leftover of the ids starting with PREFIX.
load_leaks() {
    local prefix=$1 d m p
    for d in "$ROOT"/*; do
        [ -e "$d" ] && echo "state dir left: $d"
    done
    for d in /sys/fs/cgroup/*/husk/"$prefix"* /sys/fs/cgroup/husk/"$prefix"*; do
        [ -d "$d" ] && echo "cgroup left: $d"
    done
    while read -r m; do
        [ -n "$m" ] && echo "mount left: $m"
    done < <(awk -v p="$LOAD_DIR" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo)
    for p in $(_pids_with_cmdline "sleep $LOAD_MARKER"); do
        [ "$p" = "$$" ] || echo "container process left: $p ($( { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null))"
    done
    for p in $(_pids_with_cmdline "--root $ROOT "); do
        echo "husk process left: $p ($( { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null))"
    done
    return 0
}

# load_force_clean PREFIX: best-effort removal of whatever a failed run left.
load_force_clean() {
    local prefix=$1 id d p
    for id in $("$HUSK_BIN" --root "$ROOT" list -q 2>/dev/null); do
        "$HUSK_BIN" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
    done
    for d in /sys/fs/cgroup/*/husk/"$prefix"* /sys/fs/cgroup/husk/"$prefix"*; do
        [ -d "$d" ] || continue
        [ -f "$d/cgroup.procs" ] && while read -r p; do kill -9 "$p" 2>/dev/null; done <"$d/cgroup.procs"
        rmdir "$d" 2>/dev/null || true
    done
    for p in $(_pids_with_cmdline "sleep $LOAD_MARKER"); do
        [ "$p" = "$$" ] || kill -9 "$p" 2>/dev/null || true
    done
    return 0
}

# ------------------------------------------------------------------ N lifecycles

load_lifecycles() {
    local n=${1:-500} par=${2:-8}
    local prefix="hl-$$-$RANDOM-" i k id nr tasks=$LOAD_DIR/tasks errors=0 contested=0 lost=0
    load_init || return 1
    : >"$tasks"
    local ids=()
    for ((i = 0; i < n; i++)); do ids+=("$prefix$i"); done
    load_bundles "${ids[@]}"
    for ((i = 0; i < n; i++)); do
        id=$prefix$i
        [ -n "${TEST_DIR:-}" ] && [ -f "$TEST_DIR/ids" ] && echo "$id" >>"$TEST_DIR/ids"
        nr=1
        if [ "$LOAD_RACE_EVERY" -gt 0 ] && [ $((i % LOAD_RACE_EVERY)) -eq $((LOAD_RACE_EVERY - 1)) ]; then
            nr=$LOAD_RACERS
            mkfifo "$LOAD_DIR/res/$id/barrier"
            contested=$((contested + 1))
        fi
        for ((k = 0; k < nr; k++)); do echo "$id $k $nr"; done >>"$tasks"
    done
    local mem0 t0 t1 sampler
    mem0=$(mem_available_kib)
    # Lowest MemAvailable during the run, sampled every 0.2 s.
    (
        lo=$mem0
        while [ ! -e "$LOAD_DIR/stop-sampler" ]; do
            m=$(mem_available_kib)
            [ "$m" -lt "$lo" ] && lo=$m && echo "$lo" >"$LOAD_DIR/mem-low"
            sleep 0.2
        done
    ) 3>&- &
    sampler=$!
    echo "$mem0" >"$LOAD_DIR/mem-low"
    t0=$(now_ms)
    xargs -P "$par" -L 1 bash "$LOAD_LIB_DIR/worker.sh" lifecycle <"$tasks" 3>&- || true
    t1=$(now_ms)
    : >"$LOAD_DIR/stop-sampler"
    wait "$sampler" 2>/dev/null || true

    # Every id: exactly one winner whose whole lifecycle succeeded; every loser failed
    # with exactly one line saying the id exists.
    local w f e lines
    for ((i = 0; i < n; i++)); do
        id=$prefix$i
        d=$LOAD_DIR/res/$id
        w=$(_count "$d/won.*")
        if [ "$w" -ne 1 ]; then
            load_msg "$id: $w creates succeeded, expected exactly 1"
            for f in "$d"/create.*.err; do load_msg "  $(basename "$f"): $(cat "$f")"; done
            errors=$((errors + 1))
        fi
        for f in "$d"/fail.*; do
            [ -e "$f" ] || continue
            load_msg "$id: $(cat "$f")"
            errors=$((errors + 1))
        done
        for f in "$d"/won.*; do
            [ -e "$f" ] || continue
            k=${f##*.}
            [ -e "$d/ok.$k" ] || { load_msg "$id: winner $k did not complete its lifecycle"; errors=$((errors + 1)); }
        done
        for f in "$d"/lost.*; do
            [ -e "$f" ] || continue
            k=${f##*.}
            lost=$((lost + 1))
            e=$d/create.$k.err
            lines=$(wc -l <"$e")
            if [ "$lines" -ne 1 ] || ! grep -q 'exists' "$e"; then
                load_msg "$id: losing create (exit $(cat "$f")) did not say, in one line, that the id exists: $(cat "$e")"
                errors=$((errors + 1))
            fi
        done
    done
    local leaks
    leaks=$(load_leaks "$prefix")
    if [ -n "$leaks" ]; then
        load_msg "$leaks"
        errors=$((errors + 1))
        load_force_clean "$prefix"
    fi
    local peak secs
    peak=$(_peak_rss)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
    printf 'load: lifecycles: %d ids, %d at a time, %d contested by %d racers (%d losers refused), %s s (%.1f lifecycles/s); peak RSS of a husk call %s KiB (%s); MemAvailable %d MiB before, lowest %d MiB during, %d MiB after; errors %d, leaks %s\n' \
        "$n" "$par" "$contested" "$LOAD_RACERS" "$lost" "$secs" \
        "$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { print n * 1000 / (b - a) }')" \
        "${peak% *}" "${peak#* }" $((mem0 / 1024)) $(($(cat "$LOAD_DIR/mem-low") / 1024)) \
        $(($(mem_available_kib) / 1024)) "$errors" "$([ -z "$leaks" ] && echo 0 || echo yes)"
    load_verbs
    [ "$errors" -eq 0 ]
}

# ------------------------------------------------------------------ N at once

load_start_one() {
    local id=$1 dir=$LOAD_DIR/res/$1 tf=$LOAD_DIR/res/$1/time.0
    _step "$dir" 0 create hk "$tf" create --bundle "$LOAD_DIR/b/$id" "$id" &&
        _step "$dir" 0 start hk "$tf" start "$id" && : >"$dir/ok.0"
    return 0
}

load_delete_one() {
    local id=$1 dir=$LOAD_DIR/res/$1 tf=$LOAD_DIR/res/$1/time.0
    _step "$dir" 0 "delete --force" hk "$tf" delete --force "$id" && : >"$dir/deleted.0"
    return 0
}

load_many() {
    local n=${1:-200} par=${2:-8}
    local prefix="hm-$$-$RANDOM-" i id errors=0 d
    load_init || return 1
    : >"$LOAD_DIR/ids"
    local ids=()
    for ((i = 0; i < n; i++)); do ids+=("$prefix$i"); done
    load_bundles "${ids[@]}"
    for ((i = 0; i < n; i++)); do
        id=$prefix$i
        echo "$id" >>"$LOAD_DIR/ids"
        [ -n "${TEST_DIR:-}" ] && [ -f "$TEST_DIR/ids" ] && echo "$id" >>"$TEST_DIR/ids"
    done
    local mem0 mem1 t0 t1 t_up t_del
    mem0=$(mem_available_kib)
    t0=$(now_ms)
    xargs -P "$par" -L 1 bash "$LOAD_LIB_DIR/worker.sh" start <"$LOAD_DIR/ids" 3>&- || true
    t1=$(now_ms)
    t_up=$((t1 - t0))
    for ((i = 0; i < n; i++)); do
        d=$LOAD_DIR/res/$prefix$i
        if [ ! -e "$d/ok.0" ]; then
            load_msg "$prefix$i: $(cat "$d/fail.0" 2>/dev/null || echo 'create/start did not finish')"
            errors=$((errors + 1))
        fi
    done

    # The runtime is not a daemon: once create and start have returned, no husk process
    # of this --root exists; each container is exactly one process, its init, which
    # has exec'd the marker sleep (comm "sleep", its exe is not husk).
    local p left
    left=$(_pids_with_cmdline "--root $ROOT ")
    if [ -n "$left" ]; then
        load_msg "husk processes still running after create/start returned: $left"
        errors=$((errors + 1))
    fi
    # (a husk re-executed from its sealed memfd copy is called "memfd:husk")
    for p in $(pgrep -x 'husk|memfd:husk'); do
        if [[ $( { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null) == *"$ROOT"* ]]; then
            load_msg "pgrep -x husk: $p belongs to this run"
            errors=$((errors + 1))
        fi
    done

    # husk list: all N, running; timed (best of 3 and the first).
    local out t_list=() s e lst
    for i in 1 2 3; do
        s=$(now_ms)
        out=$("$HUSK_BIN" --root "$ROOT" list 2>&1) || { load_msg "husk list failed: $out"; errors=$((errors + 1)); }
        e=$(now_ms)
        t_list+=($((e - s)))
    done
    lst=$(awk 'NR > 1 && $3 == "running"' <<<"$out" | wc -l)
    if [ "$lst" -ne "$n" ]; then
        load_msg "husk list shows $lst running containers, expected $n"
        errors=$((errors + 1))
    fi
    for ((i = 0; i < n; i++)); do
        grep -q "^$prefix$i " <<<"$out" || { load_msg "husk list lacks $prefix$i"; errors=$((errors + 1)); }
    done
    local q
    q=$("$HUSK_BIN" --root "$ROOT" list -q | wc -l)
    [ "$q" -eq "$n" ] || { load_msg "husk list -q: $q ids, expected $n"; errors=$((errors + 1)); }

    # husk state of each: running, with the pid of a live single-process container.
    local st status pid cg procs comm exe t_state=0 mem_cg=0 u
    for ((i = 0; i < n; i++)); do
        id=$prefix$i
        s=$(now_ms)
        st=$("$HUSK_BIN" --root "$ROOT" state "$id" 2>&1) || { load_msg "husk state $id: $st"; errors=$((errors + 1)); continue; }
        e=$(now_ms)
        t_state=$((t_state + e - s))
        read -r status pid < <(jq -r '"\(.status) \(.pid)"' <<<"$st")
        [ "$status" = running ] || { load_msg "husk state $id: $st"; errors=$((errors + 1)); continue; }
        echo "$id $pid" >>"$LOAD_DIR/pids"
    done
    while read -r id pid; do
        u=$(cat "/sys/fs/cgroup/memory/husk/$id/memory.usage_in_bytes" 2>/dev/null || echo 0)
        mem_cg=$((mem_cg + u))
        comm=$(cat "/proc/$pid/comm" 2>/dev/null)
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
        if [ "$comm" != sleep ] || [[ $exe == *husk* ]]; then
            load_msg "$id: init $pid is '$comm' ($exe), expected the container's sleep"
            errors=$((errors + 1))
        fi
        cg=/sys/fs/cgroup/pids/husk/$id
        [ -d "$cg" ] || cg=$(compgen -G "/sys/fs/cgroup/*/husk/$id" | head -1)
        procs=$(tr '\n' ' ' <"$cg/cgroup.procs")
        if [ "$procs" != "$pid " ]; then
            load_msg "$id: cgroup $cg holds '$procs', expected only the init $pid"
            errors=$((errors + 1))
        fi
    done <"$LOAD_DIR/pids"
    mem1=$(mem_available_kib)

    t0=$(now_ms)
    xargs -P "$par" -L 1 bash "$LOAD_LIB_DIR/worker.sh" delete <"$LOAD_DIR/ids" 3>&- || true
    t1=$(now_ms)
    t_del=$((t1 - t0))
    for ((i = 0; i < n; i++)); do
        d=$LOAD_DIR/res/$prefix$i
        [ -e "$d/deleted.0" ] || { load_msg "$prefix$i: $(cat "$d/fail.0" 2>/dev/null)"; errors=$((errors + 1)); }
    done
    local leaks peak
    leaks=$(load_leaks "$prefix")
    if [ -n "$leaks" ]; then
        load_msg "$leaks"
        errors=$((errors + 1))
        load_force_clean "$prefix"
    fi
    peak=$(_peak_rss)
    printf 'load: many: %d containers up (create+start, %d at a time) in %s s; husk list of %d: %s ms (then %s, %s ms); husk state of each: %s ms in all (%s ms each); memory charged to each container %d KiB (MemAvailable %d -> %d MiB); delete --force of all in %s s; peak RSS of a husk call %s KiB (%s); errors %d, leaks %s\n' \
        "$n" "$par" "$(awk -v t="$t_up" 'BEGIN { printf "%.1f", t / 1000 }')" "$n" "${t_list[0]}" "${t_list[1]}" "${t_list[2]}" \
        "$t_state" "$(awk -v t="$t_state" -v n="$n" 'BEGIN { printf "%.1f", t / n }')" \
        $((mem_cg / n / 1024)) $((mem0 / 1024)) $((mem1 / 1024)) \
        "$(awk -v t="$t_del" 'BEGIN { printf "%.1f", t / 1000 }')" "${peak% *}" "${peak#* }" \
        "$errors" "$([ -z "$leaks" ] && echo 0 || echo yes)"
    load_verbs
    [ "$errors" -eq 0 ]
}
