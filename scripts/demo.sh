#!/bin/sh
# demo.sh HUSK — what a docker user does, done by husk's engine, and what makes it a container.
#
# A busybox rootfs (scripts/mkrootfs.sh) is imported as an image (no network needed), run
# detached, entered with `container exec`, changed, committed to a new image and run again.
# On the way it repeats the experiment of the seed reading ("how does docker exec enter a
# container?"): the namespaces of the container's init, read on the host from
# /proc/PID/ns (PID from `container inspect --format '{{.State.Pid}}'`), are the ones the
# exec'd shell reads from /proc/self/ns inside: same inode numbers, so exec joined them
# (setns), and they are not the host's.
#
# Everything lives under one temp dir (a private --storage-root and --root), so nothing of
# the host's /var/lib/husk or /run/husk is touched; on exit, whatever happens, every
# container is removed and the temp dir with it. Exit status 0 when every step worked.
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
for tool in tar readlink ps awk; do
    command -v "$tool" >/dev/null 2>&1 || { echo "demo: $tool not found (make deps)" >&2; exit 1; }
done
here=$(cd "$(dirname "$0")" && pwd)

WORK=$(mktemp -d /tmp/husk-demo.XXXXXX)
STORE=$WORK/storage   # --storage-root: images, containers
RUNROOT=$WORK/run     # --root: the runtime's state of running containers
NAME=husk-demo-$$

# h ARGS: husk with the demo's private storage and runtime roots
h() { "$HUSK" --storage-root "$STORE" --root "$RUNROOT" "$@"; }

remove_containers() {
    [ -d "$STORE/containers" ] || return 0
    for id in $(h container ls -aq --no-trunc 2>/dev/null); do
        h container rm -f "$id" >/dev/null 2>&1 || echo "demo: container rm -f $id failed" >&2
    done
}

# the default network's bridge husk0 stays up after its last container (as docker0);
# the demo takes it down again if it was not up before
BRIDGE_BEFORE=0
[ -e /sys/class/net/husk0 ] && BRIDGE_BEFORE=1

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    remove_containers
    if [ "$BRIDGE_BEFORE" = 0 ] && [ -d "$STORE" ]; then
        h network rm husk >/dev/null 2>&1 || echo "demo: network rm husk failed" >&2
    fi
    rm -rf --one-file-system "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '\n== %s\n' "$*"; }
run() { printf '   $ husk %s\n' "$*"; }
indent() { sed 's/^/     /'; }
die() { echo "demo: $*" >&2; exit 1; }

say "an image from a busybox rootfs (no registry, no network)"
sh "$here/mkrootfs.sh" "$WORK/rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/busybox.tar" .
run "image import -c 'CMD [\"sh\"]' busybox.tar busybox:demo"
h image import -c 'CMD ["sh"]' "$WORK/busybox.tar" busybox:demo | indent
run image ls
h image ls | indent

say "a detached container: its init logs a line, then waits for SIGTERM"
# sleep in the background and `wait`: sh runs the TERM trap at once, so `stop` is quick.
script='trap "echo got SIGTERM, bye; exit 0" TERM
echo "hello from $(hostname)"
while :; do sleep 1 & wait $!; done'
run "container run -d --name $NAME --hostname husk-demo busybox:demo sh -c '…'"
h container run -d --name "$NAME" --hostname husk-demo busybox:demo sh -c "$script" | indent
run container ls
h container ls | indent
ID=$(h container inspect --format '{{.Id}}' "$NAME")
PID=$(h container inspect --format '{{.State.Pid}}' "$NAME")
[ "$PID" -gt 0 ] 2>/dev/null || die "container inspect gave no pid: $PID"
MON=$(awk '{ print $4 }' "/proc/$PID/stat")
echo "   no daemon: on the host the init is PID $PID, its parent is the container's monitor:"
ps -o pid,ppid,args -p "$MON,$PID" | cut -c1-110 | indent

say "namespaces: the host, the init (/proc/$PID/ns on the host), a shell entered with container exec"
run "container exec $NAME sh -c 'readlink /proc/self/ns/*'"
h container exec "$NAME" sh -c 'for n in cgroup ipc mnt net pid time user uts; do
    echo "$n $(readlink /proc/self/ns/$n)"; done' >"$WORK/exec-ns.txt"
printf '   %-7s %-20s %-20s %-20s %s\n' "" host init "exec'd shell" ""
joined=0
for n in cgroup ipc mnt net pid time user uts; do
    [ -e "/proc/self/ns/$n" ] || continue
    hn=$(readlink "/proc/self/ns/$n")
    in=$(readlink "/proc/$PID/ns/$n")
    en=$(awk -v n="$n" '$1 == n { print $2 }' "$WORK/exec-ns.txt")
    [ "$en" = "$in" ] || die "the exec'd shell is not in the init's $n namespace ($en, $in)"
    if [ "$in" = "$hn" ]; then note="the host's"; else note="the container's own"; joined=$((joined + 1)); fi
    printf '   %-7s %-20s %-20s %-20s %s\n' "$n" "$hn" "$in" "$en" "$note"
done
echo "   same inode = same namespace: exec opened /proc/$PID/ns/* and setns()'d into each of"
echo "   them, so the shell joined the $joined namespaces the container made, and shares the rest"

say "inside: its own hostname, and only its own processes"
run "container exec $NAME ps -o pid,user,args"
h container exec "$NAME" ps -o pid,user,args | indent
echo "   (the host runs $(ps -e --no-headers | wc -l) processes; hostname here: $(hostname)," \
    "there: $(h container exec "$NAME" hostname))"

say "its output, kept by the monitor in docker's json-file log"
run container logs "$NAME"
h container logs "$NAME" | indent

say "change a file, see the change, commit it to a new image"
run "container exec $NAME sh -c 'echo written in $NAME > /root/note.txt'"
h container exec "$NAME" sh -c "echo written in $NAME > /root/note.txt"
run container diff "$NAME"
h container diff "$NAME" | indent
run "container commit -m 'add /root/note.txt' $NAME busybox:note"
h container commit -m 'add /root/note.txt' "$NAME" busybox:note | indent
run image ls
h image ls | indent
run "container run --rm busybox:note cat /root/note.txt"
out=$(h container run --rm busybox:note cat /root/note.txt)
echo "$out" | indent
[ "$out" = "written in $NAME" ] || die "the committed image does not have the file"
run "container run --rm busybox:demo ls /root    # the image it came from is unchanged"
h container run --rm busybox:demo ls /root | indent
echo "   (empty)"

say "a volume: a bind mount made before pivot_root (seed 000), outside the image, not committed"
run "volume create demo-data"
h volume create demo-data | indent
run "container run --rm -v demo-data:/data busybox:demo sh -c 'echo kept > /data/f; grep \" /data \" /proc/mounts'"
h container run --rm -v demo-data:/data busybox:demo sh -c 'echo kept > /data/f; grep " /data " /proc/mounts' | indent
MP=$(h volume inspect --format '{{.Mountpoint}}' demo-data)
echo "   on the host, after the container is gone: $MP/f says \"$(cat "$MP/f")\""
[ "$(cat "$MP/f")" = kept ] || die "the volume did not keep the file"
run "container run --rm -v demo-data:/data busybox:demo cat /data/f    # another container sees it"
h container run --rm -v demo-data:/data busybox:demo cat /data/f | indent
run "volume rm demo-data"
h volume rm demo-data | indent

say "docker's exit codes: 125 the engine failed, 126 cannot invoke, 127 not found, else the container's"
# exitcode SHOWN ARGS…: run ARGS, print the status, SHOWN (the command as typed) and its error
exitcode() {
    shown=$1; shift
    rc=0
    h container run --rm "$@" >/dev/null 2>"$WORK/err.txt" || rc=$?
    printf '   %-3s  husk container run --rm %s\n' "$rc" "$shown"
    indent <"$WORK/err.txt"
}
exitcode "busybox:demo sh -c 'exit 3'" busybox:demo sh -c 'exit 3'
exitcode "busybox:demo no-such-command" busybox:demo no-such-command
exitcode "busybox:demo /etc/passwd" busybox:demo /etc/passwd
exitcode "--pull never no-such-image true" --pull never no-such-image true

say "stop (SIGTERM, the init's trap runs), then remove"
run container stop "$NAME"
h container stop "$NAME" | indent
echo "   exit code $(h container inspect --format '{{.State.ExitCode}}' "$NAME"); the log ends with:"
h container logs --tail 1 "$NAME" | indent
run container rm "$NAME"
h container rm "$NAME" | indent

say "done: removing every container and $WORK"
remove_containers
left=$(grep -c " $WORK/" /proc/self/mountinfo || true)
mons=$(pgrep -f "husk-monitor .*$STORE" | wc -l)
cgs=$(ls -d /sys/fs/cgroup/*/husk/"$ID" /sys/fs/cgroup/husk/"$ID" 2>/dev/null | wc -l)
state=$(ls -A "$RUNROOT" | wc -l)
[ "$left" -eq 0 ] && [ "$mons" -eq 0 ] && [ "$cgs" -eq 0 ] && [ "$state" -eq 0 ] ||
    die "left behind: $left mounts, $mons monitors, $cgs cgroups, $state runtime states"
echo "   no mount, monitor, cgroup or runtime state left"
