/* image_import.h — an image from a root filesystem tarball (`docker import`), as
 * mydocker builds its containers from busybox.tar: one layer (stored as the plain
 * tar, whatever compression it came in), a config for this machine's platform
 * with the --change instructions applied, named by ref if given. */
#ifndef HUSK_ENGINE_IMAGE_IMPORT_H
#define HUSK_ENGINE_IMAGE_IMPORT_H

#include "error.h"
#include "store.h"

struct image_import_args {
    const char *path;       /* the tarball (any compression libarchive reads) */
    const char *ref;        /* name for the image, or NULL */
    char **changes;         /* NULL-terminated Dockerfile instructions, or NULL */
    const char *message;    /* history comment, or NULL */
};

int image_import(struct store *st, const struct image_import_args *a, char **id_out, husk_err **err);

/* This machine's architecture as OCI names it ("amd64", "arm64", …). */
const char *image_host_arch(void);

#endif
