#!/usr/bin/env bash
# bench.sh HUSK — start-up cost of a container: husk run vs runc run vs crun run; the
# cost of an exec into a running container; podman run with each as its runtime.
#
# Three scenarios, measured side by side in the same hyperfine invocations (-N: no
# intermediate shell, with warmup runs); in the first two each container's process is
# /bin/true, run to completion (create + start + wait + delete) by each runtime:
#   plain   the busybox bundle of `husk spec` (pid, net, ipc, uts, mount and cgroup
#           namespaces, masked/read-only paths, no resources but the device rule);
#   podman  "podman-like": the same, plus memory (512 MiB), pids (2048) and cpu
#           (shares 1024, quota/period 100000/100000) limits in linux.resources and the
#           ~400-syscall default seccomp profile of the integration tests
#           (tests/integration/fixtures/seccomp-default.json) as linux.seccomp;
#   exec    `RUNTIME exec ID /bin/true` into a running container of that runtime (the
#           plain bundle with `sleep` as its init, started once before the rounds):
#           join its namespaces and cgroups, run /bin/true, wait for it; and the
#           same into a container of the podman-like bundle (exec-pm), whose exec'd
#           process gets the container's seccomp filter too;
# plus, for the plain scenario only, the bare-kernel floor
#   unshare -mupin --fork chroot ROOTFS /bin/true
# (five of those namespaces, none of a runtime's work: config, cgroups, /dev, pivot_root,
# capabilities, state).
# And, in hyperfine invocations of their own (a podman run costs ~100 plain runs):
#   podman-run  `podman --runtime RUNTIME run --rm --network none localhost/bb true`, with
#           a podman root of the bench's own (--root/--runroot/--tmpdir under the temp
#           dir, a containers.conf in CONTAINERS_CONF: cgroupfs, file events, and
#           default_ulimits the caller's hard limits allow, as nothing here has
#           CAP_SYS_RESOURCE) and the busybox rootfs imported as localhost/bb. Its own
#           /dev/shm (a tmpfs in the private mount namespace, see below) keeps podman's
#           shm lock segment apart from any other podman's on the host. --network none:
#           the default bridge network is netavark's work, the same whatever the runtime,
#           and would leave a podman0 bridge and iptables chains on the host.
#
# Peak RSS: GNU time's %M is ru_maxrss of the process it waited for, which Linux also
# raises to the largest of that process's own waited-for descendants (the runtime's
# helper processes, the container). It is measured RSS_RUNS times per runtime; the table
# shows the MEDIAN of those maxima (and the largest one, in brackets).
#
# crun 1.8 refuses this hybrid cgroup host ("cgroups in hybrid mode not supported")
# while /sys/fs/cgroup/unified is mounted. So the whole measurement runs in a private
# mount namespace where that mount is gone: every runtime sees the same host (v1
# controllers only) and none pays for an extra unshare+sh wrapper. The configs say
# ociVersion 1.0.2 because crun 1.8 rejects 1.3.0 ("unknown version specified").
#
# Before measuring, each runtime runs each bundle once, and once more a copy of the
# podman bundle that prints the container's Seccomp mode and cgroup limits: the three
# outputs must be the same and show the filter and the limits in force, or the
# numbers would compare different work.
#
# Nothing is left behind, even when a runtime fails: the containers have ids unique to
# this bench run (bench-SUFFIX-RUNTIME[-pm]); on exit each runtime deletes (--force) the
# ones it still has state for, then any cgroup directory of those ids still under
# /sys/fs/cgroup/*/ has its processes killed and is removed, then the temp dir.
#
# The exec containers have ids of the same form (bench-SUFFIX-RUNTIME-ex, -xp), so the same
# cleanup deletes them. The podman part's containers and image are removed (podman rm,
# rmi), then whatever is still mounted under the temp dir is unmounted, then the
# libpod_parent cgroups podman made, if they did not exist before the run and are empty.
#
# Knobs (environment): RUNS (hyperfine runs per command, default 100), ROUNDS (the runs
# are split over this many hyperfine invocations in rotated order, default 5), WARMUP
# (per invocation, default 10), RSS_RUNS (default 30), PODMAN_RUNS (podman runs per
# runtime, also over ROUNDS rounds, default 30; 0 skips the podman scenario, which is
# also skipped, saying so, when podman or conmon is not installed), BENCH_KEEP=1 keeps
# the temp dir.
set -euo pipefail

if [ $# -ne 1 ] && ! { [ "${BENCH_INNER:-}" = 1 ] && [ $# -eq 2 ]; }; then
    echo "usage: $0 PATH/TO/husk" >&2
    exit 2
fi
HUSK=$(readlink -f "$1")
[ -x "$HUSK" ] || { echo "bench: $1: not an executable" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=${RUNS:-100}
WARMUP=${WARMUP:-10}
RSS_RUNS=${RSS_RUNS:-30}
ROUNDS=${ROUNDS:-5}
PODMAN_RUNS=${PODMAN_RUNS:-30}
if [ "$PODMAN_RUNS" != 0 ] && { ! command -v podman >/dev/null 2>&1 || ! command -v conmon >/dev/null 2>&1; }; then
    echo "bench: podman or conmon not found: the podman-run scenario is skipped" >&2
    PODMAN_RUNS=0
fi
export PODMAN_RUNS

for tool in hyperfine runc crun jq unshare chroot; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool not found (make deps)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: GNU time (/usr/bin/time) not found (apt-get install time)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: must run as root" >&2; exit 1; }

runtimes=(husk crun runc)
# rt_cmd RUNTIME ARGS...: the runtime with its state kept under the temp dir, never
# the host's /run/*.
rt_cmd() {
    local rt=$1
    shift
    case $rt in
        husk) echo "$HUSK --root $WORK/st-husk $*" ;;
        *) echo "$rt --root $WORK/st-$rt $*" ;;
    esac
}
# pm_cmd RUNTIME ARGS...: podman with the bench's own root, that runtime by path. Not
# --runtime-flag root=...: podman's cleanup (conmon's exit command) does not pass it
# on, and would leave every container's state and cgroups behind; so under podman
# each runtime keeps its state in its default root (/run/husk, /run/crun, /run/runc),
# where `run --rm` removes it.
pm_cmd() {
    local rt=$1 path
    shift
    case $rt in
        husk) path=$HUSK ;;
        *) path=$(command -v "$rt") ;;
    esac
    echo "podman --root $WORK/pm/r --runroot $WORK/pm/rr --tmpdir $WORK/pm/tmp --runtime $path $*"
}
# pm_clean: remove every podman container and image of the bench's podman root.
pm_clean() {
    [ -d "$WORK/pm/r" ] || return 0
    CONTAINERS_CONF=$WORK/pm/containers.conf $(pm_cmd husk rm -af -t 0) >/dev/null 2>&1 || true
    CONTAINERS_CONF=$WORK/pm/containers.conf $(pm_cmd husk rmi -af) >/dev/null 2>&1 || true
}
# umount_under DIR: whatever is mounted under DIR in this mount namespace (podman's
# overlay and shm mounts of a failed run), innermost first.
umount_under() {
    local m
    findmnt -rn -o TARGET | awk -v p="$1/" 'index($1, p) == 1' | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || echo "bench: could not unmount $m" >&2
    done
}

# ------------------------------------------------------------------ the inner part
# Runs in the private mount namespace, called as: BENCH_INNER=1 bench.sh HUSK WORK
if [ "${BENCH_INNER:-}" = 1 ]; then
    WORK=$2
    sfx=${WORK##*.}
    cd "$WORK"
    # A runtime that fails leaves its container behind: delete it here, where crun
    # accepts the host (the outer cleanup then sweeps what is still left).
    inner_cleanup() {
        local rt d
        for rt in "${runtimes[@]}"; do
            for d in "$WORK/st-$rt"/bench-"$sfx"-*; do
                [ -d "$d" ] || continue
                $(rt_cmd "$rt" delete --force "${d##*/}") >/dev/null 2>&1 || true
            done
        done
    }
    trap 'inner_cleanup; pm_clean; umount_under "$WORK"' EXIT
    trap 'exit 130' INT TERM HUP
    cmds=() names=()
    for rt in "${runtimes[@]}"; do
        names+=("$rt") cmds+=("$(rt_cmd "$rt" run --bundle "$WORK/bundle" "bench-$sfx-$rt")")
    done
    names+=(floor) cmds+=("unshare -mupin --fork chroot $WORK/bundle/rootfs /bin/true")
    for rt in "${runtimes[@]}"; do
        names+=("pm-$rt") cmds+=("$(rt_cmd "$rt" run --bundle "$WORK/bundle-pm" "bench-$sfx-$rt-pm")")
    done
    # The exec scenario: one running container per runtime (sleep as init, stdio on
    # /dev/null so nothing holds the bench's), deleted by inner_cleanup like the rest.
    for x in ex xp; do
        for rt in "${runtimes[@]}"; do
            c=$(rt_cmd "$rt" create --bundle "$WORK/bundle-$x" "bench-$sfx-$rt-$x")
            $c </dev/null >/dev/null 2>"$WORK/$x-$rt.err" || {
                cat "$WORK/$x-$rt.err" >&2; echo "bench: failed: $c" >&2; exit 1; }
            c=$(rt_cmd "$rt" start "bench-$sfx-$rt-$x")
            $c </dev/null >/dev/null || { echo "bench: failed: $c" >&2; exit 1; }
            names+=("$x-$rt") cmds+=("$(rt_cmd "$rt" exec "bench-$sfx-$rt-$x" /bin/true)")
        done
    done
    # exec-pm: the exec'd process must be under the container's filter in every runtime.
    for rt in "${runtimes[@]}"; do
        c=$(rt_cmd "$rt" exec "bench-$sfx-$rt-xp" grep ^Seccomp: /proc/self/status)
        $c | grep -q '^Seccomp:[[:space:]]*2$' || { echo "bench: exec-pm: no seccomp filter with $rt" >&2; exit 1; }
    done
    for c in "${cmds[@]}"; do   # each must work once, or the numbers mean nothing
        $c >/dev/null || { echo "bench: failed: $c" >&2; exit 1; }
    done
    # The podman bundle must do the same work in every runtime: seccomp filter in
    # force and the same limits (read from inside the container).
    for rt in "${runtimes[@]}"; do
        c=$(rt_cmd "$rt" run --bundle "$WORK/bundle-check" "bench-$sfx-$rt-pm")
        $c >"$WORK/check-$rt" 2>"$WORK/check-$rt.err" || {
            cat "$WORK/check-$rt" "$WORK/check-$rt.err" >&2; echo "bench: failed: $c" >&2; exit 1; }
    done
    grep -q '^Seccomp:[[:space:]]*2$' "$WORK/check-husk" || {
        cat "$WORK/check-husk" >&2; echo "bench: podman bundle: no seccomp filter in force" >&2; exit 1; }
    for rt in crun runc; do
        cmp -s "$WORK/check-husk" "$WORK/check-$rt" || {
            diff "$WORK/check-husk" "$WORK/check-$rt" >&2 || true
            echo "bench: podman bundle: husk and $rt set the container up differently" >&2; exit 1; }
    done
    # hyperfine runs its commands one after the other; on a shared machine the load
    # drifts in between. So the runs are split into ROUNDS invocations, each with the
    # commands (of both scenarios) in a rotated order, and the medians are taken over
    # all runs of all rounds.
    per=$(((RUNS + ROUNDS - 1) / ROUNDS))
    for ((k = 0; k < ROUNDS; k++)); do
        args=()
        for ((j = 0; j < ${#cmds[@]}; j++)); do
            i=$(((j + k) % ${#cmds[@]}))
            args+=(-n "${names[$i]}" "${cmds[$i]}")
        done
        echo "== round $((k + 1))/$ROUNDS" >&2
        hyperfine -N --warmup "$WARMUP" --runs "$per" --style basic \
            --export-json "$WORK/hyperfine-$k.json" "${args[@]}" >&2
    done
    jq -s '[.[].results[]] | group_by(.command)
           | map({command: .[0].command, times: (map(.times) | add),
                  user: (map(.user) | add / length), system: (map(.system) | add / length)})' \
        "$WORK"/hyperfine-*.json >"$WORK/hyperfine.json"
    for i in "${!cmds[@]}"; do
        : >"$WORK/rss-${names[$i]}"
        for ((r = 0; r < RSS_RUNS; r++)); do
            /usr/bin/time -a -o "$WORK/rss-${names[$i]}" -f %M ${cmds[$i]} >/dev/null
        done
    done
    # An exec leaves nothing but the sleeping init: every runtime's container must
    # still be running the one process (a leaked exec would be a second).
    for x in ex xp; do
        for rt in "${runtimes[@]}"; do
            n=$($(rt_cmd "$rt" ps "bench-$sfx-$rt-$x") | awk 'NR > 1' | wc -l)
            [ "$n" = 1 ] || { echo "bench: exec: $rt's container has $n processes, expected 1" >&2; exit 1; }
        done
    done
    inner_cleanup

    # ---------------------------------------------------------- podman run
    if [ "$PODMAN_RUNS" -gt 0 ]; then
        # podman's locks live in a shm segment (/dev/shm/libpod_lock) that every
        # podman on the host with the default num_locks shares: a private /dev/shm
        # here (this mount namespace's only) keeps the bench's locks apart.
        mount -t tmpfs -o mode=1777,size=64m,nosuid,nodev bench-shm /dev/shm
        export CONTAINERS_CONF=$WORK/pm/containers.conf
        $(pm_cmd husk import -q "$WORK/pm/bb.tar" localhost/bb) >/dev/null 2>"$WORK/pm/import.err" || {
            cat "$WORK/pm/import.err" >&2; echo "bench: podman import failed" >&2; exit 1; }
        pcmds=() pnames=()
        for rt in "${runtimes[@]}"; do
            # Each must work once, and run the container as configured: the seccomp
            # filter of podman's default profile in force (read from inside).
            c=$(pm_cmd "$rt" run --rm --network none localhost/bb grep ^Seccomp: /proc/self/status)
            $c >"$WORK/pm/check-$rt" 2>"$WORK/pm/check-$rt.err" || {
                cat "$WORK/pm/check-$rt" "$WORK/pm/check-$rt.err" >&2; echo "bench: failed: $c" >&2; exit 1; }
            grep -q '^Seccomp:[[:space:]]*2$' "$WORK/pm/check-$rt" || {
                cat "$WORK/pm/check-$rt" >&2; echo "bench: podman with $rt: no seccomp filter in force" >&2; exit 1; }
            pnames+=("podman-$rt") pcmds+=("$(pm_cmd "$rt" run --rm --network none localhost/bb true)")
        done
        pper=$(((PODMAN_RUNS + ROUNDS - 1) / ROUNDS))
        pwarm=$((WARMUP < 2 ? WARMUP : 2))
        for ((k = 0; k < ROUNDS; k++)); do
            args=()
            for ((j = 0; j < ${#pcmds[@]}; j++)); do
                i=$(((j + k) % ${#pcmds[@]}))
                args+=(-n "${pnames[$i]}" "${pcmds[$i]}")
            done
            echo "== podman round $((k + 1))/$ROUNDS" >&2
            hyperfine -N --warmup "$pwarm" --runs "$pper" --style basic \
                --export-json "$WORK/pm/hyperfine-$k.json" "${args[@]}" >&2
        done
        jq -s '[.[].results[]] | group_by(.command)
               | map({command: .[0].command, times: (map(.times) | add),
                      user: (map(.user) | add / length), system: (map(.system) | add / length)})' \
            "$WORK"/pm/hyperfine-*.json >"$WORK/hyperfine-pm.json"
        # --rm must have removed every container: none may be left, running or not.
        left=$($(pm_cmd husk ps -aq) 2>/dev/null | wc -l)
        [ "$left" = 0 ] || { echo "bench: podman run --rm left $left containers" >&2; exit 1; }
    fi
    exit 0
fi

# ------------------------------------------------------------------ set-up
WORK=$(mktemp -d /tmp/husk-bench.XXXXXX)
sfx=${WORK##*.}
# The cgroup directories of this run's containers, wherever a runtime put them
# (husk under husk/, crun and runc at the top, runc's memory one under the caller's
# memory cgroup), outermost first.
bench_cgroups() {
    find /sys/fs/cgroup -mindepth 2 -type d -name "bench-$sfx-*" -prune -print 2>/dev/null || true
}
cleanup() {
    local rc=$? rt d sub p tries
    set +e   # clean up as much as possible, whatever fails
    # Whatever the inner part could not delete: the containers a runtime still has
    # state for (deleted in a private mount namespace without the cgroup2 mount, where
    # crun accepts this host), then any cgroup of this run's ids.
    for rt in "${runtimes[@]}"; do
        for d in "$WORK/st-$rt"/bench-"$sfx"-*; do
            [ -d "$d" ] || continue
            echo "bench: deleting leftover ${d##*/} ($rt)" >&2
            unshare -m sh -c 'if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
                exec "$@"' sh $(rt_cmd "$rt" delete --force "${d##*/}") >/dev/null 2>&1 || true
        done
    done
    # The podman part cleans up after itself in its mount namespace; if it could not
    # (killed), its containers and image are removed here, then any mount under WORK.
    if [ -d "$WORK/pm/r" ]; then
        WORK=$WORK HUSK=$HUSK unshare -m bash -c "$(declare -f pm_cmd pm_clean umount_under)"'
            if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
            pm_clean; umount_under "$WORK"' >/dev/null 2>&1 || true
    fi
    umount_under "$WORK"
    for d in /sys/fs/cgroup/*/libpod_parent/conmon /sys/fs/cgroup/*/libpod_parent; do
        [ -d "$d" ] || continue
        grep -qxF "$d" "$WORK/libpod-cgroups-before" 2>/dev/null || rmdir "$d" 2>/dev/null || true
    done
    for d in $(bench_cgroups); do
        echo "bench: removing leftover cgroup $d" >&2
        if [ -f "$d/freezer.state" ]; then echo THAWED >"$d/freezer.state"; fi 2>/dev/null
        for tries in 1 2 3 4 5 6 7 8 9 10; do
            for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
                kill -KILL "$p" 2>/dev/null || true
            done
            for sub in $(find "$d" -depth -type d); do rmdir "$sub" 2>/dev/null || true; done
            [ -d "$d" ] || break
            sleep 0.2
        done
        if [ -d "$d" ]; then echo "bench: could not remove $d" >&2; rc=1; fi
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: kept $WORK" >&2
    else
        rm -rf --one-file-system "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The plain bundle: husk spec, /bin/true.
B=$WORK/bundle
sh "$repo/scripts/mkrootfs.sh" "$B/rootfs"
(cd "$B" && "$HUSK" spec)
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
jq --argjson h "$hard" '
    .ociVersion = "1.0.2"
    | .process.terminal = false
    | .process.args = ["/bin/true"]
    | .process.rlimits = ((.process.rlimits // []) | map(
          if .type == "RLIMIT_NOFILE"
          then .hard = ([.hard, $h] | min) | .soft = ([.soft, $h] | min)
          else . end))
' "$B/config.json" >"$B/config.json.new"
mv "$B/config.json.new" "$B/config.json"

# The podman-like bundle: the same plus the six namespaces podman asks for (husk spec
# has them; set here so the bundle does not depend on it), resource limits and the
# default seccomp profile (accepted as is by crun 1.8 and runc 1.1).
P=$WORK/bundle-pm
sh "$repo/scripts/mkrootfs.sh" "$P/rootfs"
jq --slurpfile sc "$repo/tests/integration/fixtures/seccomp-default.json" '
    .linux.namespaces = [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"},
                         {type: "mount"}, {type: "cgroup"}]
    | .linux.resources.memory = {limit: 536870912}
    | .linux.resources.pids = {limit: 2048}
    | .linux.resources.cpu = {shares: 1024, quota: 100000, period: 100000}
    | .linux.seccomp = $sc[0]
' "$B/config.json" >"$P/config.json"
# Its check copy: what every runtime must show from inside (see the top).
mkdir "$WORK/bundle-check"
jq --arg r "$P/rootfs" '.root.path = $r | .process.args = ["/bin/sh", "-c",
        "grep -E \"^(Seccomp|NoNewPrivs):\" /proc/self/status; cd /sys/fs/cgroup
         cat memory/memory.limit_in_bytes pids/pids.max cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us"]' \
    "$P/config.json" >"$WORK/bundle-check/config.json"

# The exec bundle: the plain one with a long sleep as the container's init.
mkdir "$WORK/bundle-ex"
jq --arg r "$B/rootfs" '.root.path = $r | .process.args = ["/bin/sleep", "1000000"]' \
    "$B/config.json" >"$WORK/bundle-ex/config.json"
mkdir "$WORK/bundle-xp"
jq --arg r "$P/rootfs" '.root.path = $r | .process.args = ["/bin/sleep", "1000000"]' \
    "$P/config.json" >"$WORK/bundle-xp/config.json"

# The podman part's root: its containers.conf and the busybox rootfs as an image tar.
# default_ulimits: podman's default asks for nofile 1048576, which a process without
# CAP_SYS_RESOURCE cannot raise its hard limit to; 20000 and 32768 are below the
# caller's (checked).
if [ "$PODMAN_RUNS" -gt 0 ]; then
    [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 20000 ] || {
        echo "bench: podman-run: the hard nofile limit ($(ulimit -Hn)) is below 20000" >&2; exit 1; }
    [ "$(ulimit -Hu)" = unlimited ] || [ "$(ulimit -Hu)" -ge 32768 ] || {
        echo "bench: podman-run: the hard nproc limit ($(ulimit -Hu)) is below 32768" >&2; exit 1; }
    for d in /sys/fs/cgroup/*/libpod_parent/conmon /sys/fs/cgroup/*/libpod_parent; do
        if [ -d "$d" ]; then echo "$d"; fi
    done >"$WORK/libpod-cgroups-before"
    mkdir -p "$WORK/pm/tmp" "$WORK/pm/netconf"
    cat >"$WORK/pm/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$WORK/pm/tmp/events.log"
tmp_dir = "$WORK/pm/tmp"
volume_path = "$WORK/pm/r/volumes"

[network]
network_backend = "netavark"
network_config_dir = "$WORK/pm/netconf"
EOF
    tar -C "$B/rootfs" -cf "$WORK/pm/bb.tar" .
fi

echo "bench: husk $("$HUSK" --version | head -1 | awk '{print $3}'), $(runc --version | head -1), $(crun --version | head -1)" >&2
echo "bench: $RUNS runs (+$WARMUP warmup) each with hyperfine; peak RSS over $RSS_RUNS runs each" >&2
[ "$PODMAN_RUNS" = 0 ] || echo "bench: podman-run: $(podman --version), $PODMAN_RUNS runs each" >&2

# The measurement, in a private mount namespace without the cgroup2 mount (see top).
# unshare -m makes every mount private first, so the umount is invisible to the host.
BENCH_INNER=1 unshare -m bash -c '
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
    exec bash "$0" "$1" "$2"' "$here/bench.sh" "$HUSK" "$WORK"

# ------------------------------------------------------------------ report
median_of() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
max_of() { sort -n "$1" | tail -1; }

rows=(husk crun runc floor pm-husk pm-crun pm-runc ex-husk ex-crun ex-runc xp-husk xp-crun xp-runc)
[ "$PODMAN_RUNS" = 0 ] || rows+=(podman-husk podman-crun podman-runc)
declare -A t_med t_mean t_sd t_cpu rss_med rss_max
for n in "${rows[@]}"; do
    json=$WORK/hyperfine.json
    case $n in podman-*) json=$WORK/hyperfine-pm.json ;; esac
    read -r t_med[$n] t_mean[$n] t_sd[$n] t_cpu[$n] < <(jq -r --arg l "$n" '
        .[] | select(.command == $l) | (.times | sort) as $t | ($t | length) as $n
        | ($t | add / $n) as $m
        | (if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end) as $med
        | (if $n > 1 then ($t | map((. - $m) * (. - $m)) | add) / ($n - 1) | sqrt else 0 end) as $sd
        | "\($med * 1000) \($m * 1000) \($sd * 1000) \((.user + .system) * 1000)"' "$json")
    if [ -f "$WORK/rss-$n" ]; then
        rss_med[$n]=$(median_of "$WORK/rss-$n")
        rss_max[$n]=$(max_of "$WORK/rss-$n")
    fi
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cpus, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
printf '%-10s %-8s %10s %13s %8s %15s %10s %9s\n' scenario runtime "median ms" "mean±sd ms" "cpu ms" "peak RSS KiB" "time/crun" "RSS/crun"
for n in "${rows[@]}"; do
    case $n in
        pm-*) scen=podman rt=${n#pm-} ref=pm-crun ;;
        ex-*) scen=exec rt=${n#ex-} ref=ex-crun ;;
        xp-*) scen=exec-pm rt=${n#xp-} ref=xp-crun ;;
        podman-*) scen=podman-run rt=${n#podman-} ref=podman-crun ;;
        *) scen=plain rt=$n ref=crun ;;
    esac
    if [ -n "${rss_med[$n]:-}" ]; then
        rss="${rss_med[$n]} [${rss_max[$n]}]" rssr=$(ratio "${rss_med[$n]}" "${rss_med[$ref]}")
    else
        rss=- rssr=-   # podman's own process, not the runtime's (conmon runs it)
    fi
    printf '%-10s %-8s %10.2f %13s %8.1f %15s %10s %9s\n' "$scen" "$rt" "${t_med[$n]}" \
        "$(printf '%.1f±%.1f' "${t_mean[$n]}" "${t_sd[$n]}")" "${t_cpu[$n]}" "$rss" \
        "$(ratio "${t_med[$n]}" "${t_med[$ref]}")" "$rssr"
done
echo "($RUNS runs each over $ROUNDS rounds; cpu: user+sys per run; peak RSS: median of $RSS_RUNS"
echo " GNU time %M maxima [largest]; floor: unshare -mupin --fork chroot; ratios against crun"
echo " of the same scenario; podman: + memory/pids/cpu limits + default seccomp profile;"
echo " exec: RUNTIME exec ID /bin/true into a running container of the plain bundle,"
echo " exec-pm: of the podman-like one)"
echo "exec: husk/crun median $(ratio "${t_med[ex-husk]}" "${t_med[ex-crun]}"), husk/runc $(ratio "${t_med[ex-husk]}" "${t_med[ex-runc]}");" \
    "exec-pm: husk/crun $(ratio "${t_med[xp-husk]}" "${t_med[xp-crun]}"), husk/runc $(ratio "${t_med[xp-husk]}" "${t_med[xp-runc]}")"
# The start-path targets (issue 10, section 4), from the medians above: run at most
# 0.6 of crun and 2x the bare-kernel floor, exec at most 0.6 of crun, and husk's
# peak RSS on that path (the larger of the plain run's and the exec's) at most 2.5 MiB.
# (The podman-like scenarios add libseccomp's program generation, ~1.2 MB of scratch
# heap, to it: their RSS is in the table, against crun's.)
target() {   # target NAME VALUE LIMIT
    awk -v n="$1" -v v="$2" -v l="$3" 'BEGIN { printf "  %-24s %8s  (target <= %s) %s\n", n, v, l, (v + 0 <= l + 0) ? "met" : "NOT MET" }'
}
rss_top=0
for n in husk ex-husk; do
    [ "${rss_med[$n]:-0}" -gt "$rss_top" ] && rss_top=${rss_med[$n]}
done
echo "targets:"
target "run husk/crun" "$(ratio "${t_med[husk]}" "${t_med[crun]}")" 0.60
target "run husk/floor" "$(ratio "${t_med[husk]}" "${t_med[floor]}")" 2.00
target "exec husk/crun" "$(ratio "${t_med[ex-husk]}" "${t_med[ex-crun]}")" 0.60
target "peak RSS husk run/exec KiB" "$rss_top" 2560
if [ "$PODMAN_RUNS" != 0 ]; then
    echo "podman-run: podman --runtime R run --rm --network none localhost/bb true, $PODMAN_RUNS runs each"
    echo " over $ROUNDS rounds (cpu: podman's own process only); husk/runc median" \
        "$(ratio "${t_med[podman-husk]}" "${t_med[podman-runc]}"), husk/crun $(ratio "${t_med[podman-husk]}" "${t_med[podman-crun]}")"
else
    echo "podman-run: skipped (PODMAN_RUNS=0, or podman/conmon not installed)"
fi
