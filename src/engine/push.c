/* push.c — `image push`: an image of the store to a registry (pull.h). The blobs
 * the registry has already are skipped (HEAD); the others are uploaded, the config
 * and layers before the manifest that names them. The manifest goes as stored, so
 * its digest is the one the image was pulled or built with. A multi-platform image
 * whose index has every platform in the store (loaded from an OCI layout or archive)
 * is pushed whole: every platform's manifest by digest, then the index. */
#include <string.h>

#include "image.h"
#include "manifest.h"
#include "pull.h"
#include "reference.h"
#include "util.h"

/* The manifests to push: the image's own, or, when it came with an index whose every
 * manifest (and their configs and layers) is in the store (a multi-platform image
 * loaded from an OCI layout), all of them and then the index. */
struct push_doc {
    char *digest, *text, *media_type;
    size_t len;
    struct manifest m;
};

static void push_docs_free(struct push_doc *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].digest);
        free(v[i].text);
        free(v[i].media_type);
        manifest_free(&v[i].m);
    }
    free(v);
}

static int read_doc(struct store *st, const char *digest, const char *media_type, struct push_doc *d, husk_err **err)
{
    _cleanup_free_ char *name = xasprintf("manifest %s", digest);
    d->digest = xstrdup(digest);
    if (store_read_blob(st, digest, REGISTRY_MANIFEST_MAX, &d->text, &d->len, err) < 0 ||
        manifest_parse(d->text, d->len, name, media_type, &d->m, err) < 0)
        return -1;
    const char *mt = d->m.media_type && *d->m.media_type ? d->m.media_type : media_type;
    d->media_type = xstrdup(mt ? mt : MT_OCI_MANIFEST);
    if (!store_blob_exists(st, d->m.config.digest))
        return husk_fail(err, 0, "blob %s of %s is not in the store", d->m.config.digest, name);
    for (size_t i = 0; i < d->m.n_layers; i++)
        if (!store_blob_exists(st, d->m.layers[i].digest))
            return husk_fail(err, 0, "blob %s of %s is not in the store", d->m.layers[i].digest, name);
    return 0;
}

/* Every manifest of the index rec->index, or -1 (with no error) when one is missing. */
static int index_docs(struct store *st, const char *index, char **text, size_t *len, char **mt,
                      struct push_doc **out, size_t *n_out)
{
    struct image_index ix;
    *out = NULL;
    *n_out = 0;
    if (store_read_blob(st, index, REGISTRY_MANIFEST_MAX, text, len, NULL) < 0 ||
        image_index_parse(*text, *len, index, NULL, &ix, NULL) < 0)
        return -1;
    int ret = 0;
    struct push_doc *v = xcalloc(ix.n_manifests ? ix.n_manifests : 1, sizeof(*v));
    for (size_t i = 0; i < ix.n_manifests && ret == 0; i++) {
        _cleanup_err_ husk_err *e = NULL;
        const struct descriptor *d = &ix.manifests[i];
        if (manifest_kind(d->media_type) != 'm' || !store_blob_exists(st, d->digest) ||
            read_doc(st, d->digest, d->media_type, &v[i], &e) < 0)
            ret = -1;
    }
    if (ret == 0) {
        *mt = xstrdup(ix.media_type && *ix.media_type ? ix.media_type : MT_OCI_INDEX);
        *out = v;
        *n_out = ix.n_manifests;
    } else {
        push_docs_free(v, ix.n_manifests);
    }
    image_index_free(&ix);
    return ret;
}

static int do_push(struct store *st, const char *src, const char *src_norm, const struct image_ref *dst, const struct registry_opts *ro,
                   const struct transfer_progress *p, char **digest_out, husk_err **err)
{
    struct image_record rec = { 0 };
    struct registry *reg = NULL;
    struct blob_desc *blobs = NULL;
    struct push_doc *docs = NULL;
    size_t n_docs = 0, n = 0;
    _cleanup_free_ char *itext = NULL, *imt = NULL;
    size_t ilen = 0;
    int ret = -1;

    /* as written (an id, a full reference), else normalized ("busybox") */
    if (image_lookup(st, src, &rec, NULL) < 0 && (!src_norm || image_lookup(st, src_norm, &rec, err) < 0)) {
        if (!src_norm)
            husk_fail(err, 0, "no image %s in the store", src);
        goto out;
    }
    bool whole_index = rec.index && index_docs(st, rec.index, &itext, &ilen, &imt, &docs, &n_docs) == 0;
    if (!whole_index) {
        docs = xcalloc(1, sizeof(*docs));
        n_docs = 1;
        if (read_doc(st, rec.manifest, NULL, &docs[0], err) < 0)
            goto out;
    }
    if (registry_open(dst->domain, ro, &reg, err) < 0)
        goto out;
    registry_set_push(reg, true);

    /* the layers, then the config of every manifest, each blob once: everything a
     * manifest names must be there first */
    for (size_t k = 0; k < n_docs; k++)
        n += docs[k].m.n_layers + 1;
    blobs = xcalloc(n, sizeof(*blobs));
    n = 0;
    for (size_t k = 0; k < n_docs; k++)
        for (size_t i = 0; i <= docs[k].m.n_layers; i++) {
            const struct descriptor *d = i < docs[k].m.n_layers ? &docs[k].m.layers[i] : &docs[k].m.config;
            bool dup = false;
            for (size_t j = 0; j < n && !dup; j++)
                dup = strcmp(blobs[j].digest, d->digest) == 0;
            if (!dup)
                blobs[n++] = (struct blob_desc){ d->digest, (uint64_t)d->size };
        }
    if (p && p->begin)
        p->begin(p->ctx, blobs, n);
    for (size_t i = 0; i < n; i++) {
        bool there = false;
        if (registry_blob_exists(reg, dst->path, blobs[i].digest, &there, err) < 0)
            goto out;
        if (there) {
            if (p && p->blob)
                p->blob(p->ctx, i, BLOB_EXISTS, blobs[i].size, blobs[i].size);
            continue;
        }
        if (registry_push_blob(reg, dst->path, st, blobs[i].digest, i, p ? p->blob : NULL, p ? p->ctx : NULL, err) <
            0)
            goto out;
    }
    const char *where = dst->digest ? dst->digest : dst->tag;
    if (whole_index) {
        /* each platform's manifest by its digest, then the index that names them */
        for (size_t k = 0; k < n_docs; k++)
            if (registry_put_manifest(reg, dst->path, docs[k].digest, docs[k].media_type, docs[k].text, docs[k].len,
                                      err) < 0)
                goto out;
        if (registry_put_manifest(reg, dst->path, where, imt, itext, ilen, err) < 0)
            goto out;
        *digest_out = xstrdup(rec.index);
    } else {
        if (registry_put_manifest(reg, dst->path, where, docs[0].media_type, docs[0].text, docs[0].len, err) < 0)
            goto out;
        *digest_out = xstrdup(rec.manifest);
    }
    ret = 0;
out:
    registry_close(reg);
    image_record_free(&rec);
    push_docs_free(docs, n_docs);
    free(blobs);
    return ret;
}

int image_push(struct store *st, const char *src, const char *dest, const struct registry_opts *ro,
               const struct transfer_progress *progress, char **digest_out, husk_err **err)
{
    *digest_out = NULL;
    struct image_ref ref;
    if (image_ref_parse(dest ? dest : src, &ref, err) < 0)
        return -1;
    _cleanup_free_ char *full = image_ref_string(&ref);
    /* src as the user named it: a short name is looked up in its normalized form */
    _cleanup_free_ char *src_full = NULL;
    struct image_ref sref;
    if (image_ref_parse(src, &sref, NULL) == 0) {
        src_full = image_ref_string(&sref);
        image_ref_free(&sref);
    }
    int ret = do_push(st, src, src_full, &ref, ro, progress, digest_out, err);
    image_ref_free(&ref);
    return ret < 0 ? husk_err_prefix(err, "%s", full) : 0;
}
