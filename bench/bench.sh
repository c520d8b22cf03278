#!/usr/bin/env bash
# bench.sh HUSK — start-up cost of a container: husk run vs runc run vs crun run.
#
# One busybox bundle whose process is /bin/true, run to completion (create + start +
# wait + delete) by each runtime, side by side in one hyperfine invocation (-N: no
# intermediate shell, with warmup runs), plus the bare-kernel floor
#   unshare -mupin --fork chroot ROOTFS /bin/true
# (the same five namespaces, none of a runtime's work: config, cgroups, /dev, pivot_root,
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
# controllers only) and none pays for an extra unshare+sh wrapper. The config says
# ociVersion 1.0.2 because crun 1.8 rejects 1.3.0 ("unknown version specified").
#
# Knobs (environment): RUNS (hyperfine runs per runtime, default 100), ROUNDS (the runs
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

# ------------------------------------------------------------------ the inner part
# Runs in the private mount namespace, called as: BENCH_INNER=1 bench.sh HUSK WORK
if [ "${BENCH_INNER:-}" = 1 ]; then
    WORK=$2
    cd "$WORK"
    B=$WORK/bundle
    # Each runtime keeps its state under the temp dir, never the host's /run/*.
    cmds=(
        "$HUSK --root $WORK/st-husk run --bundle $B bench-husk"
        "crun --root $WORK/st-crun run --bundle $B bench-crun"
        "runc --root $WORK/st-runc run --bundle $B bench-runc"
        "unshare -mupin --fork chroot $B/rootfs /bin/true"
    )
    names=(husk crun runc floor)
    for c in "${cmds[@]}"; do   # each must work once, or the numbers mean nothing
        $c >/dev/null || { echo "bench: failed: $c" >&2; exit 1; }
    done
    # hyperfine runs its commands one after the other; on a shared machine the load
    # drifts in between. So the runs are split into ROUNDS invocations, each with the
    # commands in a rotated order, and the medians are taken over all runs of all rounds.
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
cleanup() {
    local id rt
    for rt in husk crun runc; do
        for id in bench-husk bench-crun bench-runc; do
            [ -d "$WORK/st-$rt/$id" ] || continue
            case $rt in
                husk) "$HUSK" --root "$WORK/st-husk" delete --force "$id" ;;
                *) "$rt" --root "$WORK/st-$rt" delete --force "$id" ;;
            esac >/dev/null 2>&1 || true
        done
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: kept $WORK" >&2
    else
        rm -rf --one-file-system "$WORK"
    fi
}
trap cleanup EXIT

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

declare -A t_med t_mean t_sd t_cpu rss_med rss_max
for n in husk crun runc floor; do
    read -r t_med[$n] t_mean[$n] t_sd[$n] t_cpu[$n] < <(jq -r --arg l "$n" '
        .[] | select(.command == $l) | (.times | sort) as $t | ($t | length) as $n
        | ($t | add / $n) as $m
        | (if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end) as $med
        | (($t | map((. - $m) * (. - $m)) | add) / ($n - 1) | sqrt) as $sd
        | "\($med * 1000) \($m * 1000) \($sd * 1000) \((.user + .system) * 1000)"' \
        "$WORK/hyperfine.json")
    rss_med[$n]=$(median_of "$WORK/rss-$n")
    rss_max[$n]=$(max_of "$WORK/rss-$n")
done

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cpus, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
printf '%-8s %10s %13s %8s %15s %10s %9s\n' runtime "median ms" "mean±sd ms" "cpu ms" "peak RSS KiB" "time/crun" "RSS/crun"
for n in husk crun runc floor; do
    printf '%-8s %10.2f %13s %8.1f %15s %10s %9s\n' "$n" "${t_med[$n]}" \
        "$(printf '%.1f±%.1f' "${t_mean[$n]}" "${t_sd[$n]}")" "${t_cpu[$n]}" \
        "${rss_med[$n]} [${rss_max[$n]}]" \
        "$(awk -v a="${t_med[$n]}" -v b="${t_med[crun]}" 'BEGIN { printf "%.2f", a / b }')" \
        "$(awk -v a="${rss_med[$n]}" -v b="${rss_med[crun]}" 'BEGIN { printf "%.2f", a / b }')"
done
echo "($RUNS runs each over $ROUNDS rounds; cpu: user+sys per run; peak RSS: median of $RSS_RUNS"
echo " GNU time %M maxima [largest]; floor: unshare -mupin --fork chroot; ratios against crun)"
