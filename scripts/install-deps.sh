#!/bin/sh
# Install husk's build and test dependencies from Debian's archive.
# Called by `make demo` and `make check`; safe to run again (does nothing when all are present).
set -eu
PKGS="build-essential meson ninja-build pkg-config
libjson-c-dev libseccomp-dev libcap-dev libcmocka-dev libarchive-dev libssl-dev
busybox-static bats jq runc crun hyperfine time iproute2 util-linux procps
qemu-system-x86
podman conmon netavark aardvark-dns golang-github-containers-common iptables containerd
valgrind clang libclang-rt-dev keyutils criu python3 strace
libcurl4-openssl-dev libisal-dev docker-registry skopeo apache2-utils openssl zstd musl-tools tini debootstrap"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
