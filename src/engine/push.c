/* push.c — `image push`: an image of the store to a registry (pull.h). The blobs
 * the registry has already are skipped (HEAD); the others are uploaded, the config
 * and layers before the manifest that names them. The manifest goes as stored, so
 * its digest is the one the image was pulled or built with. */
#include <string.h>

#include "image.h"
#include "manifest.h"
#include "pull.h"
#include "reference.h"
#include "util.h"

static int do_push(struct store *st, const char *src, const char *src_norm, const struct image_ref *dst, const struct registry_opts *ro,
                   const struct transfer_progress *p, char **digest_out, husk_err **err)
{
    struct image_record rec = { 0 };
    struct manifest m = { 0 };
    struct registry *reg = NULL;
    struct blob_desc *blobs = NULL;
    _cleanup_free_ char *text = NULL, *mname = NULL;
    size_t len = 0;
    int ret = -1;

    /* as written (an id, a full reference), else normalized ("busybox") */
    if (image_lookup(st, src, &rec, NULL) < 0 && (!src_norm || image_lookup(st, src_norm, &rec, err) < 0)) {
        if (!src_norm)
            husk_fail(err, 0, "no image %s in the store", src);
        goto out;
    }
    mname = xasprintf("manifest %s", rec.manifest);
    if (store_read_blob(st, rec.manifest, REGISTRY_MANIFEST_MAX, &text, &len, err) < 0 ||
        manifest_parse(text, len, mname, NULL, &m, err) < 0)
        goto out;
    if (registry_open(dst->domain, ro, &reg, err) < 0)
        goto out;
    registry_set_push(reg, true);

    /* the layers, then the config: everything the manifest names must be there first */
    size_t n = m.n_layers + 1;
    blobs = xcalloc(n, sizeof(*blobs));
    for (size_t i = 0; i < m.n_layers; i++)
        blobs[i] = (struct blob_desc){ m.layers[i].digest, (uint64_t)m.layers[i].size };
    blobs[m.n_layers] = (struct blob_desc){ m.config.digest, (uint64_t)m.config.size };
    for (size_t i = 0; i < n; i++)
        if (!store_blob_exists(st, blobs[i].digest)) {
            husk_fail(err, 0, "blob %s of %s is not in the store", blobs[i].digest, mname);
            goto out;
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
    const char *mt = m.media_type && *m.media_type ? m.media_type : MT_OCI_MANIFEST;
    if (registry_put_manifest(reg, dst->path, dst->digest ? dst->digest : dst->tag, mt, text, len, err) < 0)
        goto out;
    *digest_out = xstrdup(rec.manifest);
    ret = 0;
out:
    registry_close(reg);
    image_record_free(&rec);
    manifest_free(&m);
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
