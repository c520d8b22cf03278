/* manifest.c — manifests, indexes and image configs (manifest.h). */
#include <string.h>

#include <json-c/json.h>

#include "config_json.h"
#include "manifest.h"
#include "reference.h"
#include "util.h"
#include "json_cleanup.h"


/* Image documents are small; 4 MiB is far above any real manifest or config. */
#define DOC_MAX (4u * 1024u * 1024u)

char manifest_kind(const char *mt)
{
    if (!mt)
        return 0;
    if (strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0)
        return 'm';
    if (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0)
        return 'i';
    return 0;
}

bool manifest_layer_type_known(const char *mt)
{
    static const char *const known[] = { MT_OCI_LAYER, MT_OCI_LAYER_GZIP, MT_OCI_LAYER_ZSTD,
                                         MT_DOCKER_LAYER_GZIP,
                                         /* non-distributable variants unpack the same way */
                                         "application/vnd.oci.image.layer.nondistributable.v1.tar",
                                         "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                                         "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
                                         "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" };
    for (size_t i = 0; i < ARRAY_SIZE(known); i++)
        if (strcmp(mt, known[i]) == 0)
            return true;
    return false;
}

static int parse_descriptor(const struct cj *c, struct json_object *o, const char *path, bool platform,
                            struct descriptor *d)
{
    int64_t size;
    if (cj_as_object(c, o, path) < 0 || cj_string(c, o, path, "mediaType", true, &d->media_type) < 0 ||
        cj_string(c, o, path, "digest", true, &d->digest) < 0)
        return -1;
    if (!image_ref_digest_valid(d->digest) || strncmp(d->digest, "sha256:", 7) != 0) {
        _cleanup_free_ char *p = cj_path_key(path, "digest"), *q = cj_quote(d->digest);
        return cj_fail(c, p, "%s is not a sha256 digest", q);
    }
    if (cj_int(c, o, path, "size", true, 0, INT64_MAX, &size) < 0)
        return -1;
    d->size = size;
    struct json_object *p = platform ? cj_member(o, "platform") : NULL;
    if (p) {
        _cleanup_free_ char *pp = cj_path_key(path, "platform");
        if (cj_as_object(c, p, pp) < 0 || cj_string(c, p, pp, "os", true, &d->os) < 0 ||
            cj_string(c, p, pp, "architecture", true, &d->architecture) < 0 ||
            cj_string(c, p, pp, "variant", false, &d->variant) < 0)
            return -1;
    }
    struct json_object *ann = platform ? cj_member(o, "annotations") : NULL;
    if (ann) {
        _cleanup_free_ char *pa = cj_path_key(path, "annotations");
        if (cj_as_object(c, ann, pa) < 0 || cj_string(c, ann, pa, "io.containerd.image.name", false, &d->ref_name) < 0)
            return -1;
        if (!d->ref_name && cj_string(c, ann, pa, "org.opencontainers.image.ref.name", false, &d->ref_name) < 0)
            return -1;
    }
    return 0;
}

static void descriptor_free(struct descriptor *d)
{
    free(d->media_type);
    free(d->digest);
    free(d->os);
    free(d->architecture);
    free(d->variant);
    free(d->ref_name);
}

/* A whole image document: bounded, one JSON object. */
static int parse_doc(const char *text, size_t len, const char *name, struct json_object **doc, husk_err **err)
{
    if (len > DOC_MAX)
        return husk_fail(err, 0, "%s: larger than %u bytes", name, DOC_MAX);
    return cj_parse_text(text, len, name, doc, err);
}

/* The document's mediaType, checked against the one it was served as. */
static int doc_media_type(const struct cj *c, struct json_object *doc, const char *served, char **out)
{
    _cleanup_free_ char *own = NULL;
    if (cj_string(c, doc, "", "mediaType", false, &own) < 0)
        return -1;
    if (own && served && strcmp(own, served) != 0)
        return cj_fail(c, "mediaType", "\"%s\", but it was served as \"%s\"", own, served);
    *out = own ? steal_ptr(own) : xstrdup(served ? served : "");
    return 0;
}

int manifest_parse(const char *text, size_t len, const char *name, const char *media_type, struct manifest *out,
                   husk_err **err)
{
    struct cj c = { .name = name, .err = err };
    _cleanup_json_ struct json_object *doc = NULL;
    struct json_object *v;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (parse_doc(text, len, name, &doc, err) < 0)
        return -1;
    if (doc_media_type(&c, doc, media_type, &out->media_type) < 0)
        goto fail;
    if (manifest_kind(out->media_type) == 'i' || cj_member(doc, "manifests")) {
        cj_fail(&c, "", "an index, not a single-platform manifest");
        goto fail;
    }
    if (out->media_type[0] && manifest_kind(out->media_type) != 'm') {
        cj_fail(&c, "mediaType", "unknown manifest media type \"%s\"", out->media_type);
        goto fail;
    }
    int64_t schema;
    if (cj_int(&c, doc, "", "schemaVersion", true, 0, 100, &schema) < 0)
        goto fail;
    if (schema != 2) {
        cj_fail(&c, "schemaVersion", "%lld (only schema 2 manifests are supported)", (long long)schema);
        goto fail;
    }
    if (cj_object(&c, doc, "", "config", true, &v) < 0 || parse_descriptor(&c, v, "config", false, &out->config) < 0)
        goto fail;
    if (cj_array(&c, doc, "", "layers", true, &v, &n) < 0)
        goto fail;
    out->layers = xcalloc(n ? n : 1, sizeof(*out->layers));
    out->n_layers = n;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *p = cj_path_index("layers", i);
        if (parse_descriptor(&c, json_object_array_get_idx(v, i), p, false, &out->layers[i]) < 0)
            goto fail;
        if (!manifest_layer_type_known(out->layers[i].media_type)) {
            _cleanup_free_ char *pm = cj_path_key(p, "mediaType");
            cj_fail(&c, pm, "unknown layer media type \"%s\"", out->layers[i].media_type);
            goto fail;
        }
    }
    return 0;
fail:
    manifest_free(out);
    return -1;
}

void manifest_free(struct manifest *m)
{
    free(m->media_type);
    descriptor_free(&m->config);
    for (size_t i = 0; i < m->n_layers; i++)
        descriptor_free(&m->layers[i]);
    free(m->layers);
    memset(m, 0, sizeof(*m));
}

int image_index_parse(const char *text, size_t len, const char *name, const char *media_type,
                      struct image_index *out, husk_err **err)
{
    struct cj c = { .name = name, .err = err };
    _cleanup_json_ struct json_object *doc = NULL;
    struct json_object *v;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (parse_doc(text, len, name, &doc, err) < 0)
        return -1;
    if (doc_media_type(&c, doc, media_type, &out->media_type) < 0)
        goto fail;
    if (out->media_type[0] && manifest_kind(out->media_type) != 'i') {
        cj_fail(&c, "mediaType", "\"%s\" is not an index media type", out->media_type);
        goto fail;
    }
    if (cj_array(&c, doc, "", "manifests", true, &v, &n) < 0)
        goto fail;
    out->manifests = xcalloc(n ? n : 1, sizeof(*out->manifests));
    out->n_manifests = n;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *p = cj_path_index("manifests", i);
        if (parse_descriptor(&c, json_object_array_get_idx(v, i), p, true, &out->manifests[i]) < 0)
            goto fail;
    }
    return 0;
fail:
    image_index_free(out);
    return -1;
}

void image_index_free(struct image_index *ix)
{
    free(ix->media_type);
    for (size_t i = 0; i < ix->n_manifests; i++)
        descriptor_free(&ix->manifests[i]);
    free(ix->manifests);
    memset(ix, 0, sizeof(*ix));
}

static bool str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

const struct descriptor *image_index_pick(const struct image_index *ix, const char *os, const char *arch,
                                          const char *variant, const char *name, husk_err **err)
{
    const struct descriptor *best = NULL;
    int best_score = -1;
    for (size_t i = 0; i < ix->n_manifests; i++) {
        const struct descriptor *d = &ix->manifests[i];
        if (manifest_kind(d->media_type) != 'm' || !str_eq(d->os, os) || !str_eq(d->architecture, arch))
            continue;
        int score;
        if (variant)
            score = str_eq(d->variant, variant) ? 2 : -1;
        else if (!d->variant || (strcmp(arch, "arm64") == 0 && strcmp(d->variant, "v8") == 0))
            score = 2;
        else
            score = 1;   /* some variant, none asked for */
        if (score > best_score) {
            best = d;
            best_score = score;
        }
    }
    if (best)
        return best;
    /* Say what there is, so the user can pick a --platform that exists. */
    size_t cap = 64;
    _cleanup_free_ char *have = xstrdup("");
    for (size_t i = 0; i < ix->n_manifests; i++) {
        const struct descriptor *d = &ix->manifests[i];
        if (!d->os || !d->architecture)
            continue;
        char *next = xasprintf("%s%s%s/%s%s%s", have, have[0] ? ", " : "", d->os, d->architecture,
                               d->variant ? "/" : "", d->variant ? d->variant : "");
        free(have);
        have = next;
        if (strlen(have) > cap * 16)
            break;
    }
    husk_fail(err, 0, "%s: no manifest for platform %s/%s%s%s (the index has: %s)", name, os, arch,
              variant ? "/" : "", variant ? variant : "", have[0] ? have : "no platforms");
    return NULL;
}

int image_config_parse(const char *text, size_t len, const char *name, struct image_config *out, husk_err **err)
{
    struct cj c = { .name = name, .err = err };
    _cleanup_json_ struct json_object *doc = NULL;
    struct json_object *rootfs, *ids;
    const char *s;
    size_t n;


    memset(out, 0, sizeof(*out));
    if (parse_doc(text, len, name, &doc, err) < 0)
        return -1;
    if (cj_string(&c, doc, "", "created", false, &out->created) < 0 ||
        cj_string(&c, doc, "", "architecture", true, &out->architecture) < 0 ||
        cj_string(&c, doc, "", "os", true, &out->os) < 0 ||
        cj_string(&c, doc, "", "variant", false, &out->variant) < 0)
        goto fail;
    if (cj_object(&c, doc, "", "rootfs", true, &rootfs) < 0 || cj_array(&c, rootfs, "rootfs", "diff_ids", true, &ids, &n) < 0)
        goto fail;
    out->diff_ids = xcalloc(n + 1, sizeof(char *));
    out->n_diff_ids = n;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *p = cj_path_index("rootfs.diff_ids", i);
        if (cj_as_string(&c, json_object_array_get_idx(ids, i), p, &s) < 0)
            goto fail;
        if (!image_ref_digest_valid(s) || strncmp(s, "sha256:", 7) != 0) {
            _cleanup_free_ char *q = cj_quote(s);
            cj_fail(&c, p, "%s is not a sha256 digest", q);
            goto fail;
        }
        out->diff_ids[i] = xstrdup(s);
    }
    return 0;
fail:
    image_config_free(out);
    return -1;
}

void image_config_free(struct image_config *c)
{
    free(c->created);
    free(c->architecture);
    free(c->os);
    free(c->variant);
    strv_free(c->diff_ids);
    memset(c, 0, sizeof(*c));
}

struct json_object *descriptor_json(const char *mt, const char *digest, int64_t size)
{
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "mediaType", json_object_new_string(mt));
    json_object_object_add(d, "digest", json_object_new_string(digest));
    json_object_object_add(d, "size", json_object_new_int64(size));
    return d;
}
