/* manifest.h — image manifests, indexes and configs (OCI image spec and docker's
 * schema 2 media types), parsed with the JSON path of any error:
 *     manifest sha256:…: layers[1].digest: expected a string */
#ifndef HUSK_ENGINE_MANIFEST_H
#define HUSK_ENGINE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

struct descriptor {
    char *media_type;
    char *digest;
    int64_t size;
    /* platform, in an index only */
    char *os, *architecture, *variant;
    /* in an index only: the name annotation (io.containerd.image.name, else
     * org.opencontainers.image.ref.name), or NULL */
    char *ref_name;
};

struct manifest {
    char *media_type;          /* from the document, or the one it was served as */
    struct descriptor config;
    struct descriptor *layers;
    size_t n_layers;
};

struct image_index {
    char *media_type;
    struct descriptor *manifests;
    size_t n_manifests;
};

/* Which kind a media type is: 'm' a single-platform manifest, 'i' an index or
 * manifest list, 0 unknown. */
char manifest_kind(const char *media_type);
/* Is this a layer media type husk can unpack (tar, gzip, zstd; OCI or docker)? */
bool manifest_layer_type_known(const char *media_type);

/* name prefixes errors ("manifest sha256:…"); media_type is the Content-Type it came
 * with (NULL: take the document's own mediaType). */
int manifest_parse(const char *text, size_t len, const char *name, const char *media_type, struct manifest *out,
                   husk_err **err);
int image_index_parse(const char *text, size_t len, const char *name, const char *media_type,
                      struct image_index *out, husk_err **err);
/* The entry for os/arch[/variant] (variant NULL: any, preferring none or "v8" for
 * arm64 as docker does), or NULL with an error listing what the index has. */
const struct descriptor *image_index_pick(const struct image_index *ix, const char *os, const char *arch,
                                          const char *variant, const char *name, husk_err **err);

void manifest_free(struct manifest *m);

/* {"mediaType", "digest", "size"}, for the manifests husk writes. */
struct json_object *descriptor_json(const char *media_type, const char *digest, int64_t size);
void image_index_free(struct image_index *ix);

/* The parts of an image config the engine uses. */
struct image_config {
    char *created;
    char *architecture, *os, *variant;
    char **diff_ids;           /* rootfs.diff_ids, NULL-terminated */
    size_t n_diff_ids;
};
int image_config_parse(const char *text, size_t len, const char *name, struct image_config *out, husk_err **err);
void image_config_free(struct image_config *c);

#endif
