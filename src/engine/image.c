/* image.c — image records and the name table (image.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config_json.h"
#include "image.h"
#include "layer.h"
#include "manifest.h"
#include "reference.h"
#include "util.h"
#include "json_cleanup.h"


#define RECORD_MAX (1u << 20)

static char *images_dir(const struct store *st)
{
    return xasprintf("%s/images", st->root);
}

/* The name table's lock: held only while records change, never while anything is
 * downloaded or unpacked. */
static int lock_names(const struct store *st, int *fd_out, husk_err **err)
{
    _cleanup_free_ char *dir = images_dir(st);
    if (mkdir_p(dir, 0700, err) < 0)
        return -1;
    _cleanup_free_ char *path = xasprintf("%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return husk_fail(err, errno, "open %s", path);
    if (flock(fd, LOCK_EX) < 0) {
        int e = errno;
        close(fd);
        return husk_fail(err, e, "lock %s", path);
    }
    *fd_out = fd;
    return 0;
}

void image_record_free(struct image_record *r)
{
    free(r->id);
    free(r->manifest);
    free(r->index);
    strv_free(r->repo_tags);
    strv_free(r->repo_digests);
    strv_free(r->layers);
    free(r->pulled);
    memset(r, 0, sizeof(*r));
}

void image_records_free(struct image_record **v)
{
    if (!v)
        return;
    for (struct image_record **p = v; *p; p++) {
        image_record_free(*p);
        free(*p);
    }
    free(v);
}

static size_t strv_len(char **v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static bool strv_has(char **v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static void strv_add(char ***v, const char *s)
{
    size_t n = strv_len(*v);
    *v = xrealloc(*v, (n + 2) * sizeof(char *));
    (*v)[n] = xstrdup(s);
    (*v)[n + 1] = NULL;
}

/* Remove s from v; true if it was there. */
static bool strv_remove(char **v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++) {
        if (strcmp(v[i], s) != 0)
            continue;
        free(v[i]);
        memmove(&v[i], &v[i + 1], (strv_len(v + i + 1) + 1) * sizeof(char *));
        return true;
    }
    return false;
}

static struct json_object *jstrv(char **v)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; v && v[i]; i++)
        json_object_array_add(a, json_object_new_string(v[i]));
    return a;
}

static int record_save(const struct store *st, const struct image_record *r, husk_err **err)
{
    _cleanup_json_ struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(r->id));
    json_object_object_add(o, "manifest", json_object_new_string(r->manifest));
    if (r->index)
        json_object_object_add(o, "index", json_object_new_string(r->index));
    json_object_object_add(o, "repoTags", jstrv(r->repo_tags));
    json_object_object_add(o, "repoDigests", jstrv(r->repo_digests));
    json_object_object_add(o, "layers", jstrv(r->layers));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)r->size));
    json_object_object_add(o, "pulled", json_object_new_string(r->pulled));
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    _cleanup_free_ char *dir = images_dir(st), *path = xasprintf("%s/%s.json", dir, r->id + 7);
    return write_file_atomic(AT_FDCWD, path, text, strlen(text), 0600, err);
}

static int record_load(const struct store *st, const char *hex, struct image_record *r, husk_err **err)
{
    _cleanup_free_ char *dir = images_dir(st), *path = xasprintf("%s/%s.json", dir, hex), *text = NULL;
    _cleanup_json_ struct json_object *o = NULL;
    size_t len;
    memset(r, 0, sizeof(*r));
    if (read_file_at(AT_FDCWD, path, RECORD_MAX, &text, &len, err) < 0)
        return -1;
    struct cj c = { .name = path, .err = err };
    int64_t size = 0;
    if (cj_parse_text(text, len, path, &o, err) < 0 || cj_string(&c, o, "", "id", true, &r->id) < 0 ||
        cj_string(&c, o, "", "manifest", true, &r->manifest) < 0 ||
        cj_string(&c, o, "", "index", false, &r->index) < 0 ||
        cj_strv(&c, o, "", "repoTags", false, &r->repo_tags, NULL) < 0 ||
        cj_strv(&c, o, "", "repoDigests", false, &r->repo_digests, NULL) < 0 ||
        cj_strv(&c, o, "", "layers", false, &r->layers, NULL) < 0 || cj_int(&c, o, "", "size", false, 0, INT64_MAX, &size) < 0 ||
        cj_string(&c, o, "", "pulled", false, &r->pulled) < 0) {
        image_record_free(r);
        return -1;
    }
    r->size = (uint64_t)size;
    if (!r->repo_tags)
        r->repo_tags = xcalloc(1, sizeof(char *));
    if (!r->repo_digests)
        r->repo_digests = xcalloc(1, sizeof(char *));
    if (!r->layers)
        r->layers = xcalloc(1, sizeof(char *));
    return 0;
}

static bool is_record_name(const char *name)
{
    size_t n = strlen(name);
    if (n != 64 + 5 || strcmp(name + 64, ".json") != 0)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)name[i]) || isupper((unsigned char)name[i]))
            return false;
    return true;
}

static int cmp_newest(const void *a, const void *b)
{
    const struct image_record *x = *(struct image_record *const *)a, *y = *(struct image_record *const *)b;
    int c = strcmp(y->pulled ? y->pulled : "", x->pulled ? x->pulled : "");
    return c ? c : strcmp(x->id, y->id);
}

int image_list(struct store *st, struct image_record ***out, husk_err **err)
{
    _cleanup_free_ char *dir = images_dir(st);
    *out = NULL;
    DIR *d = opendir(dir);
    size_t n = 0;
    struct image_record **v = xcalloc(1, sizeof(*v));
    if (!d) {
        if (errno == ENOENT) {
            *out = v;
            return 0;
        }
        free(v);
        return husk_fail(err, errno, "open %s", dir);
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_record_name(e->d_name))
            continue;
        char hex[65];
        memcpy(hex, e->d_name, 64);
        hex[64] = '\0';
        struct image_record *r = xcalloc(1, sizeof(*r));
        husk_err *e = NULL;
        if (record_load(st, hex, r, &e) < 0) {
            free(r);
            if (e->errnum == ENOENT) {   /* removed while we listed */
                husk_err_free(&e);
                continue;
            }
            closedir(d);
            image_records_free(v);
            if (err) {
                husk_err_free(err);
                *err = e;
            } else {
                husk_err_free(&e);
            }
            return -1;
        }
        v = xrealloc(v, (n + 2) * sizeof(*v));
        v[n++] = r;
        v[n] = NULL;
    }
    closedir(d);
    qsort(v, n, sizeof(*v), cmp_newest);
    *out = v;
    return 0;
}

/* Go's RFC3339Nano: the fraction without trailing zeros, none at all for a
 * whole second. podman and docker re-marshal a config through Go's time type
 * when they convert it (docker schema 2 to OCI); a "…120Z" would come back
 * "…12Z", a different config and so a different image id. */
char *image_format_rfc3339(const struct timespec *ts)
{
    struct tm tm;
    char buf[64];
    gmtime_r(&ts->tv_sec, &tm);
    size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    if (ts->tv_nsec > 0) {
        n += snprintf(buf + n, sizeof(buf) - n, ".%09ld", ts->tv_nsec);
        while (buf[n - 1] == '0')
            n--;
    }
    snprintf(buf + n, sizeof(buf) - n, "Z");
    return xstrdup(buf);
}

char *image_now_rfc3339(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return image_format_rfc3339(&ts);
}

uint64_t image_layer_size(const struct store *st, const char *chain)
{
    _cleanup_free_ char *path = xasprintf("%s/layers/%s/meta.json", st->root, chain + 7), *text = NULL;
    _cleanup_json_ struct json_object *o = NULL;
    struct json_object *v;
    if (read_file_at(AT_FDCWD, path, RECORD_MAX, &text, NULL, NULL) < 0)
        return 0;
    o = json_tokener_parse(text);
    if (!o || !json_object_object_get_ex(o, "size", &v))
        return 0;
    return (uint64_t)json_object_get_int64(v);
}

/* Take a tag away from every image but keep_id (a tag names one image). An image
 * left with no tag and no digest keeps its record: it is a dangling image, as in
 * docker, until image rm or prune. */
static int untag_others(struct store *st, const char *tag, const char *keep_id, husk_err **err)
{
    struct image_record **all = NULL;
    if (image_list(st, &all, err) < 0)
        return -1;
    int ret = 0;
    for (struct image_record **p = all; *p; p++) {
        if (strcmp((*p)->id, keep_id) == 0 || !strv_remove((*p)->repo_tags, tag))
            continue;
        if (record_save(st, *p, err) < 0) {
            ret = -1;
            break;
        }
    }
    image_records_free(all);
    return ret;
}

int image_register(struct store *st, const struct image_register_args *a, char **id_out, husk_err **err)
{
    _cleanup_free_ char *mtext = NULL, *ctext = NULL, *mname = xasprintf("manifest %s", a->manifest), *cname = NULL;
    struct manifest m = { 0 };
    struct image_config cfg = { 0 };
    struct image_record r = { 0 };
    _cleanup_close_ int lock = -1;
    size_t len;
    int ret = -1;

    if (store_read_blob(st, a->manifest, 4u << 20, &mtext, &len, err) < 0 ||
        manifest_parse(mtext, len, mname, NULL, &m, err) < 0)
        goto out;
    cname = xasprintf("config %s", m.config.digest);
    if (store_read_blob(st, m.config.digest, 4u << 20, &ctext, &len, err) < 0 ||
        image_config_parse(ctext, len, cname, &cfg, err) < 0)
        goto out;
    if (cfg.n_diff_ids != m.n_layers) {
        husk_fail(err, 0, "%s: %zu layers, but its config has %zu diff_ids", mname, m.n_layers, cfg.n_diff_ids);
        goto out;
    }
    /* Every layer must be unpacked already: the record is the last thing written. */
    char **layers = xcalloc(cfg.n_diff_ids + 1, sizeof(char *));
    uint64_t size = 0;
    for (size_t i = 0; i < cfg.n_diff_ids; i++) {
        layers[i] = layer_chain_id(i ? layers[i - 1] : NULL, cfg.diff_ids[i]);
        _cleanup_free_ char *diff = layer_diff_path(st, layers[i]);
        struct stat sb;
        if (stat(diff, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
            husk_fail(err, 0, "%s: layer %zu (%s) is not in the store", mname, i, layers[i]);
            strv_free(layers);
            goto out;
        }
        size += image_layer_size(st, layers[i]);
    }

    if (lock_names(st, &lock, err) < 0) {
        strv_free(layers);
        goto out;
    }
    if (record_load(st, m.config.digest + 7, &r, NULL) < 0) {
        memset(&r, 0, sizeof(r));
        r.id = xstrdup(m.config.digest);
        r.repo_tags = xcalloc(1, sizeof(char *));
        r.repo_digests = xcalloc(1, sizeof(char *));
        r.pulled = image_now_rfc3339();
    } else {
        strv_free(r.layers);
        free(r.manifest);
        free(r.index);
        r.index = NULL;
    }
    r.layers = layers;
    r.size = size;
    r.manifest = xstrdup(a->manifest);
    if (a->index)
        r.index = xstrdup(a->index);
    if (a->tag && !strv_has(r.repo_tags, a->tag))
        strv_add(&r.repo_tags, a->tag);
    if (a->repo_digest && !strv_has(r.repo_digests, a->repo_digest))
        strv_add(&r.repo_digests, a->repo_digest);
    if (record_save(st, &r, err) < 0 || (a->tag && untag_others(st, a->tag, r.id, err) < 0))
        goto out;
    if (id_out)
        *id_out = xstrdup(r.id);
    ret = 0;
out:
    manifest_free(&m);
    image_config_free(&cfg);
    image_record_free(&r);
    return ret;
}

/* "sha256:<hex>" or "<hex>" of at least 4 hex digits: an id prefix. */
static const char *id_prefix(const char *name)
{
    const char *hex = strncmp(name, "sha256:", 7) == 0 ? name + 7 : name;
    size_t n = strlen(hex);
    if (n < 4 || n > 64)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)hex[i]) || isupper((unsigned char)hex[i]))
            return NULL;
    return hex;
}

/* Find the record name refers to among all (tag, digest, then id prefix, as
 * docker looks them up). Returns the index or -1 with an error. */
static int find(struct image_record **all, const char *name, bool *by_tag, char **full_out, husk_err **err)
{
    struct image_ref ref;
    _cleanup_err_ husk_err *perr = NULL;
    *by_tag = false;
    if (image_ref_parse(name, &ref, &perr) == 0) {
        _cleanup_free_ char *full = image_ref_string(&ref);
        _cleanup_free_ char *repo = image_ref_repository(&ref);
        _cleanup_free_ char *bydigest = ref.digest ? xasprintf("%s@%s", repo, ref.digest) : NULL;
        image_ref_free(&ref);
        for (int i = 0; all[i]; i++) {
            if ((!bydigest && strv_has(all[i]->repo_tags, full)) ||
                (bydigest && strv_has(all[i]->repo_digests, bydigest))) {
                *by_tag = !bydigest;
                if (full_out)
                    *full_out = steal_ptr(full);
                return i;
            }
        }
    }
    const char *hex = id_prefix(name);
    if (hex) {
        int found = -1;
        size_t n = strlen(hex);
        for (int i = 0; all[i]; i++) {
            if (strncmp(all[i]->id + 7, hex, n) != 0)
                continue;
            if (found >= 0)
                return husk_fail(err, 0, "image \"%s\": ambiguous id prefix (more than one image)", name);
            found = i;
        }
        if (found >= 0)
            return found;
    }
    if (perr && !hex)
        return husk_fail(err, 0, "%s", perr->msg);
    return husk_fail(err, 0, "image \"%s\": no such image", name);
}

static void record_copy(struct image_record *dst, struct image_record *src)
{
    *dst = *src;
    memset(src, 0, sizeof(*src));
}

int image_lookup(struct store *st, const char *name, struct image_record *out, husk_err **err)
{
    struct image_record **all = NULL;
    bool by_tag;
    memset(out, 0, sizeof(*out));
    if (image_list(st, &all, err) < 0)
        return -1;
    int i = find(all, name, &by_tag, NULL, err);
    if (i >= 0)
        record_copy(out, all[i]);
    image_records_free(all);
    return i >= 0 ? 0 : -1;
}

int image_tag(struct store *st, const char *name, const char *new_ref, husk_err **err)
{
    struct image_ref ref;
    if (image_ref_parse(new_ref, &ref, err) < 0)
        return -1;
    if (ref.digest) {
        image_ref_free(&ref);
        return husk_fail(err, 0, "invalid tag \"%s\": a tag cannot hold a digest", new_ref);
    }
    _cleanup_free_ char *full = image_ref_string(&ref);
    image_ref_free(&ref);

    _cleanup_close_ int lock = -1;
    if (lock_names(st, &lock, err) < 0)
        return -1;
    struct image_record **all = NULL;
    bool by_tag;
    if (image_list(st, &all, err) < 0)
        return -1;
    int ret = -1, i = find(all, name, &by_tag, NULL, err);
    if (i < 0)
        goto out;
    if (!strv_has(all[i]->repo_tags, full)) {
        strv_add(&all[i]->repo_tags, full);
        if (record_save(st, all[i], err) < 0 || untag_others(st, full, all[i]->id, err) < 0)
            goto out;
    }
    ret = 0;
out:
    image_records_free(all);
    return ret;
}

static int record_delete(const struct store *st, const struct image_record *r, husk_err **err)
{
    _cleanup_free_ char *dir = images_dir(st), *path = xasprintf("%s/%s.json", dir, r->id + 7);
    if (unlink(path) < 0 && errno != ENOENT)
        return husk_fail(err, errno, "remove %s", path);
    return 0;
}

int image_remove(struct store *st, const char *name, bool force, husk_err **err)
{
    _cleanup_close_ int lock = -1;
    if (lock_names(st, &lock, err) < 0)
        return -1;
    struct image_record **all = NULL;
    _cleanup_free_ char *full = NULL;
    bool by_tag;
    if (image_list(st, &all, err) < 0)
        return -1;
    int ret = -1, i = find(all, name, &by_tag, &full, err);
    if (i < 0)
        goto out;
    struct image_record *r = all[i];
    if (by_tag && strv_len(r->repo_tags) > 1) {
        /* one of several names: only the name goes (docker's "Untagged:") */
        strv_remove(r->repo_tags, full);
        ret = record_save(st, r, err);
        goto out;
    }
    if (!by_tag && strv_len(r->repo_tags) > 1 && !force) {
        husk_fail(err, 0, "image \"%s\": referenced by %zu tags, remove them or use -f", name, strv_len(r->repo_tags));
        goto out;
    }
    ret = record_delete(st, r, err);
out:
    image_records_free(all);
    return ret;
}

/* Does the record (its manifest, index, config, or a layer blob its manifest
 * names) use digest? An unreadable manifest counts as using it: when in doubt,
 * keep. */
void image_index_blobs(struct store *st, const char *index, void (*add)(void *ctx, const char *digest), void *ctx)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    struct image_index ix;
    if (store_read_blob(st, index, 4u << 20, &text, &len, NULL) < 0 ||
        image_index_parse(text, len, index, NULL, &ix, NULL) < 0)
        return;
    for (size_t i = 0; i < ix.n_manifests; i++) {
        const char *d = ix.manifests[i].digest;
        _cleanup_free_ char *mtext = NULL;
        struct manifest m;
        if (manifest_kind(ix.manifests[i].media_type) != 'm' ||
            store_read_blob(st, d, 4u << 20, &mtext, &len, NULL) < 0 ||
            manifest_parse(mtext, len, d, NULL, &m, NULL) < 0)
            continue;
        add(ctx, d);
        add(ctx, m.config.digest);
        for (size_t k = 0; k < m.n_layers; k++)
            add(ctx, m.layers[k].digest);
        manifest_free(&m);
    }
    image_index_free(&ix);
}

struct uses_ctx {
    const char *digest;
    bool used;
};

static void uses_add(void *ctx, const char *digest)
{
    struct uses_ctx *u = ctx;
    u->used = u->used || strcmp(u->digest, digest) == 0;
}

static bool record_uses(struct store *st, const struct image_record *r, const char *digest)
{
    if (strcmp(r->id, digest) == 0 || strcmp(r->manifest, digest) == 0 || (r->index && strcmp(r->index, digest) == 0))
        return true;
    if (r->index) {
        struct uses_ctx u = { digest, false };
        image_index_blobs(st, r->index, uses_add, &u);
        if (u.used)
            return true;
    }
    _cleanup_free_ char *text = NULL;
    size_t len;
    struct manifest m;
    if (store_read_blob(st, r->manifest, 4u << 20, &text, &len, NULL) < 0 ||
        manifest_parse(text, len, r->manifest, NULL, &m, NULL) < 0)
        return true;
    bool used = false;
    for (size_t i = 0; !used && i < m.n_layers; i++)
        used = strcmp(m.layers[i].digest, digest) == 0;
    manifest_free(&m);
    return used;
}

bool image_blob_in_use(struct store *st, const char *digest)
{
    struct image_record **all = NULL;
    if (image_list(st, &all, NULL) < 0)
        return true;
    bool used = false;
    for (struct image_record **p = all; !used && *p; p++)
        used = record_uses(st, *p, digest);
    image_records_free(all);
    return used;
}
