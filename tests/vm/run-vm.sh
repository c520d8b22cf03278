#!/bin/sh
# run-vm.sh HUSK LAYOUT [TESTS] — boot Debian's kernel under qemu with the cgroup LAYOUT
# (v2: cgroup_no_v1=all, a pure cgroup2 hierarchy; v1: every controller on v1;
# hybrid: v1 plus a cgroup2 mount at /sys/fs/cgroup/unified) and run tests/vm/LAYOUT.sh
# (or tests/vm/TESTS.sh) inside it, from an initramfs holding husk, its shared libraries, busybox and jq.
# The results are read off the serial console; exit 0 only if every test passed.
set -eu
HUSK=$(readlink -f "$1")
LAYOUT=$2
TESTS=${3:-$LAYOUT}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ -f "$here/$TESTS.sh" ] || { echo "run-vm: no tests/vm/$TESTS.sh" >&2; exit 2; }
kernel=$(sh "$repo/scripts/vm-kernel.sh")
command -v qemu-system-x86_64 >/dev/null || { echo "run-vm: qemu-system-x86_64 missing (apt-get install qemu-system-x86)" >&2; exit 1; }

work=$(mktemp -d /tmp/husk-vm.XXXXXX)
# HUSK_VM_KEEP=1 keeps the initramfs and console log for a look afterwards.
[ -n "${HUSK_VM_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
img=$work/root
sh "$repo/scripts/mkrootfs.sh" "$img"          # the VM's own userland: busybox
sh "$repo/scripts/mkrootfs.sh" "$img/rootfs"   # the containers' rootfs

# Copy a dynamically linked program with every library ldd names, at the same paths.
copy_prog() {
    install -D -m 0755 "$1" "$img$2"
    ldd "$1" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' | while read -r lib; do
        [ -e "$img$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$img$lib"
    done
}
copy_prog "$HUSK" /bin/husk
copy_prog "$(command -v jq)" /usr/bin/jq
# The checkpoint tests need criu and a few kernel modules (tests/vm/criu.sh).
if [ "$TESTS" = criu ]; then
    copy_prog "$(command -v criu)" /usr/sbin/criu
    # criu saves tmpfs contents with GNU tar's options, which busybox tar lacks.
    rm -f "$img/bin/tar"
    copy_prog "$(command -v tar)" /bin/tar
    mkdir -p "$img/lib/modules"
    cp "$(sh "$repo/scripts/vm-modules.sh")"/* "$img/lib/modules/"
fi
rm -f "$img/init"
install -m 0755 "$here/init" "$img/init"
mkdir -p "$img/tests"
cp "$here/lib.sh" "$img/tests/"
cp "$here/$TESTS.sh" "$img/tests/run-tests.sh"

(cd "$img" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"

cmdline="console=ttyS0 panic=-1 quiet husk.layout=$LAYOUT"
[ "$LAYOUT" = v2 ] && cmdline="$cmdline cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
log=$work/console.log
# Software emulation: KVM hangs on these machines. No network device, no disk.
timeout "${HUSK_VM_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1536 \
    -nographic -no-reboot -nic none -kernel "$kernel" -initrd "$work/initrd.gz" \
    -append "$cmdline" </dev/null >"$log" 2>&1 || true
# Print what the tests said (not the kernel's boot chatter).
tr -d '\r' <"$log" | grep -E '^(ok |not ok |#|husk-vm|vm-)' || true
result=$(tr -d '\r' <"$log" | grep -E "^vm-$LAYOUT: [0-9]+ passed, [0-9]+ failed" | tail -n 1)
if [ -z "$result" ]; then
    echo "run-vm: the VM gave no result; last console lines:" >&2
    tr -d '\r' <"$log" | tail -n 30 >&2
    exit 1
fi
case $result in *" 0 failed") exit 0 ;; *) exit 1 ;; esac
