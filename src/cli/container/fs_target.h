/* fs_target.h — what `husk container commit|diff|export|cp` share: the container
 * (by name, id or prefix), its directory, its record and its image's layers. */
#ifndef HUSK_CLI_CONTAINER_FS_TARGET_H
#define HUSK_CLI_CONTAINER_FS_TARGET_H

#include <stdbool.h>

#include "container_cli.h"
#include "store.h"

struct json_object;

struct fs_target {
    struct store st;
    bool st_open;
    char *id;
    char *dir;                  /* ROOT/containers/<id> */
    struct json_object *rec;    /* container.json */
    char **layers;              /* the image's chain ids, bottom first (strings in rec) */
    char **mounts;              /* destinations of its mounts (volumes): left out of commit and diff */
    int lock;                   /* the container's lock, when taken */
};

/* Open the store and find the container; with lock, hold its lock (so that it is not
 * started, cleaned up or removed while its rootfs is read or written). */
int fs_target_open(struct cli_global *g, const char *name, bool lock, struct fs_target *t, husk_err **err);
void fs_target_close(struct fs_target *t);

#endif
