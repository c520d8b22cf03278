#!/bin/sh
# mkrootfs.sh DEST — build a minimal busybox root filesystem in DEST.
#
# DEST/bin/busybox is a copy of the host's static busybox (Debian busybox-static),
# with a symlink for every applet it lists. Creates the usual top-level directories
# and /etc/{passwd,group,hostname} with root, a user 1000 and nobody (65534).
# Idempotent: running it again on the same DEST only fixes what is missing.
set -eu

usage() { echo "usage: $0 DEST" >&2; exit 2; }
[ $# -eq 1 ] || usage
DEST=$1
BUSYBOX=${BUSYBOX:-/bin/busybox}

if [ ! -x "$BUSYBOX" ]; then
    echo "mkrootfs: $BUSYBOX not found (apt-get install busybox-static)" >&2
    exit 1
fi
# A dynamically linked busybox would need the host's libc inside the rootfs.
if command -v file >/dev/null 2>&1 && ! file -L "$BUSYBOX" | grep -q 'statically linked'; then
    echo "mkrootfs: warning: $BUSYBOX does not look statically linked" >&2
fi

for d in bin sbin usr/bin usr/sbin proc sys dev tmp etc root var var/tmp run home/user; do
    mkdir -p "$DEST/$d"
done
chmod 1777 "$DEST/tmp" "$DEST/var/tmp"
chmod 0700 "$DEST/root"

# Copy busybox only when it changed (keeps reruns fast and the inode stable).
if ! cmp -s "$BUSYBOX" "$DEST/bin/busybox" 2>/dev/null; then
    cp "$BUSYBOX" "$DEST/bin/busybox.new"
    chmod 0755 "$DEST/bin/busybox.new"
    mv -f "$DEST/bin/busybox.new" "$DEST/bin/busybox"
fi

# `busybox --list-full` gives paths like usr/bin/env; fall back to --list -> bin/.
if list=$("$DEST/bin/busybox" --list-full 2>/dev/null) && [ -n "$list" ]; then
    :
else
    list=$("$DEST/bin/busybox" --list | sed 's|^|bin/|')
fi
for app in $list; do
    case $app in */busybox|busybox) continue ;; esac
    link="$DEST/$app"
    [ -e "$link" ] || [ -L "$link" ] && continue
    mkdir -p "$(dirname "$link")"
    ln -s /bin/busybox "$link"
done
# Some tests and scripts expect /bin/sh whatever --list-full says.
for app in sh true false sleep cat ls; do
    [ -e "$DEST/bin/$app" ] || [ -L "$DEST/bin/$app" ] || ln -s busybox "$DEST/bin/$app"
done

cat > "$DEST/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$DEST/etc/group" <<'GR'
root:x:0:
user:x:1000:
nogroup:x:65534:
GR
echo husk > "$DEST/etc/hostname"
[ -e "$DEST/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$DEST/etc/hosts"
chown 1000:1000 "$DEST/home/user"
