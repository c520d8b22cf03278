/* image_new.c — an image made here rather than fetched (commit, import): the
 * tag it gets, its config's history and layers, its manifest, its registration.
 * See image.h. */
#include <string.h>

#include <json-c/json.h>

#include "image.h"
#include "manifest.h"
#include "reference.h"
#include "json_cleanup.h"
#include "util.h"

int image_new_tag(const char *ref, char **tag_out, husk_err **err)
{
    struct image_ref r;
    *tag_out = NULL;
    if (!ref)
        return 0;
    if (image_ref_parse(ref, &r, err) < 0)
        return -1;
    if (r.digest) {
        image_ref_free(&r);
        /* a digest names content that exists already, never an image being made */
        return husk_fail(err, 0, "\"%s\": a digest cannot name a new image", ref);
    }
    *tag_out = image_ref_string(&r);
    image_ref_free(&r);
    return 0;
}

struct json_object *image_json_object_member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object)) {
        v = json_object_new_object();
        json_object_object_add(o, key, v);
    }
    return v;
}

static struct json_object *array_member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array)) {
        v = json_object_new_array();
        json_object_object_add(o, key, v);
    }
    return v;
}

static void add_history(struct json_object *cfg, const char *created, const char *created_by,
                        const char *author, const char *comment)
{
    struct json_object *h = json_object_new_object();
    json_object_object_add(h, "created", json_object_new_string(created));
    if (author)
        json_object_object_add(h, "author", json_object_new_string(author));
    json_object_object_add(h, "created_by", json_object_new_string(created_by));
    if (comment)
        json_object_object_add(h, "comment", json_object_new_string(comment));
    json_object_array_add(array_member(cfg, "history"), h);
}

/* A parent layer's media type in an OCI manifest: docker's names for the same bytes. */
static const char *oci_layer_type(const char *mt)
{
    if (strcmp(mt, MT_DOCKER_LAYER_GZIP) == 0)
        return MT_OCI_LAYER_GZIP;
    if (strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar") == 0)
        return MT_OCI_LAYER;
    if (strcmp(mt, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") == 0)
        return "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    return mt;
}

static int put_json(struct store *st, struct json_object *o, char **digest, uint64_t *size, husk_err **err)
{
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    *size = strlen(text);
    return store_put_blob(st, text, *size, digest, err);
}

int image_new_register(struct store *st, struct json_object *cfg, const struct image_new *n, char **id_out,
                       husk_err **err)
{
    _cleanup_free_ char *cdigest = NULL, *mdigest = NULL;
    uint64_t csize, msize;

    struct json_object *rootfs = image_json_object_member(cfg, "rootfs");
    json_object_object_add(rootfs, "type", json_object_new_string("layers"));
    json_object_array_add(array_member(rootfs, "diff_ids"), json_object_new_string(n->layer));
    add_history(cfg, n->created, n->created_by, n->author, n->comment);
    if (put_json(st, cfg, &cdigest, &csize, err) < 0)
        return -1;

    _cleanup_json_ struct json_object *m = json_object_new_object();
    struct json_object *layers = json_object_new_array();
    json_object_object_add(m, "schemaVersion", json_object_new_int(2));
    json_object_object_add(m, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
    json_object_object_add(m, "config", descriptor_json(MT_OCI_CONFIG, cdigest, (int64_t)csize));
    for (size_t i = 0; n->base && i < n->base->n_layers; i++)
        json_object_array_add(layers, descriptor_json(oci_layer_type(n->base->layers[i].media_type),
                                                      n->base->layers[i].digest, n->base->layers[i].size));
    /* the new layer is stored uncompressed: its digest is its diff id */
    json_object_array_add(layers, descriptor_json(MT_OCI_LAYER, n->layer, (int64_t)n->layer_size));
    json_object_object_add(m, "layers", layers);
    if (put_json(st, m, &mdigest, &msize, err) < 0)
        return -1;
    struct image_register_args ra = { .manifest = mdigest, .tag = n->tag };
    return image_register(st, &ra, id_out, err);
}
