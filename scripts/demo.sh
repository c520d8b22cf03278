#!/bin/sh
# demo.sh HUSK — run one real container with husk and show what makes it a container.
#
# The experiment the articles in the seed reading do by hand with docker: compare the
# namespaces (the inode numbers behind /proc/self/ns/*), the hostname and the process
# list seen from inside a container with what the host sees. Here the container is a
# busybox rootfs (scripts/mkrootfs.sh) with the default config of `husk spec`, run with
# `husk run` under a private --root, so nothing of the host's /run/husk is touched.
#
# Everything lives in one temp dir that is removed on exit, whatever happens.
# Exit status: 0 when the container ran and exited 0; otherwise non-zero.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 PATH/TO/husk" >&2
    exit 2
fi
case $1 in
    */*) HUSK=$(readlink -f "$1") ;;
    *) HUSK=$(command -v "$1" || echo "$1") ;;
esac
if [ ! -x "$HUSK" ]; then
    echo "demo: $1: not an executable (build it first: make build)" >&2
    exit 1
fi
for tool in jq readlink ps; do
    command -v "$tool" >/dev/null 2>&1 || { echo "demo: $tool not found (make deps)" >&2; exit 1; }
done
here=$(cd "$(dirname "$0")" && pwd)

WORK=$(mktemp -d /tmp/husk-demo.XXXXXX)
BUNDLE=$WORK/bundle
STATE=$WORK/state
ID=husk-demo-$$

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    # Normally `husk run` already deleted the container; this catches an interrupted run.
    if [ -d "$STATE/$ID" ]; then
        "$HUSK" --root "$STATE" delete --force "$ID" >/dev/null 2>&1 || true
    fi
    rm -rf --one-file-system "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '\n== %s\n' "$*"; }

say "building a busybox rootfs in $BUNDLE/rootfs"
sh "$here/mkrootfs.sh" "$BUNDLE/rootfs"
echo "   $(ls "$BUNDLE/rootfs/bin" | wc -l) entries in /bin, all busybox applets"

say "writing config.json with: husk spec"
(cd "$BUNDLE" && "$HUSK" spec)

# What runs inside: print every namespace link, the hostname and ps, in a simple
# line format the host side parses below. pid 1 is this sh.
inside='for n in cgroup ipc mnt net pid time user uts; do
    echo "ns $n $(readlink /proc/self/ns/$n)"
done
echo "hostname $(hostname)"
echo "pid $$"
echo "ps-begin"
ps -o pid,user,comm
echo "ps-end"'

# No terminal (stdout is a pipe here); the hard RLIMIT_NOFILE of the default config may
# not exceed ours (raising a hard limit needs CAP_SYS_RESOURCE).
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
cfg=$BUNDLE/config.json
jq --arg s "$inside" --argjson h "$hard" '
    .process.terminal = false
    | .process.args = ["sh", "-c", $s]
    | .hostname = "husk-demo"
    | .process.rlimits = ((.process.rlimits // []) | map(
          if .type == "RLIMIT_NOFILE"
          then .hard = ([.hard, $h] | min) | .soft = ([.soft, $h] | min)
          else . end))
' "$cfg" >"$cfg.new"
mv "$cfg.new" "$cfg"
echo "   namespaces: $(jq -r '[.linux.namespaces[].type] | join(", ")' "$cfg")"
echo "   hostname:   $(jq -r .hostname "$cfg"), rootfs read-only: $(jq -r .root.readonly "$cfg")"

say "running it: husk --root $STATE run --bundle $BUNDLE $ID"
rc=0
"$HUSK" --root "$STATE" run --bundle "$BUNDLE" "$ID" >"$WORK/inside.txt" 2>"$WORK/inside.err" </dev/null || rc=$?
if [ "$rc" -ne 0 ] || ! grep -q '^ps-end$' "$WORK/inside.txt"; then
    echo "demo: the container failed (husk run exited $rc)" >&2
    cat "$WORK/inside.err" "$WORK/inside.txt" >&2
    [ "$rc" -ne 0 ] || rc=1
    exit "$rc"
fi
echo "   the container exited 0"

say "namespaces: host (this shell) vs. container (its pid 1)"
printf '   %-8s %-22s %-22s %s\n' namespace host container ""
for n in cgroup ipc mnt net pid time user uts; do
    h=$(readlink "/proc/self/ns/$n")
    c=$(awk -v n="$n" '$1 == "ns" && $2 == n { print $3 }' "$WORK/inside.txt")
    if [ "$h" = "$c" ]; then note="shared with the host"; else note="NEW namespace"; fi
    printf '   %-8s %-22s %-22s %s\n' "$n" "$h" "${c:-?}" "$note"
done
echo "   (same inode number = same namespace: the config's linux.namespaces did not ask for a new one)"

say "hostname"
printf '   %-8s %-22s %-22s\n' "" host container
printf '   %-8s %-22s %-22s\n' "" "$(hostname)" "$(awk '$1 == "hostname" { print $2 }' "$WORK/inside.txt")"

say "process list: host (first user-space processes of ps) vs. container (all of its ps)"
total=$(ps -e --no-headers | wc -l)
# -N --ppid 2 -p 2: leave out the kernel threads, they say nothing here.
ps -N --ppid 2 -p 2 -o pid,user,comm:24 | head -n 12 >"$WORK/host-ps.txt"
echo "    ... ($total processes on the host)" >>"$WORK/host-ps.txt"
sed -n '/^ps-begin$/,/^ps-end$/p' "$WORK/inside.txt" | sed '1d;$d' >"$WORK/ctr-ps.txt"
awk 'NR == FNR { host[FNR] = $0; nh = FNR; next }
     { ctr[FNR] = $0; nc = FNR }
     END {
         printf "   %-40s | %s\n", "host", "container"
         n = nh > nc ? nh : nc
         for (i = 1; i <= n; i++) printf "   %-40s | %s\n", host[i], ctr[i]
     }' "$WORK/host-ps.txt" "$WORK/ctr-ps.txt"
echo "   inside, the shell the container started is PID $(awk '$1 == "pid" { print $2 }' "$WORK/inside.txt"): a new pid namespace numbers from 1"

say "done: removing $WORK"
