/* mount_sources.h — bind-mount sources opened by the runtime, with its own (host)
 * credentials, for the container's stage 2 to attach.
 *
 * Two cases need it:
 *  - a container with a user namespace: stage 2 runs as the container's root, which
 *    may not be able to reach a source the runtime can (a parent directory of mode
 *    000 or owned by someone else). The source is the config writer's choice and is
 *    opened as the runtime, as runc and crun do.
 *  - idmapped mounts (mounts[].uidMappings/gidMappings, options idmap and ridmap):
 *    MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN in the user namespace of the source's
 *    filesystem, i.e. the host's.
 *
 * Stage 2 asks (SYNC_MOUNTSRC_PLS) once its mount namespace exists; the parent forks
 * a helper that joins that mount namespace, clones each source tree detached there
 * (open_tree(OPEN_TREE_CLONE)), idmaps it if asked, and sends the fd to stage 2
 * (SYNC_MOUNT_FD). Cloning in the container's mount namespace, not the host's, gives
 * the clone the same locked flags a clone made by stage 2 itself would have. */
#ifndef HUSK_MOUNT_SOURCES_H
#define HUSK_MOUNT_SOURCES_H

#include <stdbool.h>
#include "container.h"

/* Check the idmap fields of every mount: mappings only on bind mounts, uidMappings
 * together with gidMappings, idmap/ridmap without mappings only with a new user
 * namespace that has its own. Errors name the JSON path ("mounts[2].uidMappings").
 * Pure: for create, before anything is made, and for unit tests. */
int mount_sources_check(const struct oci_config *cfg, husk_err **err);

/* Whether mounts[i] is attached from a source the parent opened. */
bool mount_source_from_parent(const struct oci_config *cfg, size_t i);
/* Whether any mount is. */
bool mount_sources_needed(const struct oci_config *cfg);

/* Parent: serve a SYNC_MOUNTSRC_PLS of stage 2 (pid c->pid) over sock, then send
 * SYNC_MOUNTSRC_DONE. */
int mount_sources_serve(const struct husk_container *c, int sock, husk_err **err);

/* Stage 2: ask for the sources and receive them; *fds (n_mounts entries, -1 where
 * none) is the caller's to close and free. */
int mount_sources_receive(const struct oci_config *cfg, int sock, int **fds, husk_err **err);

#endif
