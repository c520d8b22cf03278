#!/bin/sh
# vm-kernel.sh — print the path of a Debian kernel image for the VM tests, fetching it first if needed.
#
# The cgroup v2 tests boot Debian's own kernel (linux-image-amd64) under qemu with
# cgroup_no_v1=all. The package is not installed on the host (that would touch /boot
# and the bootloader): `apt-get download` fetches the .deb from Debian's archive and
# only its vmlinuz is unpacked into a cache directory.
set -eu
CACHE=${HUSK_VM_CACHE:-/var/cache/husk-vm}
mkdir -p "$CACHE"
if [ -s "$CACHE/vmlinuz" ]; then
    echo "$CACHE/vmlinuz"
    exit 0
fi
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$pkg" ]; then
    apt-get update -qq >&2
    pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
[ -n "$pkg" ] || { echo "vm-kernel: cannot find the package linux-image-amd64 depends on" >&2; exit 1; }
tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt's sandbox user cannot write into a root-only dir; download as root, quietly.
(cd "$tmp" && apt-get download -q "$pkg" >&2 2>/dev/null) ||
    { apt-get update -qq >&2 && (cd "$tmp" && apt-get download -q "$pkg" >&2); }
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
mv "$tmp"/boot/vmlinuz-* "$CACHE/vmlinuz.new"
mv "$CACHE/vmlinuz.new" "$CACHE/vmlinuz"
echo "$CACHE/vmlinuz"
