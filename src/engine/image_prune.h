/* image_prune.h — remove unused images, then every blob and layer no image uses.
 *
 * Under the store's exclusive GC lock (store_gc_begin): no pull, load or import is
 * between fetching a blob and registering its image while this runs. */
#ifndef HUSK_ENGINE_IMAGE_PRUNE_H
#define HUSK_ENGINE_IMAGE_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

struct prune_result {
    char **untagged;     /* names taken away, full references */
    char **deleted;      /* image ids removed */
    uint64_t reclaimed;  /* bytes of blobs and layers removed */
};

/* all: every image (not only dangling ones: those without a name), but those in
 * keep (ids, NULL-terminated, or NULL: the images containers are made from). */
int image_prune(struct store *st, bool all, char *const *keep, struct prune_result *out, husk_err **err);
void prune_result_free(struct prune_result *r);

#endif
