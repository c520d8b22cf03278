/* image_prune.c — unused images, blobs and layers (image_prune.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "image_prune.h"
#include "layer.h"
#include "manifest.h"
#include "util.h"

struct set {
    char **v;
    size_t n;
};

static void set_add(struct set *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return;
    s->v = xrealloc(s->v, (s->n + 2) * sizeof(char *));
    s->v[s->n++] = xstrdup(x);
    s->v[s->n] = NULL;
}

static bool set_has(const struct set *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

static void strv_push(char ***v, const char *x)
{
    size_t n = 0;
    while (*v && (*v)[n])
        n++;
    *v = xrealloc(*v, (n + 2) * sizeof(char *));
    (*v)[n] = xstrdup(x);
    (*v)[n + 1] = NULL;
}

void prune_result_free(struct prune_result *r)
{
    strv_free(r->untagged);
    strv_free(r->deleted);
    memset(r, 0, sizeof(*r));
}

static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
            return false;
    return true;
}

static void add_blob(void *ctx, const char *digest)
{
    set_add(ctx, digest);
}

/* Everything the remaining images use. An image whose manifest cannot be read
 * keeps every blob: when in doubt, nothing is collected. */
static int collect_used(struct store *st, struct set *blobs, struct set *layers, bool *doubt, husk_err **err)
{
    struct image_record **all = NULL;
    if (image_list(st, &all, err) < 0)
        return -1;
    for (struct image_record **p = all; *p; p++) {
        struct image_record *r = *p;
        set_add(blobs, r->id);
        set_add(blobs, r->manifest);
        if (r->index) {
            set_add(blobs, r->index);
            image_index_blobs(st, r->index, add_blob, blobs);
        }
        for (size_t i = 0; r->layers[i]; i++)
            set_add(layers, r->layers[i]);
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct manifest m;
        if (store_read_blob(st, r->manifest, 4u << 20, &text, &len, NULL) < 0 ||
            manifest_parse(text, len, r->manifest, NULL, &m, NULL) < 0) {
            *doubt = true;
            continue;
        }
        for (size_t i = 0; i < m.n_layers; i++)
            set_add(blobs, m.layers[i].digest);
        manifest_free(&m);
    }
    image_records_free(all);
    return 0;
}

static uint64_t tree_bytes;
static int add_size(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F)
        tree_bytes += (uint64_t)sb->st_blocks * 512;
    return 0;
}

static int collect_garbage(struct store *st, struct prune_result *out, husk_err **err)
{
    struct set blobs = { 0 }, layers = { 0 };
    bool doubt = false;
    int ret = -1;
    _cleanup_free_ char *bdir = xasprintf("%s/blobs/sha256", st->root), *ldir = xasprintf("%s/layers", st->root);
    if (collect_used(st, &blobs, &layers, &doubt, err) < 0)
        goto out;
    if (doubt) {
        ret = 0;
        goto out;
    }
    DIR *d = opendir(bdir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!is_hex64(e->d_name))
            continue;
        _cleanup_free_ char *digest = xasprintf("sha256:%s", e->d_name);
        if (set_has(&blobs, digest))
            continue;
        struct stat sb;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
            out->reclaimed += (uint64_t)sb.st_size;
        if (store_remove_blob(st, digest, err) < 0) {
            closedir(d);
            goto out;
        }
    }
    if (d)
        closedir(d);
    d = opendir(ldir);
    while (d && (e = readdir(d))) {
        if (!is_hex64(e->d_name))
            continue;
        _cleanup_free_ char *chain = xasprintf("sha256:%s", e->d_name), *path = xasprintf("%s/%s", ldir, e->d_name);
        if (set_has(&layers, chain))
            continue;
        tree_bytes = 0;
        nftw(path, add_size, 16, FTW_PHYS);
        out->reclaimed += tree_bytes;
        if (layer_remove(st, chain, err) < 0) {
            closedir(d);
            goto out;
        }
    }
    if (d)
        closedir(d);
    ret = 0;
out:
    strv_free(blobs.v);
    strv_free(layers.v);
    return ret;
}

int image_prune(struct store *st, bool all, char *const *keep, struct prune_result *out, husk_err **err)
{
    memset(out, 0, sizeof(*out));
    if (store_gc_begin(st, err) < 0)
        return -1;
    struct image_record **imgs = NULL;
    if (image_list(st, &imgs, err) < 0)
        return -1;
    int ret = 0;
    /* Images first (each removal is the record going, under the name lock), then
     * what no image uses any more. */
    for (struct image_record **p = imgs; ret == 0 && *p; p++) {
        struct image_record *r = *p;
        if (!all && r->repo_tags[0])
            continue;
        bool kept = false;
        for (size_t k = 0; keep && keep[k]; k++)
            kept |= strcmp(keep[k], r->id) == 0;
        if (kept)
            continue;
        ret = image_remove(st, r->id, true, err);
        if (ret == 0) {
            for (size_t i = 0; r->repo_tags[i]; i++)
                strv_push(&out->untagged, r->repo_tags[i]);
            strv_push(&out->deleted, r->id);
        }
    }
    image_records_free(imgs);
    if (ret == 0)
        ret = collect_garbage(st, out, err);
    if (ret < 0)
        prune_result_free(out);
    return ret;
}
