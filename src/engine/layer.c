/* layer.c — layers in the store: chain ids, unpacking once under a per-layer lock,
 * short links (layer.h). The tar itself is layer_tar.c's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "layer.h"
#include "layer_int.h"
#include "reference.h"
#include "util.h"

#define SHORT_LEN 26
#define TMP_PREFIX ".tmp-"

char *layer_chain_id(const char *parent_chain, const char *diff_id)
{
    if (!parent_chain)
        return xstrdup(diff_id);
    _cleanup_free_ char *s = xasprintf("%s %s", parent_chain, diff_id);
    return sha256_digest(s, strlen(s));
}

/* The hex of a "sha256:<64 hex>" digest (a file name, never a path), or NULL. */
static const char *digest_hex(const char *what, const char *digest, husk_err **err)
{
    if (!digest || strncmp(digest, "sha256:", 7) != 0 || !image_ref_digest_valid(digest)) {
        husk_fail(err, 0, "%s \"%s\": only sha256:<64 lower-case hex> is supported", what,
                  digest ? digest : "");
        return NULL;
    }
    return digest + 7;
}

char *layer_diff_path(const struct store *st, const char *chain)
{
    const char *hex = strchr(chain, ':');
    return xasprintf("%s/layers/%s/diff", st->root, hex ? hex + 1 : chain);
}

/* The short name of a layer: 26 characters of base32 (A-Z, 2-7, as docker's) of
 * the first 128 bits of its chain id. Derived, not random, so that a run killed
 * after making ROOT/l/<short> and the run after it agree on the name. */
static void short_name(const char *hex, char out[SHORT_LEN + 1])
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    unsigned char bytes[16];
    for (int i = 0; i < 16; i++) {
        unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10);
        unsigned lo = (unsigned)(hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10);
        bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    unsigned acc = 0;
    int bits = 0, o = 0;
    for (int i = 0; i < 16; i++) {
        acc = (acc << 8) | bytes[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    out[o++] = b32[(acc << (5 - bits)) & 31];   /* the last 3 bits */
    out[o] = '\0';
}

int layer_short_link(const struct store *st, const char *chain, char **out, husk_err **err)
{
    *out = NULL;
    const char *hex = digest_hex("layer", chain, err);
    if (!hex)
        return -1;
    _cleanup_free_ char *path = xasprintf("%s/layers/%s/link", st->root, hex);
    _cleanup_free_ char *s = NULL;
    size_t len = 0;
    if (read_file_at(AT_FDCWD, path, 64, &s, &len, err) < 0)
        return husk_err_prefix(err, "layer %s", chain);
    if (len != SHORT_LEN || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != SHORT_LEN)
        return husk_fail(err, 0, "layer %s: %s is not a short link name", chain, path);
    *out = xasprintf("l/%s", s);
    return 0;
}

/* ---- the store's layer directories ------------------------------------------ */

static int open_dir(const struct store *st, const char *name, husk_err **err)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", st->root, name);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return husk_fail(err, errno, "mkdir %s", path);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return husk_fail(err, errno, "open %s", path);
    return fd;
}

/* ROOT/layers/<hex>.lock, held (flock LOCK_EX) while the layer is looked for and
 * made. The lock files stay: removing one would let a second process lock a new
 * file of the same name while the first still holds the old one. */
static int lock_layer(int layers_fd, const char *hex, husk_err **err)
{
    _cleanup_free_ char *name = xasprintf("%s.lock", hex);
    _cleanup_close_ int fd = openat(layers_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return husk_fail(err, errno, "open the lock layers/%s", name);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return husk_fail(err, errno, "lock layers/%s", name);
    return steal_fd(fd);
}

static bool same_file(int dirfd, const char *name, int fd)
{
    struct stat a, b;
    return fstatat(dirfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(fd, &b) == 0 && a.st_ino == b.st_ino &&
           a.st_dev == b.st_dev;
}

/* A layer being made lives in ROOT/layers/.tmp-XXXXXX, flock'ed by its maker for
 * as long as it lives. One nobody holds was left by a killed run: remove it. */
static void remove_abandoned(int layers_fd)
{
    int dfd = openat(layers_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
            continue;
        _cleanup_close_ int fd = openat(layers_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
            continue;   /* its maker is alive */
        if (same_file(layers_fd, de->d_name, fd))
            tree_remove_at(layers_fd, de->d_name);
    }
    closedir(d);
}

/* Make ROOT/layers/.tmp-XXXXXX and hold its flock. The name is checked again once
 * locked: a cleaner that took the lock first may have removed it meanwhile. */
static int make_tmp(const struct store *st, int layers_fd, char **name_out, husk_err **err)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        _cleanup_free_ char *path = xasprintf("%s/layers/" TMP_PREFIX "XXXXXX", st->root);
        if (!mkdtemp(path))
            return husk_fail(err, errno, "mkdir %s", path);
        const char *name = strrchr(path, '/') + 1;
        _cleanup_close_ int fd = openat(layers_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        while (flock(fd, LOCK_EX) < 0)
            if (errno != EINTR)
                return husk_fail(err, errno, "lock %s", path);
        if (!same_file(layers_fd, name, fd))
            continue;
        *name_out = xstrdup(name);
        return steal_fd(fd);
    }
    return husk_fail(err, EAGAIN, "make a temporary layer directory in %s/layers", st->root);
}

static int write_new_file(int dirfd, const char *name, const char *data, husk_err **err)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, data, strlen(data)) < 0)
        return husk_fail(err, errno, "write %s", name);
    return 0;
}

struct made {
    const char *blob;
    int in;                           /* the blob's file as it downloads, or -1 */
    const struct layer_source *src;
    const char *parent;
    char *diff_id;
    uint64_t size;
};

/* Unpack the blob into a new locked .tmp dir: tmp/diff. */
static int unpack_tmp(const struct store *st, int layers_fd, struct made *m, char **tmp_out, int *tmp_fd,
                      husk_err **err)
{
    _cleanup_free_ char *blob_path = store_blob_path(st, m->blob);
    _cleanup_close_ int in = m->in >= 0 ? fcntl(m->in, F_DUPFD_CLOEXEC, 3)
                                        : open(blob_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return husk_fail(err, errno, "open the blob %s", blob_path);
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int fd = make_tmp(st, layers_fd, &tmp, err);
    if (fd < 0)
        return -1;
    int r = -1;
    /* diff's own mode is 0755 (docker's) unless the tar's "./" entry says otherwise. */
    _cleanup_close_ int diff = -1;
    if (mkdirat(fd, "diff", 0755) < 0 ||
        (diff = openat(fd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fchmod(diff, 0755) < 0)
        husk_fail(err, errno, "mkdir layers/%s/diff", tmp);
    else
        r = layer_unpack_stream(in, m->src, diff, &m->diff_id, &m->size, err);
    if (r < 0) {
        tree_remove_at(layers_fd, tmp);
        return -1;
    }
    *tmp_out = steal_ptr(tmp);
    *tmp_fd = steal_fd(fd);
    return 0;
}

/* Give the unpacked tmp dir its link, meta.json and ROOT/l/<short>, then its name.
 * The rename is the commit: a layer under its name is always whole. */
static int publish(const struct store *st, int layers_fd, const char *tmp, int tmp_fd, const char *hex,
                   const struct made *m, husk_err **err)
{
    char shortn[SHORT_LEN + 1];
    short_name(hex, shortn);
    if (write_new_file(tmp_fd, "link", shortn, err) < 0)
        return -1;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "diffID", json_object_new_string(m->diff_id));
    if (m->parent)
        json_object_object_add(o, "parent", json_object_new_string(m->parent));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)m->size));
    json_object_object_add(o, "blob", json_object_new_string(m->blob));
    int r = write_new_file(tmp_fd, "meta.json", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), err);
    json_object_put(o);
    if (r < 0)
        return -1;

    _cleanup_close_ int l_fd = open_dir(st, "l", err);
    if (l_fd < 0)
        return -1;
    _cleanup_free_ char *target = xasprintf("../layers/%s/diff", hex);
    if (symlinkat(target, l_fd, shortn) < 0) {
        /* Left by a run killed before its rename: the same name, the same target. */
        char cur[256];
        ssize_t n = errno == EEXIST ? readlinkat(l_fd, shortn, cur, sizeof(cur) - 1) : -1;
        if (n < 0 || (size_t)n != strlen(target) || memcmp(cur, target, (size_t)n) != 0)
            return husk_fail(err, errno == EEXIST ? 0 : errno, "make the short link l/%s", shortn);
    }
    if (renameat2(layers_fd, tmp, layers_fd, hex, RENAME_NOREPLACE) < 0)
        return husk_fail(err, errno, "rename layers/%s to layers/%s", tmp, hex);
    return 0;
}

static bool layer_exists(int layers_fd, const char *hex)
{
    struct stat sb;
    return fstatat(layers_fd, hex, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode);
}

static int ensure(struct store *st, int layers_fd, struct made *m, const char *diff_id, char **chain_out,
                  husk_err **err)
{
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int tmp_fd = -1;
    _cleanup_close_ int lock = -1;
    _cleanup_free_ char *chain = NULL;
    const char *hex = NULL;
    int r = -1;

    if (diff_id) {
        /* The chain id is known before unpacking: lock first, so a second process
         * ensuring the same layer waits here and then finds it. */
        chain = layer_chain_id(m->parent, diff_id);
        hex = chain + 7;
        lock = lock_layer(layers_fd, hex, err);
        if (lock < 0)
            return -1;
        if (layer_exists(layers_fd, hex))
            goto done;
    }
    remove_abandoned(layers_fd);
    if (m->in < 0 && !store_blob_exists(st, m->blob))
        return husk_fail(err, 0, "the blob is not in the store");
    if (unpack_tmp(st, layers_fd, m, &tmp, &tmp_fd, err) < 0)
        return -1;
    /* Read while it downloaded: only a blob whose digest was checked and that got its
     * name makes a layer (the source said so, and here is the name). */
    if (m->in >= 0 && !store_blob_exists(st, m->blob)) {
        husk_fail(err, 0, "the blob is not in the store");
        goto out;
    }
    if (diff_id && strcmp(diff_id, m->diff_id) != 0) {
        husk_fail(err, 0, "diff id mismatch: the uncompressed tar hashes to %s, the image says %s", m->diff_id,
                  diff_id);
        goto out;
    }
    if (!diff_id) {
        /* Only now is the chain id known; another run may have made it meanwhile. */
        chain = layer_chain_id(m->parent, m->diff_id);
        hex = chain + 7;
        lock = lock_layer(layers_fd, hex, err);
        if (lock < 0)
            goto out;
        if (layer_exists(layers_fd, hex)) {
            r = 0;
            goto out;
        }
    }
    r = publish(st, layers_fd, tmp, tmp_fd, hex, m, err);
    if (r == 0) {
        free(tmp);
        tmp = NULL;
    }
out:
    if (tmp)
        tree_remove_at(layers_fd, tmp);
    if (r < 0)
        return -1;
done:
    *chain_out = steal_ptr(chain);
    return 0;
}

int layer_ensure(struct store *st, const char *blob_digest, const char *diff_id, const char *parent_chain,
                 char **chain_out, husk_err **err)
{
    return layer_ensure_stream(st, blob_digest, diff_id, parent_chain, -1, NULL, chain_out, err);
}

int layer_ensure_stream(struct store *st, const char *blob_digest, const char *diff_id, const char *parent_chain,
                        int fd, const struct layer_source *src, char **chain_out, husk_err **err)
{
    *chain_out = NULL;
    if (!digest_hex("blob", blob_digest, err) || (diff_id && !digest_hex("diff id", diff_id, err)) ||
        (parent_chain && !digest_hex("parent layer", parent_chain, err)))
        return husk_err_prefix(err, "layer %s", blob_digest ? blob_digest : "");
    _cleanup_close_ int layers_fd = open_dir(st, "layers", err);
    if (layers_fd < 0)
        return husk_err_prefix(err, "layer %s", blob_digest);
    struct made m = { .blob = blob_digest, .in = fd, .src = src, .parent = parent_chain };
    int r = ensure(st, layers_fd, &m, diff_id, chain_out, err);
    free(m.diff_id);
    if (r < 0)
        return husk_err_prefix(err, "layer %s", blob_digest);
    return 0;
}

#define ENSURE_PARALLEL 4   /* at most, and at most one per CPU */

struct many {
    struct store *st;
    char *const *blobs;
    char *const *diff_ids;
    char **chains;      /* known before: from the diff_ids */
    husk_err **errs;
    size_t n, next;
    pthread_mutex_t mu;
};

static void *many_worker(void *arg)
{
    struct many *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        size_t i = w->next < w->n ? w->next++ : w->n;
        pthread_mutex_unlock(&w->mu);
        if (i == w->n)
            return NULL;
        char *chain = NULL;
        if (layer_ensure(w->st, w->blobs[i], w->diff_ids[i], i ? w->chains[i - 1] : NULL, &chain, &w->errs[i]) == 0)
            free(chain);   /* the same as chains[i] */
    }
}

int layer_ensure_many(struct store *st, char *const *blobs, char *const *diff_ids, size_t n, char **chain_out,
                      husk_err **err)
{
    *chain_out = NULL;
    for (size_t i = 0; i < n; i++)
        if (!digest_hex("diff id", diff_ids[i], err))
            return husk_err_prefix(err, "layer %s", blobs[i]);
    struct many w = { .st = st, .blobs = blobs, .diff_ids = diff_ids, .n = n,
                      .chains = xcalloc(n + 1, sizeof(char *)), .errs = xcalloc(n + 1, sizeof(husk_err *)) };
    for (size_t i = 0; i < n; i++)
        w.chains[i] = layer_chain_id(i ? w.chains[i - 1] : NULL, diff_ids[i]);
    pthread_mutex_init(&w.mu, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t k = n < ENSURE_PARALLEL ? n : ENSURE_PARALLEL, started = 0;
    if (cpus > 0 && k > (size_t)cpus)
        k = (size_t)cpus;
    pthread_t th[ENSURE_PARALLEL];
    for (; started + 1 < k; started++)
        if (pthread_create(&th[started], NULL, many_worker, &w) != 0)
            break;
    many_worker(&w);   /* this thread too */
    for (size_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    int ret = 0;
    for (size_t i = 0; i < n; i++) {
        if (w.errs[i] && ret == 0) {
            *err = steal_ptr(w.errs[i]);
            ret = -1;
        }
        husk_err_free(&w.errs[i]);
    }
    if (ret == 0 && n)
        *chain_out = steal_ptr(w.chains[n - 1]);
    pthread_mutex_destroy(&w.mu);
    for (size_t i = 0; i < n; i++)
        free(w.chains[i]);
    free(w.chains);
    free(w.errs);
    return ret;
}

int layer_remove(struct store *st, const char *chain, husk_err **err)
{
    const char *hex = digest_hex("layer", chain, err);
    if (!hex)
        return -1;
    _cleanup_close_ int layers_fd = open_dir(st, "layers", err);
    if (layers_fd < 0)
        return husk_err_prefix(err, "remove layer %s", chain);
    _cleanup_close_ int lock = lock_layer(layers_fd, hex, err);
    if (lock < 0)
        return husk_err_prefix(err, "remove layer %s", chain);
    _cleanup_close_ int fd = openat(layers_fd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : husk_fail(err, errno, "remove layer %s: open", chain);
    /* Held from here: a concurrent ensure's cleanup leaves the .tmp-* alone. */
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return husk_fail(err, errno, "remove layer %s: lock", chain);
    char shortn[SHORT_LEN + 1];
    short_name(hex, shortn);
    _cleanup_close_ int l_fd = open_dir(st, "l", err);
    if (l_fd < 0)
        return husk_err_prefix(err, "remove layer %s", chain);
    if (unlinkat(l_fd, shortn, 0) < 0 && errno != ENOENT)
        return husk_fail(err, errno, "remove layer %s: unlink l/%s", chain, shortn);
    /* A fresh .tmp name (mkdtemp, then renamed over: RENAME_EXCHANGE would leave an
     * empty dir under the layer's name), so the layer's name goes in one step. */
    _cleanup_free_ char *tmp = xasprintf("%s/layers/" TMP_PREFIX "XXXXXX", st->root);
    if (!mkdtemp(tmp))
        return husk_fail(err, errno, "remove layer %s: mkdir %s", chain, tmp);
    const char *tmp_name = strrchr(tmp, '/') + 1;
    if (renameat(layers_fd, hex, layers_fd, tmp_name) < 0) {
        int e = errno;
        unlinkat(layers_fd, tmp_name, AT_REMOVEDIR);
        return husk_fail(err, e, "remove layer %s: rename", chain);
    }
    int r = tree_remove_at(layers_fd, tmp_name);
    if (r < 0)
        return husk_fail(err, -r, "remove layer %s: remove layers/%s", chain, tmp_name);
    return 0;
}
