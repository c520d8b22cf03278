/* overlay.h — a container's root filesystem: an overlay of its image's layers.
 *
 *   lowerdir   the image's layers, top first, as ROOT/l/<short> links (layer.h), the
 *              mount made with chdir(ROOT) so that a 100+ layer image fits the
 *              one-page limit of mount options
 *   upperdir   ROOT/containers/<id>/upper   (the container's changes: what commit,
 *   workdir    ROOT/containers/<id>/work     diff and export read)
 *   target     ROOT/containers/<id>/bundle/rootfs
 *
 * An image of one layer still gets an overlay (the layer is never written). */
#ifndef HUSK_ENGINE_OVERLAY_H
#define HUSK_ENGINE_OVERLAY_H

#include <stdbool.h>

#include "error.h"
#include "store.h"

/* Mount the overlay of layers (chain ids, bottom first, NULL-terminated) for the
 * container directory ctrdir (making upper/, work/, bundle/rootfs/ as needed). A
 * mount already there is left as it is (returns 0). */
int overlay_mount(const struct store *st, char *const *layers, const char *ctrdir, husk_err **err);
/* The same, "volatile" (Linux 5.10; plain where the kernel does not know it): no
 * sync of the upper dir's filesystem at the unmount, and fsync() inside is a no-op.
 * For a --rm container, as podman does: its files never outlive it. Any mount first
 * removes what a volatile one left (work/work/incompat/volatile, which would make the
 * kernel refuse the overlay): after a crash a volatile upper dir may miss writes,
 * which only an --rm container's may. */
int overlay_mount_volatile(const struct store *st, char *const *layers, const char *ctrdir, bool is_volatile,
                           husk_err **err);

/* Is ctrdir/bundle/rootfs a mount (of anything)? */
bool overlay_mounted(const char *ctrdir);

/* Unmount ctrdir/bundle/rootfs (detached if busy); not mounted is fine. */
int overlay_unmount(const char *ctrdir, husk_err **err);

#endif
