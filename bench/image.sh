#!/usr/bin/env bash
# image.sh HUSK — the image part of `make bench` (issue 11): `husk image pull` vs
# `podman pull` of the same ~120 MB multi-layer Debian image from a local Debian
# docker-registry on 127.0.0.1 (plain HTTP), each into an empty store, and
# `husk image load` vs `podman load` of the same docker-archive. See bench/README.md.
#
# The image: a `debootstrap --variant=minbase bookworm` rootfs (made once and cached
# in $BENCH_CACHE, default /var/tmp/husk-bench-cache), cut into four layers by
# directory (usr/lib, the rest of usr, var, everything else) plus a small top layer,
# gzip'ed and written as an OCI layout by tests/integration/registry.bash's
# oci_image, pushed with skopeo. When debootstrap cannot fetch (no route to Debian's
# archive), a generated image of comparable size is used instead (five layers of
# files of pseudo-random, partly compressible content) and the report says so.
#
# Each round runs husk then podman, or podman then husk (alternating), each with an
# empty store of its own under the temp dir (podman: overlay driver, --root/--runroot
# there, a containers.conf of the bench's own with file events). Wall time and peak
# RSS from GNU time (%e, %M: ru_maxrss of the command and its waited-for children).
# The table gives the median wall time, its ratio husk/podman (target for pull:
# <= 0.5), and the median peak RSS.
#
# The stores are on an ext4 of the bench's own (a 4 GB file on a loop device, made by
# mkfs.ext4 with its defaults, so with a journal) when it can make one. Why: on an
# ext4 without a journal (the root of the VM this was measured on), the kernel skips,
# for every new inode, each inode freed in the last one to six minutes (ext4's
# recently_deleted(), checked only without a journal), and scanning them costs more
# than the rest of the inode's creation: every run then paid for the stores that the
# runs before it had removed, both tools slowed down round after round (husk's pull
# 1.1 s, 1.9, 3.0, 3.7, 5.5 s in five rounds) and the median measured mostly that.
#
# Knobs: IMAGE_RUNS (rounds, default 7), BENCH_CACHE, BENCH_KEEP=1 (keep the temp dir),
# BENCH_GENERATED=1 (skip debootstrap, use the generated image), BENCH_LOOPFS=0 (the
# stores in the temp dir instead).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 PATH/TO/husk" >&2; exit 2; }
HUSK=$(readlink -f "$1")
[ -x "$HUSK" ] || { echo "bench: $1: not an executable" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
HUSK_REPO=$(cd "$here/.." && pwd)
export HUSK_REPO
RUNS=${IMAGE_RUNS:-7}
CACHE=${BENCH_CACHE:-/var/tmp/husk-bench-cache}
for t in podman skopeo docker-registry jq /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "bench image: $t is not installed: skipped" >&2; exit 0; }
done

tmp=$(mktemp -d /var/tmp/husk-bench-image.XXXXXX)
REG_DIR=$tmp/reg
export REG_DIR
mkdir -p "$REG_DIR" "$CACHE"
# shellcheck source=../tests/integration/registry.bash
source "$HUSK_REPO/tests/integration/registry.bash"

cleanup() {
    reg_stop_all || true
    # podman's overlay store may hold mounts (its layers' merged dirs): none may outlive it
    awk -v p="$tmp/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
    if [ "${BENCH_KEEP:-}" = 1 ]; then
        echo "kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

stores=$tmp
if [ "${BENCH_LOOPFS:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null; then
    if truncate -s 4G "$tmp/fs.img" && mkfs.ext4 -q -F "$tmp/fs.img" && mkdir -p "$tmp/fs" &&
        mount -o loop "$tmp/fs.img" "$tmp/fs"; then
        stores=$tmp/fs
        echo "bench image: stores on an ext4 of the bench's own (loop device, journaled)" >&2
    else
        echo "bench image: no loop device for an ext4 of the bench's own: stores in $tmp" >&2
    fi
fi

# ---------------------------------------------------------------- the image

root=$CACHE/debian-bookworm-minbase
kind=debian
if [ "${BENCH_GENERATED:-}" != 1 ] && [ ! -f "$root/.complete" ] && command -v debootstrap >/dev/null; then
    echo "bench image: debootstrap --variant=minbase bookworm (once; cached in $root)" >&2
    rm -rf "$root"
    if debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1; then
        # as Debian's own docker image: no downloaded packages, no package lists
        find "$root/var/cache/apt/archives" -name '*.deb' -delete
        find "$root/var/lib/apt/lists" -mindepth 1 -delete
        touch "$root/.complete"
    else
        echo "bench image: debootstrap failed (see $CACHE/debootstrap.log): using a generated image" >&2
        rm -rf "$root"
    fi
fi
w=$tmp/work
mkdir -p "$w"
if [ "${BENCH_GENERATED:-}" != 1 ] && [ -f "$root/.complete" ]; then
    # four layers by directory, then a small one on top (an "application")
    tar -C "$root" --exclude=./.complete -cf "$w/l1.tar" ./usr/lib
    tar -C "$root" --exclude=./usr/lib -cf "$w/l2.tar" ./usr
    tar -C "$root" -cf "$w/l3.tar" ./var
    tar -C "$root" --exclude=./usr --exclude=./var --exclude=./.complete -cf "$w/l4.tar" .
    mkdir -p "$w/app/opt/app"
    head -c 2000000 /dev/urandom >"$w/app/opt/app/data"
    echo 'echo hello' >"$w/app/opt/app/run.sh"
    tar -C "$w/app" -cf "$w/l5.tar" .
else
    kind=generated
    # ~120 MB in five layers: text-like (compressible) and random files, as a distribution has both
    for i in 1 2 3 4 5; do
        d=$w/g$i/opt/gen$i
        mkdir -p "$d"
        for f in $(seq 1 40); do
            head -c 300000 /dev/urandom >"$d/bin$f"
            seq "$((f * 1000))" "$((f * 1000 + 12000))" | sed 's/$/ the quick brown fox/' >"$d/text$f"
        done
        tar -C "$w/g$i" -cf "$w/l$i.tar" .
    done
fi
L=$tmp/layout
oci_image "$L" bench amd64 "$w"/l1.tar "$w"/l2.tar "$w"/l3.tar "$w"/l4.tar "$w"/l5.tar >/dev/null
rm -f "$w"/l*.tar
reg_start bench plain >/dev/null
REF=$REG_BENCH/bench/debian:1
reg_push "$L" bench "$REF"
skopeo copy --quiet "oci:$L:bench" "docker-archive:$tmp/debian.tar:bench/debian:1"
unpacked=$(du -sb "$L" | cut -f1)
echo "bench image: $kind, $(jq '.layers | length' "$L/blobs/sha256/$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$L/index.json")") layers," \
    "$((unpacked / 1000000)) MB compressed (layout), docker-archive $(($(stat -c %s "$tmp/debian.tar") / 1000000)) MB" >&2

# ---------------------------------------------------------------- podman of the bench's own

cat >"$tmp/containers.conf" <<EOF
[engine]
events_logger = "file"
events_logfile_path = "$tmp/events.log"
EOF

# timed OUT CMD…: GNU time's "%e %M" of CMD into OUT; CMD's output discarded, its failure fatal
timed() {
    local out=$1
    shift
    if ! /usr/bin/time -f '%e %M' -o "$out" "$@" >/dev/null 2>"$tmp/err"; then
        echo "bench image: failed: $* : $(tail -3 "$tmp/err")" >&2
        exit 1
    fi
}

fresh() { # DIR: an empty store (podman's may have mounts)
    awk -v p="$1/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$1"
    mkdir -p "$1"
}

declare -A res
measure() { # NAME KIND(husk|podman) ARGS… (each run into a fresh store)
    local name=$1 who=$2 i=$3 d=$stores/store-$2
    shift 3
    fresh "$d"
    if [ "$who" = husk ]; then
        timed "$tmp/t" "$HUSK" --storage-root "$d" image "$@"
    else
        # (the runroot stays in the temp dir: podman refuses one longer than 50 characters)
        fresh "$tmp/run"
        timed "$tmp/t" env CONTAINERS_CONF="$tmp/containers.conf" podman --root "$d/root" --runroot "$tmp/run" \
            --tmpdir "$d/tmp" --storage-driver overlay "$@"
    fi
    res[$name-$who]+="$(cat "$tmp/t")"$'\n'
    : "$i"
}

# warm-up: each once (the registry's and the page cache's first reads)
measure warm husk 0 pull -q --tls-verify=false "$REF"
measure warm podman 0 pull -q --tls-verify=false "$REF"
for i in $(seq 1 "$RUNS"); do
    if [ $((i % 2)) = 1 ]; then order="husk podman"; else order="podman husk"; fi
    for who in $order; do
        measure pull "$who" "$i" pull -q --tls-verify=false "$REF"
    done
    for who in $order; do
        measure load "$who" "$i" load -q -i "$tmp/debian.tar"
    done
done
fresh "$stores/store-husk"
fresh "$stores/store-podman"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '\n%-6s %-7s %12s %14s %10s\n' op tool "median s" "peak RSS MiB" "husk/podman"
for op in pull load; do
    hs=$(awk 'NF { print $1 }' <<<"${res[$op-husk]}" | median)
    ps=$(awk 'NF { print $1 }' <<<"${res[$op-podman]}" | median)
    hr=$(awk 'NF { print $2 }' <<<"${res[$op-husk]}" | median)
    pr=$(awk 'NF { print $2 }' <<<"${res[$op-podman]}" | median)
    ratio=$(awk -v a="$hs" -v b="$ps" 'BEGIN { printf "%.2f", a / b }')
    printf '%-6s %-7s %12s %14.1f %10s\n' "$op" husk "$hs" "$(awk -v k="$hr" 'BEGIN { print k / 1024 }')" "$ratio"
    printf '%-6s %-7s %12s %14.1f\n' "$op" podman "$ps" "$(awk -v k="$pr" 'BEGIN { print k / 1024 }')"
done
echo "($kind image, $RUNS rounds, alternating; pull target: husk/podman <= 0.5)"
