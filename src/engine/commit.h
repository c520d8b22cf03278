/* commit.h — a container's changes as a new image (`docker commit`).
 *
 * The container's upper dir (ROOT/containers/<id>/upper, overlay.h) becomes one
 * more layer on top of its image's: an uncompressed tar (as `image import` stores
 * its layer; a registry and podman take application/vnd.oci.image.layer.v1.tar as
 * they take the gzip'd kind) whose deletions are ".wh.NAME" files and whose opaque
 * directories hold ".wh..wh..opq", with owners, modes, times, xattrs, hard links
 * and symlinks as they are. The tar is stored as a blob (its digest is its diff id)
 * and unpacked once into the layer store (layer_ensure), so containers of the new
 * image share it. The new config is the image's, with the container's config when
 * given (docker's: what `run` set, e.g. its Env and Cmd), the -c instructions, a
 * history entry (the -m message as its comment) and the new diff id; the manifest is
 * an OCI manifest listing the image's layers (docker media types turned into their
 * OCI equals: the same bytes) and the new one. The image is registered last, with
 * the tag if one is given: a commit killed at any point leaves no image, only blobs
 * and a layer that prune collects.
 *
 * Left out of the layer: the paths in exclude (the container's volumes: their data
 * belongs to the volume, not the image), the files the engine bind-mounts over the
 * rootfs (/etc/hostname, /etc/hosts, /etc/resolv.conf) and the mount points of
 * /dev, /proc and /sys (always mounted over: nothing of the container's is ever
 * below them), as docker, whose init layer holds those, never commits them. A
 * running container should be paused by
 * the caller for a consistent layer (docker commit --pause, its default). */
#ifndef HUSK_ENGINE_COMMIT_H
#define HUSK_ENGINE_COMMIT_H

#include "error.h"
#include "store.h"

struct json_object;

struct commit_args {
    const char *ctrdir;          /* ROOT/containers/<id> */
    const char *image;           /* the container's image (id or name, image_lookup) */
    const char *container_id;    /* recorded as the config's "container", or NULL */
    struct json_object *config;  /* the container's config (docker's ContainerConfig keys:
                                    Cmd, Entrypoint, Env, WorkingDir, User, Labels …)
                                    replacing the image's "config", or NULL */
    char *const *changes;        /* -c instructions (changes.h), NULL-terminated or NULL */
    const char *message;         /* -m: the history entry's comment, or NULL */
    const char *author;          /* -a, or NULL */
    const char *created_by;      /* the history entry's created_by, or NULL */
    const char *ref;             /* the new image's name ([REPOSITORY[:TAG]]), or NULL */
    char *const *exclude;        /* container paths left out (volumes), or NULL */
};

/* Commit; *id_out gets the new image's id ("sha256:…"). Errors start "commit: ". */
int commit_container(struct store *st, const struct commit_args *a, char **id_out, husk_err **err);

/* The paths every commit and diff leave out (the NULL-terminated list above). */
extern char *const commit_always_excluded[];

#endif
