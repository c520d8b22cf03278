/* commit.c — a container's upper dir as a new layer and image (commit.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <json-c/json.h>

#include "changes.h"
#include "commit.h"
#include "image.h"
#include "layer.h"
#include "manifest.h"
#include "reference.h"
#include "tartree.h"
#include "util.h"
#include "json_cleanup.h"

char *const commit_always_excluded[] = { "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev", "/proc", "/sys",
                                         NULL };


/* ---- the upper dir into a blob ------------------------------------------------- */

struct blob_sink {
    struct blob_writer *w;
    husk_err *err;   /* the blob writer's own error, kept for the message */
};

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t len)
{
    struct blob_sink *s = data;
    if (blob_writer_write(s->w, buf, len, &s->err) < 0) {
        archive_set_error(a, s->err && s->err->errnum ? s->err->errnum : EIO, "%s",
                          s->err ? s->err->msg : "write the blob");
        return -1;
    }
    return (la_ssize_t)len;
}

/* The exclusions of the commit: the caller's and the engine's bind-mount targets. */
static char **all_excluded(char *const *extra)
{
    size_t n = 0, m = 0;
    while (extra && extra[n])
        n++;
    while (commit_always_excluded[m])
        m++;
    char **v = xcalloc(n + m + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        v[i] = xstrdup(extra[i]);
    for (size_t i = 0; i < m; i++)
        v[n + i] = xstrdup(commit_always_excluded[i]);
    return v;
}

/* Write the layer tar of ctrdir/upper as a blob; *digest gets its digest (= the diff
 * id, the tar being uncompressed). Returns 1 when the blob is new, 0 when it was in
 * the store. */
static int upper_to_blob(struct store *st, const struct commit_args *a, char **digest, uint64_t *size,
                         husk_err **err)
{
    _cleanup_free_ char *upper = xasprintf("%s/upper", a->ctrdir);
    _cleanup_close_ int fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return husk_fail(err, errno, "open %s", upper);
    struct blob_sink s = { 0 };
    if (blob_writer_new(st, NULL, &s.w, err) < 0)
        return -1;
    struct archive *ar = archive_write_new();
    if (!ar)
        abort();
    int ret = -1;
    if (archive_write_set_format_pax_restricted(ar) != ARCHIVE_OK ||
        archive_write_set_format_option(ar, "pax", "xattrheader", "SCHILY") < ARCHIVE_WARN ||
        archive_write_set_bytes_in_last_block(ar, 1) != ARCHIVE_OK ||
        archive_write_open2(ar, &s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
        husk_fail(err, 0, "start the layer tar: %s", archive_error_string(ar));
        archive_write_free(ar);
        blob_writer_abort(s.w);
        return -1;
    }
    _cleanup_strv_ char **excl = all_excluded(a->exclude);
    struct tartree_opts o = { .overlay_upper = true, .exclude = excl, .uid = -1, .gid = -1 };
    struct tartree *t = tartree_new(ar, &o);
    int r = tartree_add_contents(t, fd, "", err);
    tartree_free(t);
    if (r < 0) {
        archive_write_free(ar);   /* closes: its output goes to a writer dropped next */
        blob_writer_abort(s.w);
        husk_err_free(&s.err);
        return husk_err_prefix(err, "%s", upper);
    }
    if (tartree_writer_close(ar, err) < 0) {
        blob_writer_abort(s.w);
        husk_err_free(&s.err);
        return husk_err_prefix(err, "%s", upper);
    }
    *size = blob_writer_size(s.w);
    ret = blob_writer_finish(s.w, digest, err);
    husk_err_free(&s.err);
    return ret;
}

/* ---- config and manifest ---------------------------------------------------------- */

/* The new config, but for the new layer's diff id: the parent's with the container's
 * config and the changes applied. */
static int new_config(const struct commit_args *a, const char *parent_text, const char *created,
                      struct json_object **out, husk_err **err)
{
    _cleanup_json_ struct json_object *cfg = json_tokener_parse(parent_text);
    if (!cfg || !json_object_is_type(cfg, json_type_object))
        return husk_fail(err, 0, "the image's config is not a JSON object");
    if (a->config) {
        struct json_object *copy = NULL;
        if (json_object_deep_copy(a->config, &copy, NULL) < 0)
            abort();
        json_object_object_add(cfg, "config", copy);
    }
    struct json_object *inner = image_json_object_member(cfg, "config");
    for (size_t i = 0; a->changes && a->changes[i]; i++)
        if (image_config_apply_change(inner, a->changes[i], err) < 0)
            return -1;
    json_object_object_add(cfg, "created", json_object_new_string(created));
    if (a->author)
        json_object_object_add(cfg, "author", json_object_new_string(a->author));
    if (a->container_id)
        json_object_object_add(cfg, "container", json_object_new_string(a->container_id));
    /* The parent's container_config described the container that made *it*. */
    json_object_object_del(cfg, "container_config");
    *out = steal_ptr(cfg);
    return 0;
}

static int commit(struct store *st, const struct commit_args *a, char **id_out, char **added_blob, husk_err **err)
{
    _cleanup_free_ char *tag = NULL, *mtext = NULL, *ctext = NULL, *created = image_now_rfc3339();
    _cleanup_free_ char *layer = NULL, *chain = NULL;
    _cleanup_json_ struct json_object *cfg = NULL;
    struct image_record rec = { 0 };
    struct manifest pm = { 0 };
    size_t len;
    int ret = -1;

    if (image_new_tag(a->ref, &tag, err) < 0)
        return -1;
    if (image_lookup(st, a->image, &rec, err) < 0)
        return -1;
    _cleanup_free_ char *mname = xasprintf("manifest %s", rec.manifest);
    if (store_read_blob(st, rec.manifest, 4u << 20, &mtext, &len, err) < 0 ||
        manifest_parse(mtext, len, mname, NULL, &pm, err) < 0 ||
        store_read_blob(st, pm.config.digest, 4u << 20, &ctext, &len, err) < 0)
        goto out;
    /* The config first: a bad -c is refused before anything is written. */
    if (new_config(a, ctext, created, &cfg, err) < 0)
        goto out;

    uint64_t lsize = 0;
    int named = upper_to_blob(st, a, &layer, &lsize, err);
    if (named < 0)
        goto out;
    if (named)
        *added_blob = xstrdup(layer);
    const char *parent = NULL;
    for (size_t i = 0; rec.layers && rec.layers[i]; i++)
        parent = rec.layers[i];
    if (layer_ensure(st, layer, layer, parent, &chain, err) < 0)
        goto out;
    struct image_new n = {
        .base = &pm, .layer = layer, .layer_size = lsize, .tag = tag, .created = created,
        .created_by = a->created_by ? a->created_by : "husk container commit", .author = a->author,
        .comment = a->message,
    };
    ret = image_new_register(st, cfg, &n, id_out, err);
out:
    manifest_free(&pm);
    image_record_free(&rec);
    return ret;
}

int commit_container(struct store *st, const struct commit_args *a, char **id_out, husk_err **err)
{
    _cleanup_free_ char *added = NULL;
    if (id_out)
        *id_out = NULL;
    if (commit(st, a, id_out, &added, err) < 0) {
        /* The layer blob this commit added goes again; a layer unpacked from it stays
         * for prune (it may be another commit's too by now). */
        if (added && !image_blob_in_use(st, added))
            store_remove_blob(st, added, NULL);
        return husk_err_prefix(err, "commit");
    }
    return 0;
}
