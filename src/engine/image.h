/* image.h — image records and the name table of the engine's store.
 *
 *   ROOT/images/<id-hex>.json   one record per image, written atomically:
 *       {"id": "sha256:<config digest hex>", "manifest": "sha256:…" (the single-platform
 *        manifest blob), "index": "sha256:…" (optional: the index/list it was picked from),
 *        "repoTags": ["docker.io/library/busybox:latest"],
 *        "repoDigests": ["docker.io/library/busybox@sha256:<manifest digest>"],
 *        "layers": ["sha256:<chain id>", …] (bottom first, each unpacked under ROOT/layers),
 *        "size": <bytes of the unpacked layers>, "pulled": "<RFC 3339>"}
 *   ROOT/images/.lock           flock(2) held only while the name table changes
 *                               (tag, untag, register, remove): never during a pull's
 *                               downloads or unpacking.
 *
 * An image is registered only after its manifest, its config and every layer are in
 * the store, so a pull killed at any point leaves no half-registered image; the
 * blobs and layers it had fetched are reused by the next pull. A tag names at most one
 * image: registering or tagging moves it from the image that had it. */
#ifndef HUSK_ENGINE_IMAGE_H
#define HUSK_ENGINE_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "error.h"
#include "store.h"

struct json_object;

struct image_record {
    char *id;              /* "sha256:<hex>" of the config blob */
    char *manifest;        /* digest of the manifest blob */
    char *index;           /* digest of the index it came from, or NULL */
    char **repo_tags;      /* NULL-terminated, full normalized references */
    char **repo_digests;   /* NULL-terminated */
    char **layers;         /* NULL-terminated chain ids, bottom first */
    uint64_t size;
    char *pulled;          /* when it was registered, RFC 3339 */
};

struct image_register_args {
    const char *manifest;      /* digest of a manifest blob already in the store */
    const char *index;         /* optional */
    const char *tag;           /* full normalized reference with a tag to point here, or NULL */
    const char *repo_digest;   /* "repo@sha256:…" to record, or NULL */
};

/* Record the image whose manifest (and config and layers: all must be in the store
 * and unpacked already) is args->manifest, add the tag and repo digest. Returns the
 * image id in *id_out (optional). Registering an existing image only adds names. */
int image_register(struct store *st, const struct image_register_args *args, char **id_out, husk_err **err);

/* Find an image by full reference (tag or digest), by id, or by a unique id prefix
 * (at least 4 hex digits, with or without "sha256:"). */
int image_lookup(struct store *st, const char *name, struct image_record *out, husk_err **err);

/* Every image, sorted newest first. *out is NULL-terminated. */
int image_list(struct store *st, struct image_record ***out, husk_err **err);

int image_tag(struct store *st, const char *name, const char *new_ref, husk_err **err);
/* Remove a tag (name is a tag) or the whole image (name is an id); the image's
 * record goes when no tag is left. Blobs and layers stay until prune. */
int image_remove(struct store *st, const char *name, bool force, husk_err **err);

/* A time as image configs and records write it: RFC 3339, UTC, as Go's
 * RFC3339Nano (trailing zeros of the fraction dropped). */
char *image_format_rfc3339(const struct timespec *ts);
/* Now, in that format. */
char *image_now_rfc3339(void);

/* The blobs of the other platforms of an image's index that are in the store: each
 * manifest the index names and the store holds, its config and its layers, given
 * to add (a multi-platform image loaded from an OCI layout keeps them, for a push
 * of the whole index). */
void image_index_blobs(struct store *st, const char *index, void (*add)(void *ctx, const char *digest), void *ctx);

/* Is the blob the manifest, index, config or a layer of any image (the manifests
 * of its index in the store and theirs included)? */
bool image_blob_in_use(struct store *st, const char *digest);

/* Bytes of a layer's files, from its meta.json (0 if it does not say). */
uint64_t image_layer_size(const struct store *st, const char *chain);

void image_record_free(struct image_record *r);
void image_records_free(struct image_record **v);

/* ---- an image made here (commit, import): image_new.c ---- */

/* REF (may be NULL: *tag_out NULL) parsed as docker does into the tag a new image
 * gets; a digest is refused. */
int image_new_tag(const char *ref, char **tag_out, husk_err **err);
/* O's member KEY, made an empty object if it is absent or not an object. */
struct json_object *image_json_object_member(struct json_object *o, const char *key);

struct manifest;
struct image_new {
    const struct manifest *base; /* the parent image's manifest, or NULL */
    const char *layer;           /* the new layer: an uncompressed tar blob in the store, unpacked */
    uint64_t layer_size;
    const char *tag;             /* from image_new_tag(), or NULL */
    /* the history entry of the layer (author and comment may be NULL) */
    const char *created, *created_by, *author, *comment;
};
/* Adds the layer's diff id and history entry to CFG (in that order: podman's Go
 * structs marshal rootfs before history, and an image it re-marshals must keep its
 * id), stores CFG and a manifest of the base's layers and the new one, and registers
 * the image. */
int image_new_register(struct store *st, struct json_object *cfg, const struct image_new *n, char **id_out,
                       husk_err **err);

#endif
