/* image_archive.c — images to and from docker-archive and OCI layout/archive (image_archive.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>

#include "image_archive.h"
#include "config_json.h"
#include "image.h"
#include "layer.h"
#include "manifest.h"
#include "paths.h"
#include "reference.h"
#include "util.h"
#include "json_cleanup.h"


static void archive_readp(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}
#define _cleanup_archive_read_ _cleanup_(archive_readp)

#define DOC_MAX (4u << 20)

int blob_from_archive_data(struct store *st, struct archive *a, char **digest, uint64_t *size, husk_err **err)
{
    struct blob_writer *w = NULL;
    if (blob_writer_new(st, NULL, &w, err) < 0)
        return -1;
    char buf[1 << 16];
    la_ssize_t got;
    while ((got = archive_read_data(a, buf, sizeof(buf))) > 0) {
        if (blob_writer_write(w, buf, (size_t)got, err) < 0) {
            blob_writer_abort(w);
            return -1;
        }
    }
    if (got < 0) {
        blob_writer_abort(w);
        return husk_fail(err, 0, "%s", archive_error_string(a));
    }
    if (size)
        *size = blob_writer_size(w);
    return blob_writer_finish(w, digest, err);
}

/* ------------------------------------------------------------------ the source */

/* Where an archive's files come from: a tar whose every regular file was stored as
 * a blob (name -> digest), or an OCI layout directory read blob by blob. */
struct source {
    const char *path;
    int dirfd;             /* layout directory, or -1 */
    char **names, **digests;
    size_t n;
    char **created;        /* blobs this load added: taken back if it fails */
    size_t n_created;
};

static void source_free(struct source *s)
{
    if (s->dirfd >= 0)
        close(s->dirfd);
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->digests[i]);
    }
    free(s->names);
    free(s->digests);
    for (size_t i = 0; i < s->n_created; i++)
        free(s->created[i]);
    free(s->created);
}

static void source_created(struct source *s, const char *digest)
{
    s->created = xrealloc(s->created, (s->n_created + 1) * sizeof(char *));
    s->created[s->n_created++] = xstrdup(digest);
}

/* "./a//b" -> "a/b": tar entry names as written by different tools. */
static char *entry_name(const char *raw)
{
    _cleanup_free_ char *abs = xasprintf("/%s", raw);
    _cleanup_free_ char *clean = path_clean(abs);   /* "/a/b", no "." or ".." above the root */
    return xstrdup(clean + 1);
}

static const char *source_lookup(const struct source *s, const char *name)
{
    _cleanup_free_ char *want = entry_name(name);
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->names[i], want) == 0)
            return s->digests[i];
    return NULL;
}

/* Store every regular file of the tar at path as a blob, named by its content. */
static int source_read_tar(struct source *s, struct store *st, husk_err **err)
{
    _cleanup_archive_read_ struct archive *a = archive_read_new();
    struct archive_entry *e;
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, s->path, 1 << 16) != ARCHIVE_OK)
        return husk_fail(err, 0, "archive %s: %s", s->path,
                         archive_error_string(a));
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return husk_fail(err, 0, "archive %s: %s", s->path, archive_error_string(a));
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        char *digest = NULL;
        int named = blob_from_archive_data(st, a, &digest, NULL, err);
        if (named < 0)
            return husk_err_prefix(err, "archive %s: entry \"%s\"", s->path, archive_entry_pathname(e));
        if (named)
            source_created(s, digest);
        s->names = xrealloc(s->names, (s->n + 1) * sizeof(char *));
        s->digests = xrealloc(s->digests, (s->n + 1) * sizeof(char *));
        s->names[s->n] = entry_name(archive_entry_pathname(e));
        s->digests[s->n] = digest;
        s->n++;
    }
    return 0;
}

/* Make sure the blob is in the store: from the tar (already stored) or copied, with
 * its digest checked, from the layout's blobs/sha256/<hex> (opened beneath the
 * layout, never through a symlink out of it). */
static int source_blob(struct source *s, struct store *st, const char *digest, husk_err **err)
{
    if (store_blob_exists(st, digest))
        return 0;
    if (s->dirfd < 0)
        return husk_fail(err, 0, "archive %s: blob %s is missing (or its file's contents do not match it)", s->path,
                         digest);
    _cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", strchr(digest, ':') + 1);
    _cleanup_close_ int fd = open_in_root(s->dirfd, rel, O_RDONLY, 0, err);
    if (fd < 0)
        return husk_err_prefix(err, "OCI layout %s", s->path);
    struct blob_writer *w = NULL;
    if (blob_writer_new(st, digest, &w, err) < 0)
        return -1;
    char buf[1 << 16];
    ssize_t got;
    while ((got = read(fd, buf, sizeof(buf))) > 0) {
        if (blob_writer_write(w, buf, (size_t)got, err) < 0) {
            blob_writer_abort(w);
            return -1;
        }
    }
    if (got < 0) {
        blob_writer_abort(w);
        return husk_fail(err, errno, "OCI layout %s: read %s", s->path, rel);
    }
    int named = blob_writer_finish(w, NULL, err);
    if (named < 0)
        return husk_err_prefix(err, "OCI layout %s", s->path);
    if (named)
        source_created(s, digest);
    return 0;
}

/* A small JSON document of the archive, by name (tar) or path (layout). */
static int source_doc(struct source *s, struct store *st, const char *name, char **text, size_t *len, husk_err **err)
{
    if (s->dirfd >= 0) {
        _cleanup_close_ int fd = open_in_root(s->dirfd, name, O_RDONLY, 0, err);
        char proc[32];
        if (fd < 0)
            return -1;
        return read_file_at(AT_FDCWD, fd_path(fd, proc, sizeof(proc)), DOC_MAX, text, len, err);
    }
    const char *digest = source_lookup(s, name);
    if (!digest)
        return husk_fail(err, ENOENT, "archive %s: no %s", s->path, name);
    return store_read_blob(st, digest, DOC_MAX, text, len, err);
}

/* ------------------------------------------------------------------ registering */

/* Unpack the manifest's layers (checking the config's diff_ids) and register it. */
static int register_manifest(struct store *st, const char *manifest_digest, const char *index, char **tags,
                             char ***loaded, size_t *n_loaded, husk_err **err)
{
    _cleanup_free_ char *mtext = NULL, *ctext = NULL, *mname = xasprintf("manifest %s", manifest_digest);
    struct manifest m;
    struct image_config cfg;
    size_t len;
    if (store_read_blob(st, manifest_digest, DOC_MAX, &mtext, &len, err) < 0 ||
        manifest_parse(mtext, len, mname, NULL, &m, err) < 0)
        return -1;
    _cleanup_free_ char *cname = xasprintf("config %s", m.config.digest);
    if (store_read_blob(st, m.config.digest, DOC_MAX, &ctext, &len, err) < 0 ||
        image_config_parse(ctext, len, cname, &cfg, err) < 0) {
        manifest_free(&m);
        return -1;
    }
    int ret = -1;
    _cleanup_free_ char *parent = NULL, *id = NULL;
    if (cfg.n_diff_ids != m.n_layers) {
        husk_fail(err, 0, "%s: %zu layers, but its config has %zu diff_ids", mname, m.n_layers, cfg.n_diff_ids);
        goto out;
    }
    char **blobs = xcalloc(m.n_layers + 1, sizeof(char *));
    for (size_t i = 0; i < m.n_layers; i++)
        blobs[i] = m.layers[i].digest;
    int r = layer_ensure_many(st, blobs, cfg.diff_ids, m.n_layers, &parent, err);
    free(blobs);
    if (r < 0)
        goto out;
    struct image_register_args args = { .manifest = manifest_digest, .index = index,
                                        .tag = tags && tags[0] ? tags[0] : NULL };
    if (image_register(st, &args, &id, err) < 0)
        goto out;
    for (size_t i = 1; tags && tags[i]; i++)
        if (image_tag(st, id, tags[i], err) < 0)
            goto out;
    for (size_t i = 0; !tags || !tags[0] ? i < 1 : tags[i] != NULL; i++) {
        char *line;
        if (tags && tags[0]) {
            struct image_ref r;
            if (image_ref_parse(tags[i], &r, err) < 0)
                goto out;
            _cleanup_free_ char *f = image_ref_familiar(&r);
            image_ref_free(&r);
            line = xasprintf("Loaded image: %s", f);
        } else {
            line = xasprintf("Loaded image ID: %s", id);
        }
        *loaded = xrealloc(*loaded, (*n_loaded + 2) * sizeof(char *));
        (*loaded)[(*n_loaded)++] = line;
        (*loaded)[*n_loaded] = NULL;
    }
    ret = 0;
out:
    manifest_free(&m);
    image_config_free(&cfg);
    return ret;
}

/* The media type of a layer blob, by its first bytes. */
static const char *layer_media_type(struct store *st, const char *digest)
{
    _cleanup_free_ char *path = store_blob_path(st, digest);
    unsigned char magic[4] = { 0 };
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && read(fd, magic, sizeof(magic)) < 0)
        magic[0] = 0;
    if (magic[0] == 0x1f && magic[1] == 0x8b)
        return MT_OCI_LAYER_GZIP;
    if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        return MT_OCI_LAYER_ZSTD;
    return MT_OCI_LAYER;
}

static int64_t blob_size(struct store *st, const char *digest)
{
    _cleanup_free_ char *path = store_blob_path(st, digest);
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

/* docker-archive: manifest.json is [{"Config": FILE, "RepoTags": [...], "Layers": [FILE...]}]. */
static int load_docker(struct source *s, struct store *st, char ***loaded, size_t *n_loaded, husk_err **err)
{
    _cleanup_free_ char *text = NULL;
    _cleanup_json_ struct json_object *doc = NULL;
    size_t len, n;
    _cleanup_free_ char *name = xasprintf("archive %s: manifest.json", s->path);
    struct cj c = { .name = name, .err = err };
    if (source_doc(s, st, "manifest.json", &text, &len, err) < 0)
        return -1;
    doc = json_tokener_parse(text);
    if (!doc || cj_as_array(&c, doc, "", &n) < 0)
        return doc ? -1 : husk_fail(err, 0, "%s: not a JSON array", name);
    for (size_t i = 0; i < n; i++) {
        struct json_object *item = json_object_array_get_idx(doc, i), *layers;
        _cleanup_free_ char *p = cj_path_index("", i), *config = NULL;
        _cleanup_strv_ char **tags = NULL;
        size_t nl;
        if (cj_as_object(&c, item, p) < 0 || cj_string(&c, item, p, "Config", true, &config) < 0 ||
            cj_strv(&c, item, p, "RepoTags", false, &tags, NULL) < 0 ||
            cj_array(&c, item, p, "Layers", true, &layers, &nl) < 0)
            return -1;
        const char *cdigest = source_lookup(s, config);
        if (!cdigest)
            return husk_fail(err, 0, "%s: %s.Config: no file \"%s\" in the archive", name, p, config);
        _cleanup_json_ struct json_object *m = json_object_new_object(), *ls = json_object_new_array();
        json_object_object_add(m, "schemaVersion", json_object_new_int(2));
        json_object_object_add(m, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
        json_object_object_add(m, "config", descriptor_json(MT_OCI_CONFIG, cdigest, blob_size(st, cdigest)));
        for (size_t k = 0; k < nl; k++) {
            _cleanup_free_ char *pk = xasprintf("%s.Layers[%zu]", p, k);
            const char *lname;
            if (cj_as_string(&c, json_object_array_get_idx(layers, k), pk, &lname) < 0)
                return -1;
            const char *ld = source_lookup(s, lname);
            if (!ld)
                return husk_fail(err, 0, "%s: %s: no file \"%s\" in the archive", name, pk, lname);
            json_object_array_add(ls, descriptor_json(layer_media_type(st, ld), ld, blob_size(st, ld)));
        }
        json_object_object_add(m, "layers", json_object_get(ls));
        const char *mt = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *mdigest = NULL;
        int named = store_put_blob(st, mt, strlen(mt), &mdigest, err);
        if (named < 0)
            return -1;
        if (named)
            source_created(s, mdigest);
        /* tags as docker writes them ("busybox:latest"), normalized */
        for (size_t k = 0; tags && tags[k]; k++) {
            struct image_ref r;
            if (image_ref_parse(tags[k], &r, err) < 0)
                return husk_err_prefix(err, "%s: %s.RepoTags[%zu]", name, p, k);
            free(tags[k]);
            tags[k] = image_ref_string(&r);
            image_ref_free(&r);
        }
        if (register_manifest(st, mdigest, NULL, tags, loaded, n_loaded, err) < 0)
            return husk_err_prefix(err, "archive %s", s->path);
    }
    return 0;
}

static int load_oci_descriptor(struct source *s, struct store *st, const struct descriptor *d, const char *index,
                               int depth, char ***loaded, size_t *n_loaded, husk_err **err);

/* Every platform of a multi-platform image that the source has whole (its manifest,
 * config and layers) into the store, so that the image can be pushed as the whole
 * index; a platform the source lacks (a save of one platform) is left out. */
static void copy_platforms(struct source *s, struct store *st, const struct image_index *ix)
{
    for (size_t i = 0; i < ix->n_manifests; i++) {
        const struct descriptor *d = &ix->manifests[i];
        _cleanup_err_ husk_err *e = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct manifest m;
        if (manifest_kind(d->media_type) != 'm' || source_blob(s, st, d->digest, &e) < 0 ||
            store_read_blob(st, d->digest, DOC_MAX, &text, &len, &e) < 0 ||
            manifest_parse(text, len, d->digest, d->media_type, &m, &e) < 0)
            continue;
        int ret = source_blob(s, st, m.config.digest, &e);
        for (size_t k = 0; ret == 0 && k < m.n_layers; k++)
            ret = source_blob(s, st, m.layers[k].digest, &e);
        manifest_free(&m);
    }
}

static int load_oci_index(struct source *s, struct store *st, const char *text, size_t len, const char *name,
                          const char *digest, int depth, const char *ref_name, char ***loaded, size_t *n_loaded,
                          husk_err **err)
{
    struct image_index ix;
    if (depth > 4)
        return husk_fail(err, 0, "%s: indexes nested too deep", name);
    if (image_index_parse(text, len, name, NULL, &ix, err) < 0)
        return -1;
    int ret = 0;
    if (depth == 0) {
        for (size_t i = 0; ret == 0 && i < ix.n_manifests; i++)
            ret = load_oci_descriptor(s, st, &ix.manifests[i], NULL, depth + 1, loaded, n_loaded, err);
    } else {
        /* a nested index (a multi-platform image): this machine's platform is the
         * image; the others are kept for a push of the index */
        const struct descriptor *d = image_index_pick(&ix, "linux", "amd64", NULL, name, err);
        if (!d) {
            ret = -1;
        } else {
            copy_platforms(s, st, &ix);
            struct descriptor named = *d;
            named.ref_name = (char *)ref_name;
            ret = load_oci_descriptor(s, st, &named, digest, depth + 1, loaded, n_loaded, err);
        }
    }
    image_index_free(&ix);
    return ret;
}

static int load_oci_descriptor(struct source *s, struct store *st, const struct descriptor *d, const char *index,
                               int depth, char ***loaded, size_t *n_loaded, husk_err **err)
{
    if (source_blob(s, st, d->digest, err) < 0)
        return -1;
    _cleanup_free_ char *text = NULL, *name = xasprintf("archive %s: %s", s->path, d->digest);
    size_t len;
    if (store_read_blob(st, d->digest, DOC_MAX, &text, &len, err) < 0)
        return -1;
    if (manifest_kind(d->media_type) == 'i')
        return load_oci_index(s, st, text, len, name, d->digest, depth, d->ref_name, loaded, n_loaded, err);
    if (manifest_kind(d->media_type) != 'm')
        return husk_fail(err, 0, "%s: unknown media type \"%s\"", name, d->media_type);
    struct manifest m;
    if (manifest_parse(text, len, name, d->media_type, &m, err) < 0)
        return -1;
    int ret = source_blob(s, st, m.config.digest, err);
    for (size_t i = 0; ret == 0 && i < m.n_layers; i++)
        ret = source_blob(s, st, m.layers[i].digest, err);
    manifest_free(&m);
    if (ret < 0)
        return -1;
    /* A name annotation that is a whole reference names the image; a bare tag
     * ("latest", as skopeo writes for oci:DIR:TAG) has no repository to go with. */
    char *tags[2] = { NULL, NULL };
    struct image_ref r;
    if (d->ref_name && strpbrk(d->ref_name, "/:") && image_ref_parse(d->ref_name, &r, NULL) == 0) {
        tags[0] = image_ref_string(&r);
        image_ref_free(&r);
    }
    ret = register_manifest(st, d->digest, index, tags, loaded, n_loaded, err);
    free(tags[0]);
    return ret < 0 ? husk_err_prefix(err, "archive %s", s->path) : 0;
}

int archive_load(struct store *st, const char *path, char ***loaded, husk_err **err)
{
    struct source s = { .path = path, .dirfd = -1 };
    size_t n_loaded = 0, len;
    struct stat sb;
    int ret = -1;
    /* before any goto: the clean-ups run at out */
    _cleanup_free_ char *text = NULL;
    _cleanup_err_ husk_err *e = NULL;
    *loaded = xcalloc(1, sizeof(char *));
    if (stat(path, &sb) < 0)
        return husk_fail(err, errno, "archive %s", path);
    if (S_ISDIR(sb.st_mode)) {
        s.dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s.dirfd < 0)
            return husk_fail(err, errno, "open %s", path);
    } else if (source_read_tar(&s, st, err) < 0) {
        goto out;
    }
    if (s.dirfd < 0 && source_lookup(&s, "manifest.json")) {
        ret = load_docker(&s, st, loaded, &n_loaded, err);
    } else if (source_doc(&s, st, "index.json", &text, &len, &e) == 0) {
        _cleanup_free_ char *name = xasprintf("archive %s: index.json", path);
        ret = load_oci_index(&s, st, text, len, name, NULL, 0, NULL, loaded, &n_loaded, err);
    } else {
        husk_fail(err, 0, "archive %s: neither a docker archive (manifest.json) nor an OCI layout (index.json)", path);
    }
out:
    /* Nothing of a failed load stays but the images it registered whole: the blobs
     * it added are taken back (a blob another image uses was there before). */
    for (size_t i = 0; ret < 0 && i < s.n_created; i++)
        if (!image_blob_in_use(st, s.created[i]))
            store_remove_blob(st, s.created[i], NULL);
    source_free(&s);
    if (ret < 0) {
        strv_free(*loaded);
        *loaded = NULL;
    }
    return ret;
}

/* ------------------------------------------------------------------ saving */

static void archive_writep(struct archive **a)
{
    if (*a)
        archive_write_free(*a);
}
#define _cleanup_archive_write_ _cleanup_(archive_writep)

/* One file of the archive, its bytes read from fd (size bytes from its start). */
static int put_fd(struct archive *a, const char *name, int fd, int64_t size, const char *out, husk_err **err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, size);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK)
        return husk_fail(err, 0, "%s: %s: %s", out, name, archive_error_string(a));
    if (lseek(fd, 0, SEEK_SET) < 0)
        return husk_fail(err, errno, "%s: %s: seek", out, name);
    char buf[1 << 16];
    ssize_t got;
    while ((got = read(fd, buf, sizeof(buf))) > 0)
        if (archive_write_data(a, buf, (size_t)got) != got)
            return husk_fail(err, 0, "%s: %s: %s", out, name, archive_error_string(a));
    if (got < 0)
        return husk_fail(err, errno, "%s: %s: read", out, name);
    return 0;
}

static int put_text(struct archive *a, const char *name, const char *text, const char *out, husk_err **err)
{
    struct archive_entry *e = archive_entry_new();
    size_t len = strlen(text);
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK || archive_write_data(a, text, len) != (la_ssize_t)len)
        return husk_fail(err, 0, "%s: %s: %s", out, name, archive_error_string(a));
    return 0;
}

static int put_blob(struct archive *a, struct store *st, const char *name, const char *digest, const char *out,
                    husk_err **err)
{
    _cleanup_free_ char *path = store_blob_path(st, digest);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0)
        return husk_fail(err, errno, "blob %s", digest);
    return put_fd(a, name, fd, sb.st_size, out, err);
}

/* A layer blob decompressed into an unnamed temporary file (docker-archive layers
 * are plain tars: their sha256 is the diff_id). *size gets its length. */
static int decompress_blob(struct store *st, const char *digest, int *fd_out, int64_t *size, husk_err **err)
{
    _cleanup_free_ char *path = store_blob_path(st, digest), *tmpdir = xasprintf("%s/tmp", st->root);
    if (mkdir_p(tmpdir, 0700, err) < 0)
        return -1;
    _cleanup_close_ int fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return husk_fail(err, errno, "open an unnamed file in %s", tmpdir);
    _cleanup_archive_read_ struct archive *a = archive_read_new();
    struct archive_entry *e;
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
        return husk_fail(err, 0, "layer %s: %s", digest, archive_error_string(a));
    char buf[1 << 16];
    la_ssize_t got;
    *size = 0;
    while ((got = archive_read_data(a, buf, sizeof(buf))) > 0) {
        if (write_all(fd, buf, (size_t)got) < 0)
            return husk_fail(err, errno, "layer %s: write %s", digest, tmpdir);
        *size += got;
    }
    if (got < 0)
        return husk_fail(err, 0, "layer %s: %s", digest, archive_error_string(a));
    *fd_out = steal_fd(fd);
    return 0;
}

struct saved {
    struct image_record rec;
    struct manifest m;
    char *tag;   /* the name it was asked by, full, if that was a tag */
};

static int save_docker(struct archive *a, struct store *st, struct saved *imgs, size_t n, const char *out,
                       husk_err **err)
{
    _cleanup_json_ struct json_object *top = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct saved *s = &imgs[i];
        _cleanup_free_ char *ctext = NULL, *cname = xasprintf("%s.json", s->rec.id + 7);
        struct image_config cfg;
        size_t len;
        if (put_blob(a, st, cname, s->rec.id, out, err) < 0 ||
            store_read_blob(st, s->rec.id, DOC_MAX, &ctext, &len, err) < 0 ||
            image_config_parse(ctext, len, cname, &cfg, err) < 0)
            return -1;
        struct json_object *item = json_object_new_object(), *layers = json_object_new_array(),
                           *tags = json_object_new_array();
        json_object_object_add(item, "Config", json_object_new_string(cname));
        json_object_object_add(item, "RepoTags", tags);
        json_object_object_add(item, "Layers", layers);
        json_object_array_add(top, item);
        for (size_t k = 0; s->tag ? k < 1 : s->rec.repo_tags[k] != NULL; k++) {
            struct image_ref r;
            if (image_ref_parse(s->tag ? s->tag : s->rec.repo_tags[k], &r, NULL) < 0)
                continue;
            char *f = image_ref_familiar(&r);
            json_object_array_add(tags, json_object_new_string(f));
            free(f);
            image_ref_free(&r);
        }
        int ret = 0;
        for (size_t k = 0; ret == 0 && k < s->m.n_layers && k < cfg.n_diff_ids; k++) {
            _cleanup_free_ char *lname = xasprintf("%s.tar", cfg.diff_ids[k] + 7);
            json_object_array_add(layers, json_object_new_string(lname));
            _cleanup_close_ int fd = -1;
            int64_t size;
            ret = decompress_blob(st, s->m.layers[k].digest, &fd, &size, err);
            if (ret == 0)
                ret = put_fd(a, lname, fd, size, out, err);
        }
        image_config_free(&cfg);
        if (ret < 0)
            return -1;
    }
    return put_text(a, "manifest.json", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), out, err);
}

static int save_oci(struct archive *a, struct store *st, struct saved *imgs, size_t n, const char *out, husk_err **err)
{
    _cleanup_json_ struct json_object *index = json_object_new_object();
    struct json_object *manifests = json_object_new_array();
    json_object_object_add(index, "schemaVersion", json_object_new_int(2));
    json_object_object_add(index, "mediaType", json_object_new_string(MT_OCI_INDEX));
    json_object_object_add(index, "manifests", manifests);
    _cleanup_strv_ char **written = xcalloc(1, sizeof(char *));
    size_t nw = 0;
    for (size_t i = 0; i < n; i++) {
        struct saved *s = &imgs[i];
        const char *blobs[2] = { s->rec.manifest, s->m.config.digest };
        for (size_t k = 0; k < 2 + s->m.n_layers; k++) {
            const char *d = k < 2 ? blobs[k] : s->m.layers[k - 2].digest;
            bool dup = false;
            for (size_t j = 0; j < nw; j++)
                dup |= strcmp(written[j], d) == 0;
            if (dup)
                continue;
            _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", d + 7);
            if (put_blob(a, st, name, d, out, err) < 0)
                return -1;
            written = xrealloc(written, (nw + 2) * sizeof(char *));
            written[nw++] = xstrdup(d);
            written[nw] = NULL;
        }
        struct json_object *desc = descriptor_json(s->m.media_type[0] ? s->m.media_type : MT_OCI_MANIFEST,
                                                   s->rec.manifest, blob_size(st, s->rec.manifest));
        const char *tag = s->tag ? s->tag : s->rec.repo_tags[0];
        if (tag) {
            struct json_object *ann = json_object_new_object();
            json_object_object_add(ann, "org.opencontainers.image.ref.name", json_object_new_string(tag));
            json_object_object_add(ann, "io.containerd.image.name", json_object_new_string(tag));
            json_object_object_add(desc, "annotations", ann);
        }
        json_object_array_add(manifests, desc);
    }
    return put_text(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", out, err) < 0 ||
                   put_text(a, "index.json", json_object_to_json_string_ext(index, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), out, err) < 0
               ? -1
               : 0;
}

int archive_save(struct store *st, char *const *names, size_t n, enum archive_format format, const char *out_path,
                 husk_err **err)
{
    struct saved *imgs = xcalloc(n ? n : 1, sizeof(*imgs));
    size_t got = 0;
    int ret = -1;
    _cleanup_free_ char *tmp = xasprintf("%s.husk-tmp-XXXXXX", out_path);
    _cleanup_close_ int fd = -1;
    _cleanup_archive_write_ struct archive *a = NULL;
    for (; got < n; got++) {
        _cleanup_free_ char *mtext = NULL, *mname = NULL;
        size_t len;
        if (image_lookup(st, names[got], &imgs[got].rec, err) < 0)
            goto out;
        mname = xasprintf("manifest %s", imgs[got].rec.manifest);
        if (store_read_blob(st, imgs[got].rec.manifest, DOC_MAX, &mtext, &len, err) < 0 ||
            manifest_parse(mtext, len, mname, NULL, &imgs[got].m, err) < 0) {
            image_record_free(&imgs[got].rec);
            goto out;
        }
        struct image_ref r;
        if (image_ref_parse(names[got], &r, NULL) == 0) {
            _cleanup_free_ char *full = image_ref_string(&r);
            for (size_t k = 0; imgs[got].rec.repo_tags[k]; k++)
                if (strcmp(imgs[got].rec.repo_tags[k], full) == 0)
                    imgs[got].tag = xstrdup(full);
            image_ref_free(&r);
        }
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        husk_fail(err, errno, "create %s", out_path);
        goto out;
    }
    a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        husk_fail(err, 0, "%s: %s", out_path, archive_error_string(a));
        goto out;
    }
    if ((format == ARCHIVE_DOCKER ? save_docker(a, st, imgs, n, out_path, err)
                                  : save_oci(a, st, imgs, n, out_path, err)) < 0)
        goto out;
    if (archive_write_close(a) != ARCHIVE_OK) {
        husk_fail(err, 0, "%s: %s", out_path, archive_error_string(a));
        goto out;
    }
    if (fsync(fd) < 0 || rename(tmp, out_path) < 0) {
        husk_fail(err, errno, "write %s", out_path);
        goto out;
    }
    tmp[0] = '\0';
    ret = 0;
out:
    if (tmp[0] && fd >= 0)
        unlink(tmp);
    for (size_t i = 0; i < got; i++) {
        image_record_free(&imgs[i].rec);
        manifest_free(&imgs[i].m);
        free(imgs[i].tag);
    }
    free(imgs);
    return ret;
}
