#!/usr/bin/env bash
# engine.sh HUSK — the engine against podman (issue 12, "Tests and benchmark"):
#
#   run     `husk container run --rm --network none bb true` against
#           `podman --runtime runc run --rm --network none localhost/bb true`: one hyperfine
#           invocation, both side by side (-N, warmup runs). Target: husk <= 0.25x podman.
#   netrun  `husk container run --rm bb true` on husk's default network (bridge husk0,
#           netavark) against `podman run --rm localhost/bb true` on podman's (bridge
#           podman0, 10.88.0.0/16, netavark too, its config in the temp dir): one hyperfine
#           invocation, both side by side. Target: husk <= 0.5x podman. husk0 stays up
#           between husk's runs (docker0's way: its firewall rules are not made and
#           removed with each container), podman0 goes with each podman container.
#   netcold netrun with husk0 taken down (`husk network rm husk`, hyperfine --prepare,
#           not timed) before each husk run: what the first container pays. No target.
#   many    20 containers `run -d --name mN --network none bb sleep 1000`, then `rm -f` of
#           each, 4 at a time (xargs -P4), the two steps as one command
#           ($WORK/many.sh ENGINE): one hyperfine invocation, husk and podman side by side.
#           podman's rm gets `-t 0`: the sleep is a pid 1 without a TERM handler, so
#           podman would wait its 10 s stop timeout; docker's (and husk's) rm -f kills at
#           once. Target: husk <= 0.5x podman.
#   rss     the idle RSS (VmRSS, and Pss from smaps_rollup) of the process that watches a
#           detached container: husk-monitor (the init's parent) against conmon
#           (podman inspect .State.ConmonPid), RSS_CTRS containers each, read 2 s after
#           `run -d` returned. Goal: the monitor <= 1 MiB.
#
# Both engines get the same busybox image, imported from the same tar (scripts/mkrootfs.sh:
# `husk image import`, `podman import`). husk: --root and --storage-root under the temp
# dir (husk-engine and husk-monitor next to HUSK). podman: as in bench.sh, with runc
# (crun 1.8 refuses this hybrid cgroup host), its own --root/--runroot/--tmpdir and a
# containers.conf (CONTAINERS_CONF: cgroupfs, file events, default_ulimits that a
# process without CAP_SYS_RESOURCE can set).
#
# Like bench.sh, the measurement runs in a private mount namespace (unshare -m) with the
# cgroup2 mount /sys/fs/cgroup/unified gone and a /dev/shm of its own (podman's lock
# segment apart from any other podman's on the host). Every container's overlay, every
# monitor and conmon lives in that namespace.
#
# Nothing is left behind, even when interrupted: the inner part removes (EXIT trap) every
# container of both engines (husk container rm -f, podman rm -af -t 0), both images, then
# unmounts what is still mounted under the temp dir. The outer part then kills any
# husk-monitor or conmon still running with the temp dir in its command line (by pid),
# removes the cgroups of the containers either store still knows (husk's and podman's
# ids, under /sys/fs/cgroup/*/), the libpod_parent cgroups podman made, and the temp dir.
#
# podman's network state (rootful) lies in fixed host-wide places: its IPAM database
# (ipam.db) and aardvark-dns's files in /run/containers/networks, its containers'
# network namespaces in /run/netns. The inner part mounts a tmpfs over both, in its
# own mount namespace: what podman writes there goes with the namespace. (The outer
# part makes a missing mountpoint and removes it again.)
#
# The networks leave nothing either: netavark removes podman0 with its last container
# and its rules, and the bench takes husk0 (which outlives its containers, as docker0
# does) down with `husk network rm husk`, unless either was up before;
# the outer part then checks the firewall (iptables-save) against the one before and
# removes netavark's base chains when the bench made them and no network is left, and
# any lease or namespace file of the bench's store.
#
# Knobs (environment): RUNS (hyperfine runs per command of `run` and `netrun`, default 10), MANY_RUNS
# (of `many`, default 3), WARMUP (default 2; 1 for `many`), RSS_CTRS (default 3),
# BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail

if [ $# -ne 1 ] && ! { [ "${BENCH_INNER:-}" = 1 ] && [ $# -eq 2 ]; }; then
    echo "usage: $0 PATH/TO/husk" >&2
    exit 2
fi
HUSK=$(readlink -f "$1")
[ -x "$HUSK" ] || { echo "engine bench: $1: not an executable" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=${RUNS:-10}
MANY_RUNS=${MANY_RUNS:-3}
WARMUP=${WARMUP:-2}
RSS_CTRS=${RSS_CTRS:-3}
NCTR=20 PAR=4

# hk ARGS: husk with the bench's runtime root and store.
hk() { "$HUSK" --root "$WORK/rt" --storage-root "$WORK/st" "$@"; }
# pm ARGS: podman with the bench's root, runc.
pm() {
    CONTAINERS_CONF=$WORK/pm/containers.conf podman --root "$WORK/pm/r" --runroot "$WORK/pm/rr" \
        --tmpdir "$WORK/pm/tmp" --runtime "$(command -v runc)" "$@"
}
# umount_under DIR: whatever is mounted under DIR in this mount namespace, innermost first.
umount_under() {
    local m
    findmnt -rn -o TARGET | awk -v p="$1/" 'index($1, p) == 1' | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || echo "engine bench: could not unmount $m" >&2
    done
}

# ------------------------------------------------------------------ the inner part
if [ "${BENCH_INNER:-}" = 1 ]; then
    WORK=$2
    cd "$WORK"
    inner_cleanup() {
        set +e
        local id
        for id in $(hk container ls -aq --no-trunc 2>/dev/null); do
            hk container rm -f "$id" >/dev/null 2>&1 || echo "engine bench: husk rm -f $id failed" >&2
        done
        hk image rm -f bb >/dev/null 2>&1
        pm rm -af -t 0 >/dev/null 2>&1
        pm rmi -af >/dev/null 2>&1
        umount_under "$WORK"
    }
    trap inner_cleanup EXIT
    trap 'exit 130' INT TERM HUP
    mount -t tmpfs -o mode=1777,size=64m,nosuid,nodev bench-shm /dev/shm
    for d in /run/containers/networks /run/netns; do
        mount -t tmpfs -o mode=0755,size=16m,nosuid,nodev,noexec bench-run "$d"
    done
    hk image import "$WORK/bb.tar" bb >/dev/null
    pm import -q "$WORK/bb.tar" localhost/bb >/dev/null

    husk_run="$HUSK --root $WORK/rt --storage-root $WORK/st container run --rm --network none bb true"
    pm_run="podman --root $WORK/pm/r --runroot $WORK/pm/rr --tmpdir $WORK/pm/tmp --runtime $(command -v runc) run --rm --network none localhost/bb true"
    export CONTAINERS_CONF=$WORK/pm/containers.conf
    husk_netrun="$HUSK --root $WORK/rt --storage-root $WORK/st container run --rm bb true"
    pm_netrun="podman --root $WORK/pm/r --runroot $WORK/pm/rr --tmpdir $WORK/pm/tmp --runtime $(command -v runc) run --rm localhost/bb true"
    for c in "$husk_run" "$pm_run" "$husk_netrun" "$pm_netrun"; do   # each must work once, or the numbers mean nothing
        $c || { echo "engine bench: failed: $c" >&2; exit 1; }
    done

    # many.sh ENGINE: NCTR containers run -d, then rm -f, PAR at a time.
    cat >"$WORK/many.sh" <<EOF
#!/bin/bash
set -eo pipefail
export CONTAINERS_CONF=$WORK/pm/containers.conf
case \$1 in
    husk) run="$HUSK --root $WORK/rt --storage-root $WORK/st container run -d --network none"
          rm="$HUSK --root $WORK/rt --storage-root $WORK/st container rm -f"
          img=bb ;;
    podman) p="podman --root $WORK/pm/r --runroot $WORK/pm/rr --tmpdir $WORK/pm/tmp --runtime $(command -v runc)"
          run="\$p run -d --network none"
          rm="\$p rm -f -t 0"
          img=localhost/bb ;;
esac
seq -f 'm%g' $NCTR | xargs -P$PAR -I{} \$run --name {} \$img sleep 1000 >/dev/null
seq -f 'm%g' $NCTR | xargs -P$PAR -I{} \$rm {} >/dev/null
EOF
    for e in husk podman; do
        bash "$WORK/many.sh" "$e" || { echo "engine bench: many.sh $e failed" >&2; exit 1; }
    done
    [ -z "$(hk container ls -aq)" ] || { echo "engine bench: husk containers left after many.sh" >&2; exit 1; }
    [ -z "$(pm ps -aq)" ] || { echo "engine bench: podman containers left after many.sh" >&2; exit 1; }

    echo "== run: $RUNS runs each" >&2
    hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic --export-json "$WORK/run.json" \
        -n husk "$husk_run" -n podman "$pm_run" >&2
    echo "== netrun: on the default network, $RUNS runs each" >&2
    hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic --export-json "$WORK/netrun.json" \
        -n husk "$husk_netrun" -n podman "$pm_netrun" >&2
    echo "== netcold: netrun with husk0 taken down before each husk run, $RUNS runs each" >&2
    hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic --export-json "$WORK/netcold.json" \
        --prepare "$HUSK --root $WORK/rt --storage-root $WORK/st network rm husk" --prepare true \
        -n husk "$husk_netrun" -n podman "$pm_netrun" >&2
    echo "== many: $NCTR containers run -d then rm -f, $PAR at a time; $MANY_RUNS runs each" >&2
    hyperfine -N --warmup 1 --runs "$MANY_RUNS" --style basic --export-json "$WORK/many.json" \
        -n husk "bash $WORK/many.sh husk" -n podman "bash $WORK/many.sh podman" >&2
    [ -z "$(hk container ls -aq)" ] || { echo "engine bench: husk containers left" >&2; exit 1; }
    [ -z "$(pm ps -aq)" ] || { echo "engine bench: podman containers left" >&2; exit 1; }

    # rss: RSS_CTRS detached containers per engine, idle for 2 s, then each one's monitor.
    : >"$WORK/rss-husk"
    : >"$WORK/rss-podman"
    for ((i = 0; i < RSS_CTRS; i++)); do
        hk container run -d --name "r$i" --network none bb sleep 1000 >/dev/null
        pm run -d --name "r$i" --network none localhost/bb sleep 1000 >/dev/null
    done
    sleep 2
    # rss_of PID: "VmRSS-KiB Pss-KiB command"
    rss_of() {
        echo "$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status") $(awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup") $(cat "/proc/$1/comm")"
    }
    for ((i = 0; i < RSS_CTRS; i++)); do
        pid=$(hk container inspect --format '{{.State.Pid}}' "r$i")
        mon=$(awk '{ print $4 }' "/proc/$pid/stat")
        grep -q '^husk-monitor' "/proc/$mon/comm" || { echo "engine bench: the init's parent is $(cat "/proc/$mon/comm")" >&2; exit 1; }
        rss_of "$mon" >>"$WORK/rss-husk"
        mon=$(pm inspect --format '{{.State.ConmonPid}}' "r$i")
        grep -q '^conmon' "/proc/$mon/comm" || { echo "engine bench: ConmonPid is $(cat "/proc/$mon/comm")" >&2; exit 1; }
        rss_of "$mon" >>"$WORK/rss-podman"
    done
    exit 0   # inner_cleanup removes the rss containers
fi

# ------------------------------------------------------------------ the outer part
if ! command -v podman >/dev/null 2>&1 || ! command -v conmon >/dev/null 2>&1; then
    echo "engine bench: podman or conmon not found: skipped (it compares husk with podman)" >&2
    exit 0
fi
for tool in hyperfine jq runc unshare xargs findmnt; do
    command -v "$tool" >/dev/null 2>&1 || { echo "engine bench: $tool not found (make deps)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "engine bench: must run as root" >&2; exit 1; }
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 20000 ] || {
    echo "engine bench: the hard nofile limit ($(ulimit -Hn)) is below 20000" >&2; exit 1; }
[ "$(ulimit -Hu)" = unlimited ] || [ "$(ulimit -Hu)" -ge 32768 ] || {
    echo "engine bench: the hard nproc limit ($(ulimit -Hu)) is below 32768" >&2; exit 1; }

WORK=$(mktemp -d /tmp/husk-engine-bench.XXXXXX)
cleanup() {
    local rc=$? p id d c sub tries
    set +e
    # A killed inner part leaves monitors (and through them the namespace's mounts).
    for p in $(pgrep -x husk-monitor) $(pgrep -x conmon); do
        grep -qF "$WORK/" "/proc/$p/cmdline" 2>/dev/null || continue
        echo "engine bench: killing leftover monitor $p" >&2
        kill -KILL "$p" 2>/dev/null
    done
    # The cgroups of the containers either store still knows.
    for id in $(ls "$WORK/st/containers" "$WORK/pm/r/overlay-containers" 2>/dev/null | grep -E '^[0-9a-f]{64}$'); do
        for d in $(find /sys/fs/cgroup -mindepth 2 -type d -name "*$id*" -prune -print 2>/dev/null); do
            echo "engine bench: removing leftover cgroup $d" >&2
            for tries in 1 2 3 4 5 6 7 8 9 10; do
                for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
                for sub in $(find "$d" -depth -type d); do rmdir "$sub" 2>/dev/null; done
                [ -d "$d" ] || break
                sleep 0.2
            done
            [ -d "$d" ] && { echo "engine bench: could not remove $d" >&2; rc=1; }
        done
    done
    for d in /sys/fs/cgroup/*/libpod_parent/conmon /sys/fs/cgroup/*/libpod_parent; do
        [ -d "$d" ] || continue
        grep -qxF "$d" "$WORK/libpod-cgroups-before" 2>/dev/null || rmdir "$d" 2>/dev/null
    done
    umount_under "$WORK"
    net_cleanup || rc=1
    # the mountpoints the bench made for podman's state (run_dirs), innermost first
    if [ -f "$WORK/run-made" ]; then
        tac "$WORK/run-made" | while read -r d; do
            rmdir "$d" 2>/dev/null || echo "engine bench: could not remove $d" >&2
        done
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "engine bench: kept $WORK" >&2
    else
        rm -rf --one-file-system "$WORK"
    fi
    exit "$rc"
}
# The firewall's rules, without counters.
fw_rules() { iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'; }
# net_cleanup: what the networks of the bench may have left.
net_cleanup() {
    local f ok=0 l
    # a lease or a namespace file of the bench's husk store (the containers are gone)
    for f in $(grep -rlxF -- "$WORK/st" /run/husk/net/husk0 2>/dev/null); do
        echo "engine bench: removing leftover lease $f" >&2
        rm -f "$f"
        ok=1
    done
    # husk's default bridge stays up after its last container (docker0's way):
    # taken down if the bench brought it up
    if [ -e /sys/class/net/husk0 ] && ! grep -qx husk0 "$WORK/links-before" 2>/dev/null; then
        hk network rm husk >/dev/null || { echo "engine bench: network rm husk failed" >&2; ok=1; }
    fi
    # the bridges the bench made: netavark removes one with its last container
    for l in husk0 podman0; do
        if [ -e "/sys/class/net/$l" ] && ! grep -qx "$l" "$WORK/links-before" 2>/dev/null &&
            [ -z "$(ls "/sys/class/net/$l/brif" 2>/dev/null)" ]; then
            echo "engine bench: removing leftover bridge $l" >&2
            ip link del "$l" 2>/dev/null
            ok=1
        fi
    done
    [ -f "$WORK/fw-before" ] || return "$ok"
    # netavark's base chains, made once for every network: gone again if the bench
    # made them and no network of anyone's is up now
    if ! grep -q NETAVARK "$WORK/fw-before" && ! fw_rules | grep -qE 'NETAVARK-[0-9A-F]{8,}'; then
        iptables -t filter -D FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD 2>/dev/null
        iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT 2>/dev/null
        iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT 2>/dev/null
        iptables -t nat -D POSTROUTING -j NETAVARK-HOSTPORT-MASQ 2>/dev/null
        for l in NETAVARK_FORWARD NETAVARK_ISOLATION_1 NETAVARK_ISOLATION_2 NETAVARK_ISOLATION_3; do
            iptables -t filter -F "$l" 2>/dev/null && iptables -t filter -X "$l" 2>/dev/null
        done
        for l in NETAVARK-HOSTPORT-DNAT NETAVARK-HOSTPORT-MASQ NETAVARK-HOSTPORT-SETMARK; do
            iptables -t nat -F "$l" 2>/dev/null && iptables -t nat -X "$l" 2>/dev/null
        done
    fi
    if ! diff <(fw_rules | sort) <(sort "$WORK/fw-before") >"$WORK/fw-diff"; then
        echo "engine bench: the firewall differs from before (another user of netavark, or a leftover):" >&2
        cat "$WORK/fw-diff" >&2
    fi
    return "$ok"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
fw_rules >"$WORK/fw-before"
ls /sys/class/net >"$WORK/links-before"

for d in /sys/fs/cgroup/*/libpod_parent/conmon /sys/fs/cgroup/*/libpod_parent; do
    if [ -d "$d" ]; then echo "$d"; fi
done >"$WORK/libpod-cgroups-before"
sh "$repo/scripts/mkrootfs.sh" "$WORK/rootfs" >/dev/null
tar -C "$WORK/rootfs" -cf "$WORK/bb.tar" .
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

# the mountpoints of podman's private state (the inner part's tmpfs), made if missing
for d in /run/containers /run/containers/networks /run/netns; do
    if [ ! -d "$d" ]; then
        mkdir -m 0755 "$d" && echo "$d" >>"$WORK/run-made"
    fi
done

echo "engine bench: husk $("$HUSK" --version | head -1 | awk '{print $3}'), $(podman --version), $(runc --version | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
BENCH_INNER=1 unshare -m bash -c '
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
    exec bash "$0" "$1" "$2"' "$here/engine.sh" "$HUSK" "$WORK"

# ------------------------------------------------------------------ report
# hstat FILE NAME: "median mean sd cpu" in ms
hstat() {
    jq -r --arg l "$2" '.results[] | select(.command == $l) | (.times | sort) as $t | ($t | length) as $n
        | ($t | add / $n) as $m
        | (if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end) as $med
        | (if $n > 1 then ($t | map((. - $m) * (. - $m)) | add) / ($n - 1) | sqrt else 0 end) as $sd
        | "\($med * 1000) \($m * 1000) \($sd * 1000) \((.user + .system) * 1000)"' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
target() {   # target NAME VALUE LIMIT
    awk -v n="$1" -v v="$2" -v l="$3" 'BEGIN { printf "  %-28s %8s  (target <= %s) %s\n", n, v, l, (v + 0 <= l + 0) ? "met" : "NOT MET" }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-7s %11s %16s %9s %9s\n' scen engine "median ms" "mean±sd ms" "cpu ms" husk/podman
declare -A med mean sd cpu
for s in run netrun netcold many; do
    for e in husk podman; do
        read -r "med[$s-$e]" "mean[$s-$e]" "sd[$s-$e]" "cpu[$s-$e]" < <(hstat "$WORK/$s.json" "$e")
    done
    for e in husk podman; do
        printf '%-6s %-7s %11.1f %16s %9.1f %9s\n' "$s" "$e" "${med[$s-$e]}" \
            "$(printf '%.1f±%.1f' "${mean[$s-$e]}" "${sd[$s-$e]}")" "${cpu[$s-$e]}" \
            "$(ratio "${med[$s-$e]}" "${med[$s-podman]}")"
    done
done
echo "(run: container run --rm --network none IMAGE true, $RUNS runs each; netrun: the same on"
echo " each engine's default network (a bridge, netavark; husk0 stays up between runs, as docker0,"
echo " podman0 comes and goes with each container); netcold: netrun with husk0 taken down (not"
echo " timed) before each husk run, the cost of a first container; many: $NCTR x run -d"
echo " sleep 1000 then rm -f, $PAR at a time, $MANY_RUNS runs each; cpu: user+sys of the measured"
echo " process and its waited-for children, per run; podman with runc)"
echo "idle monitor of a detached container (VmRSS KiB, Pss KiB), $RSS_CTRS each:"
paste "$WORK/rss-husk" "$WORK/rss-podman" | awk '{ printf "  %-13s %6d %6d    %-7s %6d %6d\n", $3, $1, $2, $6, $4, $5 }'
rh=$(cut -d' ' -f1 "$WORK/rss-husk" | median)
rp=$(cut -d' ' -f1 "$WORK/rss-podman" | median)
echo "targets:"
target "run husk/podman" "$(ratio "${med[run-husk]}" "${med[run-podman]}")" 0.25
target "netrun husk/podman" "$(ratio "${med[netrun-husk]}" "${med[netrun-podman]}")" 0.50
target "many husk/podman" "$(ratio "${med[many-husk]}" "${med[many-podman]}")" 0.50
target "monitor VmRSS MiB (median)" "$(awk -v k="$rh" 'BEGIN { printf "%.2f", k / 1024 }')" 1
echo "  monitor/conmon VmRSS        $(ratio "$rh" "$rp")"
