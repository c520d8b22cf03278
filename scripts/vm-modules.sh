#!/bin/sh
# vm-modules.sh — print a directory holding the kernel modules the VM's checkpoint
# tests need (tests/vm/criu.sh), fetching them first if needed: criu's start-up checks
# nftables (nf_tables) and its socket dumps use the sock_diag modules. They come from
# the same Debian kernel package as scripts/vm-kernel.sh's vmlinuz, unpacked from it
# into a cache directory, in the order they are to be loaded (modules.order).
set -eu
CACHE=${HUSK_VM_CACHE:-/var/cache/husk-vm}
dir=$CACHE/modules
if [ -s "$dir/modules.order" ]; then
    echo "$dir"
    exit 0
fi
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$pkg" ] || { echo "vm-modules: cannot find the package linux-image-amd64 depends on" >&2; exit 1; }
mkdir -p "$CACHE"
tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$pkg" >&2 2>/dev/null) ||
    { apt-get update -qq >&2 && (cd "$tmp" && apt-get download -q "$pkg" >&2); }
# Dependencies first: nf_tables needs nfnetlink and libcrc32c (which needs crc32c);
# criu asks a network namespace's conntrack entries through nf_conntrack_netlink.
order="crypto/crc32c_generic lib/libcrc32c net/netfilter/nfnetlink net/netfilter/nf_tables
net/ipv4/netfilter/nf_defrag_ipv4 net/ipv6/netfilter/nf_defrag_ipv6 net/netfilter/nf_conntrack
net/netfilter/nf_conntrack_netlink
net/ipv4/inet_diag net/ipv4/tcp_diag net/ipv4/udp_diag net/unix/unix_diag net/netlink/netlink_diag
net/packet/af_packet_diag"
pats=""
for m in $order; do pats="$pats ./lib/modules/*/kernel/$m.ko"; done
# shellcheck disable=SC2086 # one pattern per word
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards $pats
mkdir -p "$tmp/out"
for m in $order; do
    cp "$tmp"/lib/modules/*/kernel/"$m".ko "$tmp/out/"
    basename "$m" >>"$tmp/out/modules.order"
done
rm -rf "$dir"
mv "$tmp/out" "$dir"
echo "$dir"
