/* rootfs.h — the container's root filesystem: propagation, pivot_root, and the
 * final touches (masked paths, read-only paths, read-only root).
 *
 * Order inside the container's mount namespace (stage 2, see container.c):
 *   rootfs_prepare()   make / private-ish (rootfsPropagation or rslave), bind the rootfs onto
 *                      itself so it is a mount point, return an fd of it
 *   mounts_setup()     config mounts (mounts.c)
 *   devices_setup()    /dev (devices.c)
 *   [createContainer hooks run here, the host still visible]
 *   rootfs_pivot()     pivot_root into the rootfs and detach the old root (--no-pivot: chroot)
 *   [terminal setup binds /dev/console here]
 *   rootfs_finalize()  maskedPaths, readonlyPaths, root.readonly, rootfsPropagation */
#ifndef HUSK_ROOTFS_H
#define HUSK_ROOTFS_H

#include "container.h"

/* Returns an O_PATH|O_DIRECTORY fd of the (now bind-mounted) rootfs, or -1. */
int rootfs_prepare(struct husk_container *c, husk_err **err);
int rootfs_pivot(struct husk_container *c, int rootfd, husk_err **err);
int rootfs_finalize(struct husk_container *c, husk_err **err);

#endif
