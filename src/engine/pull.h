/* pull.h — `image pull` and `image push`: an image between a registry (registry.h)
 * and the store (store.h, layer.h, image.h).
 *
 * A pull fetches the manifest (picking the platform from an index), the config and
 * the layers (several at once, each blob once, the ones in the store not at all),
 * unpacks each layer while its blob downloads (several at once, each checked
 * against its diff_id in the config, published once its blob's digest is checked),
 * and registers the image last: killed at any point, it leaves no image half
 * registered and the next pull reuses what it fetched. Every error names the
 * reference: "docker.io/library/busybox:latest: manifest latest not found (…)". */
#ifndef HUSK_ENGINE_PULL_H
#define HUSK_ENGINE_PULL_H

#include <stdbool.h>

#include "registry.h"

struct transfer_progress {
    /* the blobs of the transfer, before it starts (layers, bottom first) */
    void (*begin)(void *ctx, const struct blob_desc *blobs, size_t n);
    registry_progress_fn blob;
    void *ctx;
};

struct pull_opts {
    struct registry_opts reg;
    const char *platform;              /* "os/arch[/variant]" or NULL: the host's */
    const struct transfer_progress *progress;   /* NULL: none */
};

struct pull_result {
    char *ref;        /* the full normalized reference */
    char *id;         /* "sha256:…" of the config */
    char *digest;     /* the digest pulled (the index's when there was one) */
    bool up_to_date;  /* the reference named this image already */
};
void pull_result_free(struct pull_result *r);

int image_pull(struct store *st, const char *ref, const struct pull_opts *o, struct pull_result *res, husk_err **err);

/* Push the image src (a name or id in the store) to dest (NULL: src, which must then
 * be a reference with a registry). *digest_out gets the manifest's digest, or the
 * index's when the image goes whole with every platform of its index (push.c). */
int image_push(struct store *st, const char *src, const char *dest, const struct registry_opts *ro,
               const struct transfer_progress *progress, char **digest_out, husk_err **err);

#endif
