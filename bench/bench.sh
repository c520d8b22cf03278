#!/usr/bin/env bash
# bench.sh HUSK — start-up cost of a container: husk run vs runc run vs crun run.
#
# Two scenarios, measured side by side in the same hyperfine invocations (-N: no
# intermediate shell, with warmup runs), each container's process /bin/true, run to
# completion (create + start + wait + delete) by each runtime:
#   plain   the busybox bundle of `husk spec` (pid, net, ipc, uts, mount and cgroup
#           namespaces, masked/read-only paths, no resources but the device rule);
#   podman  "podman-like": the same, plus memory (512 MiB), pids (2048) and cpu
#           (shares 1024, quota/period 100000/100000) limits in linux.resources and the
#           ~400-syscall default seccomp profile of the integration tests
#           (tests/integration/fixtures/seccomp-default.json) as linux.seccomp;
# plus, for the plain scenario only, the bare-kernel floor
#   unshare -mupin --fork chroot ROOTFS /bin/true
# (five of those namespaces, none of a runtime's work: config, cgroups, /dev, pivot_root,
# capabilities, state).
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
# Knobs (environment): RUNS (hyperfine runs per command, default 100), ROUNDS (the runs
# are split over this many hyperfine invocations in rotated order, default 5), WARMUP
# (per invocation, default 10), RSS_RUNS (default 30), BENCH_KEEP=1 keeps the temp dir.
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
    trap inner_cleanup EXIT
    trap 'exit 130' INT TERM HUP
    cmds=() names=()
    for rt in "${runtimes[@]}"; do
        names+=("$rt") cmds+=("$(rt_cmd "$rt" run --bundle "$WORK/bundle" "bench-$sfx-$rt")")
    done
    names+=(floor) cmds+=("unshare -mupin --fork chroot $WORK/bundle/rootfs /bin/true")
    for rt in "${runtimes[@]}"; do
        names+=("pm-$rt") cmds+=("$(rt_cmd "$rt" run --bundle "$WORK/bundle-pm" "bench-$sfx-$rt-pm")")
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

echo "bench: husk $("$HUSK" --version | head -1 | awk '{print $3}'), $(runc --version | head -1), $(crun --version | head -1)" >&2
echo "bench: $RUNS runs (+$WARMUP warmup) each with hyperfine; peak RSS over $RSS_RUNS runs each" >&2

# The measurement, in a private mount namespace without the cgroup2 mount (see top).
# unshare -m makes every mount private first, so the umount is invisible to the host.
BENCH_INNER=1 unshare -m bash -c '
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
    exec bash "$0" "$1" "$2"' "$here/bench.sh" "$HUSK" "$WORK"

# ------------------------------------------------------------------ report
median_of() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
max_of() { sort -n "$1" | tail -1; }

rows=(husk crun runc floor pm-husk pm-crun pm-runc)
declare -A t_med t_mean t_sd t_cpu rss_med rss_max
for n in "${rows[@]}"; do
    read -r t_med[$n] t_mean[$n] t_sd[$n] t_cpu[$n] < <(jq -r --arg l "$n" '
        .[] | select(.command == $l) | (.times | sort) as $t | ($t | length) as $n
        | ($t | add / $n) as $m
        | (if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end) as $med
        | (if $n > 1 then ($t | map((. - $m) * (. - $m)) | add) / ($n - 1) | sqrt else 0 end) as $sd
        | "\($med * 1000) \($m * 1000) \($sd * 1000) \((.user + .system) * 1000)"' \
        "$WORK/hyperfine.json")
    rss_med[$n]=$(median_of "$WORK/rss-$n")
    rss_max[$n]=$(max_of "$WORK/rss-$n")
done

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cpus, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
printf '%-9s %-8s %10s %13s %8s %15s %10s %9s\n' scenario runtime "median ms" "mean±sd ms" "cpu ms" "peak RSS KiB" "time/crun" "RSS/crun"
for n in "${rows[@]}"; do
    case $n in
        pm-*) scen=podman rt=${n#pm-} ref=pm-crun ;;
        *) scen=plain rt=$n ref=crun ;;
    esac
    printf '%-9s %-8s %10.2f %13s %8.1f %15s %10s %9s\n' "$scen" "$rt" "${t_med[$n]}" \
        "$(printf '%.1f±%.1f' "${t_mean[$n]}" "${t_sd[$n]}")" "${t_cpu[$n]}" \
        "${rss_med[$n]} [${rss_max[$n]}]" \
        "$(awk -v a="${t_med[$n]}" -v b="${t_med[$ref]}" 'BEGIN { printf "%.2f", a / b }')" \
        "$(awk -v a="${rss_med[$n]}" -v b="${rss_med[$ref]}" 'BEGIN { printf "%.2f", a / b }')"
done
echo "($RUNS runs each over $ROUNDS rounds; cpu: user+sys per run; peak RSS: median of $RSS_RUNS"
echo " GNU time %M maxima [largest]; floor: unshare -mupin --fork chroot; ratios against crun"
echo " of the same scenario; podman: + memory/pids/cpu limits + default seccomp profile)"
